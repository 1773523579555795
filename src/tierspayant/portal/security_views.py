"""Account security pages: passkeys (first-passkey enrolment, removal with the notice's
code), recovery codes, sessions, step-up, recovery sign-in.

Thin views over :mod:`tierspayant.accounts.services` / :mod:`~tierspayant.accounts.recovery`
and :mod:`tierspayant.portal.sessions_security`. French UI; no secret ever in a URL: ids in
paths are a passkey's row id (checked against the owner: another's gives 404) or a
session's public UUID (never the session key).
"""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tierspayant.accounts import enrolment
from tierspayant.accounts import services as accounts
from tierspayant.accounts.access import (
    holds_passkey,
    passkey_required_for,
    require_recent_second_factor,
    stepped_up,
    verified_required,
)
from tierspayant.accounts.choices import EnrolmentRoute, SecurityEventKind
from tierspayant.accounts.codes import verify_code
from tierspayant.accounts.models import RecoveryCodeDevice
from tierspayant.accounts.recovery import issue_recovery_codes, remaining_codes
from tierspayant.portal.forms import OtpTokenForm
from tierspayant.portal.sessions_security import TRACKED, mark_second_factor
from tierspayant.prosanteconnect.models import ProSanteConnectLink


class EmailCodeForm(forms.Form):
    """The 8-digit code e-mailed to open a first passkey's enrolment."""

    code = forms.RegexField(
        label="Code reçu par e-mail",
        regex=r"^\s*\d{8}\s*$",
        max_length=20,
        error_messages={"invalid": "Le code compte 8 chiffres."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class NoticeCodeForm(forms.Form):
    """The removal code of a passkey notice, ``xxxxx-xxxxx`` (spaces and hyphens ignored)."""

    code = forms.CharField(
        label="Code de retrait reçu par e-mail",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


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
    now = timezone.now()
    return render(
        request,
        "portal/security.html",
        {
            "passkeys": WebAuthnCredential.objects.filter(user=user).order_by("created_at"),
            "needs_enrolment": enrolment.needs_enrolment(user),
            "enrolment_route": enrolment.route_for(user),
            "enrolment_open": enrolment.open_enrolment(
                user, session_id=request.session.get(TRACKED), now=now
            ),
            "enrolment_pending": enrolment.pending_enrolment(user, now=now),
            "has_totp": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
            "recovery_left": remaining_codes(user),
            "psc_enabled": bool(settings.TIERSPAYANT_PSC_ISSUER),
            "psc_link": ProSanteConnectLink.objects.filter(user=user).first(),
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


@verified_required
@require_POST
def passkey_enrolment_request(request: HttpRequest) -> HttpResponse:
    """Ask to open a first passkey: a professional steps up (TOTP), then gets an e-mailed
    code and the page to enter it; staff (and accounts without an address) wait for another
    staff member's approval (no step-up here: staff step up with a passkey only, and the
    registration itself still needs a recent second factor). Holding a passkey already:
    nothing to open."""
    if not enrolment.needs_enrolment(request.user):
        return redirect("portal:security")
    route = enrolment.route_for(request.user)
    if route == EnrolmentRoute.EMAIL and not stepped_up(request):
        back = urlencode({"next": reverse("portal:security")})
        return redirect(f"{reverse('portal:step-up')}?{back}")
    asked = enrolment.request_enrolment(
        request.user, session_id=request.session.get(TRACKED), now=timezone.now()
    )
    if asked.code is not None:
        messages.info(request, "Un code de confirmation vous a été envoyé par e-mail.")
        return redirect("portal:passkey-enrolment-code")
    messages.info(
        request,
        "Demande enregistrée : un autre membre du personnel de l'opérateur doit l'approuver "
        "(il vérifie votre identité, par exemple par téléphone). Revenez ensuite ici.",
    )
    return redirect("portal:security")


@verified_required
@require_http_methods(["GET", "POST"])
def passkey_enrolment_code(request: HttpRequest) -> HttpResponse:
    """Enter the e-mailed code; the page then offers to create the passkey."""
    form = EmailCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment.confirm_enrolment(
                request.user,
                session_id=request.session.get(TRACKED),
                code=form.cleaned_data["code"].strip(),
                now=timezone.now(),
            )
        except enrolment.EnrolmentError as refused:
            form.add_error("code", refused.message)
        else:
            messages.success(
                request,
                f"Code confirmé : ajoutez votre clé d'accès dans les {enrolment.OPEN_MINUTES} "
                "minutes.",
            )
            return redirect("portal:security")
    return render(
        request,
        "portal/passkey_enrolment_code.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@verified_required
@require_http_methods(["GET", "POST"])
def passkey_remove_with_code(request: HttpRequest, passkey_id: int) -> HttpResponse:
    """Remove a passkey the holder did not add, with the removal code of its e-mailed notice:
    signed in with any second factor (the attacker's passkey gates step-up, so the owner's
    TOTP sign-in must be enough here, with the code only the mailbox holds). The other
    sessions end. Another's or unknown id: 404."""
    passkey = WebAuthnCredential.objects.filter(user=request.user, pk=passkey_id).first()
    if passkey is None:
        return HttpResponse("Clé d'accès introuvable.", status=404)
    form = NoticeCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            ended = enrolment.remove_passkey_with_notice_code(
                request.user,
                passkey_id=passkey.pk,
                code=form.cleaned_data["code"],
                keep_session=request.session.get(TRACKED),
                now=timezone.now(),
            )
        except enrolment.EnrolmentError as refused:
            form.add_error("code", refused.message)
        else:
            messages.success(
                request,
                f"Clé d'accès retirée ; {ended} autre(s) session(s) fermée(s). Changez votre "
                "mot de passe et prévenez l'assistance.",
            )
            return redirect("portal:security")
    return render(
        request,
        "portal/passkey_remove.html",
        {"form": form, "passkey": passkey},
        status=400 if form.errors else 200,
    )


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
            "psc_linked": bool(settings.TIERSPAYANT_PSC_ISSUER)
            and ProSanteConnectLink.objects.filter(user=user, confirmed=True).exists(),
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
