"""``/api/v1/invoices/{invoice_number}``: an invoice's state and events, and its corrections,
for practice software (token scope ``claims:submit``, as lots; issue 16).

* ``GET /api/v1/invoices/{invoice_number}``: state, amounts, reason codes and events (no
  personal data: the patient is not named).
* ``POST .../cancel`` ``{"reason"}``: cancel (after payment: an overpayment to recover).
* ``POST .../rectify`` ``{"reason", "invoice": {...}}``: replace by a new invoice (the flat
  file's JSON form of an invoice, without the patient: the original's), adjudicated at once.
* ``POST .../dispute`` ``{"reason"}``: contest a rejection or a payment.

Answers: 200 with the invoice (for a rectification, the original, whose events name the
replacement, plus ``replacement``); 404 ``not_found`` (unknown or another professional's
invoice); 409 ``not_allowed`` (the invoice's state forbids it); 422 ``refused`` or
``invalid`` naming the ``field`` (and a rejected replacement's ``problems``). Messages are
French and never echo a submitted value.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from tierspayant.api.care_api import CLAIMS
from tierspayant.corrections.selectors import invoice_of, timeline
from tierspayant.corrections.services import (
    CorrectionRefused,
    InvoiceNotFound,
    cancel_invoice,
    dispute_invoice,
    rectify_invoice,
)
from tierspayant.invoices.lifecycle import TransitionRefused
from tierspayant.invoices.lot_formats import LotFormatError
from tierspayant.invoices.lot_formats.codec import invoice_from_json
from tierspayant.invoices.models import Invoice, InvoiceEvent

invoices_router = Router(tags=["invoices"])


class ReasonIn(Schema):
    """Why (French free text, 300 characters at most, no personal data)."""

    reason: str = Field(description="Motif, 300 caractères au plus", max_length=300)


class LineIn(Schema):
    """A line of the replacement, as in a flat-file lot (amounts: strings of euros)."""

    code_system: str = Field(description="CIP13, UCD, LPP, NGAP, CCAM, NABM or HOSPITAL")
    code: str
    quantity: int = 1
    unit_price: str
    billed: str
    br: str
    amo_rate: str = Field(description='Percent, e.g. "65"')
    amo_paid: str
    participation_forfaitaire: str | None = None
    franchise: str | None = None
    coefficient: str | None = None
    sante_class: str | None = None
    price_limit: str | None = None


class ReplacementIn(Schema):
    """The replacement invoice (a new ``invoice_number``), as in a flat-file lot."""

    invoice_number: str
    care_date: str = Field(description="YYYY-MM-DD")
    care_end_date: str | None = None
    insurance_nature: str
    exemption: str
    amo_regime: str
    local_regime: str = "0"
    prescriber_rpps: str = ""
    prescription_date: str | None = None
    total_billed: str
    total_amo: str
    lines: list[LineIn]


class RectifyIn(Schema):
    """A rectification: why, and the replacement."""

    reason: str = Field(description="Motif, 300 caractères au plus", max_length=300)
    invoice: ReplacementIn


class EventOut(Schema):
    """One event: kind, when (UTC), who (kind of actor), reason, reason codes, amount
    (euros), reference, value date, dispute deadline, related invoice's number."""

    kind: str
    label: str
    at: datetime.datetime
    actor: str
    reason: str = ""
    reason_codes: list[str] = []
    amount: str | None = None
    reference: str = ""
    value_date: datetime.date | None = None
    deadline: datetime.date | None = None
    related: str | None = None


class InvoiceOut(Schema):
    """An invoice's state and its events (amounts: strings of euros)."""

    invoice_number: str
    status: str
    care_date: datetime.date
    total_billed: str
    total_amo: str
    total_amc: str
    total_rac: str
    reasons: list[dict[str, Any]] = []
    events: list[EventOut] = []
    replacement: str | None = None


class CorrectionErrorOut(Schema):
    """A refusal: ``code`` (not_found, not_allowed, refused, invalid), French ``message``,
    the ``field`` at fault, a rejected replacement's ``problems``."""

    code: str
    message: str
    field: str | None = None
    problems: list[dict[str, Any]] = []


def _event(event: InvoiceEvent) -> EventOut:
    return EventOut(
        kind=event.kind,
        label=event.get_kind_display(),
        at=event.at,
        actor=event.actor_kind,
        reason=event.reason,
        reason_codes=list(event.reason_codes),
        amount=None if event.amount is None else f"{event.amount:.2f}",
        reference=event.reference,
        value_date=event.value_date,
        deadline=event.deadline,
        related=event.related.invoice_number if event.related is not None else None,
    )


def invoice_out(invoice: Invoice, replacement: Invoice | None = None) -> InvoiceOut:
    """The API form of ``invoice`` and its events."""
    return InvoiceOut(
        invoice_number=invoice.invoice_number,
        status=invoice.status,
        care_date=invoice.care_date,
        total_billed=f"{invoice.total_billed:.2f}",
        total_amo=f"{invoice.total_amo:.2f}",
        total_amc=f"{invoice.total_amc:.2f}",
        total_rac=f"{invoice.total_rac:.2f}",
        reasons=[r for r in invoice.reasons if isinstance(r, dict)],
        events=[_event(e) for e in timeline(invoice)],
        replacement=replacement.invoice_number if replacement is not None else None,
    )


def _refusal(exc: Exception) -> Status[CorrectionErrorOut]:
    if isinstance(exc, InvoiceNotFound):
        return Status(404, CorrectionErrorOut(code="not_found", message=exc.message))
    if isinstance(exc, TransitionRefused):
        return Status(409, CorrectionErrorOut(code="not_allowed", message=str(exc)))
    if isinstance(exc, LotFormatError):
        return Status(
            422, CorrectionErrorOut(code="invalid", message=str(exc), field=f"invoice.{exc.field}")
        )
    assert isinstance(exc, CorrectionRefused)
    return Status(
        422,
        CorrectionErrorOut(
            code="refused", message=exc.message, field=exc.field or None, problems=exc.problems
        ),
    )


_ANSWERS: dict[int, Any] = {
    200: InvoiceOut,
    401: CorrectionErrorOut,
    404: CorrectionErrorOut,
    409: CorrectionErrorOut,
    422: CorrectionErrorOut,
}
_REFUSALS = (InvoiceNotFound, TransitionRefused, CorrectionRefused, LotFormatError)


@invoices_router.get(
    "/invoices/{invoice_number}",
    auth=CLAIMS,
    response={200: InvoiceOut, 401: CorrectionErrorOut, 404: CorrectionErrorOut},
    summary="One of your invoices: state and events",
)
def get_invoice(request: HttpRequest, invoice_number: str):  # type: ignore[no-untyped-def]
    invoice = invoice_of(request.auth.pk, invoice_number)  # type: ignore[attr-defined]
    if invoice is None:
        return _refusal(InvoiceNotFound(invoice_number))
    return Status(200, invoice_out(invoice))


@invoices_router.post(
    "/invoices/{invoice_number}/cancel",
    auth=CLAIMS,
    response=_ANSWERS,
    summary="Cancel one of your invoices (after payment: an overpayment to recover)",
)
def cancel(request: HttpRequest, invoice_number: str, payload: ReasonIn):  # type: ignore[no-untyped-def]
    try:
        done = cancel_invoice(
            request.auth,  # type: ignore[attr-defined]
            invoice_number,
            reason=payload.reason,
            now=timezone.now(),
        )
    except _REFUSALS as exc:
        return _refusal(exc)
    return Status(200, invoice_out(done.invoice))


@invoices_router.post(
    "/invoices/{invoice_number}/rectify",
    auth=CLAIMS,
    response=_ANSWERS,
    summary="Replace one of your invoices by a new one (same patient, new number)",
)
def rectify(request: HttpRequest, invoice_number: str, payload: RectifyIn):  # type: ignore[no-untyped-def]
    try:
        replacement = invoice_from_json(payload.invoice.model_dump())
        done = rectify_invoice(
            request.auth,  # type: ignore[attr-defined]
            invoice_number,
            replacement,
            reason=payload.reason,
            keys=settings.TIERSPAYANT_KEYRING.encryption,
            tables_dir=settings.TIERSPAYANT_GUARANTEE_TABLES_DIR,
            now=timezone.now(),
        )
    except _REFUSALS as exc:
        return _refusal(exc)
    return Status(200, invoice_out(done.invoice, done.replacement))


@invoices_router.post(
    "/invoices/{invoice_number}/dispute",
    auth=CLAIMS,
    response=_ANSWERS,
    summary="Dispute a rejection or a payment of one of your invoices",
)
def dispute(request: HttpRequest, invoice_number: str, payload: ReasonIn):  # type: ignore[no-untyped-def]
    try:
        done = dispute_invoice(
            request.auth,  # type: ignore[attr-defined]
            invoice_number,
            reason=payload.reason,
            now=timezone.now(),
        )
    except _REFUSALS as exc:
        return _refusal(exc)
    return Status(200, invoice_out(done.invoice))
