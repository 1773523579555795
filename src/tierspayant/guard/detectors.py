"""Detectors: pure functions from one account's live features to findings.

Nothing here touches the database, the counters or a clock: the gate gathers
:class:`Features` (``observe.py``), the account's :class:`Baseline` comes from the nightly
roll-up (``baselines.py``), and the thresholds from the policy. Each finding carries its
evidence as counts, thresholds and windows, never personal data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tierspayant.guard.choices import KIND_SEVERITY, AlertKind, Severity
from tierspayant.guard.policy import GuardPolicy, ProfessionFloors, ProfessionQuota

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this estimates its sigma


@dataclass(frozen=True)
class Baseline:
    """An account's past: ``days`` of history; lookups per day (median, MAD); lookups in the
    busiest hour of a day (median, MAD); usual local working hours (None if unknown)."""

    days: int = 0
    day_median: float = 0.0
    day_mad: float = 0.0
    hour_median: float = 0.0
    hour_mad: float = 0.0
    first_hour: int | None = None
    last_hour: int | None = None


@dataclass(frozen=True)
class Thresholds:
    """Counts at which a finding is raised: ``burst`` (lookups within 5-10 minutes),
    ``hour`` (lookups in the clock hour), ``day`` (lookups in the day)."""

    burst: int
    hour: int
    day: int


@dataclass(frozen=True)
class Features:
    """What the gate saw for one account at one lookup. Counts include this lookup.

    ``burst``: lookups in the current and previous 5-minute buckets; ``hour``/``day``: lookups
    this clock hour/day; ``misses_hour``: no-match or invalid answers this hour;
    ``pattern``: distinct NIRs this hour that share this lookup's NIR prefix bucket (a keyed
    hash of sex, birth year and month, department and commune: never the NIR);
    ``local_hour``: 0-23; ``new_network``/``new_device``: first time this IP/user agent is seen
    for an account that has a history; ``networks_today``: distinct IPs today;
    ``networks_10min``: distinct /16 (IPv4) or /48 (IPv6) networks in this 10-minute window;
    ``practices_on_network``: distinct practices seen from this IP this hour;
    ``canary``: the answer concerned a canary beneficiary.
    ``hour_sliding``/``misses_sliding_hour``: lookups/misses in the last 60 minutes (the
    previous clock hour weighted by its share still inside them); ``misses_day``: misses
    today; ``invoice``: the lookup identified a lot's invoice (counted apart, machine-paced:
    no burst, volume or hour findings; the invoice-volume quota bounds it);
    ``matched_today``: lookups that disclosed something today (follow-up signal);
    ``token_networks``: distinct /16 networks the request's API token came from today;
    ``token_foreign_network``: the token came from another network than the one of the
    owner's portal session of the last minutes.
    """

    burst: int = 0
    hour: int = 0
    day: int = 0
    hour_sliding: int = 0
    misses_hour: int = 0
    misses_sliding_hour: int = 0
    misses_day: int = 0
    invoice: bool = False
    matched_today: int = 0
    token_networks: int = 0
    token_foreign_network: bool = False
    pattern: int = 0
    local_hour: int = 12
    new_network: bool = False
    new_device: bool = False
    networks_today: int = 0
    networks_10min: int = 0
    practices_on_network: int = 0
    canary: bool = False


@dataclass(frozen=True)
class Finding:
    """A detector's result: ``kind``, ``severity`` (from :data:`KIND_SEVERITY`), evidence."""

    kind: AlertKind
    severity: Severity
    evidence: dict[str, Any] = field(default_factory=dict)


def robust_threshold(
    floor: int, median: float, mad: float, *, mad_factor: float, multiplier: float
) -> int:
    """``max(floor, ceil(median + mad_factor * 1.4826 * MAD), ceil(multiplier * median))``:
    the count above which an account's own history calls a volume unusual. Median and MAD
    resist the outliers a mean and standard deviation would follow."""
    own = median + mad_factor * MAD_TO_SIGMA * mad
    return max(floor, math.ceil(own), math.ceil(multiplier * median))


def thresholds_for(
    floors: ProfessionFloors,
    baseline: Baseline | None,
    policy: GuardPolicy,
    quota: ProfessionQuota | None = None,
) -> Thresholds:
    """The account's thresholds: the profession's floors, raised by its own baseline when it
    has at least ``policy.min_baseline_days`` days of history (a busy hospital desk or a
    large pharmacy is compared with itself, not with a small practice), never above the
    account's ``quota`` (per hour, per day) when given: a learned threshold cannot outgrow
    what the account may do."""
    if baseline is None or baseline.days < policy.min_baseline_days:
        return Thresholds(burst=floors.burst, hour=floors.hour, day=floors.day)
    hour_cap: int | None = quota.per_hour if quota is not None else None
    day_cap: int | None = quota.per_day if quota is not None else None
    hour = robust_threshold(
        floors.hour,
        baseline.hour_median,
        baseline.hour_mad,
        mad_factor=policy.mad_factor,
        multiplier=policy.multiplier,
    )
    day = robust_threshold(
        floors.day,
        baseline.day_median,
        baseline.day_mad,
        mad_factor=policy.mad_factor,
        multiplier=policy.multiplier,
    )
    if hour_cap is not None and day_cap is not None:
        hour, day = min(hour, max(hour_cap, floors.hour)), min(day, max(day_cap, floors.day))
    return Thresholds(burst=floors.burst, hour=hour, day=day)


def _usual_hours(
    floors: ProfessionFloors, baseline: Baseline | None, policy: GuardPolicy
) -> tuple[int, int] | None:
    """Inclusive local hours considered usual, or None when every hour is."""
    if floors.all_hours:
        return None
    if (
        baseline is not None
        and baseline.days >= policy.min_baseline_days
        and baseline.first_hour is not None
        and baseline.last_hour is not None
    ):
        return max(0, baseline.first_hour - 1), min(23, baseline.last_hour + 1)
    return policy.day_start_hour, policy.day_end_hour - 1


def _finding(kind: AlertKind, **evidence: Any) -> Finding:
    return Finding(kind=kind, severity=KIND_SEVERITY[kind], evidence=evidence)


def evaluate(
    features: Features,
    *,
    floors: ProfessionFloors,
    baseline: Baseline | None,
    policy: GuardPolicy,
    quota: ProfessionQuota | None = None,
) -> list[Finding]:
    """Every finding ``features`` raise, strongest first. Pure: same input, same output.

    Ratio and volume detectors look at several windows (the clock hour, the sliding last 60
    minutes, the day), so a pace kept under an hourly threshold is still seen the same day;
    ``quota`` caps the learned thresholds (:func:`thresholds_for`)."""
    t = thresholds_for(floors, baseline, policy, quota)
    machine = features.invoice  # a lot's invoice: machine-paced, bounded by its own quota
    found: list[Finding] = []
    if features.canary:
        found.append(_finding(AlertKind.CANARY, count=1))
    if not machine and features.burst >= t.burst:
        found.append(
            _finding(AlertKind.BURST, count=features.burst, threshold=t.burst, window_minutes=10)
        )
    if features.token_networks >= policy.token_networks:
        found.append(
            _finding(
                AlertKind.TOKEN_NETWORKS,
                networks=features.token_networks,
                threshold=policy.token_networks,
                window_minutes=1440,
            )
        )
    if features.token_foreign_network:
        found.append(
            _finding(AlertKind.TOKEN_FOREIGN_NETWORK, window_minutes=policy.token_session_minutes)
        )
    no_match = [
        (features.misses_hour, features.hour, policy.no_match_min, 60),
        (features.misses_sliding_hour, features.hour_sliding, policy.no_match_min, 60),
        (features.misses_day, features.day, policy.no_match_day_min, 1440),
    ]
    for misses, lookups, least, minutes in no_match:
        if misses >= least and misses >= policy.no_match_ratio * lookups:
            found.append(
                _finding(
                    AlertKind.NO_MATCH_RATIO,
                    count=misses,
                    lookups=lookups,
                    threshold=least,
                    ratio=round(misses / max(lookups, 1), 2),
                    window_minutes=minutes,
                )
            )
            break
    if features.pattern >= policy.pattern_min:
        found.append(
            _finding(
                AlertKind.NIR_PATTERN,
                count=features.pattern,
                threshold=policy.pattern_min,
                window_minutes=60,
            )
        )
    hour_volume = max(features.hour, features.hour_sliding)
    if not machine and hour_volume >= t.hour:
        found.append(
            _finding(AlertKind.VOLUME_HOUR, count=hour_volume, threshold=t.hour, window_minutes=60)
        )
    if not machine and features.day >= t.day:
        found.append(
            _finding(AlertKind.VOLUME_DAY, count=features.day, threshold=t.day, window_minutes=1440)
        )
    if features.practices_on_network >= policy.shared_network_practices:
        found.append(
            _finding(
                AlertKind.SHARED_NETWORK,
                practices=features.practices_on_network,
                threshold=policy.shared_network_practices,
                window_minutes=60,
            )
        )
    if features.networks_10min >= policy.concurrent_networks:
        found.append(
            _finding(
                AlertKind.CONCURRENT_NETWORKS,
                networks=features.networks_10min,
                threshold=policy.concurrent_networks,
                window_minutes=10,
            )
        )
    if features.networks_today >= policy.many_networks:
        found.append(
            _finding(
                AlertKind.MANY_NETWORKS,
                networks=features.networks_today,
                threshold=policy.many_networks,
                window_minutes=1440,
            )
        )
    usual = _usual_hours(floors, baseline, policy)
    if not machine and usual is not None and not usual[0] <= features.local_hour <= usual[1]:
        found.append(
            _finding(
                AlertKind.UNUSUAL_HOUR,
                hour=features.local_hour,
                usual_from=usual[0],
                usual_to=usual[1],
            )
        )
    if features.new_network:
        found.append(_finding(AlertKind.NEW_NETWORK, count=1))
    if features.new_device:
        found.append(_finding(AlertKind.NEW_DEVICE, count=1))
    found.sort(key=lambda f: -f.severity.rank)
    return found


def follow_up_finding(lookups: int, followed: int, *, policy: GuardPolicy) -> Finding | None:
    """The low follow-up finding of an account's day: ``lookups`` matched lookups old enough
    to be judged (past ``policy.follow_up_grace_minutes``), of which ``followed`` were
    followed within ``policy.follow_up_window_minutes`` by a prior approval, a claim or a
    lot's invoice for the same beneficiary. None below ``policy.follow_up_min_lookups`` or
    at a share of at least ``policy.follow_up_min_share``; medium, high from
    ``policy.follow_up_high_lookups`` (severity grows with the volume)."""
    if lookups < policy.follow_up_min_lookups:
        return None
    share = followed / lookups
    if share >= policy.follow_up_min_share:
        return None
    severity = Severity.HIGH if lookups >= policy.follow_up_high_lookups else Severity.MEDIUM
    return Finding(
        kind=AlertKind.LOW_FOLLOW_UP,
        severity=severity,
        evidence={
            "lookups": lookups,
            "followed": followed,
            "share": round(share, 2),
            "threshold": policy.follow_up_min_share,
            "min_lookups": policy.follow_up_min_lookups,
            "window_minutes": policy.follow_up_window_minutes,
        },
    )


def campaign_finding(accounts: int, *, policy: GuardPolicy) -> Finding | None:
    """A platform-wide finding when ``accounts`` distinct accounts raised medium or worse
    alerts within ``policy.campaign_minutes`` (several stolen accounts working one list)."""
    if accounts < policy.campaign_accounts:
        return None
    return _finding(
        AlertKind.CAMPAIGN,
        accounts=accounts,
        threshold=policy.campaign_accounts,
        window_minutes=policy.campaign_minutes,
    )
