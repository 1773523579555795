"""Rendering of return lines (``selectors.ReturnLine``) for practice software and the
portal: the JSON object of a line and of a poll, and the CSV. Amounts are strings of euros
with two decimals (``"12.81"``), dates ISO 8601, instants UTC. No personal data: the
invoice by its number, the insurer by its AMC number, never the patient."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tierspayant.returns.choices import reason_label
from tierspayant.returns.selectors import ReturnLine

#: CSV columns, in order (docs/returns.md).
CSV_HEADER = (
    "curseur",
    "date_evenement",
    "evenement",
    "libelle_evenement",
    "numero_facture",
    "lot",
    "reference_lot",
    "date_soins",
    "numero_amc",
    "montant_facture",
    "part_amc_demandee",
    "montant_evenement",
    "reference_virement",
    "date_virement",
    "reference_campagne",
    "facture_remplacante",
    "date_limite",
    "codes_motifs",
    "libelles_motifs",
)


def _euros(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def line_json(line: ReturnLine) -> dict[str, Any]:
    """One return line as JSON (docs/returns.md has an example)."""
    return {
        "cursor": line.cursor,
        "at": line.at.isoformat(),
        "kind": line.kind,
        "kind_label": line.kind_label,
        "invoice_number": line.invoice_number,
        "lot_id": line.lot_id,
        "lot_reference": line.lot_reference,
        "care_date": line.care_date.isoformat(),
        "amc_number": line.amc_number,
        "billed": _euros(line.billed),
        "amc_requested": _euros(line.amc_requested),
        "amount": _euros(line.amount),
        "transfer_reference": line.transfer_reference,
        "transfer_date": line.transfer_date.isoformat() if line.transfer_date else None,
        "run_reference": line.run_reference,
        "replacement_number": line.replacement_number,
        "deadline": line.deadline.isoformat() if line.deadline else None,
        "reasons": [{"code": code, "label": reason_label(code)} for code in line.reason_codes],
    }


def poll_json(lines: Sequence[ReturnLine], *, since: int, count: int) -> dict[str, Any]:
    """The answer to a poll: ``lines``, ``next_cursor`` (the last line's cursor, or
    ``since`` when there is nothing new: poll again with it) and ``more`` (a full page:
    poll again at once)."""
    return {
        "since": since,
        "next_cursor": lines[-1].cursor if lines else since,
        "more": len(lines) >= count,
        "lines": [line_json(line) for line in lines],
    }


def lines_csv(lines: Sequence[ReturnLine]) -> bytes:
    """The CSV of ``lines`` (``;``-separated, UTF-8 with a BOM for spreadsheets, one row
    per line, ``CSV_HEADER`` first; reason codes and labels joined by `` | ``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for line in lines:
        row = line_json(line)
        writer.writerow(
            [
                row["cursor"],
                row["at"],
                row["kind"],
                row["kind_label"],
                row["invoice_number"],
                row["lot_id"] or "",
                row["lot_reference"],
                row["care_date"],
                row["amc_number"],
                row["billed"],
                row["amc_requested"],
                row["amount"] or "",
                row["transfer_reference"],
                row["transfer_date"] or "",
                row["run_reference"],
                row["replacement_number"],
                row["deadline"] or "",
                " | ".join(r["code"] for r in row["reasons"]),
                " | ".join(r["label"] for r in row["reasons"]),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
