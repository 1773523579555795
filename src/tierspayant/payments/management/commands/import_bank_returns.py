"""``tierspayant import-bank-returns FILE [FILE ...]``: import the bank's camt.054
notifications and pain.002 status reports (``payments.bank_returns``). Each file is
validated against its ISO 20022 schema and imported whole or not at all; a file already
imported is refused and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tierspayant.payments.bank_returns import BankReturnRefused, import_bank_returns


class Command(BaseCommand):
    help = (
        "Import camt.054 (returned transfers) and pain.002 (rejected transfers) files: "
        "reopens exactly the returned transfers' claims and holds their professionals until "
        "new bank details are validated."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("files", nargs="+", help="camt.054 or pain.002 XML files")

    def handle(self, *args: Any, **options: Any) -> None:
        for raw in options["files"]:
            path = Path(raw)
            try:
                data = path.read_bytes()
            except OSError:
                raise CommandError(f"{path.name} : fichier introuvable ou illisible.") from None
            try:
                result = import_bank_returns(
                    data, name=path.name, now=timezone.now(), source="command"
                )
            except BankReturnRefused as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(
                f"{path.name} : {len(result.transfers)} virement(s) retourné(s), "
                f"{result.reopened_claims} facture(s) rouverte(s) (import n° {result.file.pk})."
            )
