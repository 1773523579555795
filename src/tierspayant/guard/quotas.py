"""Quotas on rights checks: per professional and per practice (same SIRET or FINESS), per
clock hour and per day, with the figures of the profession (``policy.ProfessionQuota``).

Counting is an atomic increment followed by a comparison, so concurrent requests never get
past the quota (a read-then-write counter is a race an attacker wins). A refused request
still counts: hammering a spent quota does not reopen it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from tierspayant.guard.counters import DAY, HOUR, Counters, window
from tierspayant.guard.errors import QuotaExceeded

_MESSAGES = {
    "quota_professional_hour": "Quota horaire de vérifications atteint pour votre compte : "
    "réessayez dans l'heure.",
    "daily_quota": "Quota quotidien de vérifications atteint pour votre compte. "
    "Contactez l'assistance si ce volume correspond à votre activité.",
    "quota_practice_hour": "Quota horaire de vérifications atteint pour votre cabinet "
    "ou établissement : réessayez dans l'heure.",
    "quota_practice_day": "Quota quotidien de vérifications atteint pour votre cabinet "
    "ou établissement.",
    "slowed_down": "Activité inhabituelle : votre compte est ralenti pour un moment. "
    "Réessayez plus tard ou contactez l'assistance.",
}


@dataclass(frozen=True)
class QuotaLimits:
    """The limits that apply to one request. ``practice`` is the practice key (``siret:...``
    or ``finess:...``), None when the professional names no practice; its limits are then
    ignored. ``slow_per_hour`` is set while the account is slowed down."""

    per_hour: int | None
    per_day: int
    practice: str | None = None
    practice_per_hour: int | None = None
    practice_per_day: int | None = None
    slow_per_hour: int | None = None


@dataclass(frozen=True)
class QuotaCounts:
    """The professional's counts after this request: lookups this clock hour and today
    (detectors reuse them as features)."""

    hour: int
    day: int


def consume(
    counters: Counters,
    *,
    professional_id: int,
    limits: QuotaLimits,
    now: datetime.datetime,
    day: datetime.date | None = None,
) -> QuotaCounts:
    """Count one request against every limit in ``limits`` at ``now`` (aware).

    ``day`` names the day window (the local date; default: the UTC date of ``now``).
    Raises :class:`QuotaExceeded` (``reason`` names the first limit spent) or
    ``GuardUnavailable``.
    """
    day_key = (day or now.astimezone(datetime.UTC).date()).isoformat()
    hour = window(now, HOUR)
    pro = f"q:pro:{professional_id}"
    hour_count = counters.incr(f"{pro}:h:{hour}", ttl=HOUR + 60)
    day_count = counters.incr(f"{pro}:d:{day_key}", ttl=2 * DAY)
    spent: str | None = None
    if limits.slow_per_hour is not None:
        slowed = counters.incr(f"{pro}:slow:{hour}", ttl=HOUR + 60)
        if slowed > limits.slow_per_hour:
            spent = "slowed_down"
    if spent is None and limits.per_hour is not None and hour_count > limits.per_hour:
        spent = "quota_professional_hour"
    if spent is None and day_count > limits.per_day:
        spent = "daily_quota"
    if limits.practice:
        practice = f"q:practice:{limits.practice}"
        practice_hour = counters.incr(f"{practice}:h:{hour}", ttl=HOUR + 60)
        practice_day = counters.incr(f"{practice}:d:{day_key}", ttl=2 * DAY)
        if spent is None and limits.practice_per_hour and practice_hour > limits.practice_per_hour:
            spent = "quota_practice_hour"
        if spent is None and limits.practice_per_day and practice_day > limits.practice_per_day:
            spent = "quota_practice_day"
    if spent is not None:
        raise QuotaExceeded(_MESSAGES[spent], reason=spent)
    return QuotaCounts(hour=hour_count, day=day_count)
