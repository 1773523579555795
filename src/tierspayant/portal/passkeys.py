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
  cannot plant the attacker's passkey;
- the *first* passkey of an account that has a factor, and of every staff account, also
  needs an opening through another channel (:mod:`tierspayant.accounts.enrolment`: a code
  e-mailed to the holder, or another staff member's approval), spent by that one passkey:
  a phishing relay of a password + TOTP sign-in cannot plant one;
- every passkey added is recorded and announced by e-mail with a removal code;
- error answers are the library's JSON ``{"detail", "code"}``; they never echo input.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_otp import user_has_device
from django_otp_webauthn import exceptions
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from tierspayant.accounts import enrolment
from tierspayant.accounts.access import has_recent_second_factor, holds_passkey
from tierspayant.portal.sessions_security import TRACKED, mark_second_factor


class StepUpRequired(exceptions.OTPWebAuthnApiError):
    """Adding a passkey needs a second factor checked in the last few minutes."""

    status_code = 403
    default_detail = "Confirmez d'abord votre identité (second facteur récent requis)."
    default_code = "step_up_required"


class EnrolmentRequired(exceptions.OTPWebAuthnApiError):
    """A first passkey needs an open enrolment (e-mailed code or another staff's approval)."""

    status_code = 403
    default_detail = (
        "Une première clé d'accès demande une confirmation : ouvrez la page Sécurité et "
        "suivez l'étape « Ajouter une clé d'accès »."
    )
    default_code = "passkey_enrolment_required"


class _RegistrationGate:
    """Holding a passkey already: a recent *passkey* check (a relayed TOTP code cannot add a
    second one). First passkey of staff, or of an account with a factor: a recent second
    factor AND an open enrolment (:mod:`tierspayant.accounts.enrolment`). A professional's
    very first factor, at first sign-in: allowed, like the TOTP enrolment."""

    request: HttpRequest

    def check_can_register(self) -> None:
        user = self.request.user
        if holds_passkey(user):
            if not has_recent_second_factor(self.request, passkey_only=True):
                raise StepUpRequired
            return
        if not enrolment.needs_enrolment(user):
            return
        if user_has_device(user) and not has_recent_second_factor(self.request):
            raise StepUpRequired
        session_id = self.request.session.get(TRACKED)
        if enrolment.open_enrolment(user, session_id=session_id, now=timezone.now()) is None:
            raise EnrolmentRequired


class PasskeyRegistrationBegin(_RegistrationGate, BeginCredentialRegistrationView):
    """``POST``: options for ``navigator.credentials.create`` (JSON)."""


class PasskeyRegistrationComplete(_RegistrationGate, CompleteCredentialRegistrationView):
    """``POST`` the attestation (JSON): stores the passkey, spending the enrolment that
    opened a first passkey in the same transaction; a first factor verifies the session
    through :func:`mark_second_factor`. The holder is e-mailed a notice with a removal code."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = self.request.user
        was_verified = user.is_verified()
        first = enrolment.needs_enrolment(user)
        now = timezone.now()
        with transaction.atomic():
            opening = None
            if first:
                opening = enrolment.consume_enrolment(
                    user, session_id=self.request.session.get(TRACKED), now=now
                )
                if opening is None:  # spent meanwhile by a concurrent registration
                    raise EnrolmentRequired
            response = super().post(*args, **kwargs)
            if response.status_code != 200:
                transaction.set_rollback(True)
                return response
            credential_id = int(json.loads(response.content)["id"])
            if opening is not None:
                enrolment.link_credential(opening, credential_id)
        device = getattr(user, "otp_device", None)
        if not was_verified and device is not None:
            mark_second_factor(self.request, device)
        enrolment.announce_passkey_added(user, credential_id, now=now)
        return response


class PasskeyAuthenticationBegin(BeginCredentialAuthenticationView):
    """``POST``: options for ``navigator.credentials.get``, listing the user's passkeys.
    Anonymous callers get 403 ``passwordless_login_disabled``."""


class PasskeyAuthenticationComplete(CompleteCredentialAuthenticationView):
    """``POST`` the assertion (JSON): on success the session is verified (new session id)
    and the answer is ``{"id", "redirect_url"}`` (``next`` if same-host, else home)."""

    def complete_auth(self, device: Any) -> None:
        mark_second_factor(self.request, device)
