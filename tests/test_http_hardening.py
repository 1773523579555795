"""HTTP hardening: ``check --deploy`` clean with production settings, HSTS, TLS redirect,
cookie flags, strict CSP with frame-ancestors 'none', and ``Cache-Control: no-store`` on
every dynamic response (ASVS 5.0 V3.3.1, V3.4.1-V3.4.6, V14.3.2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.auth_helpers import password_step
from tests.redis_helpers import redis_uri
from tierspayant.crypto.keys import generate_key_spec
from tierspayant.guard.checks import redis_can_batch

pytestmark = pytest.mark.django_db
SRC = Path(__file__).resolve().parents[1] / "src"


def test_check_deploy_is_clean_with_production_settings() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIERSPAYANT_", "DJANGO_"))}
    env.update(
        {
            "PYTHONPATH": str(SRC),
            "DJANGO_SETTINGS_MODULE": "tierspayant.settings",
            "TIERSPAYANT_SECRET_KEY": "prod-like-" + "Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf" * 2,
            "TIERSPAYANT_FIELD_KEYS": generate_key_spec("f1"),
            "TIERSPAYANT_INDEX_KEYS": generate_key_spec("i1"),
            "TIERSPAYANT_AUDIT_SIGNING_KEYS": generate_key_spec("a1"),
            "DATABASE_URL": "sqlite:///:memory:",
            "TIERSPAYANT_ALLOWED_HOSTS": "portail.tierspayant.example",
            "TIERSPAYANT_WEBAUTHN_RP_ID": "portail.tierspayant.example",
            "TIERSPAYANT_WEBAUTHN_ORIGINS": "https://portail.tierspayant.example",
            "REDIS_URL": redis_uri(),  # a real Redis: check --deploy asks its version
        }
    )
    result = _check_deploy(env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    # Without Redis each app-server process would count quotas apart: flagged.
    del env["REDIS_URL"]
    result = _check_deploy(env)
    assert result.returncode == 1
    assert "tierspayant.G001" in result.stderr
    # A Redis that cannot be asked its version (none listens on port 1): said, not hidden.
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"
    result = _check_deploy(env)
    assert result.returncode == 1
    assert "tierspayant.G002" in result.stderr and "127.0.0.1:1" not in result.stderr


@pytest.mark.parametrize(
    ("version", "batches"),
    [
        ("7.0.15", True),
        ("7.2.4", True),
        ("8.0.0", True),
        ("10.1", True),
        ("6.2.14", False),
        ("5.0.7", False),
        ("7", False),
        ("", False),
    ],
)
def test_the_guard_needs_redis_7_for_its_batched_counters(version: str, batches: bool) -> None:
    assert redis_can_batch(version) is batches


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_security_headers_on_a_page() -> None:
    response = Client().get("/connexion/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/connexion/"),
        ("get", "/api/v1/openapi.json"),
        ("post", "/api/v1/eligibility"),
        ("get", "/fhir/r4/metadata"),
        ("get", "/admin/login/"),
        ("get", "/droits/"),
    ],
)
def test_every_dynamic_response_is_no_store(method: str, path: str) -> None:
    assert getattr(Client(), method)(path)["Cache-Control"] == "no-store"


def test_plain_http_is_redirected_to_https(settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/connexion/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/connexion/"


def test_cookie_flags(optician) -> None:
    client = Client()
    client.get("/connexion/")
    password_step(client, optician.user.username)
    session = client.cookies["sessionid"]
    assert session["httponly"] and session["secure"] and session["samesite"] == "Lax"
    browser = client.cookies["tp_browser"]
    assert browser["httponly"] and browser["secure"]
    csrf = client.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"]
