"""Reads of the guard: the follow-up signal from the disclosure log.

"Followed" means: after a lookup that disclosed something (rights check or CLC, outcome
covered/not covered), the same professional identified the same beneficiary (internal id,
never the NIR) for a prior approval, a claim or a lot's invoice within the window. Every
one of those flows goes through the disclosure gate with its own purpose, so the log alone
answers, and the guard needs neither ``priorauth``, ``claims`` nor ``invoices`` (which sit
above it in the layers).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from tierspayant.audit.choices import DISCLOSING_OUTCOMES, Purpose
from tierspayant.audit.models import DisclosureLog

#: Purposes of a lookup whose answer should be followed by an act.
LOOKUP_PURPOSES = (Purpose.RIGHTS_CHECK, Purpose.CALCULATION)
#: Purposes that follow a lookup up: the act itself identified its patient.
FOLLOW_UP_PURPOSES = (Purpose.PRIOR_APPROVAL, Purpose.CLAIM, Purpose.INVOICE)


@dataclass(frozen=True)
class FollowUp:
    """``lookups``: matched lookups judged; ``followed``: how many of them were followed."""

    lookups: int
    followed: int

    @property
    def share(self) -> float:
        """``followed / lookups`` (1.0 when nothing was judged)."""
        return self.followed / self.lookups if self.lookups else 1.0


def follow_up_counts(
    *,
    professional_id: int,
    since: datetime.datetime,
    until: datetime.datetime,
    window: datetime.timedelta,
    seen_until: datetime.datetime | None = None,
) -> FollowUp:
    """Matched lookups of ``professional_id`` made in ``[since, until)`` and how many were
    followed within ``window`` (a follow-up row at or after the lookup, no later than the
    lookup + ``window``, and no later than ``seen_until`` when given: what was known then).
    One query."""
    follow_ups = DisclosureLog.objects.filter(
        professional_id=professional_id,
        beneficiary_id=OuterRef("beneficiary_id"),
        purpose__in=FOLLOW_UP_PURPOSES,
        occurred_at__gte=OuterRef("occurred_at"),
        occurred_at__lte=OuterRef("occurred_at") + window,
    )
    if seen_until is not None:
        follow_ups = follow_ups.filter(occurred_at__lte=seen_until)
    lookups = (
        DisclosureLog.objects.filter(
            professional_id=professional_id,
            occurred_at__gte=since,
            occurred_at__lt=until,
            purpose__in=LOOKUP_PURPOSES,
            outcome__in=DISCLOSING_OUTCOMES,
            beneficiary__isnull=False,
        )
        .order_by()
        .annotate(followed=Exists(follow_ups))
        .values_list("followed", flat=True)
    )
    flags = list(lookups)
    return FollowUp(lookups=len(flags), followed=sum(1 for f in flags if f))
