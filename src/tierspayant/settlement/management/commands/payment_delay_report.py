"""``tierspayant payment-delay-report [--insurer AMC] [--as-of YYYY-MM-DD] [--limit N]``:
per insurer, the accepted invoices not paid within its committed delay (French table;
``settlement.delays`` for the rule)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tierspayant.registry.models import Insurer
from tierspayant.settlement.delays import delay_report, report_table


class Command(BaseCommand):
    help = "Accepted invoices not paid within each insurer's committed delay."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--insurer", default=None, help="AMC number (default: every insurer)")
        parser.add_argument("--as-of", default=None, help="YYYY-MM-DD (default: today, UTC)")
        parser.add_argument("--limit", type=int, default=50, help="late invoices listed")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = options["as_of"]
        try:
            as_of = (
                datetime.date.fromisoformat(raw)
                if raw
                else timezone.now().astimezone(datetime.UTC).date()
            )
        except ValueError:
            raise CommandError("--as-of : date attendue au format AAAA-MM-JJ") from None
        insurers = Insurer.objects.order_by("amc_number")
        if options["insurer"]:
            insurers = insurers.filter(amc_number=options["insurer"])
            if not insurers.exists():
                raise CommandError(
                    f"--insurer : aucun organisme de numéro AMC {options['insurer']}"
                )
        for insurer in insurers:
            self.stdout.write(
                report_table(delay_report(insurer, as_of=as_of), limit=options["limit"])
            )
            self.stdout.write("")
