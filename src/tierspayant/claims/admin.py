"""Back-office: claims, read-only (they change through services and payment runs only)."""

from django.contrib import admin

from tierspayant.accounts.backoffice import ScopedAdmin
from tierspayant.claims.models import Claim, ClaimLine


class ClaimLineInline(admin.TabularInline):
    model = ClaimLine
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


@admin.register(Claim)
class ClaimAdmin(ScopedAdmin):
    insurer_path = "insurer"
    list_display = ["invoice_number", "professional", "insurer", "care_date", "status", "total_amc"]
    list_filter = ["status"]
    search_fields = ["invoice_number", "approval_number"]
    inlines = [ClaimLineInline]
    readonly_fields = tuple(f.name for f in Claim._meta.fields)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
