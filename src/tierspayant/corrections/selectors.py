"""Reads of the overpayment ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from tierspayant.corrections.models import LedgerEntry
from tierspayant.invoices.choices import InvoiceEventKind, InvoiceStatus
from tierspayant.invoices.models import Invoice, InvoiceEvent

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def balance(professional_id: int, insurer_id: int) -> Decimal:
    """What the professional still owes the insurer (euros, >= 0 unless over-recovered)."""
    total = LedgerEntry.objects.filter(
        professional_id=professional_id, insurer_id=insurer_id
    ).aggregate(total=Sum("amount"))["total"]
    return ZERO if total is None else Decimal(total).quantize(ZERO)


def balances(professional_ids: list[int] | None = None) -> dict[tuple[int, int], Decimal]:
    """Every non-zero balance, by (professional id, insurer id); only those professionals
    when ``professional_ids`` is given (one query)."""
    rows = LedgerEntry.objects.all()
    if professional_ids is not None:
        rows = rows.filter(professional_id__in=professional_ids)
    totals = rows.values("professional_id", "insurer_id").annotate(total=Sum("amount"))
    return {
        (row["professional_id"], row["insurer_id"]): Decimal(row["total"]).quantize(ZERO)
        for row in totals
        if Decimal(row["total"]).quantize(ZERO) != ZERO
    }


def invoice_of(professional_id: int, invoice_number: str) -> Invoice | None:
    """The professional's invoice ``invoice_number`` (None: unknown or another's)."""
    return Invoice.objects.filter(
        professional_id=professional_id, invoice_number=invoice_number
    ).first()


def invoice_by_id(professional_id: int, invoice_id: int) -> Invoice | None:
    """The professional's invoice by internal id (None: unknown or another's)."""
    return Invoice.objects.filter(professional_id=professional_id, pk=invoice_id).first()


def recent_invoices(professional_id: int, limit: int = 100) -> list[Invoice]:
    """The professional's latest invoices, newest first (at most ``limit``)."""
    return list(Invoice.objects.filter(professional_id=professional_id)[:limit])


def timeline(invoice: Invoice) -> list[InvoiceEvent]:
    """The invoice's events in order, with the replacement a rectification names."""
    return list(
        InvoiceEvent.objects.filter(invoice=invoice).select_related("related").order_by("id")
    )


@dataclass(frozen=True)
class OpenDispute:
    """A disputed invoice waiting for staff: the invoice, its ``disputed`` event (reason,
    ``deadline``) and whether the deadline has passed."""

    invoice: Invoice
    event: InvoiceEvent
    overdue: bool


def open_disputes(invoices: QuerySet[Invoice], today: dt.date) -> list[OpenDispute]:
    """The disputed invoices among ``invoices`` (a scoped queryset), overdue first, then by
    deadline (nearest first); two queries."""
    rows = list(invoices.filter(status=InvoiceStatus.DISPUTED).select_related("professional"))
    last: dict[int, InvoiceEvent] = {}
    for event in InvoiceEvent.objects.filter(
        invoice__in=[r.pk for r in rows], kind=InvoiceEventKind.DISPUTED
    ).order_by("id"):
        last[event.invoice_id] = event
    found = []
    for row in rows:
        disputed = last.get(row.pk)
        if disputed is not None:
            found.append(OpenDispute(row, disputed, (disputed.deadline or dt.date.max) < today))
    return sorted(
        found, key=lambda d: (not d.overdue, d.event.deadline or dt.date.max, d.invoice.pk)
    )


@dataclass(frozen=True)
class LedgerLine:
    """One professional's balance with one insurer (euros) and the invoices still owing."""

    professional_id: int
    insurer_id: int
    total: Decimal
    invoices: list[tuple[Invoice, Decimal]]


def ledger_lines(entries: QuerySet[LedgerEntry]) -> list[LedgerLine]:
    """Non-zero balances of ``entries`` (a scoped queryset) per professional and insurer,
    each with its invoices still owing (amount per invoice), largest balance first."""
    per_invoice = (
        entries.values("professional_id", "insurer_id", "invoice_id")
        .annotate(total=Sum("amount"))
        .order_by("invoice_id")
    )
    invoices = Invoice.objects.in_bulk([row["invoice_id"] for row in per_invoice])
    grouped: dict[tuple[int, int], list[tuple[Invoice, Decimal]]] = {}
    for row in per_invoice:
        if row["total"] != ZERO:
            key = (row["professional_id"], row["insurer_id"])
            amount = row["total"].quantize(CENT)  # SQLite sums decimals as floats
            grouped.setdefault(key, []).append((invoices[row["invoice_id"]], amount))
    lines = [
        LedgerLine(p, i, sum((amount for _, amount in items), ZERO), items)
        for (p, i), items in grouped.items()
    ]
    return sorted(lines, key=lambda line: (-line.total, line.professional_id, line.insurer_id))


def original_of(invoice: Invoice) -> Invoice | None:
    """The invoice ``invoice`` replaces (its ``rectified`` event names ``invoice``), or
    None when it is no rectification's replacement."""
    event = (
        InvoiceEvent.objects.filter(kind=InvoiceEventKind.RECTIFIED, related=invoice)
        .select_related("invoice")
        .first()
    )
    return event.invoice if event is not None else None
