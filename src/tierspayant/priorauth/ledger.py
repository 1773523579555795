"""Commitments on a beneficiary's ceilings and renewal periods, and the engine's History
built from them.

The benefit year is the calendar year of the date of care (an assumption of ours: contracts
that run on another year would carry it in the register; none does yet). Every computation
that may commit something locks the beneficiary's row first (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite serialises writers), so two approvals cannot both see the same ceiling
free.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Q

from tierspayant.coverage import History, PreviousEquipment
from tierspayant.priorauth.choices import CommitmentSource
from tierspayant.priorauth.models import Commitment
from tierspayant.registry.models import Beneficiary


def lock_beneficiary(beneficiary: Beneficiary) -> None:
    """Serialise commitments on this beneficiary until the end of the transaction."""
    Beneficiary.objects.select_for_update().filter(pk=beneficiary.pk).values_list("pk").first()


def _active(beneficiary: Beneficiary, today: datetime.date) -> Q:
    return Q(beneficiary=beneficiary, released_at__isnull=True) & (
        Q(expires_on__isnull=True) | Q(expires_on__gte=today)
    )


def history_for(
    beneficiary: Beneficiary,
    *,
    care_date: datetime.date,
    today: datetime.date,
    exclude: tuple[CommitmentSource, str] | None = None,
) -> History:
    """What the active commitments already hold for the benefit year of ``care_date``
    (euros and acts per ceiling id) and every device bought on or before ``care_date``.
    ``exclude`` leaves out one commitment (an invoice replacing its own approval)."""
    rows = Commitment.objects.filter(_active(beneficiary, today))
    if exclude is not None:
        rows = rows.exclude(source=exclude[0], reference=exclude[1])
    ceilings: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    equipment: list[PreviousEquipment] = []
    for row in rows:
        if row.benefit_year == care_date.year:
            for key, value in row.ceilings_used.items():
                ceilings[key] = ceilings.get(key, Decimal("0.00")) + Decimal(value)
            for key, value in row.counts_used.items():
                counts[key] = counts.get(key, 0) + int(value)
        for item in row.equipment:
            day = datetime.date.fromisoformat(item["date"])
            if day <= care_date:
                equipment.append(PreviousEquipment(item["family"], day, item.get("side")))
    return History(ceilings, counts, tuple(equipment))


def commit(
    beneficiary: Beneficiary,
    *,
    source: CommitmentSource,
    reference: str,
    before: History,
    after: History,
    care_date: datetime.date,
    expires_on: datetime.date | None,
    now: datetime.datetime,
) -> Commitment:
    """Record what one computation consumed: ``after`` minus ``before``."""
    ceilings = {
        key: f"{value - before.ceilings_used.get(key, Decimal('0.00')):.2f}"
        for key, value in after.ceilings_used.items()
        if value != before.ceilings_used.get(key, Decimal("0.00"))
    }
    counts = {
        key: value - before.counts_used.get(key, 0)
        for key, value in after.counts_used.items()
        if value != before.counts_used.get(key, 0)
    }
    bought = after.previous_equipment[len(before.previous_equipment) :]
    return Commitment.objects.create(
        beneficiary=beneficiary,
        benefit_year=care_date.year,
        source=source,
        reference=reference,
        ceilings_used=ceilings,
        counts_used=counts,
        equipment=[
            {
                "family": str(item.family),
                "side": item.side and str(item.side),
                "date": item.purchased_on.isoformat(),
            }
            for item in bought
        ],
        expires_on=expires_on,
        created_at=now,
    )


def release(source: CommitmentSource, reference: str, *, now: datetime.datetime) -> int:
    """Release a commitment (approval cancelled or replaced by its invoice); returns 0 or 1."""
    return Commitment.objects.filter(
        source=source, reference=reference, released_at__isnull=True
    ).update(released_at=now)
