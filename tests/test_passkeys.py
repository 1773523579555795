"""Passkeys (WebAuthn) as the second factor: enrolment, sign-in, step-up, and refusal of any
assertion made for another origin or RP id (phishing resistance, ASVS 5.0 V6.5/V6.6)."""

from __future__ import annotations

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnCredential

from tests.auth_helpers import (
    BEGIN_AUTH,
    BEGIN_REG,
    ORIGIN,
    enrol_first_passkey,
    open_first_passkey,
    passkey_step,
    password_step,
    post_json,
    register_passkey,
    totp_step,
    verified_with_passkey,
)
from tests.factories import make_professional
from tests.webauthn_soft import SoftAuthenticator
from tierspayant.accounts.models import SecurityEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_passkey(optician):
    """``optician`` (TOTP) who enrolled a passkey after a TOTP sign-in and the e-mailed code
    that opens a first passkey."""
    optician.user.email = "optique@example.test"
    optician.user.save()
    authenticator = SoftAuthenticator()
    client = Client()
    password_step(client, optician.user.username)
    totp_step(client, optician.user)
    response = enrol_first_passkey(client, optician.user, authenticator)
    assert response.status_code == 200, response.content
    return optician, authenticator


def test_enrolment_stores_the_passkey_and_records_it(with_passkey) -> None:
    optician, authenticator = with_passkey
    credential = WebAuthnCredential.objects.get(user=optician.user)
    assert bytes(credential.credential_id) == authenticator.credential_id
    assert (
        SecurityEvent.objects.filter(user=optician.user, kind="accounts:passkey:added").count() == 1
    )


def test_one_account_holds_several_passkeys(with_passkey) -> None:
    optician, first = with_passkey
    client = verified_with_passkey(optician.user, first)
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    assert WebAuthnCredential.objects.filter(user=optician.user).count() == 2


def test_sign_in_with_password_then_passkey(with_passkey) -> None:
    optician, authenticator = with_passkey
    client = Client()
    password_step(client, optician.user.username)
    after_password = client.session.session_key
    assert client.get("/droits/").status_code == 302
    page = client.get("/connexion/code/").content.decode()
    assert 'id="passkey-verification-placeholder"' in page
    response = passkey_step(client, authenticator)
    assert response.status_code == 200
    assert response.json()["redirect_url"] == "/"
    assert client.get("/droits/").status_code == 200
    assert client.session.session_key != after_password  # new session id at the 2nd factor
    assert client.session["tp_mfa_method"] == "passkey"


def test_a_passkey_never_signs_in_alone(with_passkey) -> None:
    client = Client()
    response = post_json(client, BEGIN_AUTH)
    assert response.status_code == 403
    assert response.json()["code"] == "passwordless_login_disabled"
    assert client.get("/droits/").status_code == 302


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"origin": "https://portail-tierspayant.example"}, "invalid_authentication_response"),
        (
            {"origin": "https://portail.tierspayant.test.evil.example"},
            "invalid_authentication_response",
        ),
        ({"origin": "http://portail.tierspayant.test"}, "invalid_authentication_response"),
        ({"rp_id": "evil.example"}, "invalid_authentication_response"),
        ({"kind": "webauthn.create"}, "invalid_authentication_response"),
        ({"signer": "another key"}, "invalid_authentication_response"),
    ],
    ids=[
        "look-alike-origin",
        "suffix-origin",
        "plain-http",
        "foreign-rp-id",
        "wrong-type",
        "forged-signature",
    ],
)
def test_assertions_for_another_site_are_refused(with_passkey, claims, code) -> None:
    optician, authenticator = with_passkey
    if claims.get("signer"):
        claims["signer"] = ec.generate_private_key(ec.SECP256R1())
    client = Client()
    password_step(client, optician.user.username)
    response = passkey_step(client, authenticator, **claims)
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert client.get("/droits/").status_code == 302  # still not verified


def test_an_assertion_cannot_be_replayed(with_passkey) -> None:
    optician, authenticator = with_passkey
    client = Client()
    password_step(client, optician.user.username)
    options = post_json(client, BEGIN_AUTH).json()
    answer = authenticator.get_assertion(options, origin=ORIGIN)
    assert post_json(client, "/cle-acces/verification/fin/", answer).status_code == 200
    other = Client()
    password_step(other, optician.user.username)
    post_json(other, BEGIN_AUTH)  # a fresh challenge in the other session
    replay = post_json(other, "/cle-acces/verification/fin/", answer)
    assert replay.status_code == 422
    assert other.get("/droits/").status_code == 302


def test_another_users_passkey_is_refused(with_passkey) -> None:
    _, authenticator = with_passkey
    other = make_professional()
    client = Client()
    password_step(client, other.user.username)
    response = passkey_step(client, authenticator)
    assert response.status_code in {403, 404}
    assert client.get("/droits/").status_code == 302


def test_registration_for_another_origin_is_refused(optician) -> None:
    client = Client()
    password_step(client, optician.user.username)
    totp_step(client, optician.user)
    open_first_passkey(client, optician.user)
    response = register_passkey(client, SoftAuthenticator(), origin="https://evil.example")
    assert response.status_code == 422
    response = register_passkey(client, SoftAuthenticator(), rp_id="evil.example")
    assert response.status_code == 422
    assert not WebAuthnCredential.objects.filter(user=optician.user).exists()


def test_password_alone_cannot_add_a_passkey_to_an_enrolled_account(optician) -> None:
    client = Client()
    password_step(client, optician.user.username)
    response = post_json(client, BEGIN_REG)
    assert response.status_code == 403
    assert response.json()["code"] == "user_not_verified"


def test_adding_a_passkey_later_needs_a_recent_second_factor(optician) -> None:
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        password_step(client, optician.user.username)
        totp_step(client, optician.user)
        clock.shift(6 * 60)  # step-up window is 5 minutes, idle limit 15
        response = post_json(client, BEGIN_REG)
        assert response.status_code == 403
        assert response.json()["code"] == "step_up_required"


def test_first_factor_can_be_a_passkey() -> None:
    professional = make_professional(with_totp=False)
    client = Client()
    password_step(client, professional.user.username)
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    assert client.get("/droits/").status_code == 200
    assert client.session["tp_mfa_method"] == "passkey"
