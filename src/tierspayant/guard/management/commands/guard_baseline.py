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
        rows = roll_up_activity(day, tz=zoneinfo.ZoneInfo(settings.TIME_ZONE))
        accounts = refresh_baselines(
            today=max(today, day + datetime.timedelta(days=1)),
            policy=settings.TIERSPAYANT_GUARD_POLICY,
            now=timezone.now(),
        )
        self.stdout.write(f"{day}: {rows} comptes actifs ; {accounts} références recalculées.")
