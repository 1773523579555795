"""Shared fixtures: the keyring, clean quota counters, personas, TOTP codes."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD, make_professional
from tierspayant.crypto.keys import Keyring
from tierspayant.guard.services import reset_quotas
from tierspayant.providers.models import Professional


@pytest.fixture(autouse=True)
def _fresh_quota_counters() -> None:
    reset_quotas(storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI)


@pytest.fixture
def keyring() -> Keyring:
    return settings.TIERSPAYANT_KEYRING


def totp_code(device: TOTPDevice) -> str:
    """The device's current code, computed like an authenticator app would."""
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


@pytest.fixture
def optician(db: None) -> Professional:
    """Persona: an optician with a confirmed TOTP device."""
    return make_professional()


@pytest.fixture
def verified_client(optician: Professional) -> Client:
    """A browser session of ``optician`` after password and TOTP (through the real views)."""
    client = Client()
    response = client.post(
        "/connexion/", {"username": optician.user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=optician.user)
    response = client.post("/connexion/code/", {"otp_token": totp_code(device)})
    assert response.status_code == 302, response.content
    return client
