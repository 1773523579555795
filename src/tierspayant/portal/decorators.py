"""Access decorators for portal views (second-factor rules: ``accounts.access``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from tierspayant.accounts.access import verified_required

View = Callable[..., HttpResponse]


def professional_required(view: View) -> View:
    """:func:`verified_required`, and the user must be a professional (403 otherwise)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not hasattr(request.user, "professional"):
            return HttpResponse("Réservé aux professionnels de santé.", status=403)
        return view(request, *args, **kwargs)

    return verified_required(wrapper)
