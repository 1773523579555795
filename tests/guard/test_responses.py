"""Responses end to end: suspension stops session and token on the very next request,
canaries answer like real records, step-up, practice quotas, lockdown, lifting."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.auth_helpers import staff_with_passkey
from tests.conftest import totp_code
from tests.factories import PASSWORD, ContractFactory, make_beneficiary, make_professional, new_nir
from tierspayant.audit.choices import Outcome
from tierspayant.audit.models import DisclosureLog
from tierspayant.guard.models import AccountGuard, Alert, LockdownEvent, Suspension
from tierspayant.guard.policy import build_policy
from tierspayant.guard.suspension import NotSuspended, lift_suspension, suspend_account
from tierspayant.providers.choices import Scope
from tierspayant.providers.services import issue_api_token
from tierspayant.registry.models import Beneficiary

pytestmark = pytest.mark.django_db

BORN = datetime.date(1975, 6, 1)


def api(client: Client, secret: str, nir: str, born: datetime.date = BORN):
    return client.post(
        "/api/v1/eligibility",
        {"nir": nir, "birth_date": born.isoformat()},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )


def token_for(professional):
    return issue_api_token(
        professional=professional,
        name="logiciel",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=30,
    ).secret


def test_suspension_stops_session_and_token_on_the_very_next_request(
    optician, verified_client
) -> None:
    optician.user.email = "opticien@example.test"
    optician.user.save()
    secret = token_for(optician)
    patient = make_beneficiary(nir=(nir := new_nir(BORN)), birth_date=BORN)
    assert verified_client.get("/droits/").status_code == 200
    assert api(Client(), secret, nir).status_code == 200
    suspend_account(professional=optician, reason="manual", now=timezone.now())
    response = verified_client.get("/droits/")
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")
    assert api(Client(), secret, nir).status_code == 401
    assert mail.outbox[0].subject == "Votre compte tierspayant est suspendu"
    assert nir not in mail.outbox[0].body and str(patient.pk) not in mail.outbox[0].body
    # Signing in again is possible, but the gate refuses and logs why.
    client = Client()
    client.post("/connexion/", {"username": optician.user.username, "password": PASSWORD})
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31)):
        device = TOTPDevice.objects.get(user=optician.user)
        client.post("/connexion/code/", {"otp_token": totp_code(device)})
        assert client.get("/droits/").status_code == 403
    fresh = token_for(optician)
    response = api(Client(), fresh, nir)
    assert response.status_code == 403 and response.json()["code"] == "suspended"
    row = DisclosureLog.objects.filter(outcome=Outcome.REFUSED_SUSPENDED).get()
    assert row.reason == "suspended" and row.beneficiary_id is None


def test_a_canary_answers_like_a_real_record_then_suspends(optician) -> None:
    contract = ContractFactory()
    real = make_beneficiary(contract=contract, nir=(real_nir := new_nir(BORN)), birth_date=BORN)
    canary = make_beneficiary(contract=contract, nir=(canary_nir := new_nir(BORN)), birth_date=BORN)
    Beneficiary.objects.filter(pk=canary.pk).update(is_canary=True)
    secret = token_for(optician)
    first, second = api(Client(), secret, real_nir), api(Client(), secret, canary_nir)
    assert first.status_code == second.status_code == 200
    a, b = first.json(), second.json()
    assert set(a) == set(b)
    assert {k: v for k, v in a.items() if k != "reference"} == {
        k: v for k, v in b.items() if k != "reference"
    }
    assert api(Client(), secret, real_nir).status_code == 401  # token revoked
    assert AccountGuard.objects.get(pk=optician.pk).suspended
    alert = Alert.objects.get(kind="canary")
    assert alert.severity == "critical" and alert.action == "suspend"
    assert real.pk and canary_nir not in str(alert.evidence)


def test_step_up_on_the_portal_then_fresh_code_lets_the_professional_continue(
    optician, verified_client, settings
) -> None:
    settings.TIERSPAYANT_GUARD_POLICY = build_policy(
        {"floors": {"optician": {"day": 3, "hour": 50, "burst": 50}}}
    )
    data = {"nir": new_nir(BORN), "birth_date": BORN.isoformat()}
    statuses = [verified_client.post("/droits/", data).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 302]  # the third raised volume_day -> step-up
    response = verified_client.post("/droits/", data)
    assert response["Location"] == "/connexion/confirmer/?next=%2Fdroits%2F"
    assert DisclosureLog.objects.filter(outcome=Outcome.REFUSED_STEP_UP).count() == 2
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31)):
        device = TOTPDevice.objects.get(user=optician.user)
        response = verified_client.post(
            "/connexion/confirmer/?next=/droits/",
            {"otp_token": totp_code(device), "next": "/droits/"},
        )
        assert response["Location"] == "/droits/"
        assert verified_client.post("/droits/", data).status_code == 200


def test_practice_quota_is_shared_by_the_practice(settings) -> None:
    settings.TIERSPAYANT_GUARD_POLICY = build_policy(
        {"quotas": {"optician": {"practice_per_day": 3}}}
    )
    one = make_professional(siret="12345678900017")
    two = make_professional(siret="12345678900017")
    other = make_professional(siret="98765432100019")
    nir = new_nir(BORN)
    codes = [api(Client(), token_for(p), nir).status_code for p in (one, two, one, two, other)]
    assert codes == [200, 200, 200, 429, 200]
    refused = DisclosureLog.objects.get(outcome=Outcome.REFUSED_QUOTA)
    assert refused.reason == "quota_practice_day"
    assert Alert.objects.filter(kind="quota", professional=two).count() == 1


def test_api_hourly_quota_answers_429_in_french(optician, settings) -> None:
    settings.TIERSPAYANT_GUARD_POLICY = build_policy({"quotas": {"optician": {"per_hour": 2}}})
    secret = token_for(optician)
    nir = new_nir(BORN)
    responses = [api(Client(), secret, nir) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[2].json()["message"].startswith("Quota horaire de vérifications atteint")


def test_lockdown_closes_the_portal_keeps_the_api_and_forces_a_new_password(
    optician, verified_client
) -> None:
    secret = token_for(optician)
    nir = new_nir(BORN)
    call_command("lockdown", "on", reason="campagne en cours")
    response = verified_client.get("/droits/")
    assert response.status_code == 503
    assert "maintenance de sécurité" in response.content.decode()
    assert Client().get("/connexion/").status_code == 503
    assert api(Client(), secret, nir).status_code == 200  # machine channel keeps working
    assert LockdownEvent.objects.get().source == "command"
    call_command("lockdown", "off", reason="fin de l'incident")
    # The old session was revoked; after signing in again, a new password comes first.
    assert verified_client.get("/droits/")["Location"] == "/connexion/"
    client = Client()
    client.post("/connexion/", {"username": optician.user.username, "password": PASSWORD})
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31)):
        device = TOTPDevice.objects.get(user=optician.user)
        client.post("/connexion/code/", {"otp_token": totp_code(device)})
        assert client.get("/droits/")["Location"] == "/compte/mot-de-passe/"
        new = "un-tout-nouveau-mot-de-passe-2026"
        response = client.post(
            "/compte/mot-de-passe/",
            {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        )
        assert response.status_code == 302
        assert client.get("/droits/").status_code == 200
    assert not AccountGuard.objects.get(pk=optician.pk).must_change_password


def test_lockdown_refuses_portal_rights_checks_in_the_gate_and_logs_it(optician) -> None:
    from tierspayant.audit.choices import Channel
    from tierspayant.eligibility.services import replay_gate
    from tierspayant.guard.errors import PortalLocked
    from tierspayant.guard.lockdown import set_lockdown

    set_lockdown(active=True, actor=None, reason="test", source="command", now=timezone.now())
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
    assert DisclosureLog.objects.get(outcome=Outcome.REFUSED_LOCKDOWN).reason == "lockdown"


def test_only_staff_lift_a_suspension_with_a_reason(optician) -> None:
    now = timezone.now()
    suspend_account(professional=optician, reason="burst", now=now)
    staff = get_user_model().objects.create_user("secu", password=PASSWORD, is_staff=True)
    with pytest.raises(PermissionDenied):
        lift_suspension(professional=optician, by=optician.user, reason="ok", now=now)
    with pytest.raises(ValueError, match="reason"):
        lift_suspension(professional=optician, by=staff, reason=" ", now=now)
    lift_suspension(professional=optician, by=staff, reason="appel du praticien", now=now)
    row = Suspension.objects.get()
    assert (row.lifted_by, row.lift_reason) == (staff, "appel du praticien")
    assert not AccountGuard.objects.get(pk=optician.pk).suspended
    with pytest.raises(NotSuspended):
        lift_suspension(professional=optician, by=staff, reason="encore", now=now)


def test_security_dashboard_renders_a_chart_for_staff(optician) -> None:
    staff = get_user_model().objects.create_superuser("chef", password=PASSWORD)
    suspend_account(professional=optician, reason="canary", now=timezone.now())
    client = staff_with_passkey(staff)
    response = client.get("/admin/guard/alert/tableau-de-bord/")
    page = response.content.decode()
    assert response.status_code == 200
    chart = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" width="900"') :]
    chart = chart[: chart.index("</svg>")]
    assert "Vérifications de droits par heure" in chart and chart.count("<polyline") == 2
    assert "<script" not in chart  # server-rendered, no JavaScript
    assert "Comptes suspendus" in page and optician.display_name in page
    response = client.post("/admin/guard/alert/confinement/", {"active": "1", "reason": "test"})
    assert response.status_code == 302
    assert LockdownEvent.objects.get().source == "admin"


def test_suspension_ends_the_tracked_sessions_the_professional_sees(
    optician, verified_client
) -> None:
    from tierspayant.accounts.models import UserSession
    from tierspayant.guard.suspension import suspend_account

    assert verified_client.get("/droits/").status_code == 200
    open_before = UserSession.objects.filter(user=optician.user, ended_at__isnull=True).count()
    assert open_before == 1
    now = timezone.now()
    suspend_account(professional=optician, reason="manual", now=now)
    assert UserSession.objects.filter(user=optician.user, ended_at__isnull=True).count() == 0
    assert UserSession.objects.get(user=optician.user).ended_at == now
    assert verified_client.get("/droits/")["Location"].startswith("/connexion/")


# --- lockdown and the back-office (issue 13: the security team must still get in) ----------


def _lockdown_on() -> None:
    call_command("lockdown", "on", reason="campagne en cours")


def _password(client: Client, username: str, password: str = PASSWORD, next_: str = "/admin/"):
    return client.post("/connexion/", {"username": username, "password": password, "next": next_})


def test_during_lockdown_staff_with_a_passkey_sign_in_to_the_back_office_and_reopen(db) -> None:
    from django.contrib.auth.models import Permission

    from tests.auth_helpers import passkey_step
    from tests.webauthn_soft import SoftAuthenticator
    from tierspayant.guard.models import LockdownState

    staff = get_user_model().objects.create_user(
        username="agent.securite", password=PASSWORD, is_staff=True
    )
    staff.user_permissions.add(Permission.objects.get(codename="toggle_lockdown"))
    authenticator = SoftAuthenticator()
    staff_with_passkey(staff, authenticator)  # enrolled before the incident
    _lockdown_on()
    client = Client()
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/connexion/?next=/admin/"
    assert client.get("/connexion/?next=/admin/").status_code == 200
    assert _password(client, staff.username)["Location"] == "/admin/"
    page = client.get("/connexion/code/?next=/admin/")
    assert page.status_code == 200 and "passkey-verification" in page.content.decode()
    assert 'name="otp_token"' not in page.content.decode()  # no TOTP form during lockdown
    assert passkey_step(client, authenticator).status_code == 200
    assert client.get("/admin/").status_code == 200
    response = client.post("/admin/guard/alert/confinement/", {"active": "0", "reason": "fin"})
    assert response.status_code == 302
    assert not LockdownState.objects.get(pk=1).active
    assert Client().get("/connexion/").status_code == 200  # the portal is open again


def test_during_lockdown_the_maintenance_page_shows_staff_the_way_in(db) -> None:
    _lockdown_on()
    page = Client().get("/")
    assert page.status_code == 503
    assert 'href="/admin/"' in page.content.decode()


@pytest.mark.parametrize(
    "who", ["professional", "staff with TOTP only", "inactive staff with a passkey"]
)
def test_during_lockdown_no_one_else_gets_past_the_password(optician, who: str) -> None:
    from tests.auth_helpers import enrol_first_passkey
    from tests.webauthn_soft import SoftAuthenticator

    if who == "professional":
        user = optician.user
    else:
        user = get_user_model().objects.create_user(
            username="agent.support", password=PASSWORD, is_staff=True
        )
        TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)
        if who.startswith("inactive"):
            client = Client()
            _password(client, user.username, next_="/")
            client.post(
                "/connexion/code/", {"otp_token": totp_code(TOTPDevice.objects.get(user=user))}
            )
            assert enrol_first_passkey(client, user, SoftAuthenticator()).status_code == 200
            user.is_active = False
            user.save()
    _lockdown_on()
    assert Client().get("/connexion/").status_code == 503  # no back-office in sight: closed
    # Through the back-office's door: the right password gets the wrong password's answer
    # (no password oracle during an incident), counts as a failure, and signs no one in.
    right, wrong = Client(REMOTE_ADDR="192.0.2.7"), Client(REMOTE_ADDR="192.0.2.8")
    refused = _password(right, user.username)
    failed = _password(wrong, user.username, password="pas-le-bon-mot-de-passe")
    strip = lambda r: re.sub(r'value="[^"]{40,}"', "", r.content.decode())  # noqa: E731 (CSRF)
    assert (refused.status_code, strip(refused)) == (failed.status_code, strip(failed))
    assert refused.status_code == 200
    assert "_auth_user_id" not in right.session
    assert _password(Client(), user.username).status_code == 429  # 3 failures: locked


def test_during_lockdown_staff_cannot_get_in_with_totp(db) -> None:
    from tests.webauthn_soft import SoftAuthenticator

    staff = get_user_model().objects.create_user(
        username="agent.securite", password=PASSWORD, is_staff=True
    )
    staff_with_passkey(staff, SoftAuthenticator())
    _lockdown_on()
    client = Client()
    assert _password(client, staff.username)["Location"] == "/admin/"
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=31), tick=False):
        code = totp_code(TOTPDevice.objects.get(user=staff))
        assert client.post("/connexion/code/", {"otp_token": code}).status_code == 503
        assert (
            client.post("/connexion/code-de-secours/", {"code": "abcde-fghjk"}).status_code == 503
        )
    assert client.get("/admin/").status_code == 302
    assert client.get("/").status_code == 503  # and no portal page
