"""Back-office views of the disclosure log, scoped per insurer.

Operator staff see the whole log. Insurer staff (``registry.InsurerStaff``) see only the rows
naming their own insurer's beneficiaries. The list links to a person's access history (by NIR
and birth date, or by internal id; the signed link for the person's own page): those pages are
``portal.views_staff_history``, mounted under this admin's URLs, because each read is counted
and logged through ``eligibility``, which ``audit`` may not import.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from tierspayant.accounts.backoffice import ScopedAdmin
from tierspayant.audit.models import DisclosureLog, InsurerApiToken
from tierspayant.audit.services import revoke_insurer_token


@admin.register(DisclosureLog)
class DisclosureLogAdmin(ScopedAdmin):
    insurer_path = "beneficiary__contract__insurer"
    list_display = [
        "occurred_at",
        "professional",
        "channel",
        "purpose",
        "outcome",
        "beneficiary",
        "seq",
    ]
    list_filter = ["outcome", "channel", "purpose"]
    exclude = ["prev_hash", "row_hash"]
    change_list_template = "admin/audit/disclosurelog/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InsurerApiToken)
class InsurerApiTokenAdmin(ScopedAdmin):
    """Insurers' tokens: issued by ``tierspayant create-insurer-token``, revocable here."""

    insurer_path = "insurer"

    list_display = ["name", "insurer", "prefix", "scopes", "expires_at", "revoked_at"]
    list_filter = ["insurer"]
    readonly_fields = [
        "insurer",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    exclude = ["secret_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Révoquer les jetons sélectionnés")
    def revoke(self, request: HttpRequest, queryset: QuerySet[InsurerApiToken]) -> None:
        now = timezone.now()
        for token in queryset:
            revoke_insurer_token(token=token, now=now)
