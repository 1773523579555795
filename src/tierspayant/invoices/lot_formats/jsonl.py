"""Flat file: JSON Lines (UTF-8, one JSON object a line, ``\\n`` between lines).

Line 1 is the header ``{"lot": "<reference>", "count": <invoices>, "total_billed":
"<euros>"}``; every other line is one invoice in the JSON form of ``codec`` plus its
``patient`` (``{"nir", "birth_date", "rang", "amc_number"}``). Blank lines are skipped. The
file is read line by line: memory does not grow with the lot. A last line without its
``\\n`` is a truncated file. docs/invoices.md has a complete example
(fixtures/lots/pharmacy.jsonl).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from tierspayant.invoices.choices import LotFormat, LotRefusal
from tierspayant.invoices.lot_formats import (
    MAX_INVOICES,
    LotFormatError,
    LotHeader,
    ParsedInvoice,
)
from tierspayant.invoices.lot_formats.codec import _Reader, identity_from_json, invoice_from_json

#: Longest line accepted (bytes): an invoice of 999 lines fits.
MAX_LINE = 1_000_000


def _load(raw: bytes, number: int) -> Any:
    if not raw.endswith(b"\n"):
        raise LotFormatError(
            LotRefusal.TRUNCATED,
            "fichier tronqué : la dernière ligne n'est pas terminée",
            line=number,
        )
    if len(raw) > MAX_LINE:
        raise LotFormatError(LotRefusal.UNREADABLE, "ligne trop longue", line=number)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise LotFormatError(
            LotRefusal.UNREADABLE, "ligne illisible (JSON UTF-8 attendu)", line=number
        ) from None


class JsonLinesParser:
    """The flat-file adapter."""

    format = LotFormat.JSONL

    def parse(self, stream: BinaryIO) -> tuple[LotHeader, Iterator[ParsedInvoice]]:
        lines = self._lines(stream)
        first = next(lines, None)
        if first is None:
            raise LotFormatError(LotRefusal.EMPTY, "fichier vide : en-tête attendu", line=1)
        number, data = first
        reader = _Reader(number)
        if not isinstance(data, dict) or "lot" not in data:
            raise reader.fail("lot", "en-tête attendu en première ligne (lot, count, total_billed)")
        count = reader.integer(data, "count")
        if count is None or not 0 < count <= MAX_INVOICES:
            raise reader.fail("count", f"nombre de factures de 1 à {MAX_INVOICES}")
        total = reader.decimal(data, "total_billed")
        header = LotHeader(
            reference=reader.text(data, "lot", required=False),
            declared_count=count,
            declared_total=total,  # type: ignore[arg-type]
        )
        return header, self._invoices(lines)

    @staticmethod
    def _lines(stream: BinaryIO) -> Iterator[tuple[int, Any]]:
        for number, raw in enumerate(iter(lambda: stream.readline(MAX_LINE + 1), b""), start=1):
            if raw.strip():
                yield number, _load(raw, number)

    @staticmethod
    def _invoices(lines: Iterator[tuple[int, Any]]) -> Iterator[ParsedInvoice]:
        for number, data in lines:
            invoice = invoice_from_json(data, line=number)
            identity = identity_from_json(data.get("patient"), line=number)
            yield ParsedInvoice(identity=identity, invoice=invoice)
