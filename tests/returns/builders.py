"""Builders of the return tests: an invoice stored as adjudication leaves it (with its
first events and one line), and the events a payment run, a bank return or a cancellation
append through ``invoices.lifecycle`` (as the money loop's contract says: the ``pay`` and
``life`` branches write them in production). Amounts are strings of euros."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction

from tierspayant.invoices import lifecycle
from tierspayant.invoices.choices import CodeSystem, InvoiceStatus
from tierspayant.invoices.models import Invoice, InvoiceEvent, InvoiceLine, Lot
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
CARE_DATE = dt.date(2026, 2, 27)


def stored_invoice(
    professional: Professional,
    beneficiary: Beneficiary,
    number: str,
    *,
    billed: str = "20.00",
    amo: str = "12.00",
    amc: str = "6.00",
    rejected: Sequence[str] = (),
    lot: Lot | None = None,
    at: dt.datetime = NOW,
) -> Invoice:
    """An invoice of one pharmacy line, accepted for ``amc`` or rejected with the codes
    ``rejected``, with its received and accepted/rejected events."""
    amc_value = Decimal("0.00") if rejected else Decimal(amc)
    rac = Decimal(billed) - Decimal(amo) - amc_value
    invoice = Invoice.objects.create(
        professional=professional,
        beneficiary=beneficiary,
        insurer=beneficiary.contract.insurer,
        invoice_number=number,
        care_date=CARE_DATE,
        insurance_nature="10",
        exemption="0",
        amo_regime="01",
        local_regime="",
        status=InvoiceStatus.REJECTED if rejected else InvoiceStatus.ACCEPTED,
        reasons=[{"code": code, "line": None, "field": "", "message": code} for code in rejected],
        total_billed=Decimal(billed),
        total_amo=Decimal(amo),
        total_amc=amc_value,
        total_rac=rac,
        received_at=at,
        lot=lot,
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        code_system=CodeSystem.CIP13,
        code="3400936963504",
        family="pharmacy",
        quantity=1,
        unit_price=Decimal(billed),
        billed=Decimal(billed),
        br=Decimal(billed),
        amo_rate=Decimal("60"),
        amo_paid=Decimal(amo),
        participation_forfaitaire=Decimal("0.00"),
        franchise=Decimal("0.00"),
        amc=amc_value,
        rac=rac,
    )
    InvoiceEvent.objects.bulk_create(
        lifecycle.adjudication_events(
            invoice, received_at=at, acknowledged_at=at if lot is not None else None
        )
    )
    return invoice


def append(invoice: Invoice, kind: str, *, at: dt.datetime, **detail: object) -> InvoiceEvent:
    """Append ``kind`` holding the invoice's row, as the services do."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        return lifecycle.append_event(
            locked,
            kind,
            at=at,
            detail=lifecycle.EventDetail(**detail),  # type: ignore[arg-type]
        )
