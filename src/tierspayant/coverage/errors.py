"""Named input errors of the coverage engine.

Every error names the field at fault (a dotted path such as ``lines[2].billed`` or
``versions[0].rules[3].benefit.percent``) and says why, in plain words, so that the
command line, the API and the portal can show it as is. None of them ever carries
personal data: only field names, codes and amounts.
"""

from __future__ import annotations

from typing import Self


class CoverageError(ValueError):
    """Base of the engine's input errors.

    Attributes:
        field: dotted path of the offending field (``""`` for the whole input).
        reason: why it is refused, in English.
        source: the file the input came from, when there is one (for messages).
    """

    def __init__(self, field: str, reason: str, *, source: str | None = None) -> None:
        self.field = field
        self.reason = reason
        self.source = source
        super().__init__(f"{field}: {reason}" if field else reason)

    def within(self, prefix: str) -> Self:
        """Return the same error with ``prefix`` put in front of its field path."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return type(self)(field, self.reason, source=self.source)


class InvalidActLine(CoverageError):
    """An act line is malformed: bad amount, unknown family or class, missing field..."""


class InvalidGuaranteeTable(CoverageError):
    """A guarantee table fails its schema; raised when the table is loaded, never later."""


class InvalidReferenceTable(CoverageError):
    """The dated table of regulated figures shipped with the engine is malformed."""


class InvalidCase(CoverageError):
    """The rest of a computation request is malformed: age, care date, history, table name.

    Also raised when no version of the guarantee table or of the regulated reference is
    in force on the care date.
    """
