"""Baselines: each account's past activity, rolled up per day from the disclosure log, then
summarised with robust statistics (median and MAD resist the odd busy day).

``roll_up_activity`` runs nightly (``tierspayant guard-baseline``) for the day before;
``refresh_baselines`` then stores each account's summary on its ``AccountGuard`` row, where
the gate reads it with the account's state in one query.
"""

from __future__ import annotations

import datetime
import statistics
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncHour

from tierspayant.audit.choices import Outcome
from tierspayant.audit.models import DisclosureLog
from tierspayant.guard.detectors import Baseline
from tierspayant.guard.models import AccountGuard, ActivityDay
from tierspayant.guard.policy import GuardPolicy

_MISSES = [Outcome.NO_MATCH, Outcome.INVALID_INPUT]


def _day_bounds(
    day: datetime.date, tz: zoneinfo.ZoneInfo
) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


@transaction.atomic
def roll_up_activity(day: datetime.date, *, tz: zoneinfo.ZoneInfo) -> int:
    """Summarise every professional's rights checks of local ``day`` (zone ``tz``) into
    :class:`ActivityDay` rows, replacing that day's rows. Returns the number of rows."""
    start, end = _day_bounds(day, tz)
    rows = DisclosureLog.objects.filter(
        occurred_at__gte=start, occurred_at__lt=end, professional__isnull=False
    ).order_by()
    hourly: dict[int, dict[int, int]] = defaultdict(dict)
    for entry in (
        rows.annotate(hour=TruncHour("occurred_at", tzinfo=tz))
        .values("professional", "hour")
        .annotate(n=Count("id"))
    ):
        hourly[entry["professional"]][entry["hour"].astimezone(tz).hour] = entry["n"]
    misses = dict(
        rows.filter(outcome__in=_MISSES)
        .values("professional")
        .annotate(n=Count("id"))
        .values_list("professional", "n")
    )
    distinct = dict(
        rows.values("professional")
        .annotate(n=Count("beneficiary", distinct=True))
        .values_list("professional", "n")
    )
    ActivityDay.objects.filter(day=day).delete()
    ActivityDay.objects.bulk_create(
        [
            ActivityDay(
                professional_id=pro,
                day=day,
                lookups=sum(hours.values()),
                no_match=misses.get(pro, 0),
                distinct_beneficiaries=distinct.get(pro, 0),
                peak_hour_lookups=max(hours.values()),
                first_hour=min(hours),
                last_hour=max(hours),
            )
            for pro, hours in hourly.items()
        ]
    )
    return len(hourly)


def _mad(values: list[float], median: float) -> float:
    return statistics.median(abs(v - median) for v in values)


def _quantile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarise(days: Iterable[ActivityDay]) -> Baseline:
    """The :class:`Baseline` of an account's active days (days with at least one lookup):
    median and MAD of daily lookups and of the busiest hour's lookups; usual hours from the
    10th percentile of first hours to the 90th of last hours."""
    days = [d for d in days if d.lookups]
    if not days:
        return Baseline()
    lookups = [float(d.lookups) for d in days]
    peaks = [float(d.peak_hour_lookups) for d in days]
    day_median = statistics.median(lookups)
    hour_median = statistics.median(peaks)
    firsts = [d.first_hour for d in days if d.first_hour is not None]
    lasts = [d.last_hour for d in days if d.last_hour is not None]
    return Baseline(
        days=len(days),
        day_median=day_median,
        day_mad=_mad(lookups, day_median),
        hour_median=hour_median,
        hour_mad=_mad(peaks, hour_median),
        first_hour=_quantile(firsts, 0.1) if firsts else None,
        last_hour=_quantile(lasts, 0.9) if lasts else None,
    )


@transaction.atomic
def refresh_baselines(*, today: datetime.date, policy: GuardPolicy, now: datetime.datetime) -> int:
    """Recompute every account's baseline from its :class:`ActivityDay` rows of the
    ``policy.baseline_days`` days before ``today``; returns the number of accounts."""
    since = today - datetime.timedelta(days=policy.baseline_days)
    by_pro: dict[int, list[ActivityDay]] = defaultdict(list)
    for row in ActivityDay.objects.filter(day__gte=since, day__lt=today):
        by_pro[row.professional_id].append(row)
    existing = set(AccountGuard.objects.filter(pk__in=by_pro).values_list("pk", flat=True))
    AccountGuard.objects.bulk_create(
        [AccountGuard(professional_id=pk) for pk in by_pro if pk not in existing],
        ignore_conflicts=True,
    )
    accounts = list(AccountGuard.objects.filter(pk__in=by_pro))
    for account in accounts:
        b = summarise(by_pro[account.pk])
        account.baseline_days = b.days
        account.day_median = b.day_median
        account.day_mad = b.day_mad
        account.hour_median = b.hour_median
        account.hour_mad = b.hour_mad
        account.usual_first_hour = b.first_hour
        account.usual_last_hour = b.last_hour
        account.baseline_updated_at = now
    AccountGuard.objects.bulk_update(
        accounts,
        [
            "baseline_days",
            "day_median",
            "day_mad",
            "hour_median",
            "hour_mad",
            "usual_first_hour",
            "usual_last_hour",
            "baseline_updated_at",
        ],
        batch_size=500,
    )
    return len(accounts)
