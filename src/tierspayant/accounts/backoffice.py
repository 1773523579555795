"""The back-office (Django admin) opens only to active staff whose session passed a *passkey*.

Staff see every insurer's register, lift suspensions and reset lost factors: a phished staff
password plus a relayed TOTP code would be worse than the 2024 attacks. So the admin demands
the phishing-resistant factor (issue 8: passkeys "the required factor for staff"; NIST
SP 800-63B-4 §3.2.5; ASVS 5.0 V6.5.x). The admin's own password + TOTP form is replaced by
the portal's sign-in, which offers the passkey:

- not signed in: the portal's sign-in page, coming back to the admin page asked for;
- signed in, second factor not yet given: the portal's second-factor page (passkey offered);
- staff verified with TOTP or a recovery code: the step-up page, passkey only;
- staff without any passkey: the security page, to ask for one, which another staff member
  approves (:mod:`tierspayant.accounts.enrolment`: a relayed TOTP sign-in cannot plant it);
- not staff: 403;
- already admitted: straight to the page asked for.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_otp.admin import OTPAdminSite

from tierspayant.accounts.access import PASSKEY, holds_passkey, second_factor_method


class BackOfficeSite(OTPAdminSite):
    """:class:`django_otp.admin.OTPAdminSite` (active staff, verified session), and the
    session's last second factor was a passkey. ``login`` sends to the portal's steps."""

    site_header = "tierspayant · back-office"

    def has_permission(self, request: HttpRequest) -> bool:
        """Active staff, verified in this session, by a passkey."""
        return super().has_permission(request) and second_factor_method(request) == PASSKEY

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """Route to the step still missing (see the module docstring); never a form here."""
        target = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = ""
        # The path only: an admin URL's query string may carry a search term (a name), which
        # must not travel through the sign-in pages' URLs and access logs.
        target = urlsplit(target).path or reverse("admin:index")
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(target, reverse("portal:login"))
        if self.has_permission(request):
            return redirect(target)
        if not (user.is_active and user.is_staff):
            return HttpResponse("Réservé au personnel de l'opérateur.", status=403)
        if not user.is_verified():  # type: ignore[attr-defined]  # set by OTPMiddleware
            return redirect(f"{reverse('portal:otp-verify')}?{urlencode({'next': target})}")
        if not holds_passkey(user):
            messages.warning(
                request,
                "Le back-office exige une clé d'accès : demandez son enrôlement ci-dessous ; "
                "un autre membre du personnel l'approuve, puis vous l'ajoutez et confirmez "
                "votre identité avec elle.",
            )
            return redirect("portal:security")
        return redirect(f"{reverse('portal:step-up')}?{urlencode({'next': target})}")
