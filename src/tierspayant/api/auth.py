"""Bearer-token authentication shared by the JSON and FHIR APIs."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from tierspayant.providers.choices import Scope
from tierspayant.providers.models import Professional
from tierspayant.providers.services import InvalidToken, authenticate_api_token


def _authenticate(request: HttpRequest, bearer: str, scope: Scope) -> Professional | None:
    """The token's professional, the token's id kept on the request for the disclosure
    gate (``tp_api_token_id``: the guard judges a token apart from its owner)."""
    try:
        token = authenticate_api_token(bearer, scope=scope, now=timezone.now())
    except InvalidToken:
        return None
    request.tp_api_token_id = token.pk  # type: ignore[attr-defined]
    return token.professional


def professional_from_request(request: HttpRequest, scope: Scope) -> Professional | None:
    """The professional owning the request's ``Authorization: Bearer`` token, or None."""
    header = request.headers.get("Authorization", "")
    kind, _, bearer = header.partition(" ")
    if kind.lower() != "bearer" or not bearer.strip():
        return None
    return _authenticate(request, bearer.strip(), scope)


class EligibilityBearer(HttpBearer):
    """django-ninja auth: a token with the ``eligibility:check`` scope."""

    def authenticate(self, request: HttpRequest, token: str) -> Professional | None:
        return _authenticate(request, token, Scope.ELIGIBILITY_CHECK)
