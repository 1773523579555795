"""HTTP middleware of the portal."""

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse

from tierspayant.accounts.access import signed_in_phishing_resistant
from tierspayant.accounts.backoffice import may_sign_in_during_lockdown
from tierspayant.guard.choices import LockdownLevel
from tierspayant.guard.lockdown import lockdown_level
from tierspayant.guard.models import AccountGuard
from tierspayant.portal.sessions_security import signed_in_at


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every dynamic response, so no page that may carry
    personal data is kept by a browser or proxy cache. Static files are left cacheable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
        return response


def back_office_sign_in(request: HttpRequest) -> bool:
    """During a lockdown, True for the portal requests of a sign-in to the back-office by staff
    holding a passkey (:func:`~tierspayant.accounts.backoffice.may_sign_in_during_lockdown`):

    - signed out: the password page, on its way to the back-office (``next`` under
      ``/admin/``; the form then lets only those accounts in, see ``portal.forms.SignInForm``);
    - signed in as such staff: the second-factor page (shown, not posted: no TOTP code), the
      passkey ceremony, the step-up page (passkey only for staff) and signing out.

    Anything else (another account, a TOTP or recovery code, any other portal page): False."""
    user = request.user
    if not user.is_authenticated:
        target = request.POST.get("next") or request.GET.get("next") or ""
        return request.path == reverse("portal:login") and target.startswith(reverse("admin:index"))
    if not may_sign_in_during_lockdown(user):
        return False
    if request.path == reverse("portal:otp-verify"):
        return request.method == "GET"
    return request.path in {
        reverse("portal:step-up"),
        reverse("portal:logout"),
        reverse("otp_webauthn:credential-authentication-begin"),
        reverse("otp_webauthn:credential-authentication-complete"),
        reverse("otp_webauthn:js-i18n-catalog"),
    }


#: Portal pages kept open by the restricted lockdown to phishing-resistant sessions:
#: prior approvals, invoices (claims), statements (issue 19 part 3).
RESTRICTED_OPEN_PREFIXES = ("/pec/", "/factures/", "/paiements/")

#: The restricted lockdown's refusals: the page's reason -> French title (the template
#: explains each one and what still works).
RESTRICTED_REFUSALS = {
    "second_factor": "Connexion par code refusée pendant le confinement",
    "rights_check": "Vérifications de droits seules fermées pendant le confinement",
    "bank": "Changements de coordonnées bancaires gelés pendant le confinement",
    "closed": "Page fermée pendant le confinement",
}


def _pro_sante_connect_step(request: HttpRequest) -> bool:
    """True for a step of the Pro Santé Connect sign-in (a URL named ``psc…`` or in a
    ``psc`` namespace): it is a phishing-resistant way in, open at the restricted level."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return "psc" in match.namespaces or (match.url_name or "").startswith("psc")


def restricted_refusal(request: HttpRequest) -> str | None:
    """At the restricted lockdown level, the reason a portal request is refused (a key of
    :data:`RESTRICTED_REFUSALS`), or None to let it through:

    - signed out: the password page and the protected pages (which send to it) pass; the
      password reset is closed;
    - password given, second factor not yet: pages are read (each sends to the second-factor
      page, which offers the passkey only), the passkey and Pro Santé Connect steps pass; a
      TOTP code, a recovery code, any other form or a TOTP enrolment is refused
      (``second_factor``);
    - verified by TOTP or a recovery code: every page but sign-out is refused
      (``second_factor``);
    - verified by a passkey or Pro Santé Connect: home, approvals, invoices, statements and
      the step-up page pass; the free-standing rights check (``rights_check``), the bank
      details (``bank``) and the other pages (``closed``) are refused.
    """
    path = request.path
    always = {
        reverse("portal:logout"),
        reverse("otp_webauthn:credential-authentication-begin"),
        reverse("otp_webauthn:credential-authentication-complete"),
        reverse("otp_webauthn:js-i18n-catalog"),
    }
    if path in always or _pro_sante_connect_step(request):
        return None
    user = request.user
    if not user.is_authenticated:
        return "closed" if path.startswith("/mot-de-passe-oublie/") else None
    if not user.is_verified():  # type: ignore[attr-defined]  # set by OTPMiddleware
        closed = {reverse("portal:otp-setup"), reverse("portal:recovery-verify")}
        if request.method == "GET" and path not in closed:
            return None  # the page's own guard sends to the second-factor page
        return "second_factor"
    if not signed_in_phishing_resistant(request):
        return "second_factor"
    if path == reverse("portal:rights-check"):
        return "rights_check"
    if path.startswith("/banque/"):
        return "bank"
    if path in {reverse("portal:home"), reverse("portal:step-up")} or path.startswith(
        RESTRICTED_OPEN_PREFIXES
    ):
        return None
    return "closed"


class GuardMiddleware:
    """The guard's doors on the web side (after authentication and OTP middleware):

    - full lockdown: every portal page answers the maintenance page (503); the back-office,
      the JSON and FHIR APIs and static files stay open, and so do the steps by which staff
      holding a passkey sign in to the back-office (:func:`back_office_sign_in`);
    - restricted lockdown: approvals, invoices and statements stay open to sessions signed
      in with a passkey or Pro Santé Connect; the rest answers a clear page (403) saying why
      (:func:`restricted_refusal`);
    - revoked sessions: a professional's session opened before the account's
      ``sessions_revoked_at`` (suspension, lockdown) is ended on its very next request;
    - suspended account: portal pages answer 403 (sign-out still works);
    - forced password change (after a lockdown): once verified, the professional is sent to
      the password change page before anything else.
    """

    OPEN_PREFIXES = ("/admin/", "/api/", "/fhir/", "/static/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        portal = not request.path.startswith(self.OPEN_PREFIXES)
        level = lockdown_level() if portal else LockdownLevel.OPEN
        if level == LockdownLevel.FULL and not back_office_sign_in(request):
            return render(request, "portal/maintenance.html", status=503)
        if level == LockdownLevel.RESTRICTED:
            why = restricted_refusal(request)
            if why is not None:
                return render(
                    request,
                    "portal/restricted.html",
                    {"why": why, "title": RESTRICTED_REFUSALS[why]},
                    status=403,
                )
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        account = AccountGuard.objects.filter(professional__user_id=user.pk).first()
        if account is None:
            return self.get_response(request)
        revoked = account.sessions_revoked_at
        if revoked is not None:
            opened = signed_in_at(request)
            if opened is None or opened < revoked:
                logout(request)
                if portal:
                    return redirect("portal:login")
                return self.get_response(request)
        exempt = {reverse("portal:logout"), reverse("portal:password-change")}
        if portal and account.suspended and request.path != reverse("portal:logout"):
            return render(request, "portal/suspended.html", status=403)
        if (
            portal
            and account.must_change_password
            and user.is_verified()
            and request.path not in exempt
        ):
            return redirect("portal:password-change")
        return self.get_response(request)
