"""Who may open a page: a verified second factor, and a *recent* one (step-up) for sensitive
actions, with a passkey wherever the account can use one.

Here, below every interface layer, so that the portal (bank details, API tokens, passkeys,
recovery codes) and the back-office (lifting a suspension, staff pages) share one rule.

Session keys read here, written by the portal at each second-factor check:

- ``tp_mfa_at``: epoch seconds (UTC) of the last second-factor check in this session;
- ``tp_mfa_method``: ``passkey``, ``totp``, ``recovery`` or ``psc`` (Pro Santé Connect: the
  State's OpenID provider, CPS card or e-CPS app).

Rules and sources:

- step-up before a sensitive change: ASVS 5.0 V7.5.3 (re-authentication), V6.3.x;
- a passkey is bound to our origin, a TOTP code can be relayed by a phishing proxy
  (NIST SP 800-63B-4 §3.2.5, phishing resistance). So whoever holds a passkey must step up
  with it (accepting TOTP from them would let a relayed code bypass the passkey), and staff
  must always use one (issue 8: "the required factor for staff and for step-up"). A
  professional without a passkey steps up with TOTP, the fallback, and is invited to enrol.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import user_has_device
from django_otp_webauthn.models import WebAuthnCredential

MFA_AT = "tp_mfa_at"
MFA_METHOD = "tp_mfa_method"
PASSKEY = "passkey"
PRO_SANTE_CONNECT = "psc"
PHISHING_RESISTANT_METHODS = frozenset({PASSKEY, PRO_SANTE_CONNECT})

View = Callable[..., HttpResponse]


def holds_passkey(user: Any) -> bool:
    """True when ``user`` has at least one confirmed passkey (WebAuthn credential)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def passkey_required_for(user: Any) -> bool:
    """True when only a passkey may confirm ``user``'s identity at step-up: every staff
    account, and every account that holds a passkey."""
    return bool(getattr(user, "is_staff", False)) or holds_passkey(user)


def second_factor_method(request: HttpRequest) -> str | None:
    """``passkey``, ``totp`` or ``recovery``: how this session last passed a second factor."""
    session = getattr(request, "session", None)
    return None if session is None else session.get(MFA_METHOD)


def signed_in_phishing_resistant(request: HttpRequest) -> bool:
    """True when this session's last second factor is phishing resistant: a passkey or a
    Pro Santé Connect sign-in (NIST SP 800-63B-4 §3.2.5)."""
    return second_factor_method(request) in PHISHING_RESISTANT_METHODS


def has_recent_second_factor(
    request: HttpRequest, max_age: int | None = None, *, passkey_only: bool = False
) -> bool:
    """True when this session passed a second factor less than ``max_age`` seconds ago
    (default ``TIERSPAYANT_STEP_UP_SECONDS``) and, with ``passkey_only``, with a passkey."""
    limit = settings.TIERSPAYANT_STEP_UP_SECONDS if max_age is None else max_age
    session = getattr(request, "session", None)
    at = None if session is None else session.get(MFA_AT)
    if at is None or time.time() - float(at) > limit:
        return False
    return not passkey_only or second_factor_method(request) == PASSKEY


def step_up_redirect(request: HttpRequest) -> HttpResponse:
    """Send the user to the step-up page (``portal:step-up``), back to this path after."""
    return redirect(f"{reverse('portal:step-up')}?{urlencode({'next': request.path})}")


def verified_required(view: View) -> View:
    """Allow only a user signed in *and* verified with a second factor in this session.

    Anonymous -> sign-in page; signed in without a confirmed device -> TOTP enrolment;
    with a device but not verified in this session -> second-factor page. Staff-only
    pages add their own checks on top.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        if not user.is_verified():  # type: ignore[attr-defined]  # set by OTPMiddleware
            target = "portal:otp-verify" if user_has_device(user) else "portal:otp-setup"
            return redirect(f"{reverse(target)}?{urlencode({'next': request.path})}")
        return view(request, *args, **kwargs)

    return wrapper


def require_recent_second_factor(
    max_age: int | None = None, *, methods: Iterable[str] | None = None
) -> Callable[[View], View]:
    """Decorator for sensitive views: :func:`verified_required`, AND a second factor checked
    less than ``max_age`` seconds ago (default ``TIERSPAYANT_STEP_UP_SECONDS``, 300) — a
    passkey for staff and for anyone holding one (:func:`passkey_required_for`), TOTP for
    the others. Otherwise the user goes to ``portal:step-up`` and comes back here.

    ``methods`` limits the check to some HTTP methods (``("POST",)`` lets a page be read
    without step-up while its action needs one; the page should then offer the step-up
    before showing the form, so nothing typed is lost). Used on the bank-detail change, API
    token creation, passkey removal, recovery codes and the back-office suspension lift.
    """
    only = {m.upper() for m in methods} if methods else None

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if (only is None or request.method in only) and not stepped_up(request, max_age):
                return step_up_redirect(request)
            return view(request, *args, **kwargs)

        return verified_required(wrapper)

    return decorate


def stepped_up(request: HttpRequest, max_age: int | None = None) -> bool:
    """True when this session may perform a step-up action now: a recent second factor of
    the kind :func:`passkey_required_for` demands of its user. A recent phishing-resistant
    check (a passkey, or a fresh Pro Santé Connect authentication: CPS card or e-CPS app,
    bound to PSC's origin) satisfies every user; TOTP only those not holding a passkey."""
    if not has_recent_second_factor(request, max_age):
        return False
    # Only a recent TOTP/recovery check needs to know whether a passkey was required (a query).
    return signed_in_phishing_resistant(request) or not passkey_required_for(request.user)
