"""``tierspayant breach-report --account U | --practice SIRET | --ip ADDR --since D [--until D]``

Lists exactly the beneficiaries whose data was disclosed in the scope, with the fields,
grouped by insurer. ``--format json`` (default) or ``csv`` prints the report on standard
output; ``--output-dir DIR`` also writes the whole pack: CSV, JSON, and per insurer the GDPR
article 33 notification draft (Markdown and PDF) and the article 34 letters (PDF).

Bad input (unknown account or practice, inverted dates, an empty window, a malformed date or
address, an output directory that is not empty) prints a clear message and exits 2, before
anything is written.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tierspayant.audit.breach import BreachScope, InvalidBreachScope, build_breach_report
from tierspayant.audit.notices import report_csv, report_json, write_report_pack


def _instant(raw: str, *, name: str, end_of_day: bool) -> datetime.datetime:
    """An ISO date (local midnight; with ``end_of_day``, the next midnight: the day is
    included) or an ISO datetime (local time unless it carries an offset)."""
    text = raw.strip()
    try:
        if len(text) == 10:
            day = datetime.date.fromisoformat(text)
            if end_of_day:
                day += datetime.timedelta(days=1)
            moment = datetime.datetime.combine(day, datetime.time())
        else:
            moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"{name}: expected YYYY-MM-DD or an ISO date-time, got {raw!r}", returncode=2
        ) from None
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


class Command(BaseCommand):
    help = (
        "List the beneficiaries exposed in a scope (accounts, practices or IP addresses over "
        "a window), per insurer; write the GDPR art. 33 drafts and art. 34 letters."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--account", action="append", default=[], help="a professional's login (repeatable)"
        )
        parser.add_argument(
            "--practice", action="append", default=[], help="SIRET or FINESS (repeatable)"
        )
        parser.add_argument(
            "--ip", action="append", default=[], help="address or CIDR network (repeatable)"
        )
        parser.add_argument("--since", required=True, help="start: YYYY-MM-DD or ISO date-time")
        parser.add_argument("--until", default=None, help="end, included if a date (default: now)")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--output-dir", default=None, help="write the full pack here")
        parser.add_argument(
            "--no-letters", action="store_true", help="with --output-dir: skip art. 34 letters"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        since = _instant(options["since"], name="--since", end_of_day=False)
        until = (
            _instant(options["until"], name="--until", end_of_day=True) if options["until"] else now
        )
        output = Path(options["output_dir"]) if options["output_dir"] else None
        if (
            output is not None
            and output.exists()
            and (not output.is_dir() or any(output.iterdir()))
        ):
            raise CommandError(f"--output-dir {output} exists and is not empty", returncode=2)
        scope = BreachScope(
            since=since,
            until=until,
            accounts=tuple(options["account"]),
            practices=tuple(options["practice"]),
            ips=tuple(options["ip"]),
        )
        try:
            report = build_breach_report(scope, now=now)
        except InvalidBreachScope as exc:
            raise CommandError(str(exc), returncode=2) from None
        if output is not None:
            written = write_report_pack(
                report,
                output,
                encryption_keys=settings.TIERSPAYANT_KEYRING.encryption,
                letters=not options["no_letters"],
            )
            self.stderr.write(f"{len(written)} files written to {output}")
        self.stdout.write(
            report_json(report) if options["format"] == "json" else report_csv(report), ending=""
        )
        self.stderr.write(
            f"{report.people} people exposed ({report.records} records) across "
            f"{len(report.insurers)} insurer(s); {sum(report.attempts.values())} attempts "
            "without exposure (counted, not listed)"
        )
