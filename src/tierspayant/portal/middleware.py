"""HTTP middleware of the portal."""

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from tierspayant.guard.lockdown import lockdown_active
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


class GuardMiddleware:
    """The guard's doors on the web side (after authentication and OTP middleware):

    - lockdown: every portal page answers the maintenance page (503); the back-office,
      the JSON and FHIR APIs and static files stay open;
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
        if portal and lockdown_active():
            return render(request, "portal/maintenance.html", status=503)
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
