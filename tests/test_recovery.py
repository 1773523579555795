"""Recovery that does not bypass MFA: single-use recovery codes stored hashed, and the reset
of lost factors as a logged staff action announced to the professional (ASVS 5.0 V6.4.3,
V6.4.4, V6.5.1, V6.5.2; NIST SP 800-63B-4 §3.1.2, §4.2)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.auth_helpers import password_step, totp_step
from tierspayant.accounts.models import RecoveryCode, SecurityEvent, UserSession
from tierspayant.accounts.recovery import code_digest
from tierspayant.accounts.services import FactorResetRefused, reset_second_factors

pytestmark = pytest.mark.django_db


def _codes(client: Client) -> list[str]:
    page = client.post("/securite/codes-de-secours/").content.decode()
    return re.findall(r'<li class="secret">([a-z2-9]{5}-[a-z2-9]{5})</li>', page)


def test_codes_are_shown_once_and_stored_hashed(verified_client, optician) -> None:
    codes = _codes(verified_client)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = list(
        RecoveryCode.objects.filter(device__user=optician.user).values_list("digest", flat=True)
    )
    assert sorted(stored) == sorted(code_digest(c) for c in codes)
    assert not any(c.replace("-", "") in d or c in d for c in codes for d in stored)
    assert codes[0] not in verified_client.get("/securite/codes-de-secours/").content.decode()


def test_a_code_signs_in_once_and_only_once(verified_client, optician) -> None:
    code = _codes(verified_client)[0]
    client = Client()
    password_step(client, optician.user.username)
    response = client.post("/connexion/code-de-secours/", {"code": code.upper().replace("-", " ")})
    assert response.status_code == 302
    assert client.get("/droits/").status_code == 200
    assert client.session["tp_mfa_method"] == "recovery"
    again = Client()
    password_step(again, optician.user.username)
    assert again.post("/connexion/code-de-secours/", {"code": code}).status_code == 400
    assert again.get("/droits/").status_code == 302
    assert SecurityEvent.objects.filter(kind="accounts:recovery:used").count() == 1


def test_a_new_set_replaces_the_old_one(verified_client, optician) -> None:
    old = _codes(verified_client)[0]
    _codes(verified_client)
    client = Client()
    password_step(client, optician.user.username)
    assert client.post("/connexion/code-de-secours/", {"code": old}).status_code == 400


def test_a_password_alone_gets_no_codes(optician) -> None:
    client = Client()
    password_step(client, optician.user.username)
    assert client.post("/securite/codes-de-secours/")["Location"].startswith("/connexion/code/")
    assert not RecoveryCode.objects.exists()


def test_a_password_change_keeps_the_second_factor(optician) -> None:
    user = optician.user
    user.set_password("une-toute-nouvelle-phrase")
    user.save()
    client = Client()
    password_step(client, user.username, "une-toute-nouvelle-phrase")
    assert client.get("/droits/")["Location"].startswith("/connexion/code/")
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1


def test_staff_reset_of_lost_factors_is_logged_and_announced(optician) -> None:
    user = optician.user
    user.email = "optique@example.test"
    user.save()
    client = Client()
    password_step(client, user.username)
    totp_step(client, user)
    staff = get_user_model().objects.create_user(
        username="assistance", password="correct-horse-battery-staple-42", is_staff=True
    )
    with pytest.raises(FactorResetRefused):
        reset_second_factors(user=user, actor=user, reason="self", now=timezone.now())
    mail.outbox.clear()
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        done = reset_second_factors(
            user=user, actor=staff, reason="ticket 4521", now=timezone.now()
        )
    assert (done.totp, done.passkeys, done.recovery_sets, done.sessions_ended) == (1, 0, 0, 1)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not UserSession.objects.filter(user=user, ended_at__isnull=True).exists()
    assert client.get("/droits/")["Location"].startswith("/connexion/")  # session ended
    event = SecurityEvent.objects.get(kind="accounts:factor:reset")
    assert (event.user, event.actor, event.detail) == (user, staff, {"reason": "ticket 4521"})
    assert [m.to for m in mail.outbox] == [["optique@example.test"]]
    assert "réinitialisé" in mail.outbox[0].subject
    fresh = Client()  # next sign-in: enrol a new factor, nothing reachable before
    password_step(fresh, user.username)
    assert fresh.get("/droits/")["Location"].startswith("/connexion/activer-2fa/")
