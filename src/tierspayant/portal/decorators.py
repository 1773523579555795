"""Access decorators for portal views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import user_has_device

View = Callable[..., HttpResponse]


def verified_required(view: View) -> View:
    """Allow only a user signed in *and* verified with a second factor.

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


def professional_required(view: View) -> View:
    """:func:`verified_required`, and the user must be a professional (403 otherwise)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not hasattr(request.user, "professional"):
            return HttpResponse("Réservé aux professionnels de santé.", status=403)
        return view(request, *args, **kwargs)

    return verified_required(wrapper)
