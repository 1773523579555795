"""``tierspayant issue-attestations --insurer AMC --year YYYY``: write each family's tiers
payant attestation (PDF with its DataMatrix, and JSON for member apps) into a directory, with a
progress bar (docs/attestations.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from tierspayant.attestations.selectors import family_count
from tierspayant.attestations.services import DEFAULT_WORKERS, issue_attestations
from tierspayant.registry.models import Insurer

FORMATS = ("pdf", "json")


class Command(BaseCommand):
    help = "Émet les attestations de tiers payant d'un organisme pour une année (PDF et JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--insurer", required=True, help="numéro AMC de l'organisme")
        parser.add_argument("--year", required=True, type=int, help="année (AAAA)")
        parser.add_argument(
            "--out",
            type=Path,
            default=None,
            help="dossier de sortie (défaut : var/attestations/<AMC>/<année>)",
        )
        parser.add_argument(
            "--format",
            default="pdf,json",
            help="formats écrits, séparés par des virgules : pdf, json (défaut : les deux)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=DEFAULT_WORKERS,
            help=f"processus qui produisent les fichiers (défaut {DEFAULT_WORKERS}; 0 : aucun)",
        )
        parser.add_argument("--json", action="store_true", help="résumé en JSON (sans barre)")

    def handle(self, *args: Any, **options: Any) -> None:
        amc, year = options["insurer"].strip(), options["year"]
        if not 2000 <= year <= 2100:
            raise CommandError(f"--year : année de 2000 à 2100 attendue, lu {year}")
        formats = tuple(f.strip() for f in options["format"].split(",") if f.strip())
        unknown = [f for f in formats if f not in FORMATS]
        if unknown or not formats:
            raise CommandError(
                f"--format : « pdf » et/ou « json » attendus, lu {options['format']}"
            )
        insurer = Insurer.objects.filter(amc_number=amc).first()
        if insurer is None:
            raise CommandError(f"--insurer : organisme complémentaire {amc} inconnu")
        out = options["out"] or Path(settings.VAR_DIR) / "attestations" / amc / str(year)
        show_bar = not options["json"] and sys.stderr.isatty()
        total = family_count(insurer, year=year) if show_bar else None
        with tqdm(total=total, unit="famille", desc="Attestations", disable=not show_bar) as bar:
            summary = issue_attestations(
                settings.TIERSPAYANT_KEYRING.encryption,
                insurer=insurer,
                year=year,
                out=out,
                formats=formats,
                workers=max(0, options["workers"]),
                progress=bar.update if show_bar else None,
            )
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
        else:
            self.stdout.write(
                f"{summary.issued} attestation(s) émise(s) dans {out} ({summary.families} "
                f"familles, {summary.skipped} sans droit ouvert en {year} ou suspendues ; "
                f"{summary.seconds:.1f} s)."
            )
