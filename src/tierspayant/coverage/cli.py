"""``tierspayant coverage-compute FILE``: compute one JSON coverage case and print the result.

The engine is pure, so is its command: no Django settings, no platform keys, no database.
The ``tierspayant`` entry point hands this command to :func:`main` before it loads Django, so
an actuary can run it on any checkout (docs/coverage.md). The case is a file, or ``-`` for
standard input; the result is printed as JSON on standard output. Bad input (unreadable file,
not UTF-8, not JSON, nested too deep, a field the engine refuses) ends with exit code 2 and
one line on standard error naming the file, the field and why; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from tierspayant.coverage.case import compute_case
from tierspayant.coverage.errors import CoverageError

PROG = "tierspayant coverage-compute"
EXIT_BAD_INPUT = 2


class BadInput(Exception):
    """One line for standard error: ``where: field: why``."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Compute the AMO / AMC / RAC split of a JSON coverage case and print it "
        "as JSON (docs/coverage.md). Needs no platform key and no database.",
    )
    parser.add_argument("file", help="JSON case file, or - to read standard input")
    parser.add_argument(
        "--tables",
        type=Path,
        default=None,
        help="directory of guarantee tables (default: fixtures/guarantee-tables under the "
        "current directory)",
    )
    return parser


def _read(name: str, stdin: TextIO) -> str:
    label = "<stdin>" if name == "-" else name
    try:
        return stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{label}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"{label}: not UTF-8 text (byte {exc.start})") from None


def _parse(text: str, label: str) -> object:
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"{label}: not valid JSON ({exc.msg}, line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:  # NaN or Infinity, refused by _no_constant
        raise BadInput(f"{label}: not valid JSON ({exc})") from None
    except RecursionError:
        raise BadInput(f"{label}: not valid JSON (nested too deep)") from None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def compute_file(name: str, tables: Path, *, stdin: TextIO) -> str:
    """The JSON result of the case in file ``name`` (``-``: ``stdin``) with the guarantee
    tables of ``tables``, indented. Raises :class:`BadInput` with the line to show."""
    label = "<stdin>" if name == "-" else name
    case = _parse(_read(name, stdin), label)
    try:
        result = compute_case(case, tables)
    except CoverageError as exc:
        field = f"{exc.field}: " if exc.field else ""
        raise BadInput(f"{exc.source or label}: {field}{exc.reason}") from None
    return json.dumps(result, ensure_ascii=False, indent=2)


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command on ``argv`` (without the program name); returns the exit code: 0, or
    2 on bad input or bad arguments (argparse's usage message)."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    parser = _parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return int(exc.code or 0)
    tables = options.tables or Path.cwd() / "fixtures" / "guarantee-tables"
    try:
        output = compute_file(options.file, tables, stdin=stdin)
    except BadInput as exc:
        stderr.write(f"{PROG}: error: {exc}\n")
        return EXIT_BAD_INPUT
    stdout.write(output + "\n")
    return 0
