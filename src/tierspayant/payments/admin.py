"""Back-office: payment runs and what they produced, read-only."""

from django.contrib import admin

from tierspayant.accounts.backoffice import ScopedAdmin
from tierspayant.payments.models import HeldPayment, PaymentRun, SepaFile, Statement, Transfer


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
    insurer_path = None  # a run pays every insurer's claims: the operator's
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
