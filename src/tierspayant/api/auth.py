"""Bearer-token authentication shared by the JSON and FHIR APIs."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from tierspayant.providers.choices import Scope
from tierspayant.providers.models import Professional
from tierspayant.providers.services import InvalidToken, authenticate_token


def professional_from_request(request: HttpRequest, scope: Scope) -> Professional | None:
    """The professional owning the request's ``Authorization: Bearer`` token, or None."""
    header = request.headers.get("Authorization", "")
    kind, _, bearer = header.partition(" ")
    if kind.lower() != "bearer" or not bearer.strip():
        return None
    try:
        return authenticate_token(bearer.strip(), scope=scope, now=timezone.now())
    except InvalidToken:
        return None


class EligibilityBearer(HttpBearer):
    """django-ninja auth: a token with the ``eligibility:check`` scope."""

    def authenticate(self, request: HttpRequest, token: str) -> Professional | None:
        try:
            return authenticate_token(token, scope=Scope.ELIGIBILITY_CHECK, now=timezone.now())
        except InvalidToken:
            return None
