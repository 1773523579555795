"""Step-up and the staff passkey (issue 8): a passkey is the required factor for staff (the
back-office) and, for whoever holds one, at every step-up — the bank-detail change, the API
token, a new passkey, lifting a suspension, resetting a lost factor. TOTP stays the fallback
for professionals without a passkey. Everything through the real views and ceremonies
(tests/webauthn_soft.py signs real WebAuthn assertions)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tests.auth_helpers import (
    BEGIN_REG,
    enrol_first_passkey,
    passkey_step,
    password_step,
    post_json,
    register_passkey,
    staff_with_passkey,
    totp_step,
)
from tests.care.conftest import french_iban
from tests.conftest import totp_code
from tests.factories import PASSWORD
from tests.webauthn_soft import SoftAuthenticator
from tierspayant.accounts.models import SecurityEvent
from tierspayant.guard.models import AccountGuard, Suspension
from tierspayant.guard.suspension import suspend_account
from tierspayant.providers.models import BankAccountChange

pytestmark = pytest.mark.django_db
START = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
LATER = datetime.timedelta(minutes=6)  # past the 5-minute step-up window
NEW_IBAN = french_iban("20041", "01005", "0500013M026")
CHANGE = {"holder_name": "Optique du Centre", "iban": NEW_IBAN, "bic": "PSSTFRPP"}


def _staff(username: str = "agent.securite", **perms: str):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=True, email=f"{username}@example.test"
    )
    for codename in perms.values():
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


# --- bank-detail change -------------------------------------------------------------------


def test_bank_change_waits_for_a_recent_second_factor_then_goes_through(optician) -> None:
    optician.user.email = "optique@example.test"
    optician.user.save()
    with time_machine.travel(START, tick=False) as clock:
        client = Client()
        password_step(client, optician.user.username)
        totp_step(client, optician.user)
        signed_in_mails = len(mail.outbox)  # the new-device notice
        clock.shift(LATER)
        page = client.get("/banque/").content.decode()
        assert 'id="bank-step-up"' in page and 'name="iban"' not in page
        response = client.post("/banque/", CHANGE)
        assert response["Location"] == "/connexion/confirmer/?next=%2Fbanque%2F"
        assert not BankAccountChange.objects.exists()
        assert len(mail.outbox) == signed_in_mails

        clock.shift(datetime.timedelta(seconds=31))  # a fresh TOTP step
        device = TOTPDevice.objects.get(user=optician.user)
        response = client.post(
            "/connexion/confirmer/?next=/banque/",
            {"otp_token": totp_code(device), "next": "/banque/"},
        )
        assert response["Location"] == "/banque/"
        page = client.get("/banque/").content.decode()
        assert 'name="iban"' in page and 'id="bank-step-up"' not in page
        bad = client.post("/banque/", {**CHANGE, "iban": NEW_IBAN[:-1] + "0"})
        assert bad.status_code == 400 and not BankAccountChange.objects.exists()
        response = client.post("/banque/", CHANGE)
    change = BankAccountChange.objects.get()
    assert response["Location"] == f"/banque/changement/{change.pk}/"
    assert change.requested_by == optician.user
    assert len(mail.outbox) == signed_in_mails + 1
    confirmation = mail.outbox[-1]
    assert confirmation.to == ["optique@example.test"]
    assert confirmation.subject == "Confirmation du changement de coordonnées bancaires"
    assert NEW_IBAN not in confirmation.body


def test_a_professional_holding_a_passkey_steps_up_with_it_not_with_totp(optician) -> None:
    authenticator = SoftAuthenticator()
    client = Client()
    password_step(client, optician.user.username)
    totp_step(client, optician.user)
    assert enrol_first_passkey(client, optician.user, authenticator).status_code == 200
    # A TOTP check seconds ago is not enough any more: a relayed code must not open it.
    response = client.post("/banque/", CHANGE)
    assert response["Location"] == "/connexion/confirmer/?next=%2Fbanque%2F"
    assert client.post("/jetons/", {"name": "LGO"})["Location"].startswith("/connexion/confirmer/")
    page = client.get("/connexion/confirmer/").content.decode()
    assert 'name="otp_token"' not in page
    assert passkey_step(client, authenticator).status_code == 200
    assert client.post("/jetons/", {"name": "LGO"}).status_code == 200
    assert optician.api_tokens.count() == 1


def test_a_second_passkey_needs_a_passkey_check_and_is_announced(optician) -> None:
    optician.user.email = "optique@example.test"
    optician.user.save()
    owner_key = SoftAuthenticator()
    client = Client()
    password_step(client, optician.user.username)
    totp_step(client, optician.user)
    assert enrol_first_passkey(client, optician.user, owner_key).status_code == 200
    assert mail.outbox[-1].subject == "tierspayant : nouvelle clé d'accès ajoutée"
    # Signed in again with password + TOTP (a phishing proxy can relay both): no new passkey.
    attacker = Client()
    password_step(attacker, optician.user.username)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31), tick=False):
        totp_step(attacker, optician.user)
        refused = post_json(attacker, BEGIN_REG)
        assert refused.status_code == 403
        assert refused.json()["code"] == "step_up_required"
    assert WebAuthnCredential.objects.filter(user=optician.user).count() == 1
    assert passkey_step(client, owner_key).status_code == 200
    assert register_passkey(client, SoftAuthenticator()).status_code == 200
    assert WebAuthnCredential.objects.filter(user=optician.user).count() == 2


# --- the back-office ----------------------------------------------------------------------


def test_back_office_is_refused_to_anonymous_and_to_professionals(verified_client) -> None:
    anonymous = Client().get("/admin/")
    assert anonymous["Location"] == "/admin/login/?next=/admin/"
    assert Client().get(anonymous["Location"])["Location"] == "/connexion/?next=/admin/"
    # A search term in the admin URL does not travel on through the sign-in pages.
    searched = Client().get("/admin/login/?next=/admin/registry/beneficiary/%3Fq%3DMartin")
    assert searched["Location"] == "/connexion/?next=/admin/registry/beneficiary/"
    assert verified_client.get("/admin/login/?next=/admin/").status_code == 403
    # The admin's own password + code form is gone: posting to it signs nobody in.
    staff = _staff()
    device = TOTPDevice.objects.create(user=staff, name="TOTP", confirmed=True)
    client = Client()
    client.post(
        "/admin/login/",
        {"username": staff.username, "password": PASSWORD, "otp_token": totp_code(device)},
    )
    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_staff_without_a_passkey_are_sent_to_enrol_one(db) -> None:
    staff = _staff()
    TOTPDevice.objects.create(user=staff, name="TOTP", confirmed=True)
    client = Client()
    password_step(client, staff.username)
    assert client.get("/admin/login/?next=/admin/")["Location"].startswith("/connexion/code/?next=")
    totp_step(client, staff)
    assert client.get("/admin/").status_code == 302
    response = client.get("/admin/login/?next=/admin/")
    assert response["Location"] == "/securite/"
    page = client.get("/connexion/confirmer/").content.decode()
    assert 'id="passkey-needed"' in page and 'name="otp_token"' not in page


def test_staff_verified_with_totp_must_confirm_with_their_passkey(db) -> None:
    staff = _staff()
    authenticator = SoftAuthenticator()
    enrolled = staff_with_passkey(staff, authenticator)
    assert enrolled.get("/admin/").status_code == 200
    client = Client()
    password_step(client, staff.username)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31), tick=False):
        totp_step(client, staff)
        assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
        assert (
            client.get("/admin/login/?next=/admin/")["Location"]
            == "/connexion/confirmer/?next=%2Fadmin%2F"
        )
        assert passkey_step(client, authenticator).status_code == 200
        assert client.get("/admin/").status_code == 200


def test_lifting_a_suspension_needs_a_recent_passkey_check(optician) -> None:
    staff = _staff(perm="change_suspension")
    authenticator = SoftAuthenticator()
    with time_machine.travel(START, tick=False) as clock:
        client = staff_with_passkey(staff, authenticator)
        suspension = suspend_account(professional=optician, reason="burst", now=timezone.now())
        url = f"/admin/guard/suspension/{suspension.pk}/lever/"
        clock.shift(LATER)
        assert (
            client.get(url)["Location"] == f"/connexion/confirmer/?next={url.replace('/', '%2F')}"
        )
        assert client.post(url, {"reason": "appel du praticien"}).status_code == 302
        assert AccountGuard.objects.get(pk=optician.pk).suspended
        assert passkey_step(client, authenticator).status_code == 200
        assert client.get(url).status_code == 200
        response = client.post(url, {"reason": "appel du praticien"})
    assert response["Location"] == "/admin/guard/suspension/"
    assert not AccountGuard.objects.get(pk=optician.pk).suspended
    assert Suspension.objects.get().lift_reason == "appel du praticien"


def test_resetting_a_lost_factor_needs_a_recent_passkey_check(optician) -> None:
    staff = _staff(view="view_user", change="change_user")
    authenticator = SoftAuthenticator()
    reset = {"action": "reset_lost_factors", "_selected_action": [optician.user.pk]}
    with time_machine.travel(START, tick=False) as clock:
        client = staff_with_passkey(staff, authenticator)
        clock.shift(LATER)
        response = client.post("/admin/auth/user/", reset)
        assert response["Location"] == "/connexion/confirmer/?next=%2Fadmin%2Fauth%2Fuser%2F"
        assert TOTPDevice.objects.filter(user=optician.user).exists()
        assert passkey_step(client, authenticator).status_code == 200
        client.post("/admin/auth/user/", reset)
    assert not TOTPDevice.objects.filter(user=optician.user).exists()
    assert SecurityEvent.objects.filter(user=optician.user, kind="accounts:factor:reset").exists()


def test_staff_never_see_a_professionals_totp_secret(optician) -> None:
    operator = get_user_model().objects.create_superuser(username="operateur", password=PASSWORD)
    client = staff_with_passkey(operator)
    device = TOTPDevice.objects.get(user=optician.user)
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code == 403
    assert client.get("/admin/otp_totp/totpdevice/999999/config/").status_code == 403
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    assert device.key not in page.content.decode()
