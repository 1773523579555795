"""Read queries over the reference data: the codes of a nomenclature, in batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tierspayant.invoices.choices import ReferenceTableName
from tierspayant.invoices.models import ReferenceCode, ReferenceTable


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """A code as the nomenclature gives it: label, validity (inclusive, None when open)
    and the table's other columns kept at load."""

    code: str
    label: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    data: dict[str, Any]

    def in_force(self, day: dt.date) -> bool:
        """True when ``day`` is within the code's validity."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class Nomenclatures:
    """Looks codes up, one query per table and batch, remembering what it found (one
    instance serves a lot of invoices; it is not shared between requests)."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str], CodeInfo | None] = {}

    def find(self, table: ReferenceTableName, codes: Iterable[str]) -> dict[str, CodeInfo]:
        """The codes of ``table`` among ``codes`` (absent codes are left out)."""
        wanted = set(codes)
        missing = [code for code in wanted if (table.value, code) not in self._found]
        if missing:
            rows = ReferenceCode.objects.filter(
                table__name=table.value, code__in=missing
            ).values_list("code", "label", "valid_from", "valid_to", "data")
            for row in rows:
                self._found[(table.value, row[0])] = CodeInfo(*row)
            for code in missing:
                self._found.setdefault((table.value, code), None)
        return {
            code: info for code in wanted if (info := self._found[(table.value, code)]) is not None
        }

    def get(self, table: ReferenceTableName, code: str) -> CodeInfo | None:
        """One code of ``table``, or None."""
        return self.find(table, [code]).get(code)


def loaded_tables() -> list[ReferenceTable]:
    """The loaded nomenclatures, by name."""
    return list(ReferenceTable.objects.order_by("name"))
