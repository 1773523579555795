"""Account security pages: passkeys, recovery codes, sessions, step-up, recovery sign-in.

Thin views over :mod:`tierspayant.accounts.services` / :mod:`~tierspayant.accounts.recovery`
and :mod:`tierspayant.portal.sessions_security`. French UI; no secret ever in a URL: ids in
paths are a passkey's row id (checked against the owner: another's gives 404) or a
session's public UUID (never the session key).
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tierspayant.accounts import services as accounts
from tierspayant.accounts.access import (
    holds_passkey,
    passkey_required_for,
    require_recent_second_factor,
    verified_required,
)
from tierspayant.accounts.choices import SecurityEventKind
from tierspayant.accounts.codes import verify_code
from tierspayant.accounts.models import RecoveryCodeDevice
from tierspayant.accounts.recovery import issue_recovery_codes, remaining_codes
from tierspayant.portal.forms import OtpTokenForm
from tierspayant.portal.sessions_security import TRACKED, mark_second_factor


class RecoveryCodeForm(forms.Form):
    """One recovery code, ``xxxxx-xxxxx`` (spaces and hyphens ignored)."""

    code = forms.CharField(
        label="Code de secours",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def _safe_next(request: HttpRequest) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "portal:home"


@verified_required
def security_home(request: HttpRequest) -> HttpResponse:
    """Passkeys (add one, remove one), TOTP, recovery codes left, link to sessions."""
    user = request.user
    return render(
        request,
        "portal/security.html",
        {
            "passkeys": WebAuthnCredential.objects.filter(user=user).order_by("created_at"),
            "has_totp": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
            "recovery_left": remaining_codes(user),
        },
    )


@require_recent_second_factor()
@require_POST
def passkey_delete(request: HttpRequest, passkey_id: int) -> HttpResponse:
    """Remove one of the user's passkeys (another's id: 404); the last factor cannot go."""
    passkey = WebAuthnCredential.objects.filter(user=request.user, pk=passkey_id).first()
    if passkey is None:
        return HttpResponse("Clé d'accès introuvable.", status=404)
    others = [
        d
        for d in devices_for_user(request.user, confirmed=True)
        if not (isinstance(d, WebAuthnCredential) and d.pk == passkey.pk)
        and not isinstance(d, RecoveryCodeDevice)
    ]
    if not others:
        messages.error(request, "C'est votre dernier second facteur : ajoutez-en un autre avant.")
        return redirect("portal:security")
    passkey.delete()
    messages.success(request, "Clé d'accès supprimée.")
    return redirect("portal:security")


@require_recent_second_factor(methods=("POST",))
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Generate a new set of recovery codes (step-up required), shown once."""
    codes = None
    if request.method == "POST":
        codes = issue_recovery_codes(request.user, now=timezone.now())
        accounts.record_event(
            request.user,  # type: ignore[arg-type]
            SecurityEventKind.RECOVERY_CODES_ISSUED,
            now=timezone.now(),
            actor=request.user,  # type: ignore[arg-type]
        )
    return render(
        request,
        "portal/recovery_codes.html",
        {"codes": codes, "recovery_left": remaining_codes(request.user)},
    )


@require_http_methods(["GET", "POST"])
def recovery_verify(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in with a recovery code instead of the lost factor (throttled)."""
    user = request.user
    if not user.is_authenticated:
        return redirect("portal:login")
    if not user_has_device(user):
        return redirect("portal:otp-setup")
    form = RecoveryCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
        code = form.cleaned_data["code"]
        if device is not None and verify_code(device, code, now=timezone.now()):
            mark_second_factor(request, device)
            accounts.record_event(
                user,  # type: ignore[arg-type]
                SecurityEventKind.RECOVERY_CODE_USED,
                now=timezone.now(),
                actor=user,  # type: ignore[arg-type]
                detail={"left": remaining_codes(user)},
            )
            messages.warning(
                request,
                "Code de secours utilisé. Enregistrez une nouvelle clé d'accès ou "
                "application, puis générez de nouveaux codes.",
            )
            return redirect(_safe_next(request))
        form.add_error("code", "Code inconnu, déjà utilisé, ou trop d'essais : patientez.")
    return render(
        request, "portal/recovery_verify.html", {"form": form}, status=400 if form.errors else 200
    )


@verified_required
@require_http_methods(["GET", "POST"])
def step_up(request: HttpRequest) -> HttpResponse:
    """Confirm identity again before a sensitive action: with a passkey, the only choice for
    staff and for anyone holding one (``accounts.access.passkey_required_for``), or with a
    TOTP code for a professional without a passkey. Staff without a passkey are told to enrol
    one first. Success gives a new session id and goes to ``next``."""
    user = request.user
    passkey_only = passkey_required_for(user)
    has_passkey = holds_passkey(user)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and not passkey_only and form.is_valid():
        for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
            if verify_code(device, form.cleaned_data["otp_token"], now=timezone.now()):
                mark_second_factor(request, device)
                return redirect(_safe_next(request))
        form.add_error("otp_token", "Code incorrect, expiré, ou trop d'essais.")
    elif request.method == "POST" and passkey_only:
        form.add_error(None, "Votre compte exige une clé d'accès pour cette action.")
    return render(
        request,
        "portal/step_up.html",
        {
            "form": form,
            "has_passkey": has_passkey,
            "passkey_only": passkey_only,
            "next": _safe_next(request) if request.GET.get("next") else "",
        },
        status=400 if form.errors else 200,
    )


@verified_required
def sessions_list(request: HttpRequest) -> HttpResponse:
    """The user's open sessions (opened, last activity, browser), the current one marked."""
    return render(
        request,
        "portal/sessions.html",
        {
            "sessions": accounts.active_sessions(request.user),  # type: ignore[arg-type]
            "current": request.session.get(TRACKED),
        },
    )


@verified_required
@require_POST
def session_end(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """End one of the user's own sessions (another's or unknown id: 404)."""
    current = request.session.get(TRACKED) == str(public_id)
    if not accounts.end_session(request.user, public_id, now=timezone.now()):  # type: ignore[arg-type]
        return HttpResponse("Session introuvable.", status=404)
    if current:
        logout(request)
        return redirect("portal:login")
    messages.success(request, "Session fermée.")
    return redirect("portal:sessions")
