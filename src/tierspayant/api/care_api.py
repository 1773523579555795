"""``/api/v1/`` care endpoints for practice software: prior approvals, claims, statements.

A token with the ``claims:submit`` scope submits and reads approvals and claims; one with
``payments:read`` lists statements. Every object is the token owner's: another
professional's id or number is a 404. Amounts are strings in euros (``"12.34"``). Errors
name the field and never echo a submitted value. Guard refusals (quota, suspension,
lockdown, unavailable counters) are answered by the API's own handlers (429/403/503).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.security import HttpBearer
from pydantic import Field

from tierspayant.audit.choices import Channel
from tierspayant.audit.context import request_context
from tierspayant.claims.models import Claim
from tierspayant.claims.selectors import claim_of
from tierspayant.claims.services import submit_claim
from tierspayant.payments.selectors import statements_of
from tierspayant.priorauth.adjudication import GuaranteeTableMissing
from tierspayant.priorauth.choices import reason_label
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.gate import BeneficiaryNotFound, Identity
from tierspayant.priorauth.lpp import InvalidCareRequest, LineInput
from tierspayant.priorauth.models import CareLine, PriorApproval
from tierspayant.priorauth.selectors import approval_of
from tierspayant.priorauth.services import (
    ApprovalNotCancellable,
    cancel_prior_approval,
    request_prior_approval,
)
from tierspayant.providers.choices import Scope
from tierspayant.providers.models import Professional
from tierspayant.providers.services import InvalidToken, authenticate_token


class ScopedBearer(HttpBearer):
    """A bearer token holding ``scope``."""

    def __init__(self, scope: Scope) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> Professional | None:
        try:
            return authenticate_token(token, scope=self.scope, now=timezone.now())
        except InvalidToken:
            return None


care_router = Router(tags=["care"])
CLAIMS = ScopedBearer(Scope.CLAIMS_SUBMIT)
PAYMENTS = ScopedBearer(Scope.PAYMENTS_READ)


class PatientIn(Schema):
    """The patient as on the card."""

    nir: str = Field(description="NIR on the card, 15 characters with key")
    birth_date: str = Field(description="YYYY-MM-DD")
    rang: int | None = Field(default=None, description="Rang de naissance (1-9), for twins")
    amc_number: str | None = None


class LineIn(Schema):
    """A quote or invoice line: LPP or dental CCAM code, billed euros, side (lenses:
    right/left), tooth (dental: FDI number)."""

    code: str
    billed: str = Field(description='Euros, e.g. "120.00"')
    side: str | None = None
    sante_class: str | None = Field(default=None, description="Checked against the code")
    tooth: str | None = Field(default=None, description='Dental lines: FDI tooth, e.g. "11"')


class EyeIn(Schema):
    """One eye's correction, dioptres in steps of 0.25 (cylinder in positive notation)."""

    sphere: str | None = Field(default=None, description='e.g. "-2.25" (-30 to +30)')
    cylinder: str | None = Field(default=None, description='e.g. "0.50" (0 to +10)')
    axis: str | None = Field(default=None, description="Degrees, 0 to 180 (with a cylinder)")
    addition: str | None = Field(default=None, description='e.g. "1.50" (+0.50 to +4.00)')


class PrescriptionIn(Schema):
    """The prescription: prescriber's RPPS and date; glasses: correction per eye (drives
    the lens-band checks); hearing aids: audiogram date; renewal_reason: correction_change,
    frame_unfit or medical_case."""

    prescriber_rpps: str | None = Field(default=None, description="11 digits, Luhn key")
    prescribed_on: str | None = Field(default=None, description="YYYY-MM-DD")
    right: EyeIn | None = None
    left: EyeIn | None = None
    audiogram_on: str | None = Field(default=None, description="YYYY-MM-DD (hearing aids)")
    renewal_reason: str | None = None


class ApprovalIn(Schema):
    """A quote to decide."""

    patient: PatientIn
    planned_date: str = Field(description="Planned date of the equipment, YYYY-MM-DD")
    quote_reference: str = ""
    lines: list[LineIn]
    prescription: PrescriptionIn | None = None


class ClaimIn(Schema):
    """An invoice; ``invoice_number`` is yours (resubmitting it is idempotent)."""

    patient: PatientIn
    invoice_number: str
    care_date: str
    approval_number: str = ""
    lines: list[LineIn]


class ReasonOut(Schema):
    code: str
    label: str


class LineOut(Schema):
    position: int
    code: str
    label: str
    side: str
    billed: str
    amo: str
    amc: str
    rac: str
    reasons: list[ReasonOut]


class TotalsOut(Schema):
    billed: str
    amo: str
    amc: str
    rac: str


class ApprovalOut(Schema):
    """A decided quote: ``decision`` accepted, partial, refused, or pending (the insurer
    reviews it before ``review_deadline``, UTC); ``status`` open, used or cancelled;
    ``number`` to quote on the invoice before ``expires_on``."""

    number: str
    decision: str
    status: str
    planned_date: datetime.date
    expires_on: datetime.date
    review_deadline: datetime.datetime | None = None
    amc_number: str
    reasons: list[ReasonOut]
    totals: TotalsOut
    lines: list[LineOut]


class ClaimOut(Schema):
    """An adjudicated invoice: ``status`` accepted, rejected or paid."""

    id: int
    invoice_number: str
    status: str
    care_date: datetime.date
    approval_number: str
    amc_number: str
    reasons: list[ReasonOut]
    totals: TotalsOut
    lines: list[LineOut]


class StatementOut(Schema):
    id: int
    run: str
    execution_date: datetime.date
    claim_count: int
    total: str


class CareErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


def _e(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _reasons(codes: list[str]) -> list[ReasonOut]:
    return [ReasonOut(code=code, label=reason_label(code)) for code in codes]


def _lines(lines: list[CareLine]) -> list[LineOut]:
    return [
        LineOut(
            position=line.position,
            code=line.code,
            label=line.label,
            side=line.side,
            billed=_e(line.billed),
            amo=_e(line.amo),
            amc=_e(line.amc),
            rac=_e(line.rac),
            reasons=_reasons(line.reasons),
        )
        for line in lines
    ]


def _totals(obj: PriorApproval | Claim) -> TotalsOut:
    return TotalsOut(
        billed=_e(obj.total_billed),
        amo=_e(obj.total_amo),
        amc=_e(obj.total_amc),
        rac=_e(obj.total_rac),
    )


def approval_out(approval: PriorApproval) -> ApprovalOut:
    """The JSON form of an approval."""
    return ApprovalOut(
        number=approval.number,
        decision=approval.decision,
        status=approval.status,
        planned_date=approval.planned_date,
        expires_on=approval.expires_on,
        review_deadline=approval.review_deadline,
        amc_number=approval.insurer.amc_number,
        reasons=_reasons(approval.reasons),
        totals=_totals(approval),
        lines=_lines(list(approval.lines.all())),
    )


def claim_out(claim: Claim) -> ClaimOut:
    """The JSON form of a claim."""
    return ClaimOut(
        id=claim.pk,
        invoice_number=claim.invoice_number,
        status=claim.status,
        care_date=claim.care_date,
        approval_number=claim.approval_number,
        amc_number=claim.insurer.amc_number,
        reasons=_reasons(claim.reasons),
        totals=_totals(claim),
        lines=_lines(list(claim.lines.all())),
    )


def _identity(patient: PatientIn) -> Identity:
    return Identity(
        nir=patient.nir,
        birth_date=patient.birth_date,
        rang=patient.rang,
        amc_number=patient.amc_number,
    )


def _line_inputs(lines: list[LineIn]) -> list[LineInput]:
    return [
        LineInput(
            code=line.code,
            billed=line.billed,
            side=line.side,
            sante_class=line.sante_class,
            tooth=line.tooth,
        )
        for line in lines
    ]


def _care_error(exc: Exception) -> Status[CareErrorOut]:
    if isinstance(exc, InvalidCareRequest):
        return Status(400, CareErrorOut(code="invalid", field=exc.field, message=exc.message))
    if isinstance(exc, BeneficiaryNotFound):
        return Status(404, CareErrorOut(code="no_match", message=exc.message))
    assert isinstance(exc, GuaranteeTableMissing)
    return Status(503, CareErrorOut(code="unavailable", message=exc.message))


_ERRORS = {
    400: CareErrorOut,
    401: CareErrorOut,
    403: CareErrorOut,
    404: CareErrorOut,
    409: CareErrorOut,
    429: CareErrorOut,
    503: CareErrorOut,
}


@care_router.post(
    "/prior-approvals",
    auth=CLAIMS,
    response={201: ApprovalOut, **_ERRORS},
    summary="Prior approval (PEC): decide a quote at once",
)
def create_prior_approval(request: HttpRequest, payload: ApprovalIn):  # type: ignore[no-untyped-def]
    """Decide a quote; logs one disclosure row (the rights check on the planned date)."""
    try:
        approval = request_prior_approval(
            CareConfig.from_settings(settings),
            professional=request.auth,  # type: ignore[attr-defined]
            identity=_identity(payload.patient),
            planned_date=payload.planned_date,
            lines=_line_inputs(payload.lines),
            quote_reference=payload.quote_reference,
            context=request_context(request, Channel.API),
            now=timezone.now(),
            today=timezone.localdate(),
            prescription=(
                payload.prescription.model_dump(exclude_none=True) if payload.prescription else None
            ),
        )
    except (InvalidCareRequest, BeneficiaryNotFound, GuaranteeTableMissing) as exc:
        return _care_error(exc)
    return Status(201, approval_out(approval))


@care_router.get(
    "/prior-approvals/{number}",
    auth=CLAIMS,
    response={200: ApprovalOut, 404: CareErrorOut},
    summary="One of your approvals",
)
def get_prior_approval(request: HttpRequest, number: str):  # type: ignore[no-untyped-def]
    try:
        approval = approval_of(request.auth, number=number)  # type: ignore[attr-defined]
    except PriorApproval.DoesNotExist:
        return Status(404, CareErrorOut(code="not_found", message="Accord inconnu."))
    return Status(200, approval_out(approval))


@care_router.post(
    "/prior-approvals/{number}/cancel",
    auth=CLAIMS,
    response={200: ApprovalOut, 404: CareErrorOut, 409: CareErrorOut},
    summary="Cancel one of your open approvals",
)
def cancel_approval(request: HttpRequest, number: str):  # type: ignore[no-untyped-def]
    try:
        approval = approval_of(request.auth, number=number)  # type: ignore[attr-defined]
        approval = cancel_prior_approval(
            professional=request.auth,  # type: ignore[attr-defined]
            approval=approval,
            now=timezone.now(),
        )
    except PriorApproval.DoesNotExist:
        return Status(404, CareErrorOut(code="not_found", message="Accord inconnu."))
    except ApprovalNotCancellable as exc:
        return Status(409, CareErrorOut(code="not_cancellable", message=exc.message))
    return Status(200, approval_out(approval_of(request.auth, pk=approval.pk)))  # type: ignore[attr-defined]


@care_router.post(
    "/claims",
    auth=CLAIMS,
    response={200: ClaimOut, 201: ClaimOut, **_ERRORS},
    summary="Submit an invoice (adjudicated at once; idempotent on invoice_number)",
)
def create_claim(request: HttpRequest, payload: ClaimIn):  # type: ignore[no-untyped-def]
    """201 with the new claim; 200 with the first one when the same invoice is resubmitted."""
    try:
        submitted = submit_claim(
            CareConfig.from_settings(settings),
            professional=request.auth,  # type: ignore[attr-defined]
            identity=_identity(payload.patient),
            invoice_number=payload.invoice_number,
            care_date=payload.care_date,
            lines=_line_inputs(payload.lines),
            approval_number=payload.approval_number,
            context=request_context(request, Channel.API),
            now=timezone.now(),
            today=timezone.localdate(),
        )
    except (InvalidCareRequest, BeneficiaryNotFound, GuaranteeTableMissing) as exc:
        return _care_error(exc)
    claim = claim_of(request.auth, submitted.claim.pk)  # type: ignore[attr-defined]
    return Status((201 if submitted.created else 200), claim_out(claim))


@care_router.get(
    "/claims/{claim_id}",
    auth=CLAIMS,
    response={200: ClaimOut, 404: CareErrorOut},
    summary="One of your claims",
)
def get_claim(request: HttpRequest, claim_id: int):  # type: ignore[no-untyped-def]
    try:
        claim = claim_of(request.auth, claim_id)  # type: ignore[attr-defined]
    except Claim.DoesNotExist:
        return Status(404, CareErrorOut(code="not_found", message="Facture inconnue."))
    return Status(200, claim_out(claim))


@care_router.get(
    "/statements", auth=PAYMENTS, response=list[StatementOut], summary="Your remittance statements"
)
def list_statements(request: HttpRequest) -> list[StatementOut]:
    return [
        StatementOut(
            id=s.pk,
            run=s.run.reference,
            execution_date=s.run.execution_date,
            claim_count=s.claim_count,
            total=_e(s.total),
        )
        for s in statements_of(request.auth)[:200]  # type: ignore[attr-defined]
    ]
