"""Back-office views of professionals, their tokens and bank details: operator staff only.

A professional contracts with the operator, not with an insurer: insurer staff never open
these pages; they see a professional's name on their own insurer's claims, approvals and
disclosure log. Nothing here is written by hand (the back-office rule, ``docs/security.md``):
identities, the login they belong to, tokens (revocation, hash, scopes, expiry) and bank
details are read-only; a token is revoked by the action below, through
:func:`providers.services.revoke_api_token`, never un-revoked; bank details change through
``providers.banking`` (step-up, e-mailed code, hold on payments). Token secrets are never
stored.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from tierspayant.accounts.backoffice import ScopedAdmin
from tierspayant.providers.models import (
    ApiToken,
    BankAccount,
    BankAccountChange,
    Professional,
)
from tierspayant.providers.services import revoke_api_token


class ProviderAdmin(ScopedAdmin):
    """Operator staff only; viewed, never added, changed nor deleted by hand."""

    insurer_path = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Professional)
class ProfessionalAdmin(ProviderAdmin):
    list_display = ["display_name", "profession", "rpps", "adeli", "finess"]
    list_filter = ["profession"]
    search_fields = ["display_name", "rpps", "adeli", "finess"]


@admin.register(ApiToken)
class ApiTokenAdmin(ProviderAdmin):
    list_display = ["name", "professional", "prefix", "created_at", "expires_at", "revoked_at"]
    exclude = ["secret_hash"]
    actions = ["revoke"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Operator staff with the change permission on tokens."""
        return ScopedAdmin.has_change_permission(self, request)

    @admin.action(description="Révoquer les jetons sélectionnés", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        """Revoke through the service (revoking twice keeps the first instant)."""
        now = timezone.now()
        for token in queryset:
            revoke_api_token(token=token, now=now)
        messages.success(request, f"{queryset.count()} jeton(s) révoqué(s).")


# care: bank accounts. The history of bank details and of who changed them, when and from
# where. The IBAN shows masked only.


@admin.register(BankAccount)
class BankAccountAdmin(ProviderAdmin):
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


@admin.register(BankAccountChange)
class BankAccountChangeAdmin(ProviderAdmin):
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
