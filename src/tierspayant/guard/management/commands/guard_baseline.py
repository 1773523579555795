"""``tierspayant guard-baseline``: roll yesterday's rights checks up per account, then
refresh every account's baseline (run nightly)."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tierspayant.guard.baselines import refresh_baselines, roll_up_activity


class Command(BaseCommand):
    help = "Roll up a day's activity (default: yesterday) and refresh the accounts' baselines."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--day", help="local day to roll up, YYYY-MM-DD (default yesterday)")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        try:
            day = (
                datetime.date.fromisoformat(options["day"])
                if options["day"]
                else today - datetime.timedelta(days=1)
            )
        except ValueError:
            raise CommandError("--day: expected YYYY-MM-DD") from None
        policy = settings.TIERSPAYANT_GUARD_POLICY
        window = datetime.timedelta(minutes=policy.follow_up_window_minutes)
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        # The day before is rolled up again: its follow-ups (window of a day or more) are
        # complete only now.
        roll_up_activity(day - datetime.timedelta(days=1), tz=tz, follow_up_window=window)
        rows = roll_up_activity(day, tz=tz, follow_up_window=window)
        accounts = refresh_baselines(
            today=max(today, day + datetime.timedelta(days=1)),
            policy=policy,
            now=timezone.now(),
            daily_cap=settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA,
        )
        self.stdout.write(f"{day}: {rows} comptes actifs ; {accounts} références recalculées.")
