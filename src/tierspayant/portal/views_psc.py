"""Pro Santé Connect pages: sign-in, the callback, linking the account from the security page,
and the step-up confirmation (:mod:`tierspayant.prosanteconnect.services` does the protocol).

Session keys written here (removed once used; never a token, never personal data):

- ``tp_psc_pending``: the round trip in progress (state, nonce, PKCE verifier, purpose), popped
  by the callback, so a replayed ``state`` finds nothing and is refused;
- ``tp_psc_next``: the same-host path to return to.

A successful sign-in logs the linked account in and verifies the session with its link, the
way a passkey does (:func:`~tierspayant.portal.sessions_security.mark_second_factor`: new
session id, ``tp_mfa_at``, ``tp_mfa_method="psc"``), so step-up and the lockdown levels see a
phishing-resistant sign-in (:func:`tierspayant.accounts.access.signed_in_phishing_resistant`).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from tierspayant.accounts.access import require_recent_second_factor, verified_required
from tierspayant.portal.sessions_security import mark_second_factor
from tierspayant.prosanteconnect import services as psc
from tierspayant.prosanteconnect.choices import Purpose, Refusal
from tierspayant.prosanteconnect.models import ProSanteConnectLink

logger = logging.getLogger(__name__)

PENDING = "tp_psc_pending"
NEXT = "tp_psc_next"
_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _config() -> psc.PscConfig | None:
    return psc.configuration(settings)


def _next_path(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _not_configured(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/psc_refused.html",
        {"message": "La connexion Pro Santé Connect n'est pas activée sur cette plateforme."},
        status=404,
    )


def _refused(request: HttpRequest, reason: Refusal) -> HttpResponse:
    logger.warning("Pro Santé Connect answer refused: %s", reason.value)
    status = 503 if reason == Refusal.UNREACHABLE else 400
    return render(
        request,
        "portal/psc_refused.html",
        {"message": psc.PscRefused(reason).message, "reason": reason.value},
        status=status,
    )


def _start(request: HttpRequest, purpose: Purpose, next_path: str) -> HttpResponse:
    config = _config()
    if config is None:
        return _not_configured(request)
    redirect_uri = request.build_absolute_uri(reverse("portal:psc-callback"))
    try:
        url, pending = psc.begin(config, redirect_uri=redirect_uri, purpose=purpose)
    except psc.PscRefused as exc:
        return _refused(request, exc.reason)
    request.session[PENDING] = pending.as_dict()
    request.session[NEXT] = next_path
    return redirect(url)


@require_GET
def psc_sign_in(request: HttpRequest) -> HttpResponse:
    """Start a Pro Santé Connect sign-in (the button of the sign-in page)."""
    user = request.user
    if user.is_authenticated and user.is_verified():  # type: ignore[attr-defined,union-attr]
        return redirect(_next_path(request, reverse("portal:home")))
    return _start(request, Purpose.SIGN_IN, _next_path(request, reverse("portal:home")))


@verified_required
@require_POST
def psc_link_start(request: HttpRequest) -> HttpResponse:
    """From the security page: prove one's Pro Santé Connect identity to link it."""
    if not hasattr(request.user, "professional"):
        return HttpResponse("Réservé aux professionnels de santé.", status=403)
    return _start(request, Purpose.LINK, reverse("portal:security"))


@verified_required
@require_POST
def psc_step_up_start(request: HttpRequest) -> HttpResponse:
    """From the step-up page: confirm identity with a fresh Pro Santé Connect authentication."""
    return _start(request, Purpose.STEP_UP, _next_path(request, reverse("portal:home")))


@require_recent_second_factor()
@require_POST
def psc_unlink(request: HttpRequest) -> HttpResponse:
    """Remove the account's link (a step-up action): password + second factor again."""
    link = ProSanteConnectLink.objects.filter(user=request.user).first()
    if link is not None:
        psc.unlink(link)
        messages.success(request, "Pro Santé Connect n'est plus lié à votre compte.")
    return redirect("portal:security")


@require_GET
def psc_callback(request: HttpRequest) -> HttpResponse:
    """Where Pro Santé Connect sends the browser back (``code`` and ``state``, or ``error``)."""
    config = _config()
    if config is None:
        return _not_configured(request)
    raw = request.session.pop(PENDING, None)
    next_path = request.session.pop(NEXT, None) or reverse("portal:home")
    try:
        pending = psc.Pending.from_dict(raw) if isinstance(raw, dict) else None
    except (KeyError, TypeError):
        pending = None
    try:
        identity = psc.complete(config, pending=pending, params=request.GET)
    except psc.PscRefused as exc:
        return _refused(request, exc.reason)
    assert pending is not None  # complete() refuses a missing round trip
    now = timezone.now()
    if pending.purpose == Purpose.LINK:
        return _link(request, identity, now)
    link = psc.find_link(identity.national_id)
    if pending.purpose == Purpose.STEP_UP:
        if link is None or link.user_id != request.user.pk or not request.user.is_verified():  # type: ignore[attr-defined,union-attr]
            return render(
                request,
                "portal/psc_refused.html",
                {"message": "Cette identité Pro Santé Connect n'est pas celle de ce compte."},
                status=403,
            )
    elif link is None:
        return render(request, "portal/psc_unknown.html", status=403)
    else:
        if request.user.is_authenticated and request.user.pk != link.user_id:
            logout(request)
        login(request, link.user, backend=_BACKEND)
    mark_second_factor(request, link)
    psc.record_use(link, now=now)
    return redirect(next_path)


def _link(request: HttpRequest, identity: psc.Identity, now: object) -> HttpResponse:
    user = request.user
    if not user.is_authenticated or not user.is_verified():  # type: ignore[attr-defined,union-attr]
        return redirect("portal:login")
    try:
        psc.link_account(user, national_id=identity.national_id, linked_by=None, now=now)  # type: ignore[arg-type]
    except psc.LinkRefused as exc:
        return render(request, "portal/psc_refused.html", {"message": exc.message}, status=400)
    messages.success(
        request, "Pro Santé Connect est lié à votre compte : vous pouvez vous connecter avec."
    )
    return redirect("portal:security")
