"""Builders of invoices for the tests: a line from its unit price and quantity, an invoice
whose declared totals add its lines up unless told otherwise. Amounts are strings of euros."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from tierspayant.invoices.choices import CodeSystem
from tierspayant.invoices.inputs import InvoiceInput, LineInput
from tierspayant.providers.identifiers import luhn_complete

CARE_DATE = dt.date(2025, 3, 14)
PRESCRIBER = luhn_complete("1000123456")  # a synthetic RPPS with a valid key


def line(
    system: str,
    code: str,
    unit: str,
    *,
    rate: str,
    amo: str,
    br: str | None = None,
    quantity: int = 1,
    pf: str = "0.00",
    franchise: str = "0.00",
    **extra: Any,
) -> LineInput:
    """A line billed ``quantity`` x ``unit``, with BR equal to the billed amount unless given."""
    billed = (Decimal(unit) * quantity).quantize(Decimal("0.01"))
    return LineInput(
        code_system=CodeSystem(system),
        code=code,
        quantity=quantity,
        unit_price=Decimal(unit),
        billed=billed,
        br=Decimal(br) if br is not None else billed,
        amo_rate=Decimal(rate),
        amo_paid=Decimal(amo),
        participation_forfaitaire=Decimal(pf),
        franchise=Decimal(franchise),
        **extra,
    )


def invoice(*lines: LineInput, number: str = "F-0001", **extra: Any) -> InvoiceInput:
    """An illness invoice (nature 10, no exemption, general regime) of ``CARE_DATE`` with a
    prescription, whose totals are the sums of its lines unless given in ``extra``."""
    fields: dict[str, Any] = {
        "invoice_number": number,
        "care_date": CARE_DATE,
        "insurance_nature": "10",
        "exemption": "0",
        "amo_regime": "1",
        "prescriber_rpps": PRESCRIBER,
        "prescription_date": CARE_DATE - dt.timedelta(days=3),
        "total_billed": sum((item.billed for item in lines), Decimal("0.00")),
        "total_amo": sum((item.amo_paid for item in lines), Decimal("0.00")),
        "lines": tuple(lines),
    }
    fields.update(extra)
    return InvoiceInput(**fields)


def replace_line(source: InvoiceInput, index: int, **changes: Any) -> InvoiceInput:
    """``source`` with line ``index`` changed (totals left as they were)."""
    lines = list(source.lines)
    lines[index] = dataclasses.replace(lines[index], **changes)
    return dataclasses.replace(source, lines=tuple(lines))
