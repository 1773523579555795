"""Session security of the portal: a new session id at every authentication step, idle and
absolute timeouts, tracked sessions the professional can see and end, the new-device e-mail,
and the record of each second-factor check that step-up reads.

Session keys written here (values are numbers or short words, never secrets):

- ``tp_started`` / ``tp_seen``: epoch seconds of sign-in and of the last request;
- ``tp_mfa_at`` / ``tp_mfa_method`` (:mod:`tierspayant.accounts.access`): epoch seconds and
  kind (``passkey``, ``totp``, ``recovery``, ``psc``) of the last second-factor check in
  this session;
- ``tp_sid``: public id (UUID) of the :class:`~tierspayant.accounts.models.UserSession` row.

Rules and sources:

- new session id at sign-in (Django's ``login``) and at each second-factor check
  (:func:`mark_second_factor`): ASVS 5.0 V7.2.4;
- idle ``TIERSPAYANT_SESSION_IDLE_SECONDS`` (900) and absolute
  ``TIERSPAYANT_SESSION_ABSOLUTE_SECONDS`` (43,200) timeouts: ASVS 5.0 V7.3.1/V7.3.2,
  NIST SP 800-63B-4 §5.2 (AAL2: 12 h overall, re-authentication after inactivity);
- the user sees and ends their sessions: ASVS 5.0 V7.5.2;
- step-up before a sensitive action: the rule lives in :mod:`tierspayant.accounts.access`
  (shared with the back-office); this module records the checks it reads.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tierspayant.accounts import services as accounts
from tierspayant.accounts.access import MFA_AT, MFA_METHOD, PRO_SANTE_CONNECT
from tierspayant.accounts.models import RecoveryCodeDevice
from tierspayant.prosanteconnect.models import ProSanteConnectLink

STARTED = "tp_started"
SEEN = "tp_seen"
TRACKED = "tp_sid"
BROWSER_COOKIE = "tp_browser"
_TOUCH_EVERY = 60  # seconds: last-seen precision, so a page view does not always write

View = Callable[..., HttpResponse]


def _now() -> float:
    return time.time()


def method_of(device: object) -> str:
    """``passkey``, ``totp``, ``recovery`` or ``psc`` (a Pro Santé Connect link) for a
    django-otp device (``other`` otherwise)."""
    if isinstance(device, WebAuthnCredential):
        return "passkey"
    if isinstance(device, TOTPDevice):
        return "totp"
    if isinstance(device, RecoveryCodeDevice):
        return "recovery"
    if isinstance(device, ProSanteConnectLink):
        return PRO_SANTE_CONNECT
    return "other"


def mark_second_factor(request: HttpRequest, device: Any) -> None:
    """Record a successful second-factor check: the session is verified with ``device``, gets
    a NEW session id (the old cookie is worthless, ASVS 5.0 V7.2.4) and remembers when."""
    otp_login(request, device)
    request.session.cycle_key()
    request.session[MFA_AT] = _now()
    request.session[MFA_METHOD] = method_of(device)
    tracked = request.session.get(TRACKED)
    if tracked:
        accounts.rekey_session(tracked, session_key=request.session.session_key or "")


def _instant(request: HttpRequest, key: str) -> datetime.datetime | None:
    raw = request.session.get(key) if hasattr(request, "session") else None
    if raw is None:
        return None
    return datetime.datetime.fromtimestamp(float(raw), tz=datetime.UTC)


def second_factor_at(request: HttpRequest) -> datetime.datetime | None:
    """When this session last passed a second factor (aware UTC), or None. The guard compares
    it with the instant it started demanding a step-up (``check_rights(step_up_verified_at=)``)."""
    return _instant(request, MFA_AT)


def signed_in_at(request: HttpRequest) -> datetime.datetime | None:
    """When this session signed in (aware UTC), or None. The guard ends sessions opened before
    an account's ``sessions_revoked_at``."""
    return _instant(request, STARTED)


# --- sign-in and sign-out hooks -------------------------------------------------------


@receiver(user_logged_in)
def _on_sign_in(sender: object, request: HttpRequest | None, user: Any, **_: Any) -> None:
    """After the password step (Django has already cycled the session id): start timing and
    tracking the session, and e-mail the user when the browser is new to this account."""
    if request is None or not hasattr(request, "session"):
        return
    now_s = _now()
    now = timezone.now()
    session = request.session
    if session.session_key is None:
        session.save()
    session[STARTED] = now_s
    session[SEEN] = now_s
    row = accounts.track_session(
        user,
        session_key=session.session_key or "",
        user_agent=str(request.META.get("HTTP_USER_AGENT", "")),
        now=now,
    )
    session[TRACKED] = str(row.public_id)
    check = accounts.note_browser(user, cookie_value=request.COOKIES.get(BROWSER_COOKIE), now=now)
    request._tp_browser_cookie = check.cookie_value  # type: ignore[attr-defined]
    if check.is_new:
        accounts.announce_new_browser(user, now=now)


@receiver(user_logged_out)
def _on_sign_out(sender: object, request: HttpRequest | None, user: Any, **_: Any) -> None:
    if request is not None and hasattr(request, "session"):
        tracked = request.session.get(TRACKED)
        if tracked:
            accounts.close_session(tracked, now=timezone.now())


class SessionSecurityMiddleware:
    """Ends sessions idle for ``TIERSPAYANT_SESSION_IDLE_SECONDS`` or older than
    ``TIERSPAYANT_SESSION_ABSOLUTE_SECONDS`` (the user is signed out and told why), keeps the
    tracked session's last-seen time and key current, and sets the browser cookie chosen at
    sign-in. Place it after ``OTPMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key_before = None
        if request.user.is_authenticated:
            key_before = request.session.session_key
            self._enforce_timeouts(request)
        response = self.get_response(request)
        cookie = getattr(request, "_tp_browser_cookie", None)
        if cookie:
            response.set_cookie(
                BROWSER_COOKIE,
                cookie,
                max_age=400 * 24 * 3600,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        session = getattr(request, "session", None)
        tracked = session.get(TRACKED) if session is not None else None
        if (
            session is not None
            and tracked
            and key_before
            and session.session_key not in (None, key_before)
        ):
            accounts.rekey_session(tracked, session_key=session.session_key)
        return response

    def _enforce_timeouts(self, request: HttpRequest) -> None:
        session = request.session
        now_s = _now()
        started = session.get(STARTED)
        seen = session.get(SEEN)
        if started is None or seen is None:
            # A session opened without the portal's sign-in (e.g. the admin's own login form
            # before this middleware existed): start its clocks now.
            session[STARTED] = session[SEEN] = now_s
            return
        idle = now_s - float(seen) > settings.TIERSPAYANT_SESSION_IDLE_SECONDS
        too_old = now_s - float(started) > settings.TIERSPAYANT_SESSION_ABSOLUTE_SECONDS
        if idle or too_old:
            logout(request)
            messages.info(
                request,
                "Votre session a expiré "
                + ("après une période d'inactivité" if idle else "(durée maximale atteinte)")
                + " : reconnectez-vous.",
            )
            return
        if now_s - float(seen) >= _TOUCH_EVERY:
            session[SEEN] = now_s
            tracked = session.get(TRACKED)
            if tracked:
                accounts.touch_session(tracked, now=timezone.now())
