"""Writing the disclosure log. Called by the disclosure gate inside its transaction, so a
failed write rolls back the read and nothing is disclosed (fail closed)."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from tierspayant.audit.choices import Channel, Outcome, Purpose
from tierspayant.audit.models import DisclosureLog
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary


@dataclass(frozen=True)
class RequestContext:
    """Where a request came from: ``request_id`` ties log lines to the disclosure row; ``ip``
    and ``user_agent`` as received (user agent truncated to 300 characters)."""

    channel: Channel
    request_id: uuid.UUID
    ip: str | None
    user_agent: str
    actor_id: int | None


def record_disclosure(
    *,
    context: RequestContext,
    professional: Professional,
    purpose: Purpose,
    outcome: Outcome,
    occurred_at: datetime.datetime,
    beneficiary: Beneficiary | None = None,
    fields_disclosed: list[str] | None = None,
    reason: str = "",
) -> DisclosureLog:
    """Append one row. ``fields_disclosed`` names fields (e.g. ``"rights_period"``), never
    values; ``reason`` is a code or a field name, never input data."""
    return DisclosureLog.objects.create(
        occurred_at=occurred_at,
        request_id=context.request_id,
        channel=context.channel,
        purpose=purpose,
        outcome=outcome,
        reason=reason[:60],
        actor_id=context.actor_id,
        professional=professional,
        beneficiary=beneficiary,
        fields_disclosed=list(fields_disclosed or []),
        ip_address=context.ip,
        user_agent=context.user_agent[:300],
    )
