"""Back-office: security events (read-only), the staff action resetting lost factors, and
first-passkey enrolment requests, which ANOTHER staff member approves."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from tierspayant.accounts import enrolment
from tierspayant.accounts.access import step_up_redirect, stepped_up
from tierspayant.accounts.models import PasskeyEnrolment, SecurityEvent
from tierspayant.accounts.services import FactorResetRefused, reset_second_factors


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = ["at", "kind", "user", "actor"]
    list_filter = ["kind"]
    readonly_fields = ["user", "actor", "kind", "at", "detail"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.action(description="Approuver l'enrôlement (identité vérifiée)", permissions=["approve"])
def approve_enrolments(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet):  # type: ignore[type-arg]
    """Staff action: open a colleague's first passkey after checking who asks (by phone, in
    person). Never one's own request; needs a recent passkey check (step-up)."""
    if not stepped_up(request):
        return step_up_redirect(request)
    done = 0
    for row in queryset:
        try:
            enrolment.approve_enrolment(
                enrolment_id=row.pk,
                approver=request.user,
                now=timezone.now(),
            )
            done += 1
        except enrolment.EnrolmentError as refused:
            messages.error(request, f"Demande #{row.pk} : {refused.message}")
    if done:
        messages.success(request, f"{done} enrôlement(s) approuvé(s).")


@admin.register(PasskeyEnrolment)
class PasskeyEnrolmentAdmin(admin.ModelAdmin):
    """Requests to open a first passkey, read-only; approved only through the action."""

    list_display = ["requested_at", "user", "route", "opened_at", "approved_by", "used_at"]
    list_filter = ["route"]
    readonly_fields = [
        "user",
        "route",
        "requested_at",
        "approved_by",
        "approved_at",
        "opened_at",
        "used_at",
        "cancelled_at",
    ]
    exclude = ["code_expires_at", "attempts", "credential"]
    actions = [approve_enrolments]

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.approve_passkeyenrolment")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.action(description="Réinitialiser les seconds facteurs (facteur perdu)")
def reset_lost_factors(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet):  # type: ignore[type-arg]
    """Staff action: the user lost every factor; the reset is logged and announced. Needs a
    recent passkey check of the staff member (step-up): otherwise the step-up page first."""
    if not stepped_up(request):
        return step_up_redirect(request)
    done = 0
    for user in queryset:
        try:
            reset_second_factors(
                user=user,
                actor=request.user,
                reason="back-office",
                now=timezone.now(),  # type: ignore[arg-type]
            )
            done += 1
        except FactorResetRefused:
            messages.error(request, "Réinitialisation refusée pour votre propre compte.")
    if done:
        messages.success(request, f"Seconds facteurs réinitialisés pour {done} compte(s).")


def register_user_action() -> None:
    """Add the reset action to the user admin (called from AppConfig.ready)."""
    user_admin = admin.site._registry.get(get_user_model())
    if user_admin is not None and reset_lost_factors not in (user_admin.actions or []):
        user_admin.actions = [*(user_admin.actions or []), reset_lost_factors]
