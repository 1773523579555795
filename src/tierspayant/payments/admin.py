"""Back-office: payment runs and what they produced, read-only; the bank's return files
(camt.054, pain.002), uploaded here or by ``tierspayant import-bank-returns``."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from tierspayant.accounts.access import require_recent_second_factor
from tierspayant.accounts.backoffice import ScopedAdmin
from tierspayant.payments.bank_returns import MAX_BYTES, BankReturnRefused, import_bank_returns
from tierspayant.payments.models import (
    BankReturn,
    BankReturnFile,
    HeldPayment,
    PaymentRun,
    SepaFile,
    Statement,
    Transfer,
)


class SepaFileInline(admin.TabularInline):
    model = SepaFile
    extra = 0
    can_delete = False
    readonly_fields = ("insurer", "file_name", "transaction_count", "control_sum", "sha256")
    fields = readonly_fields


class HeldPaymentInline(admin.TabularInline):
    model = HeldPayment
    extra = 0
    can_delete = False
    readonly_fields = ("professional", "reason", "claim_count", "amount")
    fields = readonly_fields


@admin.register(PaymentRun)
class PaymentRunAdmin(ScopedAdmin):
    insurer_path = None  # a run pays every insurer's invoices: the operator's
    list_display = [
        "reference",
        "created_at",
        "execution_date",
        "transfer_count",
        "claim_count",
        "total",
    ]
    readonly_fields = tuple(f.name for f in PaymentRun._meta.fields)
    inlines = [SepaFileInline, HeldPaymentInline]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Transfer)
class TransferAdmin(ScopedAdmin):
    insurer_path = "insurer"
    list_display = ["end_to_end_id", "run", "insurer", "professional", "amount"]
    readonly_fields = tuple(f.name for f in Transfer._meta.fields)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Statement)
class StatementAdmin(ScopedAdmin):
    insurer_path = None  # a professional's statement spans insurers: the operator's
    list_display = ["run", "professional", "claim_count", "total"]
    readonly_fields = tuple(f.name for f in Statement._meta.fields)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class BankReturnInline(admin.TabularInline):
    model = BankReturn
    extra = 0
    can_delete = False
    readonly_fields = ("transfer", "kind", "reason_code", "amount")
    fields = readonly_fields


class BankReturnUploadForm(forms.Form):
    """One camt.054 or pain.002 file."""

    file = forms.FileField(label="Fichier camt.054 ou pain.002 (XML)")


@admin.register(BankReturnFile)
class BankReturnFileAdmin(ScopedAdmin):
    """Imported return files, read-only, and the upload page (operator staff holding
    ``payments.add_bankreturnfile``, identity confirmed with a passkey in the last minutes:
    a return reopens claims and holds payments)."""

    insurer_path = None  # a bank file spans insurers: the operator's
    list_display = ["imported_at", "file_name", "message_type", "transfer_count", "source"]
    readonly_fields = tuple(f.name for f in BankReturnFile._meta.fields)
    inlines = [BankReturnInline]
    change_list_template = "admin/payments/bankreturnfile_changelist.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        return [
            path(
                "importer/",
                self.admin_site.admin_view(self.upload),
                name="payments_bankreturnfile_upload",
            ),
            *super().get_urls(),
        ]

    def upload(self, request: HttpRequest) -> HttpResponse:
        """Upload one file: imported whole, or refused with the reason (nothing written).
        Refused (403) before the step-up to anyone who may not import."""
        if self._closed_to(request) or not request.user.has_perm("payments.add_bankreturnfile"):
            raise PermissionDenied
        return require_recent_second_factor()(self._upload)(request)

    def _upload(self, request: HttpRequest) -> HttpResponse:
        form = BankReturnUploadForm(request.POST or None, request.FILES or None)
        status = 200
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_BYTES:
                form.add_error("file", f"{upload.name} : fichier trop volumineux (plus de 50 Mo).")
            else:
                try:
                    result = import_bank_returns(
                        upload.read(),
                        name=upload.name,
                        now=timezone.now(),
                        actor=request.user,
                        source="admin",
                    )
                except BankReturnRefused as exc:
                    form.add_error("file", exc.message)
                else:
                    messages.success(
                        request,
                        f"{upload.name} : {len(result.transfers)} virement(s) retourné(s), "
                        f"{result.reopened_claims} facture(s) rouverte(s).",
                    )
                    return redirect(reverse("admin:payments_bankreturnfile_changelist"))
            status = 400
        elif request.method == "POST":
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": "Importer un fichier de retours bancaires",
            "form": form,
        }
        return render(request, "admin/payments/import_bank_returns.html", context, status=status)
