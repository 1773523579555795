"""Baselines: each account's past activity, rolled up per day from the disclosure log, then
summarised with robust statistics (median and MAD resist the odd busy day).

``roll_up_activity`` runs nightly (``tierspayant guard-baseline``) for the day before;
``refresh_baselines`` then stores each account's summary on its ``AccountGuard`` row, where
the gate reads it with the account's state in one query.

Poisoning (issue 18.5): a baseline never rises above the account's quota (per hour, per
day), grows by at most ``policy.baseline_weekly_growth`` per week since its last refresh
(compounded), and a busy day with a low follow-up share (below
``policy.follow_up_min_share`` of its matched lookups followed by an act) is left out of it:
a busy fortnight, legitimate or not, cannot carry the thresholds above what the account may
do, and a thief cannot train them.
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

from tierspayant.audit.choices import Outcome, Purpose
from tierspayant.audit.models import DisclosureLog
from tierspayant.guard.detectors import Baseline
from tierspayant.guard.models import AccountGuard, ActivityDay
from tierspayant.guard.policy import GuardPolicy
from tierspayant.guard.selectors import follow_up_counts

_MISSES = [Outcome.NO_MATCH, Outcome.INVALID_INPUT]


def _day_bounds(
    day: datetime.date, tz: zoneinfo.ZoneInfo
) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


@transaction.atomic
def roll_up_activity(
    day: datetime.date,
    *,
    tz: zoneinfo.ZoneInfo,
    follow_up_window: datetime.timedelta = datetime.timedelta(days=1),
) -> int:
    """Summarise every professional's rights checks of local ``day`` (zone ``tz``) into
    :class:`ActivityDay` rows, replacing that day's rows, with the follow-up of its matched
    lookups within ``follow_up_window`` (as far as the log knows it now). A lot's invoices
    are not lookups. Returns the number of rows."""
    start, end = _day_bounds(day, tz)
    rows = (
        DisclosureLog.objects.filter(
            occurred_at__gte=start, occurred_at__lt=end, professional__isnull=False
        )
        .exclude(purpose=Purpose.INVOICE)
        .order_by()
    )
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
                matched=follow_up.lookups,
                followed=follow_up.followed,
            )
            for pro, hours in hourly.items()
            for follow_up in [
                follow_up_counts(
                    professional_id=pro, since=start, until=end, window=follow_up_window
                )
            ]
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


def poisoned(day: ActivityDay, *, median: float, policy: GuardPolicy) -> bool:
    """Whether ``day`` is left out of the baseline: busier than ``median`` (the account's
    current median, 0 without one) with fewer than ``policy.follow_up_min_share`` of its
    matched lookups followed (days with no matched lookup known are kept)."""
    if not day.matched or day.lookups <= median:
        return False
    return day.followed / day.matched < policy.follow_up_min_share


def bounded(
    fresh: Baseline,
    *,
    previous: Baseline | None,
    weeks: float,
    per_hour: int,
    per_day: int,
    policy: GuardPolicy,
) -> Baseline:
    """``fresh`` held to the rules of poisoning: medians at most the quota (``per_hour``,
    ``per_day``), and, when there was a ``previous`` baseline (with enough days), medians and
    MADs at most the previous ones times ``(1 + policy.baseline_weekly_growth) ** weeks``
    (a MAD of 0 grows from 1). Pure."""
    day_median, day_mad = fresh.day_median, fresh.day_mad
    hour_median, hour_mad = fresh.hour_median, fresh.hour_mad
    if previous is not None and previous.days >= policy.min_baseline_days:
        growth = (1 + policy.baseline_weekly_growth) ** max(weeks, 0.0)
        day_median = min(day_median, previous.day_median * growth)
        day_mad = min(day_mad, max(previous.day_mad, 1.0) * growth)
        hour_median = min(hour_median, previous.hour_median * growth)
        hour_mad = min(hour_mad, max(previous.hour_mad, 1.0) * growth)
    return Baseline(
        days=fresh.days,
        day_median=min(day_median, float(per_day)),
        day_mad=day_mad,
        hour_median=min(hour_median, float(per_hour)),
        hour_mad=hour_mad,
        first_hour=fresh.first_hour,
        last_hour=fresh.last_hour,
    )


@transaction.atomic
def refresh_baselines(
    *,
    today: datetime.date,
    policy: GuardPolicy,
    now: datetime.datetime,
    daily_cap: int | None = None,
) -> int:
    """Recompute every account's baseline from its :class:`ActivityDay` rows of the
    ``policy.baseline_days`` days before ``today``, without its poisoned days
    (:func:`poisoned`) and held by :func:`bounded` (quota of its profession, ``daily_cap``
    on top when given; growth since ``baseline_updated_at``); returns the number of
    accounts."""
    since = today - datetime.timedelta(days=policy.baseline_days)
    by_pro: dict[int, list[ActivityDay]] = defaultdict(list)
    for row in ActivityDay.objects.filter(day__gte=since, day__lt=today):
        by_pro[row.professional_id].append(row)
    existing = set(AccountGuard.objects.filter(pk__in=by_pro).values_list("pk", flat=True))
    AccountGuard.objects.bulk_create(
        [AccountGuard(professional_id=pk) for pk in by_pro if pk not in existing],
        ignore_conflicts=True,
    )
    accounts = list(AccountGuard.objects.filter(pk__in=by_pro).select_related("professional"))
    for account in accounts:
        previous = Baseline(
            days=account.baseline_days,
            day_median=account.day_median,
            day_mad=account.day_mad,
            hour_median=account.hour_median,
            hour_mad=account.hour_mad,
        )
        kept = [
            d
            for d in by_pro[account.pk]
            if not poisoned(d, median=previous.day_median, policy=policy)
        ]
        quota = policy.quota(account.professional.profession)
        per_day = quota.per_day if daily_cap is None else min(quota.per_day, daily_cap)
        weeks = (
            (now - account.baseline_updated_at).total_seconds() / (7 * 86400)
            if account.baseline_updated_at is not None
            else 0.0
        )
        b = bounded(
            summarise(kept),
            previous=previous if account.baseline_updated_at is not None else None,
            weeks=weeks,
            per_hour=quota.per_hour,
            per_day=per_day,
            policy=policy,
        )
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
