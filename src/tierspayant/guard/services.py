"""The guard's entry points for the disclosure gate (``eligibility.services.check_rights``).

A rights check crosses the guard twice:

1. before the lookup, :func:`screen_rights_check` (lockdown on human channels, suspension,
   pending step-up) and :func:`consume_rights_check_quota` (per professional and per
   practice, per hour and per day, the slow-down rate);
2. after the answer is logged, :func:`observe_rights_check` counts the lookup into live
   features, runs the detectors against the account's baseline and applies the policy's
   response (alert, slow down, step-up, suspend).

Counters are atomic increments in the ``limits`` storage (``memory://`` in one process,
Redis when ``REDIS_URL`` is set; DESIGN.md "Counters are atomic"). A storage that cannot be
reached refuses rather than allows (:class:`GuardUnavailable`).
"""

from __future__ import annotations

import datetime

from tierspayant import hot_sql
from tierspayant.guard.alerts import HUMAN_CHANNELS, respond
from tierspayant.guard.choices import KIND_SEVERITY, AlertKind
from tierspayant.guard.counters import Counters, reset_all
from tierspayant.guard.detectors import Baseline, Finding, evaluate, follow_up_finding
from tierspayant.guard.errors import (
    AccountSuspended,
    GuardRefusal,
    GuardUnavailable,
    PortalLocked,
    QuotaExceeded,
    StepUpRequired,
)
from tierspayant.guard.lockdown import human_check_closed, lockdown_level
from tierspayant.guard.models import AccountGuard, Alert
from tierspayant.guard.observe import Lookup, gather
from tierspayant.guard.policy import DEFAULT_POLICY, GuardPolicy
from tierspayant.guard.quotas import QuotaCounts, QuotaLimits, consume, consume_read
from tierspayant.guard.selectors import follow_up_counts
from tierspayant.providers.models import Professional

__all__ = [
    "AccountSuspended",
    "GuardRefusal",
    "GuardUnavailable",
    "PortalLocked",
    "QuotaExceeded",
    "StepUpRequired",
    "consume_rights_check_quota",
    "observe_rights_check",
    "practice_key",
    "quota_limits",
    "record_refusal",
    "reset_quotas",
    "screen_rights_check",
]


def practice_key(professional: Professional) -> str | None:
    """The practice a professional works in: ``siret:<14 digits>``, else ``finess:<9>``,
    else None (no practice quota)."""
    if professional.siret:
        return f"siret:{professional.siret}"
    if professional.finess:
        return f"finess:{professional.finess}"
    return None


def screen_rights_check(
    *,
    professional: Professional,
    channel: str,
    now: datetime.datetime,
    step_up_verified_at: datetime.datetime | None,
    purpose: str | None = None,
) -> AccountGuard | None:
    """Refuse before counting anything: lockdown (portal only; at the restricted level only
    a free-standing rights check, see ``lockdown.human_check_closed``: ``purpose`` is the
    disclosure log's, None for a rights check), suspended account, step-up pending on a
    human channel with no second factor verified since it was required.

    Returns the account's guard row (None if the guard never saw it). Raises
    :class:`PortalLocked`, :class:`AccountSuspended` or :class:`StepUpRequired`.
    """
    human = channel in HUMAN_CHANNELS
    if human and human_check_closed(lockdown_level(), purpose):
        raise PortalLocked
    # Read on every rights check: without the ORM's compiler (tierspayant.hot_sql).
    found = hot_sql.select_related(AccountGuard, (), where="pk", values=[professional.pk])
    account = found[0] if found else None
    if account is None:
        return None
    if account.suspended:
        raise AccountSuspended
    since = account.step_up_required_since
    if human and since is not None and (step_up_verified_at is None or step_up_verified_at < since):
        raise StepUpRequired
    return account


def consume_read_quota(
    *, storage_uri: str, reader: str, per_hour: int, per_day: int, now: datetime.datetime
) -> QuotaCounts:
    """Count one read of personal data by ``reader`` outside the rights check (a member's
    access history); raises :class:`QuotaExceeded` or :class:`GuardUnavailable`."""
    return consume_read(
        Counters(storage_uri), reader=reader, per_hour=per_hour, per_day=per_day, now=now
    )


def consume_rights_check_quota(
    *,
    storage_uri: str,
    professional_id: int,
    per_day: int,
    now: datetime.datetime | None = None,
    day: datetime.date | None = None,
    per_hour: int | None = None,
    practice: str | None = None,
    practice_per_hour: int | None = None,
    practice_per_day: int | None = None,
    slow_per_hour: int | None = None,
    invoice: bool = False,
) -> QuotaCounts:
    """Count one rights check against the professional's (and practice's) quotas
    (``invoice``: the invoice-volume quotas of a lot's invoice, on counters of their own).

    ``now`` (aware) places the hour and day windows; None means the current instant (kept
    for callers that only count a daily quota). ``day`` names the day window (local date).
    Raises :class:`QuotaExceeded` (``reason`` names the spent quota) or
    :class:`GuardUnavailable` if the storage fails.
    """
    return consume(
        Counters(storage_uri),
        professional_id=professional_id,
        limits=QuotaLimits(
            per_hour=per_hour,
            per_day=per_day,
            practice=practice,
            practice_per_hour=practice_per_hour,
            practice_per_day=practice_per_day,
            slow_per_hour=slow_per_hour,
            invoice=invoice,
        ),
        now=now or datetime.datetime.now(datetime.UTC),
        day=day,
    )


def quota_limits(
    *,
    professional: Professional,
    account: AccountGuard | None,
    policy: GuardPolicy,
    daily_cap: int | None,
    now: datetime.datetime,
    invoice: bool = False,
) -> QuotaLimits:
    """The quotas that apply to this account now: its profession's, the daily one capped by
    ``daily_cap`` (the platform-wide per-account ceiling, None for none), plus the slow-down
    rate while ``account.slowed_until`` is ahead of ``now``.

    ``invoice``: the identification of a lot's invoice (``Purpose.INVOICE``) counts against
    the profession's invoice-volume quotas instead (per day, per professional and practice;
    no hourly limit, no slow-down, no ``daily_cap``: docs/guard.md "Invoices of lots")."""
    if invoice:
        volume = policy.invoice_quota(professional.profession)
        return QuotaLimits(
            per_hour=None,
            per_day=volume.per_day,
            practice=practice_key(professional),
            practice_per_day=volume.practice_per_day,
            invoice=True,
        )
    quota = policy.quota(professional.profession)
    per_day = quota.per_day if daily_cap is None else min(quota.per_day, daily_cap)
    slowed = account is not None and account.slowed_until is not None and now < account.slowed_until
    return QuotaLimits(
        per_hour=quota.per_hour,
        per_day=per_day,
        practice=practice_key(professional),
        practice_per_hour=quota.practice_per_hour,
        practice_per_day=quota.practice_per_day,
        slow_per_hour=policy.slow_down_per_hour if slowed else None,
    )


def record_refusal(
    refusal: GuardRefusal,
    *,
    storage_uri: str,
    professional: Professional,
    channel: str,
    now: datetime.datetime,
    day: datetime.date,
    policy: GuardPolicy = DEFAULT_POLICY,
) -> list[Alert]:
    """Raise the alert a refusal deserves: a spent quota is a (low) finding, once a day per
    account. Other refusals are responses already in force: nothing new."""
    if not isinstance(refusal, QuotaExceeded):
        return []
    finding = Finding(
        kind=AlertKind.QUOTA,
        severity=KIND_SEVERITY[AlertKind.QUOTA],
        evidence={"quota": refusal.reason},
    )
    return respond(
        [finding],
        counters=Counters(storage_uri),
        professional=professional,
        channel=channel,
        now=now,
        day=day,
        policy=policy,
    )


def observe_rights_check(
    *,
    storage_uri: str,
    key: bytes,
    professional: Professional,
    account: AccountGuard | None,
    channel: str,
    now: datetime.datetime,
    local_hour: int,
    day: datetime.date,
    miss: bool,
    canary: bool,
    nir: str | None,
    ip: str | None,
    user_agent: str,
    counts: QuotaCounts,
    policy: GuardPolicy = DEFAULT_POLICY,
    invoice: bool = False,
    matched_lookup: bool = False,
    token_id: int | None = None,
) -> list[Alert]:
    """Count an answered lookup into the live features, run the detectors and respond.

    ``miss``: no match, ambiguous or invalid input; ``canary``: the answer concerned a canary
    beneficiary (the answer itself was given like any other); ``nir``: the normalised NIR
    asked for (reduced to keyed buckets here, never stored); ``key``: the bucket key;
    ``invoice``: the identification of a lot's invoice (its own counters, no burst or volume
    finding); ``matched_lookup``: a rights check or CLC that disclosed something (counted for
    the follow-up signal); ``token_id``: the API token the request came with (None elsewhere).
    Returns the new alerts. Raises :class:`GuardUnavailable` if the storage fails.
    """
    baseline = None
    if account is not None and account.baseline_days:
        baseline = Baseline(
            days=account.baseline_days,
            day_median=account.day_median,
            day_mad=account.day_mad,
            hour_median=account.hour_median,
            hour_mad=account.hour_mad,
            first_hour=account.usual_first_hour,
            last_hour=account.usual_last_hour,
        )
    counters = Counters(storage_uri)
    features = gather(
        counters,
        Lookup(
            professional_id=professional.pk,
            practice=practice_key(professional),
            now=now,
            local_hour=local_hour,
            day=day,
            miss=miss,
            canary=canary,
            nir=nir,
            ip=ip,
            user_agent=user_agent,
            hour_count=counts.hour,
            day_count=counts.day,
            invoice=invoice,
            token_id=token_id,
            portal=channel in HUMAN_CHANNELS,
            matched_lookup=matched_lookup,
            session_minutes=policy.token_session_minutes,
        ),
        key=key,
        has_history=baseline is not None and baseline.days >= policy.min_baseline_days,
    )
    findings = evaluate(
        features,
        floors=policy.floor(professional.profession),
        baseline=baseline,
        policy=policy,
        quota=policy.quota(professional.profession),
    )
    if _follow_up_due(features.matched_today, policy):
        judged = follow_up_counts(
            professional_id=professional.pk,
            since=now - datetime.timedelta(days=1),
            until=now - datetime.timedelta(minutes=policy.follow_up_grace_minutes),
            window=datetime.timedelta(minutes=policy.follow_up_window_minutes),
            seen_until=now,
        )
        low = follow_up_finding(judged.lookups, judged.followed, policy=policy)
        if low is not None:
            findings.append(low)
    if not findings:
        return []
    return respond(
        findings,
        counters=counters,
        professional=professional,
        channel=channel,
        now=now,
        day=day,
        policy=policy,
        token_id=token_id,
    )


def _follow_up_due(matched_today: int, policy: GuardPolicy) -> bool:
    """Whether this lookup judges the follow-up signal: from the day's
    ``follow_up_min_lookups``-th matched lookup, then every ``follow_up_every`` (one query
    each time, none in between)."""
    extra = matched_today - policy.follow_up_min_lookups
    return extra >= 0 and extra % policy.follow_up_every == 0


def reset_quotas(*, storage_uri: str) -> None:
    """Clear every counter in the storage (staff action; tests start each case from zero)."""
    reset_all(storage_uri)
