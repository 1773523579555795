"""Issue 14 part 5 and issue 18 through the real gate (``check_rights``): invoices of lots
count against their own volume quota, the follow-up signal (approvals, claims, lot
invoices), day and sliding windows, API token findings, escalation, settings validation."""

from __future__ import annotations

import datetime
import random
import uuid
import zoneinfo
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.factories import make_beneficiary, make_professional
from tests.guard.test_responses import api, token_for
from tests.test_settings import start
from tierspayant.audit.choices import Channel, Outcome, Purpose
from tierspayant.audit.models import DisclosureLog
from tierspayant.audit.services import RequestContext
from tierspayant.eligibility.services import RightsCheckInput, check_rights
from tierspayant.guard.counters import Counters
from tierspayant.guard.errors import AccountSuspended, QuotaExceeded, StepUpRequired
from tierspayant.guard.models import AccountGuard, Alert, Suspension
from tierspayant.guard.policy import DEFAULT_POLICY, GuardPolicy, build_policy
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.gate import Identity, identify
from tierspayant.providers.choices import Profession
from tierspayant.providers.models import ApiToken
from tierspayant.registry.models import Beneficiary

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("Europe/Paris")
DAY = datetime.date(2026, 3, 10)
CAP = 150  # the production per-account ceiling (tests/settings lowers it)


def at(hour: int, minute: int = 0, second: int = 0) -> datetime.datetime:
    local = datetime.datetime.combine(DAY, datetime.time(hour, minute, second), tzinfo=TZ)
    return local.astimezone(datetime.UTC)


@dataclass(frozen=True)
class Patient:
    beneficiary: Beneficiary
    nir: str
    born: datetime.date


def patients(n: int, seed: int = 7) -> list[Patient]:
    """``n`` registered beneficiaries with scattered birth dates and places (no NIR
    pattern)."""
    from tests.factories import new_nir

    rng = random.Random(seed)
    found = []
    for _ in range(n):
        born = datetime.date(rng.randint(1935, 2015), rng.randint(1, 12), rng.randint(1, 28))
        nir = new_nir(born, sex=rng.choice([1, 2]))
        found.append(Patient(make_beneficiary(nir=nir, birth_date=born), nir, born))
    return found


def check(
    professional,
    patient: Patient | tuple[str, datetime.date],
    now: datetime.datetime,
    *,
    purpose: Purpose = Purpose.RIGHTS_CHECK,
    channel: Channel = Channel.API,
    ip: str = "10.20.0.5",
    policy: GuardPolicy = DEFAULT_POLICY,
    verified_at: datetime.datetime | None = None,
    token_id: int | None = None,
) -> Outcome:
    nir, born = (patient.nir, patient.born) if isinstance(patient, Patient) else patient
    result = check_rights(
        settings.TIERSPAYANT_KEYRING,
        professional=professional,
        query=RightsCheckInput(nir=nir, birth_date=born),
        context=RequestContext(
            channel=channel,
            request_id=uuid.uuid4(),
            ip=ip,
            user_agent="Logiciel/1.0",
            actor_id=professional.user_id,
            token_id=token_id,
        ),
        now=now,
        today=now.astimezone(TZ).date(),
        quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
        daily_quota=CAP,
        policy=policy,
        step_up_verified_at=verified_at,
        purpose=purpose,
    )
    return result.outcome


def interactive_day_count(professional) -> int:
    counters = Counters(settings.TIERSPAYANT_QUOTA_STORAGE_URI)
    return counters.get(f"q:pro:{professional.pk}:d:{DAY.isoformat()}")


# --- issue 14 part 5: invoices of lots ------------------------------------------------------


def test_a_pharmacys_600_invoices_pass_and_leave_the_interactive_quota_untouched() -> None:
    pharmacy = make_professional(profession=Profession.PHARMACIST, siret="73282932000074")
    people = patients(200)
    # A lot of 600 invoices processed by a worker in a few minutes (one every 0.5 s), far
    # beyond the interactive quotas (80 an hour, 150 a day) and the burst floor (20).
    start_at = at(21, 0)
    for index in range(600):
        now = start_at + datetime.timedelta(milliseconds=500 * index)
        assert check(pharmacy, people[index % 200], now, purpose=Purpose.INVOICE) == "covered"
    assert interactive_day_count(pharmacy) == 0
    assert not Alert.objects.filter(professional=pharmacy).exists()
    guard = AccountGuard.objects.filter(pk=pharmacy.pk).first()
    assert guard is None or (not guard.suspended and guard.slowed_until is None)
    # The disclosure log saw every invoice, with its purpose.
    rows = DisclosureLog.objects.filter(professional=pharmacy, purpose=Purpose.INVOICE)
    assert rows.filter(outcome=Outcome.COVERED).count() == 600
    # The interactive quota is whole: the counter (1 after this check) starts from zero.
    assert check(pharmacy, people[0], at(21, 30)) == "covered"
    assert interactive_day_count(pharmacy) == 1


@pytest.mark.parametrize(
    ("profession", "per_day"),
    [(Profession.NURSE, 150), (Profession.OPTICIAN, 60)],
    ids=["nurse", "optician"],
)
def test_the_invoice_volume_quota_stops_an_excessive_volume(profession, per_day) -> None:
    assert DEFAULT_POLICY.invoice_quota(profession).per_day == per_day
    professional = make_professional(profession=profession)
    people = patients(50)
    for index in range(per_day):
        now = at(20, 0) + datetime.timedelta(seconds=index)
        check(professional, people[index % 50], now, purpose=Purpose.INVOICE)
    with pytest.raises(QuotaExceeded) as refused:
        check(professional, people[0], at(20, 30), purpose=Purpose.INVOICE)
    assert refused.value.reason == "invoice_quota_day"
    assert "factures en lot" in refused.value.message
    last = DisclosureLog.objects.filter(professional=professional).latest("pk")
    assert (last.purpose, last.outcome, last.reason) == (
        Purpose.INVOICE,
        Outcome.REFUSED_QUOTA,
        "invoice_quota_day",
    )
    assert Alert.objects.get(professional=professional, kind="quota").evidence == {
        "quota": "invoice_quota_day"
    }
    assert interactive_day_count(professional) == 0  # interactive lookups still open


def test_a_pending_step_up_does_not_stop_a_lots_invoices() -> None:
    from tierspayant.guard.suspension import require_step_up

    pharmacy = make_professional(profession=Profession.PHARMACIST)
    people = patients(2)
    require_step_up(professional=pharmacy, now=at(9, 0))
    with pytest.raises(StepUpRequired):
        check(pharmacy, people[0], at(9, 5), channel=Channel.PORTAL)
    outcome = check(pharmacy, people[1], at(9, 6), channel=Channel.PORTAL, purpose=Purpose.INVOICE)
    assert outcome == "covered"


def test_invoices_are_still_judged_a_canary_in_a_lot_suspends() -> None:
    from tierspayant.guard.canaries import plant_canaries
    from tierspayant.registry.models import Contract

    pharmacy = make_professional(profession=Profession.PHARMACIST)
    people = patients(3)
    make_beneficiary()  # a contract to plant the canary on
    planted = plant_canaries(
        settings.TIERSPAYANT_KEYRING,
        contracts=list(Contract.objects.all()[:1]),
        count=1,
        rng=random.Random(3),
        as_of=DAY,
    )
    _, person = planted[0]
    for index, patient in enumerate(people):
        check(pharmacy, patient, at(21, 0, index), purpose=Purpose.INVOICE)
    check(pharmacy, (person.nir, person.birth_date), at(21, 1), purpose=Purpose.INVOICE)
    assert Alert.objects.get(professional=pharmacy, kind="canary").severity == "critical"
    with pytest.raises(AccountSuspended):
        check(pharmacy, people[0], at(21, 2), purpose=Purpose.INVOICE)


def test_a_lot_of_guessed_identities_is_a_no_match_finding() -> None:
    from tests.factories import new_nir

    pharmacy = make_professional(profession=Profession.PHARMACIST)
    rng = random.Random(11)
    for index in range(10):
        born = datetime.date(rng.randint(1940, 2010), rng.randint(1, 12), rng.randint(1, 28))
        check(pharmacy, (new_nir(born), born), at(21, 0, index), purpose=Purpose.INVOICE)
    alert = Alert.objects.get(professional=pharmacy, kind="no_match_ratio")
    assert alert.evidence["count"] == 10 and alert.severity == "high"
    assert AccountGuard.objects.get(pk=pharmacy.pk).suspended


# --- 18.1 follow-up signal -------------------------------------------------------------------

FOLLOW_POLICY = build_policy(
    {
        "follow_up_min_lookups": 10,
        "follow_up_high_lookups": 40,
        "follow_up_every": 5,
        "follow_up_window_minutes": 120,
        "follow_up_grace_minutes": 60,
    }
)


def follow_up(case: str, professional, other, patient: Patient, when: datetime.datetime) -> None:
    """What the real flows write when they identify the patient of an act."""
    config = CareConfig.from_settings(settings)
    config = CareConfig(
        keyring=config.keyring,
        quota_storage_uri=config.quota_storage_uri,
        daily_quota=CAP,
        policy=FOLLOW_POLICY,
        tables_dir=config.tables_dir,
    )
    context = RequestContext(
        channel=Channel.API,
        request_id=uuid.uuid4(),
        ip="10.20.0.5",
        user_agent="Logiciel/1.0",
        actor_id=professional.user_id,
    )
    who = other if case == "another professional's approvals" else professional
    purpose = {
        "approvals": Purpose.PRIOR_APPROVAL,
        "claims": Purpose.CLAIM,
        "lot invoices": Purpose.INVOICE,
        "another professional's approvals": Purpose.PRIOR_APPROVAL,
        "approvals after the window": Purpose.PRIOR_APPROVAL,
    }[case]
    if purpose is Purpose.INVOICE:
        check(who, patient, when, purpose=Purpose.INVOICE, policy=FOLLOW_POLICY)
        return
    identify(
        config,
        professional=who,
        identity=Identity(nir=patient.nir, birth_date=patient.born),
        care_date=DAY,
        date_field="care_date",
        context=context,
        now=when,
        today=DAY,
        purpose=purpose,
    )


@pytest.mark.parametrize(
    ("case", "followed", "finding"),
    [
        ("approvals", 12, None),
        ("claims", 12, None),
        ("lot invoices", 12, None),
        ("none", 0, "medium"),
        ("another professional's approvals", 0, "medium"),
        ("approvals after the window", 0, "medium"),
        ("a few approvals", 2, "medium"),  # 2 of 12: under 20 %
        ("three approvals", 3, None),  # 3 of 12: 25 %
    ],
)
def test_follow_up_signal(case: str, followed: int, finding: str | None) -> None:
    optician = make_professional(profession=Profession.OPTICIAN)
    other = make_professional(profession=Profession.OPTICIAN)
    people = patients(15, seed=21)
    kind = {"a few approvals": "approvals", "three approvals": "approvals"}.get(case, case)
    count = {"a few approvals": 2, "three approvals": 3}.get(case, 12)
    delay = datetime.timedelta(minutes=150 if case.endswith("window") else 5)
    acts = []
    # Twelve lookups from 8:00, one every 10 minutes; the acts follow (or not).
    for index in range(12):
        when = at(8, 0) + datetime.timedelta(minutes=10 * index)
        assert check(optician, people[index], when, policy=FOLLOW_POLICY) == "covered"
        if kind != "none" and index < count:
            acts.append((when + delay, people[index]))
    for when, patient in sorted(acts, key=lambda a: a[0]):
        follow_up(kind, optician, other, patient, when)
    # Three more lookups at noon: the fifteenth judges the twelve older than an hour.
    for index in range(12, 15):
        check(
            optician,
            people[index],
            at(12, 0) + datetime.timedelta(minutes=index - 12),
            policy=FOLLOW_POLICY,
        )
    alerts = Alert.objects.filter(professional=optician, kind="low_follow_up")
    if finding is None:
        assert not alerts.exists()
        return
    alert = alerts.get()
    assert alert.severity == finding
    assert alert.evidence["lookups"] == 12 and alert.evidence["followed"] == followed
    assert alert.evidence["window_minutes"] == 120
    assert str(people[0].nir) not in str(alert.evidence)


def test_low_follow_up_at_high_volume_suspends() -> None:
    policy = build_policy({**_follow_overrides(), "follow_up_high_lookups": 12})
    optician = make_professional(profession=Profession.OPTICIAN)
    people = patients(15, seed=22)
    for index in range(12):
        check(
            optician,
            people[index],
            at(8, 0) + datetime.timedelta(minutes=10 * index),
            policy=policy,
        )
    for index in range(12, 15):
        check(optician, people[index], at(12, index), policy=policy)
    assert Alert.objects.get(professional=optician, kind="low_follow_up").severity == "high"
    assert Suspension.objects.get(professional=optician).reason == "low_follow_up"


def test_low_follow_up_grows_from_medium_to_high_the_same_day() -> None:
    policy = build_policy({**_follow_overrides(), "follow_up_high_lookups": 15})
    optician = make_professional(profession=Profession.OPTICIAN)
    people = patients(20, seed=23)
    times = [at(8, 0) + datetime.timedelta(minutes=10 * i) for i in range(12)]
    times += [at(12, i) for i in range(3)] + [at(14, i) for i in range(5)]
    outcomes = []
    for index, when in enumerate(times):
        try:
            check(optician, people[index], when, policy=policy)
            outcomes.append("answered")
        except AccountSuspended:
            outcomes.append("suspended")
    alerts = Alert.objects.filter(professional=optician, kind="low_follow_up").order_by("pk")
    # At 12:02, 12 judged lookups, none followed: medium (a slow-down on the API). At 14:04,
    # 15 judged: high, raised again the same day, and the account is suspended.
    assert [(a.severity, a.evidence["lookups"]) for a in alerts] == [("medium", 12), ("high", 15)]
    assert outcomes == ["answered"] * 20
    assert AccountGuard.objects.get(pk=optician.pk).suspended


def _follow_overrides() -> dict:
    return {
        "follow_up_min_lookups": 10,
        "follow_up_every": 5,
        "follow_up_window_minutes": 120,
        "follow_up_grace_minutes": 60,
    }


# --- 18.2 day and sliding windows -------------------------------------------------------------


def test_a_guesser_pacing_under_the_clock_hour_is_flagged_on_the_day_window() -> None:
    from tests.factories import new_nir

    optician = make_professional(profession=Profession.OPTICIAN)
    real = patients(6, seed=5)
    rng = random.Random(9)
    stopped_after = None
    # Five lookups an hour (one every 12 minutes), four in five no match: 4 misses an hour,
    # far under the hourly ten; the day's misses reach 20 at about 13:00.
    for index in range(60):
        now = at(8, 0) + datetime.timedelta(minutes=12 * index)
        if index % 5 == 4:
            card = real[(index // 5) % 6]
            query: Patient | tuple[str, datetime.date] = card
        else:
            born = datetime.date(rng.randint(1940, 2010), rng.randint(1, 12), 15)
            query = (new_nir(born), born)
        try:
            check(optician, query, now)
        except AccountSuspended:
            stopped_after = index
            break
    alert = Alert.objects.get(professional=optician, kind="no_match_ratio")
    assert alert.evidence["window_minutes"] == 1440 and alert.evidence["count"] == 20
    assert stopped_after == 24  # the 20th miss (24th lookup) suspends; the 25th is refused
    disclosed = DisclosureLog.objects.filter(professional=optician, outcome="covered").count()
    assert disclosed == 4


# --- 18.3 machine credentials -----------------------------------------------------------------


def test_an_api_token_from_more_networks_than_a_practice_uses_is_suspended(optician) -> None:
    people = patients(4, seed=31)
    secret = token_for(optician)
    spare = token_for(optician)
    for index, network in enumerate(["81.10", "92.20"]):
        response = api(
            Client(REMOTE_ADDR=f"{network}.0.5"), secret, people[index].nir, people[index].born
        )
        assert response.status_code == 200
    assert not AccountGuard.objects.filter(pk=optician.pk, suspended=True).exists()
    api(Client(REMOTE_ADDR="109.30.0.5"), secret, people[2].nir, people[2].born)
    alert = Alert.objects.get(professional=optician, kind="token_networks")
    assert alert.evidence == {"networks": 3, "threshold": 3, "window_minutes": 1440}
    assert Suspension.objects.get(professional=optician).reason == "token_networks"
    assert not ApiToken.objects.filter(professional=optician, revoked_at__isnull=True).exists()
    assert (
        api(Client(REMOTE_ADDR="81.10.0.5"), spare, people[3].nir, people[3].born).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("token_network", "revoked"),
    [("10.1.0.9", False), ("92.20.0.5", True)],
    ids=["same-network", "another-network"],
)
def test_a_token_from_another_network_than_the_owners_session_is_revoked(
    optician, verified_client, token_network: str, revoked: bool
) -> None:
    people = patients(2, seed=41)
    secret = token_for(optician)
    token = ApiToken.objects.get(professional=optician)
    # The owner works on the portal from the practice's network (10.1.0.0/16).
    check(
        optician,
        people[0],
        timezone.now(),
        channel=Channel.PORTAL,
        ip="10.1.0.4",
        verified_at=timezone.now(),
    )
    response = api(Client(REMOTE_ADDR=token_network), secret, people[1].nir, people[1].born)
    assert response.status_code == 200  # answered; the token is judged after
    token.refresh_from_db()
    assert (token.revoked_at is not None) is revoked
    alerts = Alert.objects.filter(professional=optician, kind="token_foreign_network")
    assert alerts.count() == int(revoked)
    if revoked:
        assert alerts.get().action == "revoke_token"
        assert (
            api(
                Client(REMOTE_ADDR=token_network), secret, people[1].nir, people[1].born
            ).status_code
            == 401
        )
    # The owner's session is not touched: no suspension, no step-up, the portal still works.
    guard = AccountGuard.objects.filter(pk=optician.pk).first()
    assert guard is None or (not guard.suspended and guard.step_up_required_since is None)
    assert verified_client.get("/droits/").status_code == 200


# --- 18.4 escalation --------------------------------------------------------------------------


def test_a_second_medium_finding_in_a_day_suspends_even_after_an_answered_step_up() -> None:
    policy = build_policy({"floors": {"optician": {"burst": 100, "hour": 5, "day": 8}}})
    optician = make_professional(profession=Profession.OPTICIAN)
    people = patients(10, seed=51)
    verified = None
    outcomes = []
    for index in range(10):
        now = at(9, 0) + datetime.timedelta(minutes=6 * index)
        try:
            check(
                optician,
                people[index],
                now,
                channel=Channel.PORTAL,
                policy=policy,
                verified_at=verified,
            )
            outcomes.append("answered")
        except StepUpRequired:
            outcomes.append("step_up")
            verified = now  # the professional types a fresh code and goes on
            check(
                optician,
                people[index],
                now,
                channel=Channel.PORTAL,
                policy=policy,
                verified_at=verified,
            )
        except AccountSuspended:
            outcomes.append("suspended")
    assert outcomes == ["answered"] * 5 + ["step_up"] + ["answered"] * 2 + ["suspended"] * 2
    kinds = list(
        Alert.objects.filter(professional=optician).order_by("pk").values_list("kind", "action")
    )
    assert kinds == [
        ("volume_hour", "step_up"),
        ("volume_day", "step_up"),
        ("escalation", "suspend"),
    ]
    assert Alert.objects.get(kind="escalation").evidence == {"count": 2, "threshold": 2}
    assert Suspension.objects.get(professional=optician).reason == "escalation"


# --- settings validated at start --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"follow_up_window_minutes": 0}', "follow_up_window_minutes: expected a positive"),
        ('{"follow_up_grace_minutes": 2000}', "follow_up_grace_minutes: must be shorter"),
        ('{"follow_up_window_minutes": 40000}', "follow_up_window_minutes: at most 14 days"),
        ('{"follow_up_min_share": 1.5}', "follow_up_min_share: a ratio lies between 0 and 1"),
        ('{"follow_up_min_share": 0}', "follow_up_min_share: expected a positive number"),
        ('{"follow_up_high_lookups": 5}', "follow_up_high_lookups: must be at least"),
        ('{"token_networks": -1}', "token_networks: expected a positive whole number"),
        ('{"escalate_after": 1}', "escalate_after: at least 2"),
        ('{"no_match_day_min": 2.5}', "no_match_day_min: expected a positive whole number"),
        ('{"baseline_weekly_growth": 9}', "baseline_weekly_growth: at most 4"),
        ('{"invoice_quotas": {"pharmacist": {"per_day": 0}}}', "invoice_quotas.pharmacist"),
        ('{"invoice_quotas": {"plumber": {"per_day": 5}}}', "unknown profession 'plumber'"),
    ],
    ids=lambda v: v if v.startswith("{") else "",
)
def test_an_invalid_window_or_threshold_refuses_to_start(value: str, message: str) -> None:
    result = start({"TIERSPAYANT_GUARD_POLICY": value})
    assert result.returncode != 0
    assert message in result.stderr


def test_every_profession_has_quotas_floors_and_an_invoice_quota() -> None:
    for profession in Profession:
        assert DEFAULT_POLICY.quota(profession).per_day > 0
        assert DEFAULT_POLICY.floor(profession).day > 0
        volume = DEFAULT_POLICY.invoice_quota(profession)
        assert volume.practice_per_day >= volume.per_day
    # A pharmacy's busy day (800 invoices) fits 2.5 times; a nurse's round (50) three times.
    assert DEFAULT_POLICY.invoice_quota(Profession.PHARMACIST).per_day == 2000
    assert DEFAULT_POLICY.invoice_quota(Profession.NURSE).per_day == 150
