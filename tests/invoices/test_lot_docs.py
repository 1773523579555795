"""The two lot examples of docs/invoices.md are complete: each layout's parser reads the
same invoice from them."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

from tierspayant.invoices.lot_formats.fhir import FhirBatchParser
from tierspayant.invoices.lot_formats.jsonl import JsonLinesParser

DOC = Path(__file__).resolve().parents[2] / "docs" / "invoices.md"


def _block(language: str) -> bytes:
    found = re.search(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert found, f"no {language} example in {DOC.name}"
    return found.group(1).encode()


def test_both_documented_examples_read_as_the_same_invoice() -> None:
    read = []
    for parser, body in (
        (JsonLinesParser(), _block("jsonl")),
        (FhirBatchParser("https://tierspayant.example/fhir"), _block("json")),
    ):
        header, invoices = parser.parse(io.BytesIO(body))
        assert (header.reference, header.declared_count, header.declared_total) == (
            "PH-2025-03-14",
            1,
            Decimal("15.98"),
        )
        (parsed,) = list(invoices)
        read.append(parsed)
    flat, fhir = read
    assert flat.identity == fhir.identity
    assert flat.invoice == fhir.invoice
    assert flat.invoice.engagement == "ENG-MZXW6YTBOI3DEMRTGQ2TMNZYHE"
    assert sum(line.amo_paid for line in flat.invoice.lines) == flat.invoice.total_amo
