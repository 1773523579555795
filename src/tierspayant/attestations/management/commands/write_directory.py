"""``tierspayant write-directory``: the directory file listing the platform's service
addresses per (AMC number, convention type, routing criterion), for practice software
(docs/attestations.md, "Directory file")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tierspayant.attestations.choices import DirectoryFormat
from tierspayant.attestations.services import directory_csv, directory_entries, directory_json


class Command(BaseCommand):
    help = (
        "Écrit l'annuaire des adresses de service par (numéro AMC, type de convention, "
        "critère secondaire de routage)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default=settings.TIERSPAYANT_SERVICE_BASE_URL,
            help="adresse publique de la plateforme (défaut : TIERSPAYANT_SERVICE_BASE_URL)",
        )
        parser.add_argument(
            "--format", choices=[f.value for f in DirectoryFormat], default=DirectoryFormat.CSV
        )
        parser.add_argument("--out", type=Path, help="fichier (défaut : sortie standard)")

    def handle(self, *args: Any, **options: Any) -> None:
        base = options["base_url"].strip()
        if not base.startswith("https://") or any(c in base for c in " ;\n"):
            raise CommandError(f"--base-url : adresse https:// attendue, lu « {base[:60]} »")
        today = timezone.localdate()
        entries = directory_entries(base, today=today)
        text = (
            directory_json(entries, generated=today) + "\n"
            if options["format"] == DirectoryFormat.JSON
            else directory_csv(entries)
        )
        if options["out"]:
            options["out"].write_text(text, encoding="utf-8")
            self.stderr.write(f"{len(entries)} adresse(s) écrite(s) dans {options['out']}.")
        else:
            self.stdout.write(text, ending="")
