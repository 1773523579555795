"""Lockdown levels (issue 19 part 3): at the restricted level the portal keeps approvals,
invoices and statements for sessions signed in with a passkey or Pro Santé Connect; the
free-standing rights check, password + TOTP sign-ins and bank-detail changes are refused
with a clear French page; API and FHIR keep answering; the back-office shows the level and
changing it needs a passkey step-up and is logged."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.auth_helpers import (
    enrol_first_passkey,
    password_step,
    staff_with_passkey,
    totp_step,
    verified_with_passkey,
)
from tests.care.conftest import make_patient
from tests.care.test_care_interfaces import _identity_post
from tests.factories import make_professional, new_nir
from tests.webauthn_soft import SoftAuthenticator
from tierspayant.accounts.access import MFA_METHOD
from tierspayant.accounts.choices import SecurityEventKind
from tierspayant.accounts.models import SecurityEvent
from tierspayant.audit.choices import Channel, Outcome, Purpose
from tierspayant.audit.models import DisclosureLog
from tierspayant.eligibility.services import replay_gate
from tierspayant.guard.choices import LockdownLevel
from tierspayant.guard.errors import PortalLocked
from tierspayant.guard.lockdown import human_check_closed, lockdown_level, set_lockdown
from tierspayant.guard.models import AccountGuard, LockdownEvent, LockdownState
from tierspayant.guard.policy import build_policy
from tierspayant.priorauth.models import PriorApproval
from tierspayant.providers.choices import Scope
from tierspayant.providers.models import BankAccountChange
from tierspayant.providers.services import issue_api_token

pytestmark = pytest.mark.django_db

BORN = datetime.date(1975, 6, 1)


@pytest.mark.parametrize(
    ("level", "purpose", "closed"),
    [
        (LockdownLevel.OPEN, None, False),
        (LockdownLevel.OPEN, Purpose.RIGHTS_CHECK, False),
        (LockdownLevel.OPEN, Purpose.PRIOR_APPROVAL, False),
        (LockdownLevel.RESTRICTED, None, True),
        (LockdownLevel.RESTRICTED, Purpose.RIGHTS_CHECK, True),
        (LockdownLevel.RESTRICTED, Purpose.PRIOR_APPROVAL, False),
        (LockdownLevel.RESTRICTED, Purpose.CLAIM, False),
        (LockdownLevel.RESTRICTED, Purpose.INVOICE, False),
        (LockdownLevel.RESTRICTED, Purpose.CALCULATION, False),
        (LockdownLevel.FULL, None, True),
        (LockdownLevel.FULL, Purpose.RIGHTS_CHECK, True),
        (LockdownLevel.FULL, Purpose.PRIOR_APPROVAL, True),
        (LockdownLevel.FULL, Purpose.CLAIM, True),
    ],
)
def test_which_human_checks_each_level_closes(level, purpose, closed) -> None:
    assert human_check_closed(level, purpose) is closed


def _restricted() -> None:
    call_command("lockdown", "restricted", reason="fuite de mots de passe chez un éditeur")


def _passkey_professional():  # type: ignore[no-untyped-def]
    """An optician holding a passkey (enrolled before the incident) and its authenticator."""
    professional = make_professional(email="optique.cle@example.test")
    authenticator = SoftAuthenticator()
    client = Client()
    password_step(client, professional.user.username)
    totp_step(client, professional.user)
    assert enrol_first_passkey(client, professional.user, authenticator).status_code == 200
    return professional, authenticator


def _api(secret: str, nir: str):  # type: ignore[no-untyped-def]
    return Client().post(
        "/api/v1/eligibility",
        {"nir": nir, "birth_date": BORN.isoformat()},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )


def test_the_command_sets_and_reports_each_level_without_revoking_sessions(optician) -> None:
    _restricted()
    assert lockdown_level() == LockdownLevel.RESTRICTED
    state = LockdownState.objects.get(pk=1)
    assert (state.level, state.active) == ("restricted", True)
    event = LockdownEvent.objects.get()
    assert (event.level, event.active, event.source) == ("restricted", True, "command")
    # Restricted keeps passkey sessions alive: nobody is forced to a new password.
    assert not AccountGuard.objects.filter(must_change_password=True).exists()
    from io import StringIO

    out = StringIO()
    call_command("lockdown", "status", stdout=out)
    assert out.getvalue().strip() == "restreint"
    call_command("lockdown", "on", reason="campagne")
    assert AccountGuard.objects.get(pk=optician.pk).must_change_password
    call_command("lockdown", "off", reason="fin")
    assert [e.level for e in LockdownEvent.objects.order_by("at", "id")] == [
        "restricted",
        "full",
        "open",
    ]
    with pytest.raises(ValueError, match="unknown lockdown level"):
        set_lockdown(level="partial", actor=None, reason="x", source="command", now=timezone.now())


def test_restricted_gate_refuses_a_free_standing_check_but_identifies_a_patient(optician):
    _restricted()
    gate = replay_gate(
        settings.TIERSPAYANT_KEYRING,
        quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
        policy=build_policy(),
        daily_quota=None,
    )
    common = dict(
        professional=optician,
        nir=new_nir(BORN),
        birth_date=BORN,
        now=timezone.now(),
        today=timezone.localdate(),
        ip="192.0.2.1",
        user_agent="x",
    )
    with pytest.raises(PortalLocked):
        gate(channel=Channel.PORTAL, **common)
    assert gate(channel=Channel.FHIR, **common) == "no_match"
    assert gate(channel=Channel.API, **common) == "no_match"
    assert DisclosureLog.objects.get(outcome=Outcome.REFUSED_LOCKDOWN).purpose == "rights_check"


def test_restricted_passkey_session_files_an_approval_and_reads_statements(db) -> None:
    professional, authenticator = _passkey_professional()
    _restricted()
    client = verified_with_passkey(professional.user, authenticator)
    patient = make_patient()
    response = client.post("/pec/nouvelle/", _identity_post(patient))
    assert response.status_code == 302, response.content.decode()[:500]
    approval = PriorApproval.objects.get()
    assert approval.professional_id == professional.pk
    # The approval identified its patient through the gate (logged with its purpose).
    row = DisclosureLog.objects.get(purpose=Purpose.PRIOR_APPROVAL)
    assert (row.outcome, row.channel) == (Outcome.COVERED, Channel.PORTAL)
    assert client.get(f"/pec/{approval.pk}/").status_code == 200
    assert client.get("/factures/").status_code == 200
    assert client.get("/paiements/").status_code == 200
    assert client.get("/").status_code == 200
    # The free-standing rights check, the bank details and the rest answer a clear page.
    for path, heading in [
        ("/droits/", "Vérifications de droits seules fermées pendant le confinement"),
        ("/banque/", "Changements de coordonnées bancaires gelés pendant le confinement"),
        ("/jetons/", "Page fermée pendant le confinement"),
        ("/securite/", "Page fermée pendant le confinement"),
    ]:
        page = client.get(path)
        assert page.status_code == 403, path
        assert heading in page.content.decode(), path
    refused = client.post("/droits/", {"nir": patient.nir, "birth_date": BORN.isoformat()})
    assert refused.status_code == 403
    assert not DisclosureLog.objects.filter(purpose=Purpose.RIGHTS_CHECK).exists()


def test_restricted_freezes_bank_detail_changes(db) -> None:
    professional, authenticator = _passkey_professional()
    _restricted()
    client = verified_with_passkey(professional.user, authenticator)
    response = client.post(
        "/banque/",
        {"holder_name": "Optique", "iban": "FR7630004000031234567890143", "bic": "BNPAFRPP"},
    )
    assert response.status_code == 403
    assert "gelés" in response.content.decode()
    assert BankAccountChange.objects.count() == 0


def test_restricted_refuses_password_and_totp_with_a_clear_page(optician) -> None:
    already = Client()
    password_step(already, optician.user.username)
    totp_step(already, optician.user)
    _restricted()
    # A TOTP session opened before: refused on its next request (sign-out still works).
    page = already.get("/pec/")
    assert page.status_code == 403
    assert "Connexion par code refusée pendant le confinement" in page.content.decode()
    assert already.post("/deconnexion/").status_code == 302
    # A new sign-in: the password passes, the second-factor page offers no TOTP form and
    # says why; a TOTP code posted anyway is refused and the session stays unverified.
    client = Client()
    password_step(client, optician.user.username)
    page = client.get("/connexion/code/")
    text = page.content.decode()
    assert page.status_code == 200 and 'id="restricted-passkey-only"' in text
    assert 'name="otp_token"' not in text
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import totp_code

    device = TOTPDevice.objects.get(user=optician.user)
    refused = client.post("/connexion/code/", {"otp_token": totp_code(device)})
    assert refused.status_code == 403
    assert "Connexion par code refusée" in refused.content.decode()
    assert client.get("/connexion/code-de-secours/").status_code == 403
    assert client.get("/pec/")["Location"].startswith("/connexion/code/")  # still unverified
    assert client.get("/connexion/activer-2fa/").status_code == 403


@pytest.mark.parametrize(
    ("method", "open_"), [("passkey", True), ("psc", True), ("totp", False), ("recovery", False)]
)
def test_restricted_admits_sessions_by_their_sign_in_method(db, method, open_) -> None:
    """The rule reads the session's ``tp_mfa_method`` as the Pro Santé Connect sign-in sets
    it (``accounts.access.PRO_SANTE_CONNECT``)."""
    professional, authenticator = _passkey_professional()
    _restricted()
    client = verified_with_passkey(professional.user, authenticator)
    session = client.session
    session[MFA_METHOD] = method
    session.save()
    assert client.get("/pec/").status_code == (200 if open_ else 403)


def test_machine_flows_keep_working_under_restricted_lockdown(optician) -> None:
    secret = issue_api_token(
        professional=optician,
        name="logiciel",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=30,
    ).secret
    _restricted()
    assert _api(secret, new_nir(BORN)).status_code == 200
    assert DisclosureLog.objects.get().channel == Channel.API


def test_back_office_shows_the_level_and_a_change_needs_a_passkey_step_up(db) -> None:
    from tests.factories import PASSWORD

    staff = get_user_model().objects.create_user(
        username="agent.confinement", password=PASSWORD, is_staff=True
    )
    for codename in ["toggle_lockdown", "view_alert"]:
        staff.user_permissions.add(Permission.objects.get(codename=codename))
    client = staff_with_passkey(staff)
    _restricted()
    page = client.get("/admin/guard/alert/tableau-de-bord/").content.decode()
    assert "Confinement restreint (clé d&#x27;accès ou Pro Santé Connect)" in page
    later = timezone.now() + datetime.timedelta(seconds=settings.TIERSPAYANT_STEP_UP_SECONDS + 5)
    with time_machine.travel(later):
        page = client.get("/admin/guard/alert/tableau-de-bord/").content.decode()
        assert "Confirmer mon identité avec ma clé d'accès" in page
        stale = client.post(
            "/admin/guard/alert/confinement/", {"level": "full", "reason": "campagne"}
        )
        assert stale.status_code == 302 and stale["Location"].startswith("/connexion/confirmer/")
        assert lockdown_level() == LockdownLevel.RESTRICTED
    response = client.post(
        "/admin/guard/alert/confinement/", {"level": "full", "reason": "campagne"}
    )
    assert response.status_code == 302
    assert lockdown_level() == LockdownLevel.FULL
    event = LockdownEvent.objects.filter(source="admin").get()
    assert (event.level, event.actor) == ("full", staff)
    logged = SecurityEvent.objects.get(kind=SecurityEventKind.LOCKDOWN_CHANGED)
    assert (logged.user, logged.actor) == (staff, staff)
    assert logged.detail == {
        "from": "restricted",
        "to": "full",
        "source": "admin",
        "lockdown_event_id": event.pk,
    }
    bad = client.post("/admin/guard/alert/confinement/", {"level": "partial", "reason": "x"})
    assert bad.status_code == 302 and lockdown_level() == LockdownLevel.FULL
