"""Passkeys (WebAuthn) as the second factor, on django-otp-webauthn's JSON views.

The library verifies the ceremony with py_webauthn: the signed ``clientDataJSON`` must name
one of ``OTP_WEBAUTHN_ALLOWED_ORIGINS`` and the authenticator data must carry the SHA-256 of
``OTP_WEBAUTHN_RP_ID``, so a look-alike site relaying our pages gets an assertion we refuse
(ASVS 5.0 V6.5.x / V6.6 phishing-resistant authenticators; NIST SP 800-63B-4 §3.2.5
"phishing resistance": verifier-name binding). What this module adds:

- passwordless sign-in is OFF (``OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False``): a passkey
  only ever completes a session that already passed the password step;
- a successful passkey check goes through :func:`mark_second_factor` (new session id, time
  of the check for step-up);
- adding a passkey to an account that already has a factor needs a recent second factor
  (a passkey check when the account already holds one), so a stolen, still-open session
  cannot plant the attacker's passkey; it is recorded and announced to the holder by e-mail;
- error answers are the library's JSON ``{"detail", "code"}``; they never echo input.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_otp_webauthn import exceptions
from django_otp_webauthn.utils import user_has_any_otp_device
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from tierspayant.accounts.access import has_recent_second_factor, holds_passkey
from tierspayant.accounts.choices import SecurityEventKind
from tierspayant.accounts.services import announce_passkey_added, record_event
from tierspayant.portal.sessions_security import mark_second_factor


class StepUpRequired(exceptions.OTPWebAuthnApiError):
    """Adding a passkey needs a second factor checked in the last few minutes."""

    status_code = 403
    default_detail = "Confirmez d'abord votre identité (second facteur récent requis)."
    default_code = "step_up_required"


class _RegistrationGate:
    """First passkey of an account without any factor: allowed (like the TOTP enrolment at
    first sign-in). With a factor but no passkey yet: a recent second factor (the TOTP
    bootstrap). Holding a passkey already: a recent *passkey* check, so that a relayed TOTP
    code cannot plant the attacker's passkey next to the owner's."""

    request: HttpRequest

    def check_can_register(self) -> None:
        user = self.request.user
        if not user_has_any_otp_device(user):
            return
        if not has_recent_second_factor(self.request, passkey_only=holds_passkey(user)):
            raise StepUpRequired


class PasskeyRegistrationBegin(_RegistrationGate, BeginCredentialRegistrationView):
    """``POST``: options for ``navigator.credentials.create`` (JSON)."""


class PasskeyRegistrationComplete(_RegistrationGate, CompleteCredentialRegistrationView):
    """``POST`` the attestation (JSON): stores the passkey; a first factor verifies the
    session through :func:`mark_second_factor`."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        was_verified = self.request.user.is_verified()  # type: ignore[union-attr]
        response = super().post(*args, **kwargs)
        if response.status_code != 200:
            return response
        device = getattr(self.request.user, "otp_device", None)
        if not was_verified and device is not None:
            mark_second_factor(self.request, device)
        now = timezone.now()
        record_event(
            self.request.user,  # type: ignore[arg-type]
            SecurityEventKind.PASSKEY_ADDED,
            now=now,
            actor=self.request.user,  # type: ignore[arg-type]
        )
        announce_passkey_added(self.request.user, now=now)  # type: ignore[arg-type]
        return response


class PasskeyAuthenticationBegin(BeginCredentialAuthenticationView):
    """``POST``: options for ``navigator.credentials.get``, listing the user's passkeys.
    Anonymous callers get 403 ``passwordless_login_disabled``."""


class PasskeyAuthenticationComplete(CompleteCredentialAuthenticationView):
    """``POST`` the assertion (JSON): on success the session is verified (new session id)
    and the answer is ``{"id", "redirect_url"}`` (``next`` if same-host, else home)."""

    def complete_auth(self, device: Any) -> None:
        mark_second_factor(self.request, device)
