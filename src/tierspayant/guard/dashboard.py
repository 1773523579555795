"""Read queries behind the security dashboard (no personal data: ids, counts, kinds)."""

from __future__ import annotations

import datetime
import statistics
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncHour

from tierspayant.audit.models import DisclosureLog
from tierspayant.guard.choices import AlertStatus
from tierspayant.guard.models import AccountGuard, Alert


@dataclass(frozen=True)
class HourlyVolume:
    """Lookups per hour over the last ``hours`` hours (oldest first, local hour labels) and
    the baseline: the median count of the same local hour of day over the previous weeks."""

    labels: list[str]
    counts: list[float]
    baseline: list[float]


def hourly_volume(
    *,
    now: datetime.datetime,
    tz: zoneinfo.ZoneInfo,
    professional_id: int | None = None,
    hours: int = 48,
    weeks: int = 4,
) -> HourlyVolume:
    """Rights checks per hour, platform-wide or for one account, with their baseline."""
    end = now.astimezone(tz).replace(minute=0, second=0, microsecond=0) + datetime.timedelta(
        hours=1
    )
    start = end - datetime.timedelta(hours=hours)
    history_start = start - datetime.timedelta(weeks=weeks)
    rows = DisclosureLog.objects.filter(occurred_at__gte=history_start, occurred_at__lt=end)
    if professional_id is not None:
        rows = rows.filter(professional_id=professional_id)
    per_hour = {
        r["hour"].astimezone(tz): r["n"]
        for r in rows.order_by()
        .annotate(hour=TruncHour("occurred_at", tzinfo=tz))
        .values("hour")
        .annotate(n=Count("id"))
    }
    by_hour_of_day: dict[int, list[int]] = defaultdict(list)
    day = history_start
    while day < start:
        by_hour_of_day[day.hour].append(per_hour.get(day, 0))
        day += datetime.timedelta(hours=1)
    labels, counts, baseline = [], [], []
    slot = start
    while slot < end:
        labels.append(f"{slot:%d/%m %Hh}")
        counts.append(float(per_hour.get(slot, 0)))
        baseline.append(float(statistics.median(by_hour_of_day[slot.hour] or [0])))
        slot += datetime.timedelta(hours=1)
    return HourlyVolume(labels=labels, counts=counts, baseline=baseline)


def top_accounts_today(
    *, now: datetime.datetime, tz: zoneinfo.ZoneInfo, limit: int = 10
) -> list[dict[str, Any]]:
    """Accounts by distinct beneficiaries seen today (local day): professional id, distinct
    beneficiaries, lookups."""
    start = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        dict(row)
        for row in DisclosureLog.objects.filter(occurred_at__gte=start, professional__isnull=False)
        .order_by()
        .values("professional")
        .annotate(distinct=Count("beneficiary", distinct=True), lookups=Count("id"))
        .order_by("-distinct", "-lookups")[:limit]
    ]


def open_alerts(limit: int = 50) -> list[Alert]:
    """Open alerts, most severe and newest first."""
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    alerts = list(
        Alert.objects.filter(status=AlertStatus.OPEN).select_related("professional")[:500]
    )
    alerts.sort(key=lambda a: (order.get(a.severity, 9), -a.raised_at.timestamp()))
    return alerts[:limit]


def suspended_accounts() -> list[AccountGuard]:
    """Suspended accounts, latest first."""
    return list(
        AccountGuard.objects.filter(suspended=True)
        .select_related("professional")
        .order_by("-suspended_at")
    )
