"""``tierspayant simulate-attack``: replay a normal day and the 2024 attacks through the real
rights-check gate; print the table (or ``--json``) and write the PNG chart.

It lives with the portal, the top layer, because it drives the gate (``eligibility``) and
the guard's simulation together. Everything happens in one transaction that is rolled back
at the end (``--keep`` keeps the synthetic accounts, alerts and log rows for the dashboard),
on counters of their own (``--storage``, default ``memory://``): production counters and
data are left alone.
"""

from __future__ import annotations

import datetime
import json
import random
import zoneinfo
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from tierspayant.eligibility.services import replay_gate
from tierspayant.guard.report import as_json, table, write_png
from tierspayant.guard.simulation import SCENARIOS, build_population, replay


class Command(BaseCommand):
    help = (
        "Replay a synthetic normal day (or a busy period, --busy) and the attack scenarios "
        "(a-j) through the real gate; report what each disclosed before it was stopped."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--accounts", type=int, default=300)
        parser.add_argument("--beneficiaries", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=2024)
        parser.add_argument("--day", default="2026-03-10", help="simulated day, YYYY-MM-DD")
        parser.add_argument("--scenarios", default="".join(SCENARIOS))
        parser.add_argument("--storage", default="memory://", help="counter storage URI")
        parser.add_argument("--chart", default=str(settings.VAR_DIR / "simulate-attack.png"))
        parser.add_argument("--no-chart", action="store_true")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--keep", action="store_true", help="keep the synthetic data")
        parser.add_argument(
            "--busy",
            type=float,
            default=1.0,
            help="busy period: every honest account this many times its usual volume (1.6)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = datetime.date.fromisoformat(options["day"])
        except ValueError:
            raise CommandError("--day: expected YYYY-MM-DD") from None
        if options["accounts"] < 10 or options["beneficiaries"] < 2500:
            raise CommandError("at least 10 accounts and 2500 beneficiaries")
        if not 1.0 <= options["busy"] <= 5.0:
            raise CommandError("--busy: expected a factor between 1 and 5")
        rng = random.Random(options["seed"])  # noqa: S311 - synthetic data, reproducible
        policy = settings.TIERSPAYANT_GUARD_POLICY
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        quiet = options["json"]
        with transaction.atomic():
            with tqdm(desc="Population", disable=quiet, unit=" étape") as bar:

                def step(name: str) -> None:
                    bar.set_postfix_str(name)
                    bar.update(1)

                population = build_population(
                    settings.TIERSPAYANT_KEYRING,
                    rng=rng,
                    day=day,
                    tz=tz,
                    policy=policy,
                    storage_uri=options["storage"],
                    accounts=options["accounts"],
                    beneficiaries=options["beneficiaries"],
                    progress=step,
                )
            gate = replay_gate(
                settings.TIERSPAYANT_KEYRING,
                quota_storage_uri=options["storage"],
                policy=policy,
                daily_quota=settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA,
            )
            with tqdm(desc="Rejeu", disable=quiet, unit=" vérif.") as bar:
                report = replay(
                    gate,
                    population,
                    scenarios=[s for s in options["scenarios"] if s in SCENARIOS],
                    rng=rng,
                    policy=policy,
                    busy_factor=options["busy"],
                    progress=lambda n: bar.update(n - bar.n),
                )
            if not options["keep"]:
                transaction.set_rollback(True)
        chart = None
        if not options["no_chart"]:
            chart = str(write_png(report, Path(options["chart"])))
        if options["json"]:
            self.stdout.write(
                json.dumps(as_json(report, chart=chart), ensure_ascii=False, indent=2)
            )
        else:
            self.stdout.write(table(report))
            if chart:
                self.stdout.write(f"\nGraphique : {chart}")
