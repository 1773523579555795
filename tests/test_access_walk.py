"""Walk every URL pattern: nothing that can disclose personal data answers without a
verified second factor. A new URL must be classified here, or this test fails."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

# Public by design (no personal data): sign-in steps, API descriptions, FHIR metadata.
PUBLIC = {
    "connexion/",
    "connexion/code/",
    "connexion/activer-2fa/",
    "deconnexion/",
    "api/v1/openapi.json",
    "api/v1/docs",
    "fhir/r4/metadata",
    "cle-acces/jsi18n/",
    "admin/login/",
    "admin/logout/",
}
# Machine endpoints: a bearer token, never a session (tested in test_api_json / test_fhir).
TOKEN_ONLY = {"api/v1/eligibility", "fhir/r4/CoverageEligibilityRequest"}


def all_paths() -> list[str]:
    """Every route, with converters replaced by sample values."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern):
                found.append(prefix + route)

    walk(get_resolver().url_patterns, "")
    samples = {
        "int": "1",
        "str": "x",
        "path": "x/y",
        "slug": "x",
        "uuid": "00000000-0000-0000-0000-000000000001",
    }
    cleaned = []
    for route in found:
        route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: samples.get(m.group(1) or "str", "x"), route)
        route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\/", "/")
        cleaned.append(re.sub(r"\(\?P<\w+>[^)]*\)", "1", route))
    return sorted(set(cleaned))


PATHS = all_paths()


def test_walk_found_the_sensitive_pages() -> None:
    assert {"", "droits/", "jetons/", "admin/"} <= set(PATHS)
    assert len(PATHS) > 20  # the admin contributes many


@pytest.mark.parametrize("path", PATHS)
def test_no_personal_page_without_second_factor(path: str, optician) -> None:
    if path in PUBLIC:
        return
    anonymous = Client()
    password_only = Client()
    password_only.post("/connexion/", {"username": optician.user.username, "password": PASSWORD})
    for client in (anonymous, password_only):
        for method in ("get", "post"):
            response = getattr(client, method)("/" + path)
            if path in TOKEN_ONLY:
                assert response.status_code in {401, 405}, (path, method, response.status_code)
            else:
                assert response.status_code in {302, 401, 403, 404, 405}, (
                    path,
                    method,
                    response.status_code,
                )
                if response.status_code == 302:
                    target = response["Location"]
                    assert target.startswith(("/connexion/", "/admin/login/")), (path, target)
