"""Read queries on approvals, always within one professional's own objects (another
professional's id is simply not found: a 404, never a 403)."""

from __future__ import annotations

from django.db.models import QuerySet

from tierspayant.priorauth.models import PriorApproval
from tierspayant.providers.models import Professional


def approvals_of(professional: Professional) -> QuerySet[PriorApproval]:
    """The professional's approvals, newest first, with their insurer."""
    return PriorApproval.objects.filter(professional=professional).select_related("insurer")


def approval_of(
    professional: Professional, *, pk: int | None = None, number: str | None = None
) -> PriorApproval:
    """One of the professional's approvals by internal id or number, with its lines.
    Raises ``PriorApproval.DoesNotExist`` for anything not theirs."""
    rows = approvals_of(professional).prefetch_related("lines")
    if pk is not None:
        return rows.get(pk=pk)
    return rows.get(number=str(number or "").strip().upper())
