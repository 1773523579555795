"""``tierspayant import-members FILE``: import an insurer's member file (docs/member-file.md).

Thin: opens the error report, shows a progress bar on a terminal, calls
``registry.member_file.importer.import_members`` and prints the summary (``--json``: one JSON
object on standard output). Exit codes: 0 every line imported; 2 bad input (unusable file, or
lines rejected: see the report; with ``--all-or-nothing`` nothing was imported); 1 the run
stopped midway (the message gives the line to resume after).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone
from tqdm import tqdm

from tierspayant.registry.member_file import server
from tierspayant.registry.member_file.importer import (
    BATCH_LINES,
    CHUNK_LINES,
    DEFAULT_WORKERS,
    ImportInterrupted,
    import_members,
)
from tierspayant.registry.member_file.parsing import MemberFileError
from tierspayant.registry.member_file.report import ErrorReport

EXIT_INTERRUPTED = 1
EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = "Import a member file (CSV ; UTF-8) into the register, idempotently."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="member file (CSV, UTF-8, ';')")
        parser.add_argument(
            "--report", default=None, help="error report path (default: FILE.erreurs.csv)"
        )
        parser.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="import nothing if any line is rejected",
        )
        parser.add_argument(
            "--create-contracts",
            action="store_true",
            help="create unknown contracts of known insurers from the file's columns",
        )
        parser.add_argument(
            "--resume-after",
            type=int,
            default=0,
            metavar="LINE",
            help="skip data lines up to LINE (the resume point an interrupted run printed)",
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument("--batch-lines", type=int, default=BATCH_LINES)
        parser.add_argument("--chunk-lines", type=int, default=CHUNK_LINES)
        parser.add_argument(
            "--workers",
            type=int,
            default=DEFAULT_WORKERS,
            help="worker processes that check and encrypt lines (0: this process; default: "
            f"cores - 1, at most 4, here {DEFAULT_WORKERS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        report_path = Path(options["report"] or f"{path}.erreurs.csv")
        if options["batch_lines"] <= 0 or options["chunk_lines"] <= 0:
            raise CommandError(
                "--batch-lines and --chunk-lines must be positive", returncode=EXIT_BAD_INPUT
            )
        workers = max(0, options["workers"])
        show_bar = not options["json"] and sys.stdout.isatty()
        size = path.stat().st_size if path.is_file() else None
        if size is not None and size >= server.LARGE_FILE_BYTES:
            found = server.read_settings(connection)  # None on SQLite
            for note in server.advice(found) if found else []:
                self.stderr.write(f"Attention : {note}")
        try:
            with (
                ErrorReport(report_path) as report,
                tqdm(
                    total=size, unit="o", unit_scale=True, desc="Import", disable=not show_bar
                ) as bar,
            ):
                summary = import_members(
                    path,
                    keyring=settings.TIERSPAYANT_KEYRING,
                    today=timezone.localdate(),
                    report=report,
                    all_or_nothing=options["all_or_nothing"],
                    create_contracts=options["create_contracts"],
                    resume_after=options["resume_after"],
                    batch_lines=options["batch_lines"],
                    chunk_lines=options["chunk_lines"],
                    workers=workers,
                    progress=bar.update if show_bar else None,
                )
        except MemberFileError as exc:
            raise CommandError(f"{path}: {exc}", returncode=EXIT_BAD_INPUT) from None
        except ImportInterrupted as exc:
            done = exc.summary.committed_through
            raise CommandError(
                f"{path}: import interrompu ({type(exc.cause).__name__}) ; lignes jusqu'à la "
                f"ligne {done} importées. Reprendre avec : tierspayant import-members {path} "
                f"--resume-after {done} (ou relancer tout : l'import est idempotent).",
                returncode=EXIT_INTERRUPTED,
            ) from None
        data = summary.as_dict()
        data["report"] = str(report_path)
        if options["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False))
        else:
            self.stdout.write(
                f"{path.name} : {summary.read} lignes lues, {summary.created} créées, "
                f"{summary.updated} mises à jour, {summary.terminated} résiliées, "
                f"{summary.unchanged} inchangées, {summary.rejected} rejetées "
                f"({summary.rows_per_s:.0f} lignes/s, {summary.seconds:.1f} s)."
            )
        if summary.rejected:
            what = (
                "rien n'a été importé (--all-or-nothing)"
                if not summary.imported
                else "les autres lignes sont importées"
            )
            raise CommandError(
                f"{path}: {summary.rejected} ligne(s) rejetée(s), voir {report_path} ; {what}.",
                returncode=EXIT_BAD_INPUT,
            )
