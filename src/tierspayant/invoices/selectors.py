"""Read queries over the reference data: the codes of a nomenclature, in batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tierspayant.invoices.choices import ReferenceTableName
from tierspayant.invoices.models import InvoiceLine, Lot, LotEntry, ReferenceCode, ReferenceTable


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


# --- lots ---------------------------------------------------------------------------------


def lots_of(professional: Any, *, limit: int = 50) -> list[Lot]:
    """The professional's latest lots, newest first (another's are never listed)."""
    return list(Lot.objects.filter(professional=professional)[:limit])


def lot_of(professional: Any, lot_id: int) -> Lot:
    """The professional's lot ``lot_id``; raises ``Lot.DoesNotExist`` for another's."""
    return Lot.objects.get(professional=professional, pk=lot_id)


def lot_results(lot: Lot, *, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """One result per invoice of ``lot``, in the lot's order: ``{"position",
    "invoice_number", "status", "reasons": [{"code", "line", "field", "message"}],
    "total_amc", "lines": [{"position", "code_system", "code", "billed", "amo", "amc",
    "rac"}]}`` (amounts strings of euros; ``lines`` empty until accepted or rejected on
    its content). Holds no personal data."""
    entries = list(
        LotEntry.objects.filter(lot=lot)
        .order_by("position")
        .select_related("invoice")
        .only("position", "invoice_number", "status", "reasons", "invoice__total_amc")[
            offset : offset + limit
        ]
    )
    lines: dict[int, list[dict[str, Any]]] = {}
    for row in InvoiceLine.objects.filter(
        invoice_id__in=[e.invoice_id for e in entries if e.invoice_id]
    ).order_by("invoice_id", "position"):
        lines.setdefault(row.invoice_id, []).append(
            {
                "position": row.position,
                "code_system": row.code_system,
                "code": row.code,
                "billed": str(row.billed),
                "amo": str(row.amo_paid),
                "amc": str(row.amc),
                "rac": str(row.rac),
            }
        )
    return [
        {
            "position": e.position,
            "invoice_number": e.invoice_number,
            "status": e.status,
            "reasons": e.reasons,
            "total_amc": str(e.invoice.total_amc) if e.invoice else "0.00",
            "lines": lines.get(e.invoice_id, []) if e.invoice_id else [],
        }
        for e in entries
    ]


def lot_summary(lot: Lot) -> dict[str, Any]:
    """The lot's acknowledgement and progress: ``{"id", "reference", "format", "status",
    "declared_count", "declared_total", "line_count", "processed_count", "accepted_count",
    "rejected_count", "percent_done", "total_amc", "received_at", "finished_at"}``."""
    return {
        "id": lot.pk,
        "reference": lot.reference,
        "format": lot.format,
        "status": lot.status,
        "declared_count": lot.declared_count,
        "declared_total": str(lot.declared_total),
        "line_count": lot.line_count,
        "processed_count": lot.processed_count,
        "accepted_count": lot.accepted_count,
        "rejected_count": lot.rejected_count,
        "percent_done": lot.percent_done,
        "total_amc": str(lot.total_amc),
        "received_at": lot.received_at.isoformat(),
        "finished_at": lot.finished_at.isoformat() if lot.finished_at else None,
    }
