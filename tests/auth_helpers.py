"""Sign-in steps driven through the real views, for tests that need a given session state."""

from __future__ import annotations

import json
import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import totp_code
from tests.factories import PASSWORD
from tests.webauthn_soft import SoftAuthenticator
from tierspayant.accounts import enrolment
from tierspayant.accounts.choices import EnrolmentRoute

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


def emailed_code(subject: str, pattern: str) -> str:
    """The code in the last e-mail with ``subject`` (``pattern``: a regex with one group)."""
    sent = [m for m in mail.outbox if m.subject == subject]
    assert sent, f"no e-mail {subject!r}"
    found = re.search(pattern, sent[-1].body)
    assert found, sent[-1].body
    return found.group(1)


def enrolment_code() -> str:
    """The 8-digit code of the last first-passkey e-mail."""
    return emailed_code(
        "tierspayant : code pour ajouter une clé d'accès", r"Code de confirmation : (\d{8})"
    )


def notice_code() -> str:
    """The removal code of the last "passkey added" notice."""
    return emailed_code(
        "tierspayant : nouvelle clé d'accès ajoutée", r"code de retrait : ([a-z0-9]{5}-[a-z0-9]{5})"
    )


def approver(username: str = "approbation.test"):  # type: ignore[no-untyped-def]
    """Another staff member, who may approve first-passkey enrolments."""
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "email": f"{username}@example.test"}
    )
    if created:
        user.user_permissions.add(Permission.objects.get(codename="approve_passkeyenrolment"))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def open_first_passkey(client: Client, user) -> None:
    """Open ``user``'s first passkey as the security page does (a verified, recent session):
    a professional with an e-mail address asks, then enters the e-mailed code; staff ask,
    then another staff member approves (the back-office action's service)."""
    response = client.post("/securite/cles/enrolement/")
    assert response.status_code == 302, response.status_code
    if enrolment.route_for(user) == EnrolmentRoute.EMAIL:
        assert response["Location"] == "/securite/cles/enrolement/code/"
        response = client.post("/securite/cles/enrolement/code/", {"code": enrolment_code()})
        assert response["Location"] == "/securite/", response.content
    else:
        pending = enrolment.pending_enrolment(user, now=timezone.now())
        assert pending is not None
        enrolment.approve_enrolment(
            enrolment_id=pending.pk, approver=approver(), now=timezone.now()
        )


def enrol_first_passkey(client: Client, user, authenticator: SoftAuthenticator) -> object:
    """Open the first passkey (:func:`open_first_passkey`), then register ``authenticator``."""
    open_first_passkey(client, user)
    return register_passkey(client, authenticator)


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
    real views: password, TOTP, a first passkey enrolled after another staff member's
    approval (``authenticator``, a new one by default), then identity confirmed with it."""
    authenticator = authenticator or SoftAuthenticator()
    TOTPDevice.objects.get_or_create(user=user, name="TOTP", defaults={"confirmed": True})
    client = Client()
    password_step(client, user.username)
    totp_step(client, user)
    assert enrol_first_passkey(client, user, authenticator).status_code == 200
    response = passkey_step(client, authenticator)
    assert response.status_code == 200, response.content
    return client


def browser_sign_in(page, base_url: str, path: str, username: str, device: TOTPDevice) -> None:
    """Open ``path`` in a Playwright ``page`` and pass the sign-in it redirects to: password,
    then ``device``'s current code (read the device before the browser starts: no database
    call inside Playwright's event loop); waits until ``path`` is shown."""
    page.goto(f"{base_url}{path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/connexion/code/**")
    page.fill("#id_otp_token", totp_code(device))
    page.click("button.primary")
    page.wait_for_url(f"**{path}")
