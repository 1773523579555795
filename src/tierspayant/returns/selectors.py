"""Read queries of returns: a professional's return lines after a cursor (what practice
software polls), the latest ones (the portal), and the transfers their paid lines name.

A return line is one ``InvoiceEvent`` of a kind in ``choices.RETURN_KINDS``, read with its
invoice in one query (``values``, no model instances) on the index (professional, id).
It carries no personal data: the invoice by its number, never the patient."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from tierspayant.invoices.choices import InvoiceEventKind
from tierspayant.invoices.models import InvoiceEvent, InvoiceLine
from tierspayant.providers.models import Professional
from tierspayant.returns.choices import RETURN_KINDS

#: Lines per poll: default and most.
DEFAULT_COUNT = 1000
MAX_COUNT = 10_000

_MONEY_KINDS = (InvoiceEventKind.PAID, InvoiceEventKind.PAYMENT_RETURNED)

_COLUMNS = (
    "id",
    "invoice_id",
    "at",
    "kind",
    "amount",
    "reference",
    "value_date",
    "deadline",
    "codes_text",
    "invoice__invoice_number",
    "invoice__care_date",
    "invoice__total_billed",
    "invoice__total_amc",
    "invoice__lot_id",
    "invoice__lot__reference",
    "insurer__amc_number",
    "related__invoice_number",
)


@dataclass(frozen=True)
class ReturnLine:
    """One return line. ``cursor``: the event's id (poll with ``_since=cursor``); ``at``:
    when it happened (UTC); ``billed`` and ``amc_requested``: the invoice's billed total and
    AMC share as adjudicated (euros); ``amount``: the event's amount (euros; accepted: AMC
    accepted, paid: AMC paid, payment_returned: AMC returned by the bank, cancelled /
    rectified: AMC concerned, recovered: overpayment recovered; None otherwise);
    ``transfer_reference`` / ``transfer_date``: the SEPA transfer's end-to-end id and
    execution date (paid, payment_returned); ``run_reference``: the payment run that
    recovered an overpayment (recovered); ``replacement_number``: the replacing invoice
    (rectified); ``deadline``: last day of a dispute (disputed); ``reason_codes``: codes of
    ``choices.reason_table``."""

    cursor: int
    invoice_id: int
    at: dt.datetime
    kind: str
    invoice_number: str
    lot_id: int | None
    lot_reference: str
    care_date: dt.date
    amc_number: str
    billed: Decimal
    amc_requested: Decimal
    amount: Decimal | None
    transfer_reference: str
    transfer_date: dt.date | None
    run_reference: str
    replacement_number: str
    deadline: dt.date | None
    reason_codes: tuple[str, ...]

    @property
    def kind_label(self) -> str:
        """The kind in French (« Payée », « Rejetée »...)."""
        return str(InvoiceEventKind(self.kind).label)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ReturnLine:
        kind = row["kind"]
        money = kind in _MONEY_KINDS
        return cls(
            cursor=row["id"],
            invoice_id=row["invoice_id"],
            at=row["at"],
            kind=kind,
            invoice_number=row["invoice__invoice_number"],
            lot_id=row["invoice__lot_id"],
            lot_reference=row["invoice__lot__reference"] or "",
            care_date=row["invoice__care_date"],
            amc_number=row["insurer__amc_number"] or "",
            billed=row["invoice__total_billed"],
            amc_requested=row["invoice__total_amc"],
            amount=row["amount"],
            transfer_reference=row["reference"] if money else "",
            transfer_date=row["value_date"] if money else None,
            run_reference=row["reference"] if kind == InvoiceEventKind.RECOVERED else "",
            replacement_number=row["related__invoice_number"] or "",
            deadline=row["deadline"],
            reason_codes=_codes(row["codes_text"]),
        )


def _codes(text: str | None) -> tuple[str, ...]:
    """The reason codes from their JSON text (most lines have none: no decoding then)."""
    if not text or text == "[]":
        return ()
    return tuple(str(code) for code in json.loads(text))


def _events(professional: Professional, kinds: Iterable[str]) -> Any:
    # The codes as text: decoding an empty JSON list per row was a third of a poll's time.
    return InvoiceEvent.objects.filter(professional=professional, kind__in=list(kinds)).annotate(
        codes_text=Cast("reason_codes", output_field=TextField())
    )


def clamp_count(count: int | None) -> int:
    """``count`` within 1..MAX_COUNT (DEFAULT_COUNT when None)."""
    if count is None:
        return DEFAULT_COUNT
    return max(1, min(count, MAX_COUNT))


#: PostgreSQL: the first event of the professional after the cursor written by a
#: transaction younger than one still running when the poll's snapshot was taken (that one
#: may yet commit an event with a smaller id). The running transactions are the snapshot's
#: (``pg_snapshot_xip``), less those pg_stat_activity shows running in another database;
#: ``age`` compares transaction ids across wraparound. A poll made inside a transaction that
#: has written (a test; the API's views read in autocommit) counts what was written since
#: that transaction began as settled: its own writes.
_UNSETTLED = """
    {table}.id < COALESCE((
        SELECT MIN(later.id) FROM {table} later
        WHERE later.professional_id = %s AND later.id > %s
          AND age(later.xmin) <= (
              SELECT MAX(age(running::xid))
              FROM pg_snapshot_xip(pg_current_snapshot()) AS running
              WHERE running::xid NOT IN (
                  SELECT backend_xid FROM pg_stat_activity
                  WHERE datname <> current_database() AND backend_xid IS NOT NULL
              )
          )
          AND NOT COALESCE(
              age(later.xmin) <= age(pg_current_xact_id_if_assigned()::xid), false
          )
    ), 9223372036854775807)
"""


def return_lines(
    professional: Professional, *, since: int = 0, count: int | None = None
) -> list[ReturnLine]:
    """The professional's return lines after cursor ``since`` (exclusive), oldest first, at
    most ``count`` (``clamp_count``). The next poll passes the last line's cursor; an empty
    list means nothing new. One query.

    Ids are given when events are written, not when they commit: on PostgreSQL, a payment
    run's events written minutes before its commit have smaller ids than the events other
    transactions commit meanwhile. So the lines stop before the first event whose
    transaction may still be followed by such a commit (``_UNSETTLED``): they appear once
    every older transaction has ended, never after a cursor already passed them. SQLite
    commits one transaction at a time and needs no such stop."""
    since = max(since, 0)
    events = _events(professional, RETURN_KINDS).filter(id__gt=since)
    if connection.vendor == "postgresql":
        table = InvoiceEvent._meta.db_table
        events = events.extra(  # noqa: S610 - fixed SQL, the values as parameters
            where=[_UNSETTLED.format(table=connection.ops.quote_name(table))],
            params=[professional.pk, since],
        )
    rows = events.order_by("id").values(*_COLUMNS)[: clamp_count(count)]
    return [ReturnLine.from_row(row) for row in rows]


def latest_return_lines(
    professional: Professional, *, kind: str = "", limit: int = 200
) -> list[ReturnLine]:
    """The professional's latest return lines, newest first, of ``kind`` when given (one of
    ``RETURN_KINDS``, else every kind)."""
    kinds = [kind] if kind in RETURN_KINDS else list(RETURN_KINDS)
    rows = _events(professional, kinds).order_by("-id").values(*_COLUMNS)[:limit]
    return [ReturnLine.from_row(row) for row in rows]


@dataclass(frozen=True)
class TransferSummary:
    """A transfer as its paid lines tell it: end-to-end id, execution date, the AMC paid
    per invoice (``details``: invoice number -> euros) and their sum (euros)."""

    reference: str
    date: dt.date | None
    details: dict[str, Decimal]
    total: Decimal


def transfers_of(professional: Professional, references: Iterable[str]) -> list[TransferSummary]:
    """The transfers named ``references`` that paid the professional, from every ``paid``
    event naming them (not only those of one page), by reference. One query."""
    wanted = sorted({r for r in references if r})
    if not wanted:
        return []
    rows = (
        InvoiceEvent.objects.filter(
            professional=professional, kind=InvoiceEventKind.PAID, reference__in=wanted
        )
        .order_by("reference", "id")
        .values_list("reference", "value_date", "invoice__invoice_number", "amount")
    )
    dates: dict[str, dt.date | None] = {}
    details: dict[str, dict[str, Decimal]] = {}
    for reference, value_date, number, amount in rows:
        dates.setdefault(reference, value_date)
        paid = details.setdefault(reference, {})
        paid[number] = paid.get(number, Decimal("0.00")) + (amount or Decimal("0.00"))
    return [
        TransferSummary(ref, dates[ref], paid, sum(paid.values(), Decimal("0.00")))
        for ref, paid in details.items()
    ]


def invoice_lines(invoice_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The lines of the invoices ``invoice_ids`` (position, billed, BR, AMO, AMC, RAC in
    euros, reason codes), by invoice id, in position order. One query."""
    found: dict[int, list[dict[str, Any]]] = {}
    rows = (
        InvoiceLine.objects.filter(invoice_id__in=sorted(set(invoice_ids)))
        .order_by("invoice_id", "position")
        .values("invoice_id", "position", "billed", "br", "amo_paid", "amc", "rac", "reasons")
    )
    for row in rows:
        found.setdefault(row["invoice_id"], []).append(dict(row))
    return found
