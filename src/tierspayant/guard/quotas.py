"""Quotas on rights checks: per professional and per practice (same SIRET or FINESS), per
clock hour and per day, with the figures of the profession (``policy.ProfessionQuota``).

Counting is an atomic increment followed by a comparison, so concurrent requests never get
past the quota (a read-then-write counter is a race an attacker wins). A refused request
still counts: hammering a spent quota does not reopen it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from tierspayant.guard.counters import DAY, HOUR, Counters, Incr, window
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
    "invoice_quota_day": "Quota quotidien de factures en lot atteint pour votre compte : "
    "les factures suivantes seront traitées demain. Contactez l'assistance si ce volume "
    "correspond à votre activité.",
    "invoice_quota_practice_day": "Quota quotidien de factures en lot atteint pour votre "
    "cabinet ou établissement.",
    "slowed_down": "Activité inhabituelle : votre compte est ralenti pour un moment. "
    "Réessayez plus tard ou contactez l'assistance.",
}


@dataclass(frozen=True)
class QuotaLimits:
    """The limits that apply to one request. ``practice`` is the practice key (``siret:...``
    or ``finess:...``), None when the professional names no practice; its limits are then
    ignored. ``slow_per_hour`` is set while the account is slowed down. ``invoice``: the
    limits are the invoice-volume ones (``Purpose.INVOICE``), counted apart from the
    interactive rights checks (their own counters and reasons)."""

    per_hour: int | None
    per_day: int
    practice: str | None = None
    practice_per_hour: int | None = None
    practice_per_day: int | None = None
    slow_per_hour: int | None = None
    invoice: bool = False


@dataclass(frozen=True)
class QuotaCounts:
    """The professional's counts after this request: lookups this clock hour and today
    (detectors reuse them as features)."""

    hour: int
    day: int


def hour_key(professional_id: int, hour: int, *, invoice: bool = False) -> str:
    """The key of the professional's counter of clock hour ``hour`` (window index), read by
    the sliding-hour features."""
    return f"{'qi' if invoice else 'q'}:pro:{professional_id}:h:{hour}"


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
    stream = "qi" if limits.invoice else "q"
    pro = f"{stream}:pro:{professional_id}"
    practice = f"{stream}:practice:{limits.practice}"
    ops = [Incr(f"{pro}:h:{hour}", HOUR + 60), Incr(f"{pro}:d:{day_key}", 2 * DAY)]
    if limits.slow_per_hour is not None:
        ops.append(Incr(f"{pro}:slow:{hour}", HOUR + 60))
    if limits.practice:
        ops += [Incr(f"{practice}:h:{hour}", HOUR + 60), Incr(f"{practice}:d:{day_key}", 2 * DAY)]
    counts = iter(counters.run(ops))  # one round trip: every limit counts, spent or not
    hour_count, day_count = next(counts), next(counts)
    slowed = next(counts) if limits.slow_per_hour is not None else 0
    practice_hour, practice_day = (next(counts), next(counts)) if limits.practice else (0, 0)
    # Without a practice key, its counts stay 0 and its limits (None or positive) never bite.
    day_reason, practice_reason = (
        ("invoice_quota_day", "invoice_quota_practice_day")
        if limits.invoice
        else ("daily_quota", "quota_practice_day")
    )
    checks = (  # in this order: the first limit spent names the refusal
        ("slowed_down", slowed, limits.slow_per_hour),
        ("quota_professional_hour", hour_count, limits.per_hour),
        (day_reason, day_count, limits.per_day),
        ("quota_practice_hour", practice_hour, limits.practice_per_hour or None),
        (practice_reason, practice_day, limits.practice_per_day or None),
    )
    spent = next(
        (reason for reason, count, limit in checks if limit is not None and count > limit), None
    )
    if spent is not None:
        raise QuotaExceeded(_MESSAGES[spent], reason=spent)
    return QuotaCounts(hour=hour_count, day=day_count)


def consume_read(
    counters: Counters, *, reader: str, per_hour: int, per_day: int, now: datetime.datetime
) -> QuotaCounts:
    """Count one read of personal data outside the rights check (e.g. a member's access
    history) by ``reader`` (a key such as ``insurer:12``, never personal data) per clock hour
    and per UTC day. Raises :class:`QuotaExceeded` (``read_quota_hour`` or
    ``read_quota_day``) or ``GuardUnavailable``; a refused read still counts."""
    base = f"q:read:{reader}"
    hour_count, day_count = counters.run(
        [
            Incr(f"{base}:h:{window(now, HOUR)}", HOUR + 60),
            Incr(f"{base}:d:{now.astimezone(datetime.UTC).date().isoformat()}", 2 * DAY),
        ]
    )
    if hour_count > per_hour:
        raise QuotaExceeded(
            "Quota horaire de consultations atteint : réessayez dans l'heure.",
            reason="read_quota_hour",
        )
    if day_count > per_day:
        raise QuotaExceeded("Quota quotidien de consultations atteint.", reason="read_quota_day")
    return QuotaCounts(hour=hour_count, day=day_count)
