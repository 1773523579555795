"""Pro Santé Connect sign-in against a real OpenID provider (panva's oidc-provider, configured
like PSC: tests/oidc_provider), driven through the Django test client: the provider's pages
are played over HTTP (tests/psc_provider.py), the platform exchanges the code with the
provider for real (token endpoint, JWKS, userinfo)."""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.factories import PASSWORD, make_professional
from tests.psc_provider import LocalProvider, configure, running_provider
from tierspayant.accounts.access import MFA_AT, MFA_METHOD, stepped_up
from tierspayant.prosanteconnect.models import ProSanteConnectLink
from tierspayant.prosanteconnect.services import (
    LinkRefused,
    link_account,
    link_professional_by_staff,
)
from tierspayant.providers.models import Professional

CALLBACK = "http://testserver/connexion/psc/retour/"


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalProvider]:
    with running_provider([CALLBACK]) as running:
        yield running


@pytest.fixture
def psc(provider: LocalProvider, settings, db: None) -> Iterator[LocalProvider]:
    configure(settings, provider)
    provider.set_mode(None)
    yield provider
    provider.set_mode(None)


def _linked(**extra) -> Professional:
    professional = make_professional(**extra)
    link_account(
        professional.user,
        national_id=professional.national_id,
        linked_by=None,
        now=timezone.now(),
    )
    return professional


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _round_trip(
    client: Client,
    psc: LocalProvider,
    start: str,
    national_id: str,
    *,
    acr: str = "eidas1",
    method: str = "get",
    data=None,
):
    response = getattr(client, method)(start, data or {})
    assert response.status_code == 302, response.content[:300]
    assert response["Location"].startswith(psc.issuer)
    callback = psc.sign_in(response["Location"], national_id, acr=acr)
    return callback, client.get(_local(callback))


def test_sign_in_with_pro_sante_connect_verifies_the_session_as_phishing_resistant(psc) -> None:
    professional = _linked()
    client = Client()
    response = client.get("/connexion/psc/", {"next": "/pec/"})
    location = response["Location"]
    # Authorization code with PKCE (S256), state, nonce and PSC's acr level, asked for.
    for expected in (
        "response_type=code",
        "code_challenge_method=S256",
        "state=",
        "nonce=",
        "acr_values=eidas1",
        "scope=openid+scope_all",
    ):
        assert expected in location, expected
    callback = psc.sign_in(location, professional.national_id)
    response = client.get(_local(callback))
    assert response.status_code == 302
    assert response["Location"] == "/pec/"
    assert client.session[MFA_METHOD] == "psc"
    assert time.time() - client.session[MFA_AT] < 60
    assert client.get("/pec/").status_code == 200
    assert int(client.session["_auth_user_id"]) == professional.user.pk
    link = ProSanteConnectLink.objects.get(user=professional.user)
    assert link.last_used_at is not None
    # A step-up action is open at once: the PSC sign-in is a fresh phishing-resistant factor.
    response = client.post("/jetons/", {"name": "LGO cabinet"})
    assert response.status_code == 200
    assert professional.api_tokens.count() == 1


def test_an_unknown_identifier_gets_a_clear_page_and_no_session(psc) -> None:
    stranger = make_professional()  # never linked
    client = Client()
    _callback, response = _round_trip(client, psc, "/connexion/psc/", stranger.national_id)
    assert response.status_code == 403
    text = html.unescape(response.content.decode())
    assert "n'est liée à aucun compte du portail" in text
    assert stranger.national_id not in text
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("mode", "reason", "words"),
    [
        ("bad_signature", "signature", "signature du jeton d'identité invalide"),
        ("wrong_audience", "audience", "destiné à un autre service"),
        ("expired", "expired", "jeton d'identité expiré"),
    ],
)
def test_a_forged_or_stale_id_token_is_refused(psc, mode: str, reason: str, words: str) -> None:
    professional = _linked()
    psc.set_mode(mode)
    client = Client()
    _callback, response = _round_trip(client, psc, "/connexion/psc/", professional.national_id)
    assert response.status_code == 400
    assert response.context["reason"] == reason
    assert words in html.unescape(response.content.decode())
    assert "_auth_user_id" not in client.session
    assert ProSanteConnectLink.objects.get(user=professional.user).last_used_at is None


def test_a_too_weak_acr_is_refused(psc) -> None:
    professional = _linked()
    client = Client()
    _callback, response = _round_trip(
        client, psc, "/connexion/psc/", professional.national_id, acr="eidas0"
    )
    assert response.status_code == 400
    assert response.context["reason"] == "acr"
    assert "niveau d'authentification insuffisant" in html.unescape(response.content.decode())
    assert "_auth_user_id" not in client.session


def test_a_replayed_state_is_refused(psc) -> None:
    professional = _linked()
    client = Client()
    callback, response = _round_trip(client, psc, "/connexion/psc/", professional.national_id)
    assert response.status_code == 302
    # The same answer again, in the same browser and in another one: its state served once.
    for replay in (client, Client()):
        response = replay.get(_local(callback))
        assert response.status_code == 400
        assert response.context["reason"] == "state"
    # A state that is not the one this browser was given is refused too.
    other = Client()
    other.get("/connexion/psc/")
    response = other.get(_local(callback))
    assert response.status_code == 400
    assert response.context["reason"] == "state"
    assert "_auth_user_id" not in other.session


def test_the_professional_links_their_own_identity_from_the_security_page(
    psc, verified_client, optician
) -> None:
    page = verified_client.get("/securite/").content.decode()
    assert 'id="psc-link"' in page
    _callback, response = _round_trip(
        verified_client, psc, "/securite/psc/lier/", optician.national_id, method="post"
    )
    assert response.status_code == 302
    assert response["Location"] == "/securite/"
    link = ProSanteConnectLink.objects.get(user=optician.user)
    assert (link.national_id, link.linked_by_id, link.confirmed) == (
        optician.national_id,
        None,
        True,
    )
    assert 'id="psc-linked"' in verified_client.get("/securite/").content.decode()
    # Signing in with it afterwards opens this account.
    fresh = Client()
    _callback, response = _round_trip(fresh, psc, "/connexion/psc/", optician.national_id)
    assert response.status_code == 302
    assert int(fresh.session["_auth_user_id"]) == optician.user.pk


def test_another_professionals_identity_cannot_be_linked(psc, verified_client, optician) -> None:
    other = make_professional()
    _callback, response = _round_trip(
        verified_client, psc, "/securite/psc/lier/", other.national_id, method="post"
    )
    assert response.status_code == 400
    assert "n'est pas celle du professionnel de ce compte" in html.unescape(
        response.content.decode()
    )
    assert not ProSanteConnectLink.objects.exists()


def test_step_up_accepts_a_fresh_pro_sante_connect_authentication(
    psc, verified_client, optician
) -> None:
    link_account(
        optician.user, national_id=optician.national_id, linked_by=None, now=timezone.now()
    )
    session = verified_client.session
    session[MFA_AT] = time.time() - 3600  # the TOTP check is an hour old
    session.save()
    response = verified_client.post("/jetons/", {"name": "LGO"})
    assert response.status_code == 302 and "/connexion/confirmer/" in response["Location"]
    assert 'id="psc-step-up"' in verified_client.get(response["Location"]).content.decode()
    start = verified_client.post("/connexion/confirmer/psc/", {"next": "/jetons/"})
    assert "prompt=login" in start["Location"] and "max_age=0" in start["Location"]
    callback = psc.sign_in(start["Location"], optician.national_id)
    response = verified_client.get(_local(callback))
    assert response.status_code == 302 and response["Location"] == "/jetons/"
    assert verified_client.session[MFA_METHOD] == "psc"
    assert verified_client.post("/jetons/", {"name": "LGO"}).status_code == 200
    assert optician.api_tokens.count() == 1


def test_step_up_with_someone_elses_card_is_refused(psc, verified_client, optician) -> None:
    link_account(
        optician.user, national_id=optician.national_id, linked_by=None, now=timezone.now()
    )
    colleague = _linked()
    start = verified_client.post("/connexion/confirmer/psc/", {"next": "/jetons/"})
    callback = psc.sign_in(start["Location"], colleague.national_id)
    response = verified_client.get(_local(callback))
    assert response.status_code == 403
    assert verified_client.session[MFA_METHOD] == "totp"


@pytest.mark.parametrize(
    ("method", "age", "holds_passkey_or_staff", "allowed"),
    [
        ("psc", 10, True, True),  # a fresh PSC sign-in: phishing resistant, like a passkey
        ("psc", 10, False, True),
        ("passkey", 10, True, True),
        ("totp", 10, False, True),  # no passkey held: TOTP is the fallback
        ("totp", 10, True, False),  # a passkey (or staff) demands a phishing-resistant factor
        ("psc", 3600, True, False),  # too old for a step-up (300 s)
        ("recovery", 10, True, False),
    ],
)
def test_the_step_up_rule(
    db, method: str, age: int, holds_passkey_or_staff: bool, allowed: bool
) -> None:
    professional = make_professional()
    user = professional.user
    if holds_passkey_or_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    request = RequestFactory().get("/")
    request.user = user
    request.session = {MFA_AT: time.time() - age, MFA_METHOD: method}  # type: ignore[assignment]
    assert stepped_up(request) is allowed


def test_without_configuration_there_is_no_button_and_no_flow(db, settings) -> None:
    settings.TIERSPAYANT_PSC_ISSUER = ""
    client = Client()
    assert "psc-sign-in" not in client.get("/connexion/").content.decode()
    response = client.get("/connexion/psc/")
    assert response.status_code == 404
    assert "n'est pas activée" in html.unescape(response.content.decode())
    assert client.get("/connexion/psc/retour/?code=x&state=y").status_code == 404


def test_the_sign_in_page_offers_pro_sante_connect_when_configured(psc) -> None:
    assert 'id="psc-sign-in"' in Client().get("/connexion/").content.decode()


def test_staff_link_by_rpps_and_only_once(db) -> None:
    professional = make_professional()
    staff = make_professional().user
    link = link_professional_by_staff(professional.rpps, staff=staff, now=timezone.now())
    assert (link.user_id, link.national_id, link.linked_by_id) == (
        professional.user.pk,
        "8" + professional.rpps,
        staff.pk,
    )
    for rpps, message in [
        (professional.rpps, "déjà lié"),
        ("00000000000", "Aucun professionnel"),
        ("", "Aucun professionnel"),
    ]:
        with pytest.raises(LinkRefused, match=message):
            link_professional_by_staff(rpps, staff=staff, now=timezone.now())


def test_staff_link_an_account_in_the_back_office_by_rpps(db) -> None:
    from django.contrib.auth import get_user_model

    from tests.auth_helpers import staff_with_passkey

    professional = make_professional()
    operator = get_user_model().objects.create_superuser(
        username="operateur-psc", password=PASSWORD
    )
    client = staff_with_passkey(operator)
    page = client.get("/admin/prosanteconnect/prosanteconnectlink/add/")
    assert page.status_code == 200
    response = client.post("/admin/prosanteconnect/prosanteconnectlink/add/", {"rpps": "123"})
    assert response.status_code == 200
    assert "Le RPPS compte 11 chiffres." in html.unescape(response.content.decode())
    response = client.post(
        "/admin/prosanteconnect/prosanteconnectlink/add/", {"rpps": professional.rpps}
    )
    assert response.status_code == 302
    link = ProSanteConnectLink.objects.get()
    assert (link.user_id, link.national_id, link.linked_by_id) == (
        professional.user.pk,
        professional.national_id,
        operator.pk,
    )
    response = client.post(
        "/admin/prosanteconnect/prosanteconnectlink/add/", {"rpps": professional.rpps}
    )
    assert "déjà lié" in html.unescape(response.content.decode())
    assert ProSanteConnectLink.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "starts", "message"),
    [
        ({}, True, ""),  # no issuer: PSC off, no client needed
        ({"TIERSPAYANT_PSC_ISSUER": "https://psc.example.test/realm"}, False, "CLIENT_ID"),
        (
            {
                "TIERSPAYANT_PSC_ISSUER": "https://psc.example.test/realm",
                "TIERSPAYANT_PSC_CLIENT_ID": "tierspayant",
            },
            False,
            "TIERSPAYANT_PSC_CLIENT_SECRET_FILE",
        ),
    ],
)
def test_configuration_from_the_environment(overrides, starts: bool, message: str) -> None:
    from tests.test_settings import start

    result = start(overrides)
    assert (result.returncode == 0) is starts, result.stderr[-500:]
    assert message in result.stderr


def test_the_client_secret_comes_from_a_file(tmp_path) -> None:
    from tests.test_settings import start

    secret = tmp_path / "psc-secret"
    secret.write_text("file-only-secret-4242\n", encoding="utf-8")
    result = start(
        {
            "TIERSPAYANT_PSC_ISSUER": "https://psc.example.test/realm",
            "TIERSPAYANT_PSC_CLIENT_ID": "tierspayant",
            "TIERSPAYANT_PSC_CLIENT_SECRET_FILE": str(secret),
        }
    )
    assert result.returncode == 0, result.stderr[-500:]
    assert "file-only-secret-4242" not in result.stderr + result.stdout


def test_an_answer_naming_another_issuer_is_refused(psc) -> None:
    professional = _linked()
    client = Client()
    response = client.get("/connexion/psc/")
    callback = psc.sign_in(response["Location"], professional.national_id)
    assert f"iss={psc.issuer.replace(':', '%3A').replace('/', '%2F')}" in callback
    forged = callback.replace("iss=http%3A%2F%2F127.0.0.1", "iss=https%3A%2F%2Fevil.example")
    response = client.get(_local(forged))
    assert response.status_code == 400
    assert response.context["reason"] == "issuer"
    assert "_auth_user_id" not in client.session
