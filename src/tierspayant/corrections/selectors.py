"""Reads of the overpayment ledger."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from tierspayant.corrections.models import LedgerEntry

ZERO = Decimal("0.00")


def balance(professional_id: int, insurer_id: int) -> Decimal:
    """What the professional still owes the insurer (euros, >= 0 unless over-recovered)."""
    total = LedgerEntry.objects.filter(
        professional_id=professional_id, insurer_id=insurer_id
    ).aggregate(total=Sum("amount"))["total"]
    return total if total is not None else ZERO


def balances(professional_ids: list[int] | None = None) -> dict[tuple[int, int], Decimal]:
    """Every non-zero balance, by (professional id, insurer id); only those professionals
    when ``professional_ids`` is given (one query)."""
    rows = LedgerEntry.objects.all()
    if professional_ids is not None:
        rows = rows.filter(professional_id__in=professional_ids)
    totals = rows.values("professional_id", "insurer_id").annotate(total=Sum("amount"))
    return {
        (row["professional_id"], row["insurer_id"]): row["total"]
        for row in totals
        if row["total"] != ZERO
    }
