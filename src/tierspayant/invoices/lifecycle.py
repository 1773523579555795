"""An invoice's life as append-only events (issue 16 part 1).

Every change of an invoice after it is stored is an ``InvoiceEvent`` appended here, never
an update of the invoice by hand: ``state_of`` derives the state from the events, and the
``Invoice.status`` column is a cache of it written in the same transaction as the event.

Transitions (``TRANSITIONS``; a kind not allowed from the current state is refused with
``TransitionRefused``):

==================  ===============================  ==========================
event               from                             to
==================  ===============================  ==========================
received            (new)                            (new)
acknowledged        (new)                            (new)
accepted            (new)                            accepted
rejected            (new)                            rejected
paid                accepted                         paid
payment_returned    paid                             accepted
cancelled           accepted, paid                   cancelled
rectified           accepted, paid                   rectified
disputed            rejected, paid                   disputed
dispute_upheld      disputed                         accepted if it was rejected, else as before
dispute_dismissed   disputed                         as before the dispute
recovered           cancelled, rectified             unchanged
written_off         cancelled, rectified             unchanged
==================  ===============================  ==========================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User

from tierspayant.invoices.choices import ActorKind, InvoiceEventKind, InvoiceStatus
from tierspayant.invoices.models import Invoice, InvoiceEvent

K = InvoiceEventKind
S = InvoiceStatus

#: Events that do not change the state (the invoice is not adjudicated yet, or the event
#: concerns money recovered on an invoice already voided).
_UNCHANGED = object()

#: kind -> {state before (None: not adjudicated yet): state after}
TRANSITIONS: dict[str, dict[str | None, object]] = {
    K.RECEIVED: {None: None},
    K.ACKNOWLEDGED: {None: None},
    K.ACCEPTED: {None: S.ACCEPTED},
    K.REJECTED: {None: S.REJECTED},
    K.PAID: {S.ACCEPTED: S.PAID},
    K.PAYMENT_RETURNED: {S.PAID: S.ACCEPTED},
    K.CANCELLED: {S.ACCEPTED: S.CANCELLED, S.PAID: S.CANCELLED},
    K.RECTIFIED: {S.ACCEPTED: S.RECTIFIED, S.PAID: S.RECTIFIED},
    K.DISPUTED: {S.REJECTED: S.DISPUTED, S.PAID: S.DISPUTED},
    K.DISPUTE_UPHELD: {S.DISPUTED: _UNCHANGED},
    K.DISPUTE_DISMISSED: {S.DISPUTED: _UNCHANGED},
    K.RECOVERED: {S.CANCELLED: _UNCHANGED, S.RECTIFIED: _UNCHANGED},
    K.WRITTEN_OFF: {S.CANCELLED: _UNCHANGED, S.RECTIFIED: _UNCHANGED},
}


class TransitionRefused(ValueError):
    """``kind`` cannot happen to an invoice in ``state``; the message (French) names the
    invoice by its number and both."""

    def __init__(self, invoice_number: str, state: str | None, kind: str) -> None:
        self.invoice_number = invoice_number
        self.state = state
        self.kind = kind
        shown = S(state).label.lower() if state else "non traitée"
        super().__init__(
            f"Facture {invoice_number} : « {K(kind).label} » est impossible sur une facture "
            f"{shown}."
        )


def _step(state: str | None, before_dispute: str | None, kind: str) -> tuple[str | None, bool]:
    """The state after ``kind``, and whether the kind is allowed from ``state``."""
    allowed = TRANSITIONS[kind]
    if state not in allowed:
        return state, False
    after = allowed[state]
    if after is not _UNCHANGED:
        return after, True  # type: ignore[return-value]
    if kind == K.DISPUTE_UPHELD:
        return (S.ACCEPTED if before_dispute == S.REJECTED else before_dispute), True
    if kind == K.DISPUTE_DISMISSED:
        return before_dispute, True
    return state, True


def state_of(kinds: Iterable[str], invoice_number: str = "") -> str | None:
    """The state the events ``kinds`` (in order) lead to: an ``InvoiceStatus`` value, None
    when the invoice is not adjudicated yet. Raises TransitionRefused on an impossible
    sequence."""
    state: str | None = None
    before_dispute: str | None = None
    for kind in kinds:
        if kind == K.DISPUTED:
            before_dispute = state
        state, allowed = _step(state, before_dispute, kind)
        if not allowed:
            raise TransitionRefused(invoice_number, state, kind)
    return state


def derived_state(invoice: Invoice) -> str | None:
    """``state_of`` the invoice's stored events (what ``Invoice.status`` must equal)."""
    kinds = (
        InvoiceEvent.objects.filter(invoice=invoice).order_by("id").values_list("kind", flat=True)
    )
    return state_of(kinds, invoice.invoice_number)


@dataclass(frozen=True)
class EventDetail:
    """What an event says beyond its kind (see ``InvoiceEvent``): reason text without
    personal data, reason codes, amount in euros, reference, value date, deadline and the
    related invoice."""

    reason: str = ""
    reason_codes: Sequence[str] = ()
    amount: Decimal | None = None
    reference: str = ""
    value_date: dt.date | None = None
    deadline: dt.date | None = None
    related: Invoice | None = None


NO_DETAIL = EventDetail()


def new_event(
    invoice: Invoice,
    kind: str,
    *,
    at: dt.datetime,
    actor_kind: str = ActorKind.SYSTEM,
    actor: User | None = None,
    detail: EventDetail = NO_DETAIL,
) -> InvoiceEvent:
    """An unsaved event of ``invoice`` (for ``bulk_create`` by callers that store many
    invoices at once and have checked the transitions themselves)."""
    return InvoiceEvent(
        invoice=invoice,
        professional_id=invoice.professional_id,
        insurer_id=invoice.insurer_id,
        kind=kind,
        at=at,
        actor_kind=actor_kind,
        actor=actor,
        reason=detail.reason[:300],
        reason_codes=list(detail.reason_codes),
        amount=detail.amount,
        reference=detail.reference[:40],
        value_date=detail.value_date,
        deadline=detail.deadline,
        related=detail.related,
    )


def append_event(
    invoice: Invoice,
    kind: str,
    *,
    at: dt.datetime,
    actor_kind: str = ActorKind.SYSTEM,
    actor: User | None = None,
    detail: EventDetail = NO_DETAIL,
) -> InvoiceEvent:
    """Append ``kind`` to the invoice's events and update its ``status`` cache. The caller
    holds the invoice's row (``select_for_update``) inside a transaction so two events
    cannot race. Raises TransitionRefused (nothing written)."""
    before: str | None = invoice.status or None
    before_dispute: str | None = None
    if kind in (K.DISPUTE_UPHELD, K.DISPUTE_DISMISSED) and before == S.DISPUTED:
        before_dispute = _state_before_dispute(invoice)
    after, allowed = _step(before, before_dispute, kind)
    if not allowed:
        raise TransitionRefused(invoice.invoice_number, before, kind)
    event = new_event(invoice, kind, at=at, actor_kind=actor_kind, actor=actor, detail=detail)
    event.save(force_insert=True)
    if after is not None and after != invoice.status:
        invoice.status = after
        Invoice.objects.filter(pk=invoice.pk).update(status=after)
    return event


def _state_before_dispute(invoice: Invoice) -> str | None:
    kinds = list(
        InvoiceEvent.objects.filter(invoice=invoice).order_by("id").values_list("kind", flat=True)
    )
    last = max(i for i, kind in enumerate(kinds) if kind == K.DISPUTED)
    return state_of(kinds[:last], invoice.invoice_number)


def adjudication_events(
    invoice: Invoice, *, received_at: dt.datetime, acknowledged_at: dt.datetime | None
) -> list[InvoiceEvent]:
    """The unsaved events of a newly stored invoice: received (when its lot or request
    arrived), acknowledged (when its lot was acknowledged; None: sent alone), then accepted
    (``amount``: its AMC) or rejected (its reason codes), at ``invoice.received_at``."""
    events = [new_event(invoice, K.RECEIVED, at=received_at)]
    if acknowledged_at is not None:
        events.append(new_event(invoice, K.ACKNOWLEDGED, at=acknowledged_at))
    if invoice.status == S.ACCEPTED:
        events.append(
            new_event(
                invoice,
                K.ACCEPTED,
                at=invoice.received_at,
                detail=EventDetail(amount=invoice.total_amc),
            )
        )
    else:
        codes = [str(r.get("code", "")) for r in invoice.reasons if isinstance(r, dict)]
        events.append(
            new_event(
                invoice,
                K.REJECTED,
                at=invoice.received_at,
                detail=EventDetail(reason_codes=[c for c in codes if c]),
            )
        )
    return events
