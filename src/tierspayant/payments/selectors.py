"""Read queries on payments: what a run may pay, the overpayments it may recover, and a
professional's own statements."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db.models import Exists, Min, OuterRef, QuerySet, Sum

from tierspayant.corrections.choices import LedgerEntryKind
from tierspayant.corrections.models import LedgerEntry
from tierspayant.invoices.choices import InvoiceStatus
from tierspayant.invoices.models import Invoice
from tierspayant.payments.models import Statement, Transfer, TransferLine
from tierspayant.providers.models import Professional

ZERO = Decimal("0.00")


def payable_invoices() -> QuerySet[Invoice]:
    """Invoices a run may pay (every channel: lots and claims through their mirror):
    ``accepted``, with an insurer, and not on a transfer line that was not returned."""
    live = TransferLine.objects.filter(invoice=OuterRef("pk"), returned=False)
    return Invoice.objects.filter(status=InvoiceStatus.ACCEPTED, insurer__isnull=False).filter(
        ~Exists(live)
    )


@dataclass(frozen=True)
class Overpayment:
    """What is still owed on one invoice (euros, > 0), and the order it was first recorded
    in (``first``: its oldest ledger entry id): a run recovers the oldest first."""

    invoice: Invoice
    outstanding: Decimal
    first: int


@dataclass(frozen=True)
class Debt:
    """A professional's overpayment balance with one insurer (euros; what a run may recover
    is this when > 0) and the invoices it is owed on, oldest first."""

    balance: Decimal
    invoices: list[Overpayment]


def debts(professional_ids: list[int]) -> dict[tuple[int, int], Debt]:
    """The overpayment ledger of these professionals, by (professional id, insurer id),
    only pairs whose balance is positive (two queries). The balance is
    ``corrections.selectors.balance``: the sum of every entry of the pair."""
    rows = (
        LedgerEntry.objects.filter(professional_id__in=professional_ids)
        .values("professional_id", "insurer_id", "invoice_id")
        .annotate(total=Sum("amount"), first=Min("id"))
        .values_list("professional_id", "insurer_id", "invoice_id", "total", "first")
        .order_by()
    )
    per_pair: dict[tuple[int, int], list[tuple[int, Decimal, int]]] = defaultdict(list)
    for professional_id, insurer_id, invoice_id, total, first in rows:
        per_pair[(professional_id, insurer_id)].append((invoice_id, total, first))
    owed = {
        key: found for key, found in per_pair.items() if sum((t for _, t, _ in found), ZERO) > 0
    }
    invoices = Invoice.objects.only(
        "id", "professional_id", "insurer_id", "invoice_number", "care_date", "status"
    ).in_bulk([i for found in owed.values() for i, total, _ in found if total > 0])
    return {
        key: Debt(
            sum((total for _, total, _ in found), ZERO),
            sorted(
                (Overpayment(invoices[i], total, first) for i, total, first in found if total > 0),
                key=lambda o: o.first,
            ),
        )
        for key, found in owed.items()
    }


def statements_of(professional: Professional) -> QuerySet[Statement]:
    """The professional's statements, newest first, with their run."""
    return Statement.objects.filter(professional=professional).select_related("run")


def statement_of(professional: Professional, pk: int) -> Statement:
    """One of the professional's statements; ``Statement.DoesNotExist`` otherwise."""
    return statements_of(professional).get(pk=pk)


def statement_file(statement: Statement, kind: str) -> Path:
    """Path of the statement's ``pdf`` or ``csv`` file in its run's directory."""
    name = statement.pdf_name if kind == "pdf" else statement.csv_name
    return Path(statement.run.directory) / name


@dataclass(frozen=True)
class StatementLine:
    """One line of a statement as the portal lists it: an invoice the run paid
    (``recovered`` False, ``amount`` its AMC, >= 0) or an overpayment the run recovered
    on a cancelled or rectified invoice (``recovered`` True, ``amount`` negative). Euros."""

    invoice_id: int
    invoice_number: str
    care_date: datetime.date
    amc_number: str
    amount: Decimal
    recovered: bool


def statement_lines(statement: Statement) -> list[StatementLine]:
    """The statement's lines, as its PDF and CSV list them: the invoices the run paid the
    professional (its ``TransferLine`` rows), then the overpayments it recovered (its
    ``netted`` ledger entries, negative), each in the order the run wrote them. Two queries."""
    paid = (
        TransferLine.objects.filter(run_id=statement.run_id)
        .filter(invoice__professional_id=statement.professional_id)
        .select_related("invoice__insurer")
        .order_by("id")
    )
    recovered = (
        LedgerEntry.objects.filter(
            professional_id=statement.professional_id,
            kind=LedgerEntryKind.NETTED,
            run_reference=statement.run.reference,
        )
        .select_related("invoice", "insurer")
        .order_by("id")
    )
    return [
        StatementLine(
            invoice_id=line.invoice_id,
            invoice_number=line.invoice.invoice_number,
            care_date=line.invoice.care_date,
            amc_number=line.invoice.insurer.amc_number if line.invoice.insurer else "",
            amount=line.amount,
            recovered=False,
        )
        for line in paid
    ] + [
        StatementLine(
            invoice_id=entry.invoice_id,
            invoice_number=entry.invoice.invoice_number,
            care_date=entry.invoice.care_date,
            amc_number=entry.insurer.amc_number,
            amount=entry.amount,
            recovered=True,
        )
        for entry in recovered
    ]


def transfers_of(statement: Statement) -> QuerySet[Transfer]:
    """The transfers that paid the statement's professional in its run, with their lines."""
    return (
        Transfer.objects.filter(run=statement.run, professional=statement.professional)
        .select_related("insurer", "bank_account")
        .prefetch_related("lines__invoice")
    )
