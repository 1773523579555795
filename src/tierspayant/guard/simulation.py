"""Attack replay: a synthetic population's normal day, with the 2024 attacks woven in,
replayed through the real disclosure gate.

The gate is injected (``gate``: ``eligibility.services.replay_gate``), so every simulated
lookup is validated, looked up, logged, counted and judged exactly like a live one; only
the clock is the simulated one. Weeks of history are not replayed lookup by lookup: they
are written as the nightly roll-up would have left them (``ActivityDay`` rows, known
networks and devices), then summarised into baselines by the real ``refresh_baselines``.

Scenarios (issue 5): (a) a phished optician account querying a list of known NIR + birth
dates as fast as possible; (b) the same, one lookup every few minutes all day; (c) guessing
NIRs; (d) 20 compromised accounts sharing a list; (e) a canary hit; (f) a normal busy day
(sales period at opticians', a hospital admissions desk). Issue 18: (g) one API token used
from many networks; (h) a slow guesser with a low match rate, under the hourly thresholds;
(i) a scraper inside the owner's own portal session, answering step-ups; (j) a thief after
a busy fortnight (the account's history inflated). Honest professionals follow most matched
lookups up with an approval, a claim or a lot's invoice for the same patient (a disclosure
row of that purpose, written when it happens); attackers never do. ``busy_factor`` replays a
busy-period population (every honest account above its usual volume). Everything is
synthetic.
"""

from __future__ import annotations

import datetime
import heapq
import math
import random
import statistics
import uuid
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from faker import Faker
from stdnum.fr import nir as stdnum_nir

from tierspayant.audit.choices import Channel, Outcome, Purpose
from tierspayant.audit.models import DisclosureLog
from tierspayant.audit.services import RequestContext, record_disclosure
from tierspayant.crypto.keys import Keyring
from tierspayant.guard.baselines import refresh_baselines
from tierspayant.guard.canaries import plant_canaries
from tierspayant.guard.choices import AlertKind
from tierspayant.guard.counters import Counters
from tierspayant.guard.errors import GuardRefusal, QuotaExceeded, StepUpRequired
from tierspayant.guard.models import AccountGuard, ActivityDay, Alert
from tierspayant.guard.observe import remember_context
from tierspayant.guard.policy import GuardPolicy
from tierspayant.providers.choices import Profession, Scope
from tierspayant.providers.identifiers import luhn_complete
from tierspayant.providers.models import Professional
from tierspayant.providers.services import issue_api_token
from tierspayant.providers.synthetic import synthetic_finess, synthetic_rpps
from tierspayant.registry.choices import ContractType, Domain
from tierspayant.registry.models import Beneficiary, Contract
from tierspayant.registry.services import build_beneficiary, create_contract, create_insurer
from tierspayant.registry.synthetic import synthetic_family

#: The gate: keyword arguments professional, nir, birth_date, now, today, channel, ip,
#: user_agent, step_up_verified_at; returns the outcome value or raises a GuardRefusal.
Gate = Callable[..., str]

DISCLOSING = {"covered", "not_covered"}
SCENARIOS = ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j")
#: Victims each scenario takes (index into the population's victims).
VICTIMS = 28
FORTNIGHT_VICTIM = 27  # scenario (j): its history holds a busy fortnight


@dataclass(frozen=True)
class Profile:
    """A profession's usual activity: share of accounts, median lookups per working day,
    log-normal spread between accounts, opening hours (local), share of portal use."""

    share: float
    median: float
    spread: float
    opens: int
    closes: int
    portal_share: float
    works_sunday: bool = False


PROFILES: dict[Profession, Profile] = {
    Profession.OPTICIAN: Profile(0.25, 12, 0.5, 9, 19, 0.7),
    Profession.AUDIOPROSTHETIST: Profile(0.10, 6, 0.5, 9, 18, 0.7),
    Profession.PHARMACIST: Profile(0.25, 40, 0.4, 8, 20, 0.1),
    Profession.DENTIST: Profile(0.15, 10, 0.4, 8, 19, 0.4),
    Profession.PHYSICIAN: Profile(0.15, 15, 0.4, 8, 19, 0.4),
    Profession.HOSPITAL: Profile(0.10, 80, 0.3, 0, 24, 0.3, works_sunday=True),
}
#: Share of an honest account's matched lookups followed by an act, and the act's purpose
#: (opticians and audioprosthetists quote: a prior approval; pharmacies and hospitals
#: invoice in lots; dentists and doctors bill a claim).
FOLLOW_UP: dict[Profession, tuple[float, Purpose]] = {
    Profession.OPTICIAN: (0.75, Purpose.PRIOR_APPROVAL),
    Profession.AUDIOPROSTHETIST: (0.75, Purpose.PRIOR_APPROVAL),
    Profession.PHARMACIST: (0.9, Purpose.INVOICE),
    Profession.DENTIST: (0.7, Purpose.CLAIM),
    Profession.PHYSICIAN: (0.6, Purpose.CLAIM),
    Profession.HOSPITAL: (0.7, Purpose.INVOICE),
}
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "LogicielOptique/4.2 (tierspayant-client)",
    "PharmaGest/9.1 (tierspayant-client)",
    "HospiGAM/2.0 (tierspayant-client)",
]


@dataclass(frozen=True)
class Card:
    """What a card (or a stolen list) says of a person: NIR and birth date."""

    nir: str
    birth_date: datetime.date


@dataclass
class Account:
    """A simulated account: its professional, usual volume, hours, network and software."""

    professional: Professional
    profile: Profile
    daily_mean: float
    ip: str
    user_agent: str
    role: str = "normal"  # normal | busy | victim
    token_id: int | None = None


@dataclass
class Population:
    """The synthetic platform: accounts, the register's cards, the canaries' cards."""

    accounts: list[Account]
    cards: list[Card]
    canaries: list[Card]
    day: datetime.date
    tz: zoneinfo.ZoneInfo


def _hour_weights(profile: Profile) -> list[float]:
    weights = []
    for hour in range(24):
        if profile.opens <= hour < profile.closes:
            weight = 1.0
            if profile.closes - profile.opens >= 24:  # round the clock: quieter at night
                weight = 1.0 if 7 <= hour < 21 else 0.12
            elif hour in (12, 13):
                weight = 0.4
        else:
            weight = 0.0
        weights.append(weight)
    return weights


def _count(rng: random.Random, mean: float) -> int:
    return max(0, round(rng.gauss(mean, math.sqrt(max(mean, 1.0)))))


def _day_times(
    rng: random.Random, profile: Profile, n: int, day: datetime.date, tz: zoneinfo.ZoneInfo
) -> list[datetime.datetime]:
    hours = rng.choices(range(24), weights=_hour_weights(profile), k=n)
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return sorted(
        (start + datetime.timedelta(hours=h, seconds=rng.uniform(0, 3599))).astimezone(datetime.UTC)
        for h in hours
    )


def _synthetic_ip(rng: random.Random) -> str:
    return (
        f"{rng.randint(11, 199)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def _professions(rng: random.Random, n: int) -> list[Profession]:
    names = list(PROFILES)
    return rng.choices(names, weights=[PROFILES[p].share for p in names], k=n)


def build_population(
    keyring: Keyring,
    *,
    rng: random.Random,
    day: datetime.date,
    tz: zoneinfo.ZoneInfo,
    policy: GuardPolicy,
    storage_uri: str,
    accounts: int = 300,
    victims: int = VICTIMS,
    beneficiaries: int = 3000,
    canaries: int = 20,
    history_days: int = 28,
    progress: Callable[[str], None] = lambda step: None,
) -> Population:
    """Create the register, the accounts (``accounts`` normal ones, of which two sales-period
    opticians and one busy hospital desk, plus ``victims`` whose credentials the attackers
    hold), ``history_days`` of daily activity before ``day`` (the victim of scenario (j) had
    a busy fortnight at four times its volume just before), baselines refreshed weekly as
    the nightly job does (so their bounded growth applies) and known networks.

    All rows are new (a random run prefix keeps usernames and AMC numbers apart from earlier
    runs). Returns the :class:`Population`.
    """
    run = uuid.uuid4().hex[:6]
    faker = Faker("fr_FR")
    faker.seed_instance(rng.randint(0, 2**31))
    start = datetime.date(day.year - 2, 1, 1)
    progress("registre")
    contracts: list[Contract] = []
    for index in range(2):
        insurer = create_insurer(
            amc_number=f"9{rng.randint(0, 9_999_999):07d}", name=f"Mutuelle simulée {run}-{index}"
        )
        for kind in (ContractType.INDIVIDUAL, ContractType.COLLECTIVE):
            contracts.append(
                create_contract(
                    insurer=insurer,
                    number=f"SIM-{run}-{index}-{kind}",
                    contract_type=kind,
                    responsible=True,
                    valid_from=start,
                    valid_to=None,
                    domains=list(Domain),
                )
            )
    cards: list[Card] = []
    batch: list[Beneficiary] = []
    while len(cards) < beneficiaries:
        contract = rng.choice(contracts)
        for person in synthetic_family(rng, faker, as_of=day):
            batch.append(
                build_beneficiary(
                    keyring,
                    contract=contract,
                    nir=person.nir,
                    rang=person.rang,
                    birth_date=person.birth_date,
                    last_name=person.last_name,
                    first_name=person.first_name,
                    quality=person.quality,
                    rights_start=start,
                    rights_end=None,
                )
            )
            if person.rang == 1:  # twins need the rang: keep the list to unambiguous cards
                cards.append(Card(person.nir, person.birth_date))
    Beneficiary.objects.bulk_create(batch, batch_size=1000)
    planted = plant_canaries(keyring, contracts=contracts, count=canaries, rng=rng, as_of=day)
    progress("comptes")
    professions = _professions(rng, accounts)
    professions[:2] = [Profession.OPTICIAN, Profession.OPTICIAN]
    professions[2] = Profession.HOSPITAL
    victim_professions = [Profession.OPTICIAN] * (victims // 2) + [
        rng.choice([Profession.AUDIOPROSTHETIST, Profession.DENTIST, Profession.OPTICIAN])
        for _ in range(victims - victims // 2)
    ]
    user_model = get_user_model()
    unusable = make_password(None)
    total = accounts + victims
    users = user_model.objects.bulk_create(
        [
            user_model(username=f"sim-{run}-{i:04d}", password=unusable, email="")
            for i in range(total)
        ]
    )
    users = list(user_model.objects.filter(username__startswith=f"sim-{run}-").order_by("username"))
    shared: dict[str, tuple[str, str]] = {}  # practice -> (ip, user agent)
    rows: list[Professional] = []
    meta: list[tuple[Profession, str, str, str]] = []
    hospital_finess = ""
    pharmacy_siret = ""
    for index, profession in enumerate(professions + victim_professions):
        finess = siret = rpps = ""
        if profession is Profession.HOSPITAL:
            if not hospital_finess or rng.random() < 0.34:  # about three desks per hospital
                hospital_finess = synthetic_finess(rng)
            finess = hospital_finess
            practice = f"finess:{finess}"
        else:
            rpps = synthetic_rpps(rng)
            if profession is Profession.PHARMACIST and pharmacy_siret and rng.random() < 0.5:
                siret = pharmacy_siret  # two pharmacists in one pharmacy
            else:
                siret = luhn_complete("".join(str(rng.randint(0, 9)) for _ in range(13)))
            pharmacy_siret = siret if profession is Profession.PHARMACIST else pharmacy_siret
            practice = f"siret:{siret}"
        if practice not in shared:
            software = {
                Profession.PHARMACIST: USER_AGENTS[3],
                Profession.HOSPITAL: USER_AGENTS[4],
            }.get(profession, rng.choice(USER_AGENTS[:3]))
            shared[practice] = (_synthetic_ip(rng), software)
        rows.append(
            Professional(
                user=users[index],
                profession=profession,
                display_name=f"{profession.label} {faker.last_name()}",
                rpps=rpps,
                finess=finess,
                siret=siret,
            )
        )
        meta.append((profession, practice, *shared[practice]))
    Professional.objects.bulk_create(rows)
    professionals = list(
        Professional.objects.filter(user__username__startswith=f"sim-{run}-")
        .select_related("user")
        .order_by("user__username")
    )
    population: list[Account] = []
    for index, (professional, (profession, _practice, ip, agent)) in enumerate(
        zip(professionals, meta, strict=True)
    ):
        profile = PROFILES[profession]
        mean = profile.median * math.exp(rng.gauss(0, profile.spread))
        role = "victim" if index >= accounts else ("busy" if index < 3 else "normal")
        population.append(Account(professional, profile, mean, ip, agent, role))
    progress("historique")
    history: list[ActivityDay] = []
    counters = Counters(storage_uri)
    fortnight = population[accounts + FORTNIGHT_VICTIM] if victims > FORTNIGHT_VICTIM else None
    for account in population:
        share = FOLLOW_UP[Profession(account.professional.profession)][0]
        for back in range(1, history_days + 1):
            past = day - datetime.timedelta(days=back)
            if past.weekday() == 6 and not account.profile.works_sunday:
                continue
            busy = 4.0 if account is fortnight and back <= 14 else 1.0
            n = _count(rng, account.daily_mean * busy)
            if not n:
                continue
            hours = Counter(rng.choices(range(24), weights=_hour_weights(account.profile), k=n))
            matched = round(n * 0.8)
            history.append(
                ActivityDay(
                    professional=account.professional,
                    day=past,
                    lookups=n,
                    no_match=round(n * 0.12),
                    distinct_beneficiaries=n,
                    peak_hour_lookups=max(hours.values()),
                    first_hour=min(hours),
                    last_hour=max(hours),
                    matched=matched,
                    followed=round(matched * share),
                )
            )
        remember_context(
            counters,
            professional_id=account.professional.pk,
            key=keyring.index.active,
            ip=account.ip,
            user_agent=account.user_agent,
        )
    ActivityDay.objects.bulk_create(history, batch_size=2000)
    for weeks_before in (2, 1, 0):  # the nightly job, once a week here
        refreshed = day - datetime.timedelta(weeks=weeks_before)
        refresh_baselines(
            today=refreshed,
            policy=policy,
            now=datetime.datetime.combine(refreshed, datetime.time(3), tzinfo=tz),
        )
    return Population(
        accounts=population,
        cards=cards,
        canaries=[Card(person.nir, person.birth_date) for _, person in planted],
        day=day,
        tz=tz,
    )


# --- actors -------------------------------------------------------------------------------


@dataclass
class Actor:
    """Someone sending lookups through one account: at ``times`` (normal user, known in
    advance) or every ``interval`` from ``start`` until the list is spent (attacker)."""

    account: Account
    scenario: str
    channel: Channel
    ip: str
    user_agent: str
    identities: list[Card]
    start: datetime.datetime
    interval: datetime.timedelta | None = None
    until: datetime.datetime | None = None
    times: list[datetime.datetime] = field(default_factory=list)
    honest: bool = False
    ips: list[str] = field(default_factory=list)  # rotated per lookup when given
    token_id: int | None = None
    follow_share: float = 0.0  # share of matched lookups followed by an act
    follow_purpose: Purpose = Purpose.PRIOR_APPROVAL
    # outcome
    position: int = 0
    sent: int = 0
    disclosed: set[str] = field(default_factory=set)
    canaries_disclosed: int = 0
    stopped_at: datetime.datetime | None = None
    stop_reason: str = ""
    step_ups: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    verified_at: datetime.datetime | None = None
    answered_by_hour: Counter[int] = field(default_factory=Counter)

    def first_time(self) -> datetime.datetime | None:
        """When the actor acts first (None: nothing to do)."""
        if self.times:
            return self.times[0]
        return self.start if self.identities else None

    def next_time(self, now: datetime.datetime) -> datetime.datetime | None:
        """When the actor acts after acting at ``now`` (None: done)."""
        if self.stopped_at is not None or self.position >= len(self.identities):
            return None
        if self.times:
            return self.times[self.position] if self.position < len(self.times) else None
        assert self.interval is not None
        later = now + self.interval
        return None if self.until is not None and later > self.until else later


@dataclass(order=True)
class FollowUpAct:
    """An act that follows a matched lookup up: at ``when``, ``actor`` identifies
    ``beneficiary_id`` again for ``actor.follow_purpose``."""

    when: datetime.datetime
    sequence: int
    actor: Actor = field(compare=False)
    beneficiary_id: uuid.UUID = field(compare=False)


def _write_follow_up(act: FollowUpAct) -> None:
    """The disclosure row the approval, claim or lot flow writes when it identifies the
    patient (those flows go through the gate with their own purpose)."""
    actor = act.actor
    record_disclosure(
        context=RequestContext(
            channel=actor.channel,
            request_id=uuid.uuid4(),
            ip=actor.ip,
            user_agent=actor.user_agent,
            actor_id=actor.account.professional.user_id,
        ),
        professional=actor.account.professional,
        purpose=actor.follow_purpose,
        outcome=Outcome.COVERED,
        occurred_at=act.when,
        beneficiary=Beneficiary(pk=act.beneficiary_id),
        fields_disclosed=["rights_period"],
    )


def _act(
    actor: Actor,
    gate: Gate,
    now: datetime.datetime,
    tz: zoneinfo.ZoneInfo,
    canaries: set[Card],
    follow: Callable[[Actor, datetime.datetime], None] = lambda actor, now: None,
) -> datetime.datetime | None:
    """One lookup by ``actor`` at ``now``; returns when it acts next (None: done).
    ``follow`` is told of each matched lookup (an honest professional's act may follow)."""
    card = actor.identities[actor.position]
    today = now.astimezone(tz).date()
    ip = actor.ips[actor.position % len(actor.ips)] if actor.ips else actor.ip
    for attempt in range(2):
        try:
            outcome = gate(
                professional=actor.account.professional,
                nir=card.nir,
                birth_date=card.birth_date,
                now=now,
                today=today,
                channel=actor.channel,
                ip=ip,
                user_agent=actor.user_agent,
                step_up_verified_at=actor.verified_at,
                token_id=actor.token_id,
            )
        except StepUpRequired:
            actor.step_ups += 1
            if actor.honest and attempt == 0:  # the professional types a fresh code
                actor.verified_at = now
                continue
            actor.stopped_at, actor.stop_reason = now, "step_up"
            return None
        except QuotaExceeded as refusal:
            actor.refusals[refusal.reason] += 1
            actor.position += 1
            actor.sent += 1
            if not actor.honest and refusal.reason in {"daily_quota", "quota_practice_day"}:
                actor.stopped_at, actor.stop_reason = now, refusal.reason
                return None
            return actor.next_time(now)
        except GuardRefusal as refusal:
            actor.refusals[refusal.reason] += 1
            actor.stopped_at, actor.stop_reason = now, refusal.reason
            return None
        break
    actor.position += 1
    actor.sent += 1
    if outcome in DISCLOSING:
        actor.answered_by_hour[now.astimezone(tz).hour] += 1
        if card in canaries:
            actor.canaries_disclosed += 1
        else:
            actor.disclosed.add(card.nir + card.birth_date.isoformat())
        follow(actor, now)
    return actor.next_time(now)


# --- scenarios ----------------------------------------------------------------------------


def _at(population: Population, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(
        population.day, datetime.time(hour, minute), tzinfo=population.tz
    ).astimezone(datetime.UTC)


def _guesses(rng: random.Random, n: int) -> list[Card]:
    """Sequential NIR guesses: one sex, birth month, department and commune, serials counted
    up, keys computed, birth days guessed in the month (what a guesser can do)."""
    year, month = rng.randint(1950, 2000), rng.randint(1, 12)
    department = rng.choice([d for d in range(1, 96) if d != 20])
    body = f"{rng.choice('12')}{year % 100:02d}{month:02d}{department:02d}{rng.randint(1, 990):03d}"
    guesses = []
    for serial in range(1, n + 1):
        head = f"{body}{serial:03d}"
        birth = datetime.date(year, month, rng.randint(1, 28))
        guesses.append(Card(head + stdnum_nir.calc_check_digits(head), birth))
    return guesses


def scenario_actors(
    population: Population, rng: random.Random, names: Sequence[str]
) -> list[Actor]:
    """The attackers of scenarios ``names`` (letters a-e, g-j), on the population's
    victims."""
    victims = [a for a in population.accounts if a.role == "victim"]
    stolen = [c for c in population.cards]
    rng.shuffle(stolen)
    actors: list[Actor] = []

    def attacker(
        account: Account,
        scenario: str,
        identities: list[Card],
        start: datetime.datetime,
        seconds: float,
        ip: str,
        until: datetime.datetime | None = None,
    ) -> Actor:
        return Actor(
            account=account,
            scenario=scenario,
            channel=Channel.PORTAL,
            ip=ip,
            user_agent=USER_AGENTS[1],
            identities=identities,
            start=start,
            interval=datetime.timedelta(seconds=seconds),
            until=until,
        )

    if "a" in names:
        actors.append(
            attacker(victims[0], "a", stolen[:2000], _at(population, 10), 1, "185.220.101.7")
        )
    if "b" in names:
        actors.append(
            attacker(
                victims[1],
                "b",
                stolen[2000:2300] or stolen[:300],
                _at(population, 8),
                240,
                "185.220.101.8",
                until=_at(population, 20),
            )
        )
    if "c" in names:
        actors.append(
            attacker(victims[2], "c", _guesses(rng, 999), _at(population, 14), 2, "185.220.101.9")
        )
    if "e" in names:
        canary = population.canaries[0]
        listed = [*stolen[100:103], canary, *stolen[103:200]]
        actors.append(attacker(victims[3], "e", listed, _at(population, 11), 30, "185.220.101.10"))
    if "g" in names:  # one API token, from a new /16 network at each call
        token = issue_api_token(
            professional=victims[24].professional,
            name="logiciel volé",
            scopes=[Scope.ELIGIBILITY_CHECK],
            now=_at(population, 6),
            valid_days=30,
        )
        thief = attacker(victims[24], "g", stolen[400:600], _at(population, 10), 20, "")
        thief.channel, thief.token_id = Channel.API, token.token.pk
        thief.ips = [f"{10 + 17 * k}.{40 + k}.0.{k + 1}" for k in range(12)]
        thief.user_agent = USER_AGENTS[3]
        actors.append(thief)
    if "h" in names:  # random (not sequential) guesses, one in five a real card, 1 per 6 min
        guesses: list[Card] = []
        for index in range(150):
            if index % 5 == 4:
                guesses.append(stolen[600 + index])
            else:
                guesses.append(_random_card(rng))
        actors.append(
            attacker(
                victims[25],
                "h",
                guesses,
                _at(population, 8),
                360,
                "185.220.101.11",
                until=_at(population, 20),
            )
        )
    if "i" in names:  # inside the owner's session: same network and browser, step-ups answered
        owner = victims[26]
        scraper = attacker(
            owner,
            "i",
            stolen[800:1200],
            _at(population, 9),
            90,
            owner.ip,
            until=_at(population, 19),
        )
        scraper.user_agent, scraper.honest = owner.user_agent, True
        actors.append(scraper)
    if "j" in names:  # after a busy fortnight, a human pace from another network
        actors.append(
            attacker(
                victims[FORTNIGHT_VICTIM],
                "j",
                stolen[1200:1500],
                _at(population, 9),
                180,
                "185.220.101.12",
                until=_at(population, 19),
            )
        )
    if "d" in names:
        group = victims[4:24]
        chunk = max(1, min(100, len(stolen) // max(len(group), 1)))
        for index, account in enumerate(group):
            actors.append(
                attacker(
                    account,
                    "d",
                    stolen[index * chunk : (index + 1) * chunk],
                    _at(population, 16) + datetime.timedelta(seconds=30 * index),
                    20,
                    f"185.220.102.{index % 3 + 1}",
                )
            )
    return actors


def _random_card(rng: random.Random) -> Card:
    """A valid NIR with a random birth date and place: almost never in the register."""
    birth = datetime.date(rng.randint(1940, 2020), rng.randint(1, 12), rng.randint(1, 28))
    place = f"{rng.randint(1, 95):02d}{rng.randint(1, 990):03d}"
    head = f"{rng.choice('12')}{birth:%y%m}{place}{rng.randint(1, 999):03d}"
    return Card(head + stdnum_nir.calc_check_digits(head), birth)


def normal_actors(
    population: Population,
    rng: random.Random,
    *,
    busy_factor: float = 1.0,
    owners: Sequence[Account] = (),
) -> list[Actor]:
    """The day's honest professionals: volumes from their own profile (sales-period
    opticians 2.5x, the busy hospital desk 1.6x; everyone ``busy_factor`` times more in a
    busy period, scenario "busy" instead of "normal"), 80 % patients in the register, 12 %
    not (another operator's patients: no match), 8 % re-checks of the day's patients; most
    matched lookups followed by an act (:data:`FOLLOW_UP`). ``owners``: victims whose owner
    also works that day (scenario (i)), scenario "owner"."""
    actors: list[Actor] = []
    for account in [*population.accounts, *owners]:
        if account.role == "victim" and account not in owners:
            continue
        factor = busy_factor
        if account.role == "busy":
            factor *= 2.5 if account.professional.profession == Profession.OPTICIAN else 1.6
        times = _day_times(
            rng,
            account.profile,
            _count(rng, account.daily_mean * factor),
            population.day,
            population.tz,
        )
        identities: list[Card] = []
        for _ in times:
            roll = rng.random()
            if roll < 0.08 and identities:
                identities.append(rng.choice(identities))
            elif roll < 0.20:
                identities.append(_random_card(rng))
            else:
                identities.append(rng.choice(population.cards))
        portal = rng.random() < account.profile.portal_share or account in owners
        share, purpose = FOLLOW_UP[Profession(account.professional.profession)]
        scenario = "busy" if busy_factor != 1.0 else "normal"
        if account.role == "busy":
            scenario = "f"
        elif account in owners:
            scenario = "owner"
        actors.append(
            Actor(
                account=account,
                scenario=scenario,
                channel=Channel.PORTAL if portal else Channel.API,
                ip=account.ip,
                user_agent=account.user_agent,
                identities=identities,
                start=times[0] if times else _at(population, 9),
                times=times,
                honest=True,
                follow_share=share,
                follow_purpose=purpose,
            )
        )
    return actors


# --- replay and report --------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioResult:
    """One row of the report. ``disclosed_before_stop``: distinct real beneficiaries
    disclosed (summed over the scenario's accounts); ``max_per_account`` likewise per account;
    ``seconds_to_stop``: from the first lookup to the last account's stop (None if not
    stopped); ``alerts``: alert kinds raised on the scenario's accounts; ``flagged``: an
    alert was raised the same day; ``campaign``: a platform-wide campaign alert exists."""

    name: str
    label: str
    accounts: int
    lookups: int
    disclosed_before_stop: int
    max_per_account: int
    canaries_disclosed: int
    stopped: bool
    seconds_to_stop: float | None
    stop_reasons: list[str]
    alerts: dict[str, int]
    flagged: bool
    daily_quota: int | None = None
    campaign: bool = False
    suspended_accounts: int = 0
    step_up_accounts: int = 0
    slowed_accounts: int = 0

    def as_dict(self) -> dict[str, object]:
        """The JSON object of this row."""
        return dict(self.__dict__)


LABELS = {
    "a": "(a) compte d'opticien hameçonné, liste de NIR, au plus vite",
    "b": "(b) même liste, goutte à goutte (une vérification toutes les 4 min)",
    "c": "(c) NIR devinés (séquentiels)",
    "d": "(d) 20 comptes compromis se partageant une liste",
    "e": "(e) bénéficiaire leurre consulté",
    "f": "(f) journée chargée légitime (soldes chez des opticiens, accueil d'hôpital)",
    "g": "(g) un jeton d'API volé, utilisé depuis de nombreux réseaux",
    "h": "(h) devineur lent (une vérification toutes les 6 min, 4 sur 5 sans correspondance)",
    "i": "(i) aspirateur dans la session du titulaire, qui répond aux seconds facteurs",
    "j": "(j) voleur après une quinzaine chargée (historique gonflé)",
    "normal": "population normale (journée ordinaire)",
    "busy": "population en période chargée (toutes les activités x 1,6)",
}

SHORT_LABELS = {
    "a": "(a) hameçonnage rapide",
    "b": "(b) goutte à goutte",
    "c": "(c) NIR devinés",
    "d": "(d) 20 comptes",
    "e": "(e) leurre",
    "f": "(f) journée chargée",
    "g": "(g) jeton volé",
    "h": "(h) devineur lent",
    "i": "(i) aspirateur en session",
    "j": "(j) après une quinzaine chargée",
}


@dataclass(frozen=True)
class SimulationReport:
    """The replay's outcome: one :class:`ScenarioResult` per scenario and the normal
    population, plus hourly series for the chart (answered lookups per local hour)."""

    day: datetime.date
    results: list[ScenarioResult]
    hourly: dict[str, list[float]]
    lookups: int


def replay(
    gate: Gate,
    population: Population,
    *,
    scenarios: Sequence[str] = SCENARIOS,
    rng: random.Random,
    policy: GuardPolicy,
    normal_day: bool = True,
    busy_factor: float = 1.0,
    progress: Callable[[int], None] = lambda n: None,
) -> SimulationReport:
    """Replay the normal day (if ``normal_day``; a busy period when ``busy_factor`` > 1) and
    the attacks of ``scenarios`` in one timeline through ``gate``, then measure each
    scenario against the database's alerts and account states. Honest acts that follow
    lookups up are written at their own instant in the same timeline."""
    actors = scenario_actors(population, rng, scenarios)
    owners = [a.account for a in actors if a.scenario == "i"]
    if normal_day or owners:
        actors += normal_actors(population, rng, busy_factor=busy_factor, owners=owners)
        if not normal_day:
            actors = [a for a in actors if a.scenario in {*scenarios, "owner"}]
    canaries = set(population.canaries)
    pending: list[FollowUpAct] = []

    def follow(actor: Actor, now: datetime.datetime) -> None:
        if not actor.follow_share or rng.random() >= actor.follow_share:
            return
        beneficiary = (
            DisclosureLog.objects.filter(professional=actor.account.professional)
            .order_by("-pk")
            .values_list("beneficiary_id", flat=True)
            .first()
        )
        if beneficiary is not None:
            later = now + datetime.timedelta(minutes=rng.uniform(2, 45))
            heapq.heappush(pending, FollowUpAct(later, len(pending) + done, actor, beneficiary))

    queue: list[tuple[datetime.datetime, int, int]] = []
    for index, actor in enumerate(actors):
        first = actor.first_time()
        if first is not None:
            heapq.heappush(queue, (first, index, index))
    sequence = len(actors)
    done = 0
    while queue:
        now, _, index = heapq.heappop(queue)
        while pending and pending[0].when <= now:
            _write_follow_up(heapq.heappop(pending))
        later = _act(actors[index], gate, now, population.tz, canaries, follow)
        done += 1
        if done % 200 == 0:
            progress(done)
        if later is not None:
            sequence += 1
            heapq.heappush(queue, (later, sequence, index))
    progress(done)
    return _measure(population, actors, policy=policy, lookups=done)


def _measure(
    population: Population, actors: list[Actor], *, policy: GuardPolicy, lookups: int
) -> SimulationReport:
    start = datetime.datetime.combine(population.day, datetime.time.min, tzinfo=population.tz)
    end = start + datetime.timedelta(days=1)
    alerts = list(
        Alert.objects.filter(raised_at__gte=start, raised_at__lt=end).values("professional", "kind")
    )
    by_pro: dict[int | None, Counter[str]] = defaultdict(Counter)
    for alert in alerts:
        by_pro[alert["professional"]][alert["kind"]] += 1
    campaign = bool(by_pro[None][AlertKind.CAMPAIGN])
    states = {
        g.pk: g
        for g in AccountGuard.objects.filter(pk__in=[a.account.professional.pk for a in actors])
    }
    groups: dict[str, list[Actor]] = defaultdict(list)
    for actor in actors:
        groups[actor.scenario].append(actor)
    results = []
    for name in [*SCENARIOS, "normal", "busy"]:
        members = groups.get(name, [])
        if not members:
            continue
        kinds: Counter[str] = Counter()
        for actor in members:
            kinds.update(by_pro.get(actor.account.professional.pk, Counter()))
        stops = [a.stopped_at for a in members if a.stopped_at is not None]
        first = min(a.first_time() or a.start for a in members)
        stopped = len(stops) == len(members)
        pro_ids = [a.account.professional.pk for a in members]
        suspended = sum(1 for pk in pro_ids if pk in states and states[pk].suspended)
        step_ups = sum(
            1
            for a in members
            if a.step_ups
            or (
                a.account.professional.pk in states
                and states[a.account.professional.pk].step_up_required_since is not None
            )
        )
        slowed = sum(1 for a in members if a.refusals)
        quota = policy.quota(members[0].account.professional.profession).per_day
        results.append(
            ScenarioResult(
                name=name,
                label=LABELS[name],
                accounts=len(members),
                lookups=sum(a.sent for a in members),
                disclosed_before_stop=sum(len(a.disclosed) for a in members),
                max_per_account=max(len(a.disclosed) for a in members),
                canaries_disclosed=sum(a.canaries_disclosed for a in members),
                stopped=stopped,
                seconds_to_stop=(max(stops) - first).total_seconds() if stopped and stops else None,
                stop_reasons=sorted({a.stop_reason for a in members if a.stop_reason}),
                alerts=dict(sorted(kinds.items())),
                flagged=all(by_pro.get(pk) for pk in pro_ids),
                daily_quota=quota,
                campaign=campaign,
                suspended_accounts=suspended,
                step_up_accounts=step_ups,
                slowed_accounts=slowed,
            )
        )
    hourly = _hourly(groups)
    return SimulationReport(day=population.day, results=results, hourly=hourly, lookups=lookups)


def _hourly(groups: dict[str, list[Actor]]) -> dict[str, list[float]]:
    """Answered lookups per local hour: the median and the busiest normal account, then each
    scenario's accounts (summed)."""
    series: dict[str, list[float]] = {}
    normal = groups.get("normal", [])
    if normal:
        series["compte normal (médiane)"] = [
            float(statistics.median(a.answered_by_hour[h] for a in normal)) for h in range(24)
        ]
        series["compte normal (le plus actif)"] = [
            float(max(a.answered_by_hour[h] for a in normal)) for h in range(24)
        ]
    for name in ["f", "a", "b", "c", "d", "e", "g", "h", "i", "j"]:
        members = groups.get(name, [])
        if members:
            series[SHORT_LABELS[name]] = [
                float(sum(a.answered_by_hour[h] for a in members)) for h in range(24)
            ]
    return series
