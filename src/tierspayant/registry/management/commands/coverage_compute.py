"""``tierspayant coverage-compute FILE``: compute one JSON coverage case and print the result.

Thin: reads the case (a file, or ``-`` for stdin), calls
``tierspayant.coverage.compute_case`` and prints its JSON. Bad input ends with exit code
2 and one line on stderr naming the file, the field and why. The case format is in
docs/coverage.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tierspayant.coverage import CoverageError, compute_case

EXIT_BAD_INPUT = 2


class Command(BaseCommand):
    help = "Compute the AMO / AMC / RAC split of a JSON coverage case and print it as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="JSON case file, or - to read standard input")
        parser.add_argument(
            "--tables",
            default=None,
            help="directory of guarantee tables (default: fixtures/guarantee-tables "
            "under the current directory)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["file"]
        tables = Path(options["tables"] or Path.cwd() / "fixtures" / "guarantee-tables")
        label = "<stdin>" if name == "-" else name
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(
                f"{label}: cannot read: {exc.strerror}", returncode=EXIT_BAD_INPUT
            ) from None
        try:
            case = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{label}: not valid JSON ({exc.msg}, line {exc.lineno}, column {exc.colno})",
                returncode=EXIT_BAD_INPUT,
            ) from None
        try:
            result = compute_case(case, tables)
        except CoverageError as exc:
            where = exc.source or label
            field = f"{exc.field}: " if exc.field else ""
            raise CommandError(f"{where}: {field}{exc.reason}", returncode=EXIT_BAD_INPUT) from None
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
