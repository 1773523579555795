"""The token-authenticated interfaces' middleware path (``tierspayant.api.middleware``): the
security headers stay, the cookie machinery is not there, and only API views are reached."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tierspayant.api.middleware import API_PREFIXES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/fhir/r4/CoverageEligibilityRequest"),
        ("get", "/fhir/r4/metadata"),
        ("post", "/api/v1/eligibility"),
        ("get", "/api/v1/docs"),
    ],
)
def test_api_answers_keep_the_security_headers(method: str, path: str) -> None:
    response = getattr(Client(), method)(path, secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies  # no session, no CSRF cookie on the token-only path


def test_a_portal_session_counts_for_nothing_on_the_api(optician) -> None:
    client = Client()
    client.force_login(optician.user)
    response = client.post(
        "/fhir/r4/CoverageEligibilityRequest", data="{}", content_type="application/fhir+json"
    )
    assert response.status_code == 401


def test_portal_paths_keep_the_full_stack() -> None:
    response = Client().get("/connexion/")
    assert response.status_code == 200
    assert "csrftoken" in response.cookies


def _routes(patterns, prefix: str = "") -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            found += _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            found.append((prefix + str(p.pattern), p.callback))
    return found


def test_only_api_views_live_under_the_api_prefixes() -> None:
    """A request under /api/ or /fhir/ skips sessions, CSRF and the portal's doors: it must
    not be able to reach a portal or back-office view. Every route there is an API view, and
    no other route can match such a path (none starts with a converter or a regex)."""
    prefixes = tuple(p.lstrip("/") for p in API_PREFIXES)
    routes = _routes(get_resolver().url_patterns)
    under = [(route, view) for route, view in routes if route.startswith(prefixes)]
    assert {route for route, _ in under} >= {"fhir/r4/CoverageEligibilityRequest", "api/v1/"}
    for route, view in under:
        module = getattr(getattr(view, "func", view), "__module__", "")  # unwrap partials
        assert module.startswith(("tierspayant.api.", "ninja.")), (route, module)
    for route, _ in routes:
        if not route.startswith(prefixes) and route:
            assert route[0] not in "<^(", route
