"""Sessions: a new id at sign-in and at each second factor, idle (15 min) and absolute (12 h)
limits, the professional's own session list, step-up before token creation, and the
new-device e-mail (ASVS 5.0 V7.2.4, V7.3.1, V7.3.2, V7.5.2, V7.5.3; NIST SP 800-63B-4 §5.2)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.auth_helpers import password_step, totp_step
from tests.factories import make_professional
from tierspayant.accounts.models import SecurityEvent, UserSession

pytestmark = pytest.mark.django_db
START = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)


def test_new_session_id_at_password_and_at_second_factor(optician) -> None:
    client = Client()
    client.get("/connexion/")
    client.cookies["sessionid"] = "attacker-chosen-session-id"  # fixation attempt
    password_step(client, optician.user.username)
    after_password = client.session.session_key
    assert after_password != "attacker-chosen-session-id"
    totp_step(client, optician.user)
    assert client.session.session_key not in {after_password, "attacker-chosen-session-id"}
    old = Client()
    old.cookies["sessionid"] = after_password
    assert old.get("/droits/")["Location"].startswith("/connexion/")  # the old id is dead


@pytest.mark.parametrize(
    ("pause", "still_signed_in"),
    [
        (datetime.timedelta(minutes=14, seconds=59), True),
        (datetime.timedelta(minutes=15, seconds=1), False),
    ],
    ids=["just-under-15-min", "just-over-15-min"],
)
def test_idle_timeout(optician, pause, still_signed_in) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = Client()
        password_step(client, optician.user.username)
        totp_step(client, optician.user)
        assert client.get("/droits/").status_code == 200
        clock.shift(pause)
        response = client.get("/droits/")
        assert (response.status_code == 200) is still_signed_in
        if not still_signed_in:
            assert response["Location"].startswith("/connexion/")
            page = client.get(response["Location"]).content.decode()
            assert "Votre session a expiré" in page


def test_absolute_timeout_despite_activity(optician) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = Client()
        password_step(client, optician.user.username)
        totp_step(client, optician.user)
        for _ in range(12 * 6 - 1):  # a request every 10 minutes for 11 h 50
            clock.shift(datetime.timedelta(minutes=10))
            assert client.get("/").status_code == 200
        clock.shift(datetime.timedelta(minutes=10, seconds=1))  # 12 h 00 min 01 s
        assert client.get("/").status_code == 302
    row = UserSession.objects.get(user=optician.user)
    assert row.ended_at is not None


def test_professional_sees_and_ends_their_own_sessions(optician) -> None:
    office = Client(HTTP_USER_AGENT="Navigateur du magasin")
    password_step(office, optician.user.username)
    totp_step(office, optician.user)
    laptop = Client(HTTP_USER_AGENT="Ordinateur portable")
    password_step(laptop, optician.user.username)
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31)):
        totp_step(laptop, optician.user)  # a TOTP code is accepted once: the next one
    page = office.get("/securite/sessions/").content.decode()
    assert "Navigateur du magasin" in page and "Ordinateur portable" in page
    assert office.session.session_key not in page  # sessions are named by a public id
    laptop_row = UserSession.objects.get(user=optician.user, user_agent="Ordinateur portable")
    response = office.post(f"/securite/sessions/{laptop_row.public_id}/fermer/")
    assert response.status_code == 302
    assert laptop.get("/droits/")["Location"].startswith("/connexion/")  # ended at once
    assert office.get("/droits/").status_code == 200
    laptop_row.refresh_from_db()
    assert laptop_row.ended_at is not None
    assert SecurityEvent.objects.filter(kind="accounts:session:ended").count() == 1


def test_ending_the_current_session_signs_out(verified_client, optician) -> None:
    row = UserSession.objects.get(user=optician.user, ended_at__isnull=True)
    response = verified_client.post(f"/securite/sessions/{row.public_id}/fermer/")
    assert response["Location"] == "/connexion/"
    assert verified_client.get("/").status_code == 302


def test_token_creation_needs_a_recent_second_factor(optician) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = Client()
        password_step(client, optician.user.username)
        totp_step(client, optician.user)
        clock.shift(datetime.timedelta(minutes=6))  # past the 5-minute step-up window
        response = client.post("/jetons/", {"name": "Logiciel"})
        assert response["Location"] == "/connexion/confirmer/?next=%2Fjetons%2F"
        assert not optician.api_tokens.exists()
        assert client.get("/jetons/").status_code == 200  # reading needs no step-up
        before = client.session.session_key
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from tests.conftest import totp_code

        clock.shift(datetime.timedelta(seconds=31))  # a fresh TOTP step
        device = TOTPDevice.objects.get(user=optician.user)
        response = client.post(
            "/connexion/confirmer/?next=/jetons/",
            {"otp_token": totp_code(device), "next": "/jetons/"},
        )
        assert response["Location"] == "/jetons/"
        assert client.session.session_key != before  # new session id at step-up
        assert client.post("/jetons/", {"name": "Logiciel"}).status_code == 200
        assert optician.api_tokens.count() == 1


def test_staff_holding_a_passkey_cannot_step_up_with_totp(db) -> None:
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.auth_helpers import enrol_first_passkey
    from tests.conftest import totp_code
    from tests.webauthn_soft import SoftAuthenticator

    staff = get_user_model().objects.create_user(
        username="agent.securite", password="correct-horse-battery-staple-42", is_staff=True
    )
    device = TOTPDevice.objects.create(user=staff, name="TOTP", confirmed=True)
    client = Client()
    password_step(client, staff.username)
    totp_step(client, staff)
    assert enrol_first_passkey(client, staff, SoftAuthenticator()).status_code == 200
    page = client.get("/connexion/confirmer/").content.decode()
    assert 'id="passkey-verification-placeholder"' in page
    assert 'name="otp_token"' not in page
    response = client.post("/connexion/confirmer/", {"otp_token": totp_code(device)})
    assert response.status_code == 400


def test_new_device_sign_in_sends_one_email(db) -> None:
    professional = make_professional(email="optique@example.test")
    browser = Client()
    password_step(browser, professional.user.username)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["optique@example.test"]
    assert "nouvel appareil" in message.subject
    assert "tp_browser" in browser.cookies
    password_step(browser, professional.user.username)  # same browser, known: no e-mail
    assert len(mail.outbox) == 1
    password_step(Client(), professional.user.username)  # another browser
    assert len(mail.outbox) == 2
    assert SecurityEvent.objects.filter(kind="accounts:sign-in:new-browser").count() == 2
