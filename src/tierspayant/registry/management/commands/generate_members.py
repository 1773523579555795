"""``tierspayant generate-members --count N [--out FILE]``: write a synthetic member file.

Realistic distributions (``registry.synthetic.synthetic_members``): families on one insured's
NIR with rangs, ages 0-85, four insurers and twelve contracts, Corsican (2A/2B) and born-abroad
NIRs, terminations. ``--register`` also creates the synthetic insurers and contracts in the
database, so ``import-members`` accepts the file. Everything is synthetic (Faker fr_FR).
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from tierspayant.registry.member_file.writer import write_synthetic_member_file
from tierspayant.registry.synthetic import register_synthetic_contracts


class Command(BaseCommand):
    help = "Write a synthetic member file (CSV ; UTF-8) of --count lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="number of lines")
        parser.add_argument("--out", default="-", help="output file (default: standard output)")
        parser.add_argument("--seed", type=int, default=20240205)
        parser.add_argument(
            "--format-version",
            type=int,
            choices=[1, 2],
            default=1,
            help="file format version (2: member number, contract keys, formulas...)",
        )
        parser.add_argument(
            "--as-of", default=None, help="reference date AAAA-MM-JJ (default: today)"
        )
        parser.add_argument(
            "--register",
            action="store_true",
            help="also create the synthetic insurers and contracts in the database",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["count"]
        if count <= 0:
            raise CommandError("--count must be positive", returncode=2)
        try:
            as_of = (
                datetime.date.fromisoformat(options["as_of"])
                if options["as_of"]
                else timezone.localdate()
            )
        except ValueError:
            raise CommandError("--as-of: date AAAA-MM-JJ attendue", returncode=2) from None
        if options["register"]:
            created = register_synthetic_contracts()
            self.stderr.write(f"{created} contrat(s) synthétique(s) créé(s).")
        to_stdout = options["out"] == "-"
        show_bar = not to_stdout and sys.stdout.isatty()
        with tqdm(total=count, unit=" lignes", desc="Génération", disable=not show_bar) as bar:
            if to_stdout:
                write_synthetic_member_file(
                    self.stdout,
                    count=count,
                    seed=options["seed"],
                    as_of=as_of,
                    version=options["format_version"],
                )
                return
            path = Path(options["out"])
            with path.open("w", encoding="utf-8", newline="\n") as out:
                write_synthetic_member_file(
                    out,
                    count=count,
                    seed=options["seed"],
                    as_of=as_of,
                    progress=bar.update,
                    version=options["format_version"],
                )
        self.stderr.write(f"{count} lignes écrites dans {path}.")
