"""A pharmacist's invoices as the money loop stores them (accepted with their row in the
duplicate register, or rejected), and the payment contract of docs/money.md."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings

from tests.factories import ContractFactory, make_beneficiary, make_professional
from tests.invoices.builders import invoice, line
from tierspayant.coverage import History, load_guarantee_table
from tierspayant.invoices import lifecycle
from tierspayant.invoices.choices import InvoiceEventKind as K
from tierspayant.invoices.inputs import InvoiceInput
from tierspayant.invoices.models import Invoice
from tierspayant.invoices.services import billing_key, record_billed, record_invoice
from tierspayant.providers.choices import Profession
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary

NOW = dt.datetime(2025, 3, 14, 18, 30, tzinfo=dt.UTC)
TABLES_DIR = settings.TIERSPAYANT_GUARANTEE_TABLES_DIR
TABLE = load_guarantee_table(TABLES_DIR / "essentiel.json")


def medicine(number: str, *, unit: str = "12.81", total: str | None = None) -> InvoiceInput:
    """One box of a 65 % medicine (AMC 4.48 € at 12.81 €); ``total`` wrong: rejected."""
    extra: dict[str, Any] = {"number": number}
    if total is not None:
        extra["total_billed"] = Decimal(total)
    amo = (Decimal(unit) * Decimal("0.65") - Decimal("1.00")).quantize(Decimal("0.01"))
    return invoice(
        line("CIP13", "3400936963504", unit, rate="65", amo=str(amo), franchise="1.00"),
        **extra,
    )


def pharmacist() -> Professional:
    return make_professional(profession=Profession.PHARMACIST, specialty_code="50")


def patient() -> Beneficiary:
    return make_beneficiary(contract=ContractFactory(guarantee_table="essentiel"))


def stored(
    professional: Professional, beneficiary: Beneficiary, data: InvoiceInput, at: dt.datetime = NOW
) -> Invoice:
    """``data`` adjudicated and stored; accepted ones entered in the duplicate register."""
    row = record_invoice(
        data,
        professional=professional,
        beneficiary=beneficiary,
        table=TABLE,
        beneficiary_age=44,
        history=History(),
        now=at,
    )
    if row.status == "accepted":
        record_billed(
            professional=professional,
            invoice_number=row.invoice_number,
            content_key=billing_key(
                beneficiary.pk, data.care_date, [(x.code, x.billed) for x in data.lines]
            ),
            channel="lot",
            reference=f"invoice:{row.pk}",
            now=at,
        )
    return row


def pay(row: Invoice, at: dt.datetime, amount: Decimal | None = None) -> None:
    """What a payment run writes (docs/money.md contract): a ``paid`` event."""
    lifecycle.append_event(
        row,
        K.PAID,
        at=at,
        detail=lifecycle.EventDetail(
            amount=row.total_amc if amount is None else amount,
            reference=f"E2E-{row.pk}",
            value_date=at.date(),
        ),
    )
    row.refresh_from_db()
