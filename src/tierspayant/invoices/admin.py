"""Back-office: the loaded nomenclatures (read-only) and invoices of every profession
(read-only: they change only through ``invoices.services``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tierspayant.accounts.backoffice import ScopedAdmin
from tierspayant.invoices.models import Invoice, InvoiceLine, ReferenceTable


class _ReadOnly(ScopedAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReferenceTable)
class ReferenceTableAdmin(_ReadOnly):
    insurer_path = None  # the operator loads and keeps the nomenclatures
    list_display = ("name", "row_count", "published_on", "source_file", "loaded_at")
    readonly_fields = (
        "name",
        "source_file",
        "source_sha256",
        "source",
        "published_on",
        "loaded_at",
        "row_count",
    )


class InvoiceLineInline(admin.TabularInline):  # type: ignore[type-arg]
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = (
        "position",
        "code_system",
        "code",
        "family",
        "quantity",
        "billed",
        "br",
        "amo_rate",
        "amo_paid",
        "amc",
        "rac",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(_ReadOnly):
    insurer_path = "beneficiary__contract__insurer"
    list_display = ("invoice_number", "professional", "care_date", "status", "total_amc")
    list_filter = ("status",)
    fields = (
        "invoice_number",
        "professional",
        "care_date",
        "care_end_date",
        "insurance_nature",
        "exemption",
        "amo_regime",
        "local_regime",
        "status",
        "reasons",
        "table_id",
        "total_billed",
        "total_amo",
        "total_amc",
        "total_rac",
        "received_at",
    )
    readonly_fields = fields
    inlines = (InvoiceLineInline,)
