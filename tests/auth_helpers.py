"""Sign-in steps driven through the real views, for tests that need a given session state."""

from __future__ import annotations

import json

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import totp_code
from tests.factories import PASSWORD
from tests.webauthn_soft import SoftAuthenticator

ORIGIN = "https://portail.tierspayant.test"  # tests/settings.py: the allowed origin
BEGIN_REG = "/cle-acces/enregistrement/debut/"
COMPLETE_REG = "/cle-acces/enregistrement/fin/"
BEGIN_AUTH = "/cle-acces/verification/debut/"
COMPLETE_AUTH = "/cle-acces/verification/fin/"


def password_step(client: Client, username: str, password: str = PASSWORD):
    response = client.post("/connexion/", {"username": username, "password": password})
    assert response.status_code == 302, response.status_code
    return response


def totp_step(client: Client, user) -> None:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    response = client.post("/connexion/code/", {"otp_token": totp_code(device)})
    assert response.status_code == 302, response.content


def post_json(client: Client, url: str, body: dict | None = None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def register_passkey(client: Client, authenticator: SoftAuthenticator, **claims) -> object:
    options = post_json(client, BEGIN_REG).json()
    return post_json(
        client,
        COMPLETE_REG,
        authenticator.register(options, origin=claims.pop("origin", ORIGIN), **claims),
    )


def passkey_step(client: Client, authenticator: SoftAuthenticator, **claims) -> object:
    options = post_json(client, BEGIN_AUTH).json()
    return post_json(
        client,
        COMPLETE_AUTH,
        authenticator.get_assertion(options, origin=claims.pop("origin", ORIGIN), **claims),
    )


def verified_with_passkey(user, authenticator: SoftAuthenticator) -> Client:
    """A session of ``user`` (who holds ``authenticator``'s passkey) after password + passkey."""
    client = Client()
    password_step(client, user.username)
    response = passkey_step(client, authenticator)
    assert response.status_code == 200, response.content
    return client


def staff_with_passkey(user, authenticator: SoftAuthenticator | None = None) -> Client:
    """A back-office session of staff ``user`` as ``BackOfficeSite`` demands it, through the
    real views: password, TOTP, a passkey enrolled (``authenticator``, a new one by default),
    then identity confirmed with that passkey."""
    authenticator = authenticator or SoftAuthenticator()
    TOTPDevice.objects.get_or_create(user=user, name="TOTP", defaults={"confirmed": True})
    client = Client()
    password_step(client, user.username)
    totp_step(client, user)
    assert register_passkey(client, authenticator).status_code == 200
    response = passkey_step(client, authenticator)
    assert response.status_code == 200, response.content
    return client
