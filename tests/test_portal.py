"""Portal: password then TOTP (enrolment by QR on first sign-in), throttling, rights check."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import totp_code
from tests.factories import PASSWORD, make_beneficiary, make_professional, new_nir
from tierspayant.audit.models import DisclosureLog

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post("/connexion/", {"username": username, "password": password})


def test_first_sign_in_enrols_totp_with_a_qr_code() -> None:
    professional = make_professional(with_totp=False)
    client = Client()
    assert sign_in(client, professional.user.username)["Location"] == "/"
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/connexion/activer-2fa/")
    page = response.content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    device = TOTPDevice.objects.get(user=professional.user, confirmed=False)
    response = client.post("/connexion/activer-2fa/", {"otp_token": totp_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/droits/").status_code == 200


def test_enrolment_is_closed_once_a_device_exists(optician) -> None:
    client = Client()
    sign_in(client, optician.user.username)
    response = client.get("/connexion/activer-2fa/")
    assert response["Location"] == "/connexion/code/"
    assert TOTPDevice.objects.filter(user=optician.user).count() == 1


def test_password_alone_reaches_nothing(optician) -> None:
    client = Client()
    sign_in(client, optician.user.username)
    for path in ["/", "/droits/", "/jetons/"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/connexion/code/")
    response = client.post("/droits/", {"nir": "177025626004544", "birth_date": "1977-02-10"})
    assert response.status_code == 302
    assert DisclosureLog.objects.count() == 0


def test_wrong_enrolment_code_is_refused() -> None:
    professional = make_professional(with_totp=False)
    client = Client()
    sign_in(client, professional.user.username)
    client.get("/connexion/activer-2fa/")
    response = client.post("/connexion/activer-2fa/", {"otp_token": "000000"})
    assert response.status_code == 400
    assert not TOTPDevice.objects.get(user=professional.user).confirmed
    assert client.get("/droits/")["Location"].startswith("/connexion/activer-2fa/")


def test_wrong_code_is_refused(optician) -> None:
    client = Client()
    sign_in(client, optician.user.username)
    response = client.post("/connexion/code/", {"otp_token": "123456"})
    assert response.status_code == 400
    assert "Code incorrect" in response.content.decode()
    assert client.get("/droits/").status_code == 302


def test_lockout_after_repeated_failures_with_a_clear_message(optician) -> None:
    client = Client()
    for _ in range(2):  # TIERSPAYANT_LOGIN_FAILURE_LIMIT is 3 in tests
        assert sign_in(client, optician.user.username, "wrong password").status_code == 200
    assert sign_in(client, optician.user.username, "wrong password").status_code == 429
    response = sign_in(client, optician.user.username)  # even the right password now
    assert response.status_code == 429
    assert "Connexion temporairement bloquée" in response.content.decode()


def test_rights_check_in_the_portal(verified_client) -> None:
    born = datetime.date(1975, 11, 11)
    nir = new_nir(born)
    person = make_beneficiary(nir=nir, birth_date=born)
    response = verified_client.post(
        "/droits/", {"nir": nir, "birth_date": "1975-11-11", "care_date": "2026-01-10"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Droits ouverts au 10/01/2026" in page
    assert "Optique" in page and "Audioprothèse" in page
    assert person.last_name not in page and person.first_name not in page
    assert response["Cache-Control"] == "no-store"
    row = DisclosureLog.objects.get()
    assert (row.channel, row.outcome, row.beneficiary_id) == ("portal", "covered", person.pk)
    assert f"Référence de la consultation : {row.pk}" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"nir": "177025626004545", "birth_date": "1977-02-10"},
            "clé de contrôle du NIR incorrecte",
        ),
        ({"nir": "177025626004544", "birth_date": "1977-02-31"}, "date de naissance invalide"),
        ({"nir": "", "birth_date": "1977-02-10"}, "Ce champ est obligatoire"),
    ],
    ids=["bad-key", "impossible-date", "empty-nir"],
)
def test_bad_input_gets_a_french_message_at_the_field(verified_client, data, message) -> None:
    response = verified_client.post("/droits/", data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_quota_page(verified_client, settings) -> None:
    settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA = 1
    data = {"nir": new_nir(datetime.date(1980, 1, 1)), "birth_date": "1980-01-01"}
    assert verified_client.post("/droits/", data).status_code == 200
    response = verified_client.post("/droits/", data)
    assert response.status_code == 429
    assert "Quota quotidien" in response.content.decode()


def test_api_token_created_shown_once_and_revoked(verified_client, optician) -> None:
    response = verified_client.post("/jetons/", {"name": "Logiciel du magasin"})
    secret = re.search(r'id="new-token">([^<]+)<', response.content.decode()).group(1)
    assert secret.startswith("tp_")
    token = optician.api_tokens.get()
    assert secret not in verified_client.get("/jetons/").content.decode()
    verified_client.post(f"/jetons/{token.pk}/revoquer/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_cannot_revoke_another_professionals_token(verified_client) -> None:
    from django.utils import timezone

    from tierspayant.providers.choices import Scope
    from tierspayant.providers.services import issue_api_token

    other = issue_api_token(
        professional=make_professional(),
        name="x",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=1,
    )
    assert verified_client.post(f"/jetons/{other.token.pk}/revoquer/").status_code == 404
    other.token.refresh_from_db()
    assert other.token.revoked_at is None


def test_passwords_are_hashed_with_argon2id(optician) -> None:
    assert optician.user.password.startswith("argon2$argon2id$")
