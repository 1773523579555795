"""Back-office: approvals and commitments, read-only (they change through services only)."""

from django.contrib import admin

from tierspayant.accounts.backoffice import ScopedAdmin
from tierspayant.priorauth.models import Commitment, PriorApproval, PriorApprovalLine


class PriorApprovalLineInline(admin.TabularInline):
    model = PriorApprovalLine
    extra = 0
    can_delete = False
    readonly_fields = (
        "position",
        "code",
        "label",
        "side",
        "billed",
        "amo",
        "amc",
        "rac",
        "reasons",
    )
    fields = readonly_fields


@admin.register(PriorApproval)
class PriorApprovalAdmin(ScopedAdmin):
    insurer_path = "insurer"
    list_display = [
        "number",
        "professional",
        "insurer",
        "decision",
        "status",
        "total_amc",
        "expires_on",
    ]
    list_filter = ["decision", "status", "domain"]
    search_fields = ["number"]
    inlines = [PriorApprovalLineInline]
    readonly_fields = tuple(f.name for f in PriorApproval._meta.fields)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Commitment)
class CommitmentAdmin(ScopedAdmin):
    insurer_path = "beneficiary__contract__insurer"
    list_display = ["source", "reference", "benefit_year", "expires_on", "released_at"]
    list_filter = ["source"]
    readonly_fields = tuple(f.name for f in Commitment._meta.fields)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
