"""Password reset: no user enumeration, and the second factor survives a reset
(ASVS 5.0 V6.4.3 / V6.3.8; NIST SP 800-63B-4 §6.1.2.3: recovery does not downgrade AAL)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import make_professional

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "une phrase de passe toute neuve 2026"


def ask_reset(email: str):
    return Client().post("/mot-de-passe-oublie/", {"email": email})


def test_known_and_unknown_addresses_get_the_same_answer() -> None:
    professional = make_professional(email="opticien@exemple.fr")
    known = ask_reset(professional.user.email)
    unknown = ask_reset("personne@exemple.fr")
    assert (known.status_code, known["Location"]) == (302, "/mot-de-passe-oublie/envoye/")
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert known.content == unknown.content
    assert [m.to for m in mail.outbox] == [["opticien@exemple.fr"]]
    page = Client().get("/mot-de-passe-oublie/envoye/").content.decode()
    assert "Si cette adresse correspond à un compte" in page


def test_reset_changes_the_password_once_and_keeps_the_second_factor() -> None:
    professional = make_professional(email="opticien@exemple.fr")
    ask_reset("opticien@exemple.fr")
    link = re.search(r"http://testserver(/mot-de-passe-oublie/\S+/)", mail.outbox[0].body).group(1)
    client = Client()
    form_url = client.get(link)["Location"]  # Django swaps the token for a session marker
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/connexion/")
    professional.user.refresh_from_db()
    assert professional.user.check_password(NEW_PASSWORD)
    assert TOTPDevice.objects.filter(user=professional.user, confirmed=True).count() == 1
    signed_in = Client()
    response = signed_in.post(
        "/connexion/", {"username": professional.user.username, "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert signed_in.get("/droits/")["Location"].startswith("/connexion/code/")
    reused = Client().get(link)  # the same link, once used, no longer opens the form
    assert reused.status_code == 200
    assert "n'est plus valable" in reused.content.decode()


def test_a_weak_new_password_is_refused_with_the_reason() -> None:
    make_professional(email="opticien@exemple.fr")
    ask_reset("opticien@exemple.fr")
    link = re.search(r"http://testserver(/mot-de-passe-oublie/\S+/)", mail.outbox[0].body).group(1)
    client = Client()
    form_url = client.get(link)["Location"]
    response = client.post(form_url, {"new_password1": "motdepasse", "new_password2": "motdepasse"})
    assert response.status_code == 200
    assert "trop court" in response.content.decode() or "trop courant" in response.content.decode()
