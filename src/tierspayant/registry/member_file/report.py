"""The error report of an import: a CSV file ``ligne;champ;motif``, one row per rejected line.

Reasons are in French and never hold the NIR, a name or a birth date: the insurer finds the
line by its number in the file it sent.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TextIO

from tierspayant.registry.member_file.parsing import LineError

REPORT_HEADER = "ligne;champ;motif"


class ErrorReport:
    """Context manager writing :class:`LineError` rows to ``path`` (UTF-8, created or replaced,
    header always written). Call the instance with each error; ``count`` is how many."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._out: TextIO | None = None

    def __enter__(self) -> ErrorReport:
        self._out = self.path.open("w", encoding="utf-8", newline="\n")
        self._out.write(REPORT_HEADER + "\n")
        return self

    def __call__(self, error: LineError) -> None:
        assert self._out is not None, "use ErrorReport as a context manager"
        reason = error.reason.replace(";", ",").replace("\n", " ")
        self._out.write(f"{error.line};{error.field};{reason}\n")
        self.count += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._out is not None:
            self._out.close()
