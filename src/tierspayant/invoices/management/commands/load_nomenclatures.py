"""``tierspayant load-nomenclatures [--dir DIR] [--table NAME ...]``: (re)load the public
nomenclatures invoices are checked against, read in place from DIR (default
``TIERSPAYANT_NOMENCLATURES_DIR``). Thin: calls ``invoices.services.load_nomenclatures``
and prints one line per table. An absent or unreadable file ends with exit code 2 and one
line naming the file (and line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tierspayant.invoices.choices import ReferenceTableName
from tierspayant.invoices.nomenclatures import NomenclatureError
from tierspayant.invoices.services import load_nomenclatures


class Command(BaseCommand):
    help = "Load the public nomenclatures (SNDS tables, BDPM) as dated reference data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", default=None, help="directory of the nomenclature files")
        parser.add_argument(
            "--table",
            action="append",
            choices=ReferenceTableName.values,
            help="load only this table (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["dir"] or settings.TIERSPAYANT_NOMENCLATURES_DIR)
        names = frozenset(options["table"]) if options["table"] else None
        try:
            reports = load_nomenclatures(directory, now=timezone.now(), names=names)
        except NomenclatureError as exc:
            raise CommandError(str(exc), returncode=2) from None
        for report in reports:
            self.stdout.write(f"{report.name}: {report.rows} codes ({report.file})")
