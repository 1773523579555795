"""The rights check, through the disclosure gate.

``check_rights`` is the only way the platform tells anyone outside whether a person is
covered. It confirms what the caller already knows (NIR, birth date, optionally rang and AMC
number) and never reveals an identity: no name, no other family member, no NIR not given.
Every call, matched or not, writes exactly one disclosure-log row in the same transaction as
the read (DESIGN.md, "Fail closed"); a failed write means no answer.

No oracle: an unknown NIR, a wrong birth date, a wrong insurer or a rang that does not exist
all give the same ``no_match`` answer; "rights ended" is only said once the identity matched.

The guard is crossed before the lookup (lockdown on the portal, suspended account, pending
step-up, quotas) and after it (live features, detectors, response by policy). A canary
beneficiary is answered exactly like any other record; the account is suspended right after.
Every refusal is logged like any other call, with its reason.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from tierspayant import hot_sql
from tierspayant.audit.choices import DISCLOSING_OUTCOMES, Channel, Outcome, Purpose
from tierspayant.audit.selectors import (
    AccessEntry,
    InvalidIdentity,
    access_history,
    insurer_beneficiaries_by_identity,
)
from tierspayant.audit.services import RequestContext, record_disclosure
from tierspayant.crypto.blind_index import blind_index_candidates
from tierspayant.crypto.keys import Keyring
from tierspayant.eligibility.engagements import (
    VALID_DAYS,
    domain_rules,
    engagement_digest,
    expiry,
    new_engagement_number,
)
from tierspayant.eligibility.models import Engagement
from tierspayant.guard.policy import DEFAULT_POLICY, GuardPolicy
from tierspayant.guard.quotas import QuotaCounts
from tierspayant.guard.selectors import LOOKUP_PURPOSES
from tierspayant.guard.services import (
    AccountSuspended,
    GuardRefusal,
    GuardUnavailable,
    PortalLocked,
    QuotaExceeded,
    StepUpRequired,
    consume_read_quota,
    consume_rights_check_quota,
    observe_rights_check,
    quota_limits,
    record_refusal,
    screen_rights_check,
)
from tierspayant.providers.models import Professional
from tierspayant.registry.choices import Domain
from tierspayant.registry.models import Beneficiary, Insurer
from tierspayant.registry.nir import InvalidNIR, normalize_nir
from tierspayant.registry.selectors import beneficiaries_by_identity
from tierspayant.registry.services import MEMBER_NUMBER_PURPOSE

#: Fields a positive answer discloses (names of fields, recorded in the log).
FIELDS_COVERED = ["coverage_status", "rights_period", "tiers_payant_domains", "amc_number"]
FIELDS_NOT_COVERED = ["coverage_status", "rights_period", "amc_number"]
#: What a positive rights check v2 (IDB) discloses besides :data:`FIELDS_COVERED`.
FIELDS_ENGAGED = ["domain_rules", "engagement"]
#: What a calculation (CLC) discloses besides: the AMC amount of the lines.
FIELDS_CALCULATED = ["amc_amount"]


class InvalidRightsCheck(ValueError):
    """Bad input; ``field`` names it (``nir``, ``rang``, ``birth_date``, ``amc_number``,
    ``care_date``; v2: ``member_number``, ``convention_type``, ``routing_criterion``,
    ``domain``) and ``message`` says why in French, without echoing the value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RightsCheckInput:
    """What the caller knows, as received. ``birth_date`` and ``care_date`` may be ISO strings
    or dates; ``care_date`` None means ``today``; ``rang`` None means "any".

    Version 2 (IDB, as read from the tiers payant attestation): ``member_number`` given
    makes the check a v2 one, which also needs ``amc_number`` and ``domain`` (a
    ``registry.choices.Domain`` value); ``convention_type`` and ``routing_criterion`` are
    compared when given. A covered v2 answer carries the domain's rules and an engagement."""

    nir: str
    birth_date: str | datetime.date
    rang: int | str | None = None
    amc_number: str | None = None
    care_date: str | datetime.date | None = None
    member_number: str | None = None
    convention_type: str | None = None
    routing_criterion: str | None = None
    domain: str | None = None


@dataclass(frozen=True)
class RightsCheckResult:
    """The answer. ``outcome`` is one of covered, not_covered, no_match, ambiguous. For
    covered/not_covered: the rights period (dates inclusive, ``rights_end`` None =
    open-ended), the insurer's AMC number, and (covered only) the domains open to tiers
    payant. ``log_id`` is the disclosure-log row written for this answer; ``beneficiary``
    the row it names (contract and insurer loaded; None without one), for callers inside
    the platform that go on with it (a lot's invoice) without reading the log row back."""

    outcome: Outcome
    care_date: datetime.date
    log_id: int
    rights_start: datetime.date | None = None
    rights_end: datetime.date | None = None
    amc_number: str | None = None
    domains: list[Domain] = field(default_factory=list)
    domain_rules: list[dict[str, object]] = field(default_factory=list)
    engagement: str | None = None
    engagement_expires_at: datetime.datetime | None = None
    engagement_domain: str | None = None
    beneficiary: Beneficiary | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class _V2Keys:
    member_number: str
    convention_type: str | None
    routing_criterion: str | None
    domain: Domain


@dataclass(frozen=True)
class _Parsed:
    nir: str
    birth_date: datetime.date
    rang: int | None
    amc_number: str | None
    care_date: datetime.date
    v2: _V2Keys | None = None


def _parse_date(value: str | datetime.date | None, name: str, label: str) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidRightsCheck(name, f"{label} invalide (format AAAA-MM-JJ attendu)") from None


def _parse(raw: RightsCheckInput, today: datetime.date) -> _Parsed:
    try:
        nir = normalize_nir(raw.nir)
    except InvalidNIR as exc:
        raise InvalidRightsCheck("nir", str(exc)) from None
    birth_date = _parse_date(raw.birth_date, "birth_date", "date de naissance")
    if birth_date > today:
        raise InvalidRightsCheck("birth_date", "la date de naissance est dans le futur")
    rang: int | None = None
    if raw.rang not in (None, ""):
        try:
            rang = int(str(raw.rang))
        except ValueError:
            rang = 0
        if not 1 <= rang <= 9:
            raise InvalidRightsCheck("rang", "le rang de naissance est un chiffre de 1 à 9")
    amc = (raw.amc_number or "").strip() or None
    if amc is not None and not (amc.isdigit() and 8 <= len(amc) <= 10):
        raise InvalidRightsCheck("amc_number", "le numéro AMC comporte 8 à 10 chiffres")
    care_date = (
        today
        if raw.care_date in (None, "")
        else _parse_date(raw.care_date, "care_date", "date de soins")
    )
    if care_date < birth_date:
        raise InvalidRightsCheck("care_date", "la date de soins précède la date de naissance")
    return _Parsed(nir, birth_date, rang, amc, care_date, _parse_v2(raw, amc))


def _code(value: str | None, name: str, label: str, longest: int) -> str | None:
    text = (value or "").strip().upper()
    if not text:
        return None
    if len(text) > longest or not text.isalnum() or not text.isascii():
        raise InvalidRightsCheck(name, f"{label} : {longest} lettres ou chiffres au plus")
    return text


def _parse_v2(raw: RightsCheckInput, amc: str | None) -> _V2Keys | None:
    member_number = _code(raw.member_number, "member_number", "numéro d'adhérent", 20)
    if member_number is None:
        if raw.domain not in (None, ""):
            raise InvalidRightsCheck("member_number", "le numéro d'adhérent est requis (v2)")
        return None
    if amc is None:
        raise InvalidRightsCheck("amc_number", "le numéro AMC est requis avec le numéro d'adhérent")
    try:
        domain = Domain(str(raw.domain or "").strip())
    except ValueError:
        raise InvalidRightsCheck(
            "domain", "domaine inconnu (" + ", ".join(d.value for d in Domain) + ")"
        ) from None
    return _V2Keys(
        member_number=member_number,
        convention_type=_code(raw.convention_type, "convention_type", "type de convention", 4),
        routing_criterion=_code(
            raw.routing_criterion, "routing_criterion", "critère secondaire de routage", 10
        ),
        domain=domain,
    )


def _member_number_matches(keyring: Keyring, parsed: _Parsed) -> Callable[[Beneficiary], bool]:
    """A filter keeping the beneficiaries whose attestation keys are those read (v2); every
    blind-index candidate is computed first, whatever the register holds (same work for a
    wrong member number as for a wrong NIR)."""
    v2 = parsed.v2
    if v2 is None:
        return lambda b: True
    assert parsed.amc_number is not None  # _parse_v2 requires it
    indexes = frozenset(
        blind_index_candidates(
            keyring.index, parsed.amc_number, v2.member_number, purpose=MEMBER_NUMBER_PURPOSE
        )
    )
    return lambda b: (
        b.member_number_index in indexes
        and (v2.convention_type is None or b.contract.convention_type.upper() == v2.convention_type)
        and (
            v2.routing_criterion is None
            or b.contract.routing_criterion.upper() == v2.routing_criterion
        )
    )


def _select(
    candidates: list[Beneficiary],
    parsed: _Parsed,
    keys_match: Callable[[Beneficiary], bool] = lambda b: True,
) -> tuple[Outcome, Beneficiary | None]:
    """Pick the beneficiary: filter by AMC number, rang and (v2) the attestation's keys,
    then prefer a record with rights on the care date, then the latest rights. Several
    rangs left -> ambiguous."""
    matching = [
        b
        for b in candidates
        if (parsed.amc_number is None or b.contract.insurer.amc_number == parsed.amc_number)
        and (parsed.rang is None or b.rang == parsed.rang)
        and keys_match(b)
    ]
    if not matching:
        return Outcome.NO_MATCH, None
    if len({b.rang for b in matching}) > 1:
        return Outcome.AMBIGUOUS, None
    covering = [b for b in matching if b.has_rights_on(parsed.care_date)]
    if covering:
        return Outcome.COVERED, covering[0]
    latest = max(matching, key=lambda b: (b.rights_end or datetime.date.max, b.rights_start))
    return Outcome.NOT_COVERED, latest


_REFUSAL_OUTCOMES: list[tuple[type[GuardRefusal], Outcome]] = [
    (PortalLocked, Outcome.REFUSED_LOCKDOWN),
    (AccountSuspended, Outcome.REFUSED_SUSPENDED),
    (StepUpRequired, Outcome.REFUSED_STEP_UP),
    (QuotaExceeded, Outcome.REFUSED_QUOTA),
    (GuardUnavailable, Outcome.REFUSED_GUARD),
]


def _refusal_outcome(refusal: GuardRefusal) -> Outcome:
    return next(outcome for kind, outcome in _REFUSAL_OUTCOMES if isinstance(refusal, kind))


def check_rights(
    keyring: Keyring,
    *,
    professional: Professional,
    query: RightsCheckInput,
    context: RequestContext,
    now: datetime.datetime,
    today: datetime.date,
    quota_storage_uri: str,
    daily_quota: int | None = None,
    policy: GuardPolicy | None = None,
    step_up_verified_at: datetime.datetime | None = None,
    purpose: Purpose = Purpose.RIGHTS_CHECK,
    tables_dir: Path | None = None,
    engagement_days: int = VALID_DAYS,
) -> RightsCheckResult:
    """Answer a rights check and log it (one row, always).

    ``now`` is the aware UTC instant recorded; ``today`` the local date used when no care date
    is given (and the guard's day window). ``policy`` holds quotas and thresholds (default
    :data:`guard.policy.DEFAULT_POLICY`); ``daily_quota`` caps the account's day whatever its
    profession (None: the profession's quota alone); ``step_up_verified_at`` is when the
    caller's session last proved a second factor (portal; None elsewhere); ``purpose`` is
    why the check is made, as logged (a prior approval's or a claim's identification);
    ``Purpose.INVOICE`` (a lot's invoice) counts against the profession's invoice-volume
    quota instead of the interactive quotas, and the detectors still see it.

    A v2 check (``query.member_number`` given) matches the attestation's keys too; covered
    with the domain open to tiers payant, it stores an :class:`Engagement` (valid
    ``engagement_days`` days, bound to the professional, the beneficiary, the domain and
    the care date) and answers its number with the domain's rules (from the contract's
    guarantee table in ``tables_dir``); the log row names those fields (and
    ``amc_amount`` when ``purpose`` is a calculation).

    Raises, after logging the refusal with its reason: :class:`InvalidRightsCheck` (bad
    input), ``guard.PortalLocked`` (lockdown, portal only; at the restricted level only when
    ``purpose`` is a free-standing rights check), ``guard.AccountSuspended``,
    ``guard.StepUpRequired`` (fresh second factor needed), ``guard.QuotaExceeded`` (a quota
    spent; ``reason`` names it), ``guard.GuardUnavailable`` (counter store down: refused,
    fail closed).
    """
    policy = policy or DEFAULT_POLICY
    invoice = purpose == Purpose.INVOICE

    def log(outcome: Outcome, **kwargs: object) -> int:
        return record_disclosure(
            context=context,
            professional=professional,
            purpose=purpose,
            outcome=outcome,
            occurred_at=now,
            **kwargs,  # type: ignore[arg-type]
        )

    def observe(
        counts: QuotaCounts, *, miss: bool, canary: bool, nir: str | None, matched: bool = False
    ) -> None:
        observe_rights_check(
            storage_uri=quota_storage_uri,
            key=keyring.index.active,
            professional=professional,
            account=account,
            channel=context.channel,
            now=now,
            local_hour=timezone.localtime(now).hour,
            day=today,
            miss=miss,
            canary=canary,
            nir=nir,
            ip=context.ip,
            user_agent=context.user_agent,
            counts=counts,
            policy=policy,
            invoice=invoice,
            matched_lookup=matched,
            token_id=context.token_id,
        )

    account = None
    try:
        account = screen_rights_check(
            professional=professional,
            # A lot's invoices are processed by workers, whoever sent the lot: nobody can
            # answer a step-up there (suspension still refuses them).
            channel=Channel.API if invoice else context.channel,
            now=now,
            step_up_verified_at=step_up_verified_at,
            purpose=purpose,
        )
        limits = quota_limits(
            professional=professional,
            account=account,
            policy=policy,
            daily_cap=daily_quota,
            now=now,
            invoice=invoice,
        )
        counts = consume_rights_check_quota(
            storage_uri=quota_storage_uri,
            professional_id=professional.pk,
            per_day=limits.per_day,
            now=now,
            day=today,
            per_hour=limits.per_hour,
            practice=limits.practice,
            practice_per_hour=limits.practice_per_hour,
            practice_per_day=limits.practice_per_day,
            slow_per_hour=limits.slow_per_hour,
            invoice=invoice,
        )
    except GuardRefusal as refusal:
        log(_refusal_outcome(refusal), reason=refusal.reason)
        if isinstance(refusal, QuotaExceeded):
            record_refusal(
                refusal,
                storage_uri=quota_storage_uri,
                professional=professional,
                channel=context.channel,
                now=now,
                day=today,
                policy=policy,
            )
        raise
    try:
        parsed = _parse(query, today)
    except InvalidRightsCheck as exc:
        log(Outcome.INVALID_INPUT, reason=exc.field)
        observe(counts, miss=True, canary=False, nir=None)
        raise
    keys_match = _member_number_matches(keyring, parsed)
    with transaction.atomic():
        outcome, beneficiary = _select(
            beneficiaries_by_identity(keyring, nir=parsed.nir, birth_date=parsed.birth_date),
            parsed,
            keys_match,
        )
        if beneficiary is None:
            result = RightsCheckResult(
                outcome=outcome, care_date=parsed.care_date, log_id=log(outcome)
            )
        else:
            covered = outcome is Outcome.COVERED
            domains = beneficiary.contract.domains() if covered else []
            engaged = parsed.v2 is not None and parsed.v2.domain in domains
            fields = FIELDS_COVERED if covered else FIELDS_NOT_COVERED
            if engaged:
                fields = fields + FIELDS_ENGAGED
                if purpose == Purpose.CALCULATION:
                    fields = fields + FIELDS_CALCULATED
            log_id = log(outcome, beneficiary=beneficiary, fields_disclosed=fields)
            number: str | None = None
            expires_at: datetime.datetime | None = None
            rules: list[dict[str, object]] = []
            if engaged:
                assert parsed.v2 is not None
                number, expires_at = new_engagement_number(), expiry(now, engagement_days)
                # Prepared on PostgreSQL, no query compiler: the ORM's create() cost the v2
                # check a third more than v1 (bench/rights_check.py --v2).
                hot_sql.insert(
                    Engagement,
                    {
                        "number_digest": engagement_digest(number),
                        "professional_id": professional.pk,
                        "beneficiary_id": beneficiary.pk,
                        "domain": parsed.v2.domain.value,
                        "care_date": parsed.care_date,
                        "issued_at": now,
                        "expires_at": expires_at,
                        "disclosure_id": log_id,
                        "lines_digest": "",
                    },
                )
                rules = domain_rules(
                    beneficiary.contract, parsed.v2.domain, parsed.care_date, tables_dir
                )
            result = RightsCheckResult(
                outcome=outcome,
                care_date=parsed.care_date,
                log_id=log_id,
                rights_start=beneficiary.rights_start,
                rights_end=beneficiary.rights_end,
                amc_number=beneficiary.contract.insurer.amc_number,
                domains=domains,
                domain_rules=rules,
                engagement=number,
                engagement_expires_at=expires_at,
                engagement_domain=parsed.v2.domain.value if engaged and parsed.v2 else None,
                beneficiary=beneficiary,
            )
    observe(
        counts,
        miss=outcome is Outcome.NO_MATCH,
        canary=beneficiary is not None and beneficiary.is_canary,
        nir=parsed.nir,
        matched=outcome in DISCLOSING_OUTCOMES and purpose in LOOKUP_PURPOSES,
    )
    return result


#: A replayable rights check: keyword arguments ``professional``, ``nir``, ``birth_date``,
#: ``now``, ``today``, ``channel``, ``ip``, ``user_agent``, ``step_up_verified_at``,
#: ``purpose``, ``token_id``; returns the outcome's value or raises like :func:`check_rights`.
ReplayGate = Callable[..., str]


def replay_gate(
    keyring: Keyring,
    *,
    quota_storage_uri: str,
    policy: GuardPolicy,
    daily_quota: int | None,
) -> ReplayGate:
    """The rights check as a narrow callable for replayed traffic (``guard.simulation``,
    ``bench/guard.py``): every call goes through :func:`check_rights` itself, with a fresh
    request id, so it is logged, counted and judged exactly like a live request."""

    def gate(
        *,
        professional: Professional,
        nir: str,
        birth_date: datetime.date,
        now: datetime.datetime,
        today: datetime.date,
        channel: Channel,
        ip: str | None,
        user_agent: str,
        step_up_verified_at: datetime.datetime | None = None,
        purpose: Purpose = Purpose.RIGHTS_CHECK,
        token_id: int | None = None,
    ) -> str:
        result = check_rights(
            keyring,
            professional=professional,
            query=RightsCheckInput(nir=nir, birth_date=birth_date),
            context=RequestContext(
                channel=channel,
                request_id=uuid.uuid4(),
                ip=ip,
                user_agent=user_agent,
                actor_id=professional.user_id,
                token_id=token_id,
            ),
            now=now,
            today=today,
            quota_storage_uri=quota_storage_uri,
            daily_quota=daily_quota,
            policy=policy,
            step_up_verified_at=step_up_verified_at,
            purpose=purpose,
        )
        return str(result.outcome.value)

    return gate


# -- reading an access history: the insurer's member apps, the person's own link ---------------


@dataclass(frozen=True)
class HistoryRead:
    """What a history read returns: each member shown with their consultations (newest
    first), and the ids of the log rows that record this read."""

    histories: list[tuple[Beneficiary, list[AccessEntry]]]
    log_ids: list[int]


def _counted_history_read(
    *,
    find: Callable[[], list[Beneficiary]],
    insurer: Insurer | None,
    reader: str,
    reason: str,
    context: RequestContext,
    now: datetime.datetime,
    quota_storage_uri: str,
    per_hour: int,
    per_day: int,
) -> HistoryRead:
    def log(outcome: Outcome, beneficiary: Beneficiary | None = None, why: str = reason) -> int:
        return record_disclosure(
            context=context,
            professional=None,
            purpose=Purpose.ACCESS_HISTORY,
            outcome=outcome,
            occurred_at=now,
            beneficiary=beneficiary,
            fields_disclosed=["access_history"] if beneficiary is not None else [],
            reason=why,
        )

    try:
        consume_read_quota(
            storage_uri=quota_storage_uri,
            reader=reader,
            per_hour=per_hour,
            per_day=per_day,
            now=now,
        )
    except (QuotaExceeded, GuardUnavailable) as refusal:
        with transaction.atomic():
            log(dict(_REFUSAL_OUTCOMES)[type(refusal)])
        raise
    try:
        people = find()
    except InvalidIdentity as exc:
        with transaction.atomic():
            log(Outcome.INVALID_INPUT, why=str(exc).partition(":")[0])
        raise
    with transaction.atomic():
        if not people:
            return HistoryRead([], [log(Outcome.NO_MATCH)])
        histories = [(b, access_history(b, insurer=insurer)) for b in people]
        return HistoryRead(histories, [log(Outcome.HISTORY_SHOWN, b) for b in people])


def read_access_history(
    keyring: Keyring,
    *,
    insurer: Insurer,
    token_prefix: str,
    nir: str,
    birth_date: str,
    context: RequestContext,
    now: datetime.datetime,
    quota_storage_uri: str,
    per_hour: int,
    per_day: int,
) -> HistoryRead:
    """The access history of ``insurer``'s members with this NIR and birth date (its member
    apps), counted against the insurer's read quota (``guard``, all its tokens together) and
    logged (``audit``) like any disclosure: one row per member shown (purpose
    ``access_history``, outcome ``history_shown``), one ``no_match`` row when none matches,
    one ``refused_quota`` (or ``refused_guard``) row when refused, one ``invalid_input`` row
    naming the field; ``reason`` names the token (``insurer_token:<prefix>``). Rows are
    written in the read's transaction (fail closed). Raises ``guard.QuotaExceeded``,
    ``guard.GuardUnavailable`` or ``audit.selectors.InvalidIdentity``."""
    return _counted_history_read(
        find=lambda: insurer_beneficiaries_by_identity(
            keyring, insurer=insurer, nir=nir, birth_date=birth_date
        ),
        insurer=insurer,
        reader=f"insurer:{insurer.pk}",
        reason=f"insurer_token:{token_prefix}",
        context=context,
        now=now,
        quota_storage_uri=quota_storage_uri,
        per_hour=per_hour,
        per_day=per_day,
    )


def read_own_history(
    *,
    beneficiary: Beneficiary,
    context: RequestContext,
    now: datetime.datetime,
    quota_storage_uri: str,
    per_hour: int,
    per_day: int,
) -> HistoryRead:
    """The access history behind a person's signed link, counted against that link's quota
    (per beneficiary: a leaked link cannot be replayed without limit) and logged as one
    ``access_history`` row with ``reason`` ``history_link``. Raises like
    :func:`read_access_history` (never ``InvalidIdentity``)."""
    return _counted_history_read(
        find=lambda: [beneficiary],
        insurer=beneficiary.contract.insurer,
        reader=f"link:{beneficiary.pk}",
        reason="history_link",
        context=context,
        now=now,
        quota_storage_uri=quota_storage_uri,
        per_hour=per_hour,
        per_day=per_day,
    )


def read_history_as_staff(
    *,
    staff_id: int,
    insurer: Insurer | None,
    find: Callable[[], list[Beneficiary]],
    context: RequestContext,
    now: datetime.datetime,
    quota_storage_uri: str,
    per_hour: int,
    per_day: int,
) -> HistoryRead:
    """The access history of the members ``find`` returns (a back-office lookup by NIR and
    birth date, or by internal id), for the back-office user ``staff_id`` working for
    ``insurer`` (None: operator staff, every insurer). ``find`` must already be scoped to
    ``insurer``: another insurer's member is not found. Counted against that staff member's
    own read quota (reader ``staff:<id>``) and logged like :func:`read_access_history`: one
    ``history_shown`` row per member shown, one ``no_match`` row when none is found, one
    ``refused_quota`` (``refused_guard``) row when refused, one ``invalid_input`` row naming
    the field; ``reason`` is ``staff:<id>``. Raises ``guard.QuotaExceeded``,
    ``guard.GuardUnavailable`` or ``audit.selectors.InvalidIdentity``."""
    return _counted_history_read(
        find=find,
        insurer=insurer,
        reader=f"staff:{staff_id}",
        reason=f"staff:{staff_id}",
        context=context,
        now=now,
        quota_storage_uri=quota_storage_uri,
        per_hour=per_hour,
        per_day=per_day,
    )
