"""Back-office views of professionals and tokens (token secrets are never stored)."""

from django.contrib import admin

from tierspayant.providers.models import (
    ApiToken,
    BankAccount,
    BankAccountChange,
    Professional,
)


@admin.register(Professional)
class ProfessionalAdmin(admin.ModelAdmin):
    list_display = ["display_name", "profession", "rpps", "adeli", "finess"]
    list_filter = ["profession"]
    search_fields = ["display_name", "rpps", "adeli", "finess"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "professional", "prefix", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["prefix", "secret_hash", "created_at", "last_used_at"]


# care: bank accounts. Read-only: the history of bank details and of who changed them, when
# and from where. The IBAN shows masked only; changes go through providers.banking.


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    list_display = ["professional", "iban_masked", "bic", "status", "active_from", "superseded_at"]
    list_filter = ["status"]
    search_fields = ["professional__display_name", "professional__rpps"]
    fields = (
        "professional",
        "holder_name",
        "iban_masked",
        "bic",
        "status",
        "created_at",
        "active_from",
        "superseded_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(BankAccountChange)
class BankAccountChangeAdmin(admin.ModelAdmin):
    list_display = [
        "professional",
        "status",
        "requested_at",
        "requested_by",
        "requested_ip",
        "confirmed_at",
        "effective_at",
    ]
    list_filter = ["status"]
    search_fields = ["professional__display_name", "professional__rpps"]
    fields = (
        "professional",
        "old_account",
        "new_account",
        "status",
        "requested_at",
        "requested_by",
        "requested_ip",
        "requested_user_agent",
        "code_expires_at",
        "attempts",
        "confirmed_at",
        "confirmed_ip",
        "effective_at",
        "cancelled_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
