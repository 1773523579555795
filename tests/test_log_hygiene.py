"""Log hygiene: a representative run of the platform's flows, with every logger captured at
DEBUG, leaves none of the seeded NIRs, IBAN-like strings, passwords, API tokens, recovery
codes, TOTP codes or session ids in the logs (ASVS 5.0 V16.2.5; DESIGN.md "no personal data
in logs, errors or URLs")."""

from __future__ import annotations

import datetime
import json
import logging
import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.auth_helpers import (
    enrol_first_passkey,
    enrolment_code,
    notice_code,
    passkey_step,
    password_step,
    post_json,
)
from tests.conftest import totp_code
from tests.factories import PASSWORD, make_beneficiary, make_professional, new_nir
from tests.webauthn_soft import SoftAuthenticator

pytestmark = pytest.mark.django_db
IBAN = "FR7630006000011234567890189"


def test_no_secret_or_personal_data_in_the_logs(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("django.request", "django.security", "axes", "django_otp_webauthn"):
        caplog.set_level(logging.DEBUG, logger=name)
    secrets: list[str] = [PASSWORD, IBAN]
    born = datetime.date(1984, 7, 14)
    nir = new_nir(born)
    secrets.append(nir)
    make_beneficiary(nir=nir, birth_date=born)
    professional = make_professional(email="optique@example.test")
    user = professional.user
    device = TOTPDevice.objects.get(user=user)

    # Failed sign-ins up to the lock, with the password and an IBAN as usernames' neighbours.
    secrets.extend([user.username, "198.51.100.7"])  # axes names clients by keyed tags only
    for attempt in ("mauvais-mot-de-passe-1", IBAN):
        secrets.append(attempt)
        Client(REMOTE_ADDR="198.51.100.7").post(
            "/connexion/", {"username": user.username, "password": attempt}
        )
    client = Client()
    password_step(client, user.username)
    secrets.append(client.session.session_key)
    code = totp_code(device)
    secrets.append(code)
    client.post("/connexion/code/", {"otp_token": code})
    secrets.append(client.session.session_key)
    # Passkey: enrolment, then a refused assertion for a foreign origin.
    authenticator = SoftAuthenticator()
    enrol_first_passkey(client, user, authenticator)
    secrets.extend([enrolment_code(), notice_code()])  # e-mailed, never logged
    other = Client()
    password_step(other, user.username)
    secrets.append(other.session.session_key)
    options = post_json(other, "/cle-acces/verification/debut/").json()
    post_json(
        other,
        "/cle-acces/verification/fin/",
        authenticator.get_assertion(options, origin="https://evil.example"),
    )
    # Rights checks: a match, a bad NIR key, an IBAN where an AMC number goes.
    client.post("/droits/", {"nir": nir, "birth_date": "1984-07-14"})
    bad = nir[:-2] + f"{(int(nir[-2:]) + 1) % 97:02d}"
    secrets.append(bad)
    client.post("/droits/", {"nir": bad, "birth_date": "1984-07-14"})
    client.post("/droits/", {"nir": nir, "birth_date": "1984-07-14", "amc_number": IBAN})
    # Token: created after a passkey step-up (secret shown once), used on the API, then a
    # forged one.
    passkey_step(client, authenticator)
    secrets.append(client.session.session_key)
    page = client.post("/jetons/", {"name": "LGO"}).content.decode()
    token = re.search(r'id="new-token">([^<]+)<', page).group(1)
    secrets.append(token)
    api = Client()
    for bearer in (token, token[:-4] + "AAAA"):
        api.post(
            "/api/v1/eligibility",
            data=json.dumps({"nir": nir, "birth_date": "1984-07-14", "amc_number": IBAN}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {bearer}",
        )
    api.post(
        "/api/v1/eligibility",
        data=json.dumps({"nir": 12, "birth_date": IBAN}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    # Recovery codes: issued, one used, one wrong.
    codes = re.findall(
        r'<li class="secret">([a-z2-9-]{11})</li>',
        client.post("/securite/codes-de-secours/").content.decode(),
    )
    secrets.extend(codes)
    rescue = Client()
    password_step(rescue, user.username)
    rescue.post("/connexion/code-de-secours/", {"code": codes[0]})
    rescue.post("/connexion/code-de-secours/", {"code": "zzzzz-zzzzz"})
    secrets.append(rescue.session.session_key)
    # Not found and a server-side refusal.
    client.get(f"/securite/sessions/00000000-0000-4000-8000-00000000000{len(codes)}/fermer/")
    client.post("/jetons/999999/revoquer/")

    text = caplog.text + "\n".join(
        json.dumps(r.args, default=str) for r in caplog.records if r.args
    )
    assert len(caplog.records) > 10  # the flows did log
    leaked = [s for s in secrets if s and s in text]
    assert leaked == []
