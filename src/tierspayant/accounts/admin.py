"""Back-office: accounts, second factors and sign-in records, for operator staff only.

Nothing security-relevant is written here (the back-office rule, ``docs/security.md``): an
account's e-mail (the channel of the bank-change code), password, staff and superuser flags,
active flag and second factors are read-only, the admin's password form is refused, and no
account or factor is added by hand. Lost factors are reset by the action below, which calls
:func:`accounts.services.reset_second_factors`; a contact e-mail is changed on its own page
through :func:`accounts.services.change_contact_email`; both after a recent passkey check
(step-up), with a security event and an e-mail. Roles (groups, permissions) are granted by
superusers only. First-passkey enrolment requests are opened only by ANOTHER staff member's
approval (the action below, after a passkey step-up).
"""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from tierspayant.accounts import enrolment
from tierspayant.accounts.access import (
    require_recent_second_factor,
    step_up_redirect,
    stepped_up,
)
from tierspayant.accounts.backoffice import ScopedAdmin
from tierspayant.accounts.models import PasskeyEnrolment, SecurityEvent
from tierspayant.accounts.services import (
    EmailChangeRefused,
    FactorResetRefused,
    change_contact_email,
    reset_second_factors,
)


class RecordAdmin(ScopedAdmin):
    """Records written by the platform only: viewed, never added, changed or deleted."""

    insurer_path = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(RecordAdmin):
    list_display = ["at", "kind", "user", "actor"]
    list_filter = ["kind"]
    readonly_fields = ["user", "actor", "kind", "at", "detail"]


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
class PasskeyEnrolmentAdmin(RecordAdmin):
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


#: Account fields the back-office never writes: they change through services (password reset
#: by e-mail, factor reset, suspension) or at account creation.
ACCOUNT_SECURITY_FIELDS = [
    "username",
    "password",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
    "last_login",
    "date_joined",
]
ROLE_FIELDS = ["groups", "user_permissions"]


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label="Nouvelle adresse de contact", max_length=254)
    reason = forms.CharField(label="Motif (référence de la demande)", max_length=200)


User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(ScopedAdmin, auth_admin.UserAdmin):  # type: ignore[type-arg]
    insurer_path = None
    actions = [reset_lost_factors]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = [*super().get_readonly_fields(request, obj), *ACCOUNT_SECURITY_FIELDS]
        if not request.user.is_superuser:
            readonly += ROLE_FIELDS
        return readonly

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<id>/courriel/",
                self.admin_site.admin_view(require_recent_second_factor()(self.change_email)),
                name="auth_user_change_email",
            ),
            *super().get_urls(),
        ]

    def change_email(self, request: HttpRequest, id: str) -> HttpResponse:
        """Change an account's contact e-mail with a reason: staff with the change permission
        on accounts, after a recent passkey check (asked before the form is shown)."""
        user = self.get_object(request, id)  # 404 outside the scope
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        form = EmailChangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                change_contact_email(
                    user=user,
                    new_email=form.cleaned_data["email"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    now=timezone.now(),  # type: ignore[arg-type]
                )
            except EmailChangeRefused:
                messages.error(request, "Changement refusé pour votre propre compte.")
            else:
                messages.success(
                    request,
                    "Adresse de contact changée ; l'ancienne et la nouvelle sont prévenues.",
                )
            return redirect(reverse("admin:auth_user_change", args=[user.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Changer l'adresse de contact",
            "account": user,
            "form": form,
        }
        return render(request, "admin/accounts/change_email.html", context)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Refused: a password changes by its holder, or through the reset by e-mail."""
        raise PermissionDenied


@admin.register(Group)
class GroupAdmin(ScopedAdmin, auth_admin.GroupAdmin):  # type: ignore[type-arg,misc]
    """Roles: defined and changed by superusers only."""

    insurer_path = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and super().has_delete_permission(request, obj)


# Second factors: viewed only; removed by the factor reset above, added by their holder.
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPAdmin(RecordAdmin, TOTPDeviceAdmin):
    pass


# Sign-in throttling records (django-axes): deleting an attempt unlocks an account, which the
# operator's support may do (the library's own action); nothing else is written.
for _model in (AccessAttempt, AccessLog, AccessFailureLog):
    admin.site.unregister(_model)


@admin.register(AccessAttempt)
class ThrottledAttemptAdmin(ScopedAdmin, AccessAttemptAdmin):
    insurer_path = None
    # The library's clean-up action reads a value its middleware sets on sign-in requests
    # only (a 500 from the back-office); unlocking is the delete action, or `axes_reset_*`.
    actions: list[str] = []

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessLog)
class SignInLogAdmin(RecordAdmin, AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class FailedSignInAdmin(RecordAdmin, AccessFailureLogAdmin):
    pass
