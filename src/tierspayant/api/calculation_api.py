"""``POST /api/v1/calculations`` (CLC): the AMC amount of invoice lines before billing.

The patient is named by the attestation's keys (v2 rights check, through the gate, purpose
``calculation``); the lines are those of the coming invoice (amounts in euros, rates in
percent). The answer gives each line's AMO (as stated), AMC and remaining cost and the
engagement to quote on the invoice. Errors name the field and never echo a value.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from tierspayant.api.auth import EligibilityBearer
from tierspayant.api.schemas import ErrorOut
from tierspayant.audit.choices import Channel
from tierspayant.audit.context import request_context
from tierspayant.calculations.services import (
    CalculationUnavailable,
    InvalidCalculation,
    calculate,
)
from tierspayant.coverage import SanteClass
from tierspayant.eligibility.services import RightsCheckInput
from tierspayant.invoices.choices import CodeSystem
from tierspayant.invoices.inputs import InvoiceInput, LineInput

calculation_router = Router(tags=["calculations"])
ZERO = Decimal("0.00")


class CalculationLineIn(Schema):
    """One line of the coming invoice, as ``invoices.inputs.LineInput``."""

    code_system: CodeSystem
    code: str = Field(max_length=20)
    quantity: int = Field(ge=1, le=9999)
    unit_price: Decimal = Field(max_digits=12, decimal_places=2)
    billed: Decimal = Field(max_digits=12, decimal_places=2)
    br: Decimal = Field(max_digits=12, decimal_places=2)
    amo_rate: Decimal = Field(max_digits=5, decimal_places=2)
    amo_paid: Decimal = Field(max_digits=12, decimal_places=2)
    participation_forfaitaire: Decimal = Field(default=ZERO, max_digits=12, decimal_places=2)
    franchise: Decimal = Field(default=ZERO, max_digits=12, decimal_places=2)
    coefficient: Decimal | None = Field(default=None, max_digits=7, decimal_places=2)
    sante_class: SanteClass | None = None
    price_limit: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)


class CalculationIn(Schema):
    """The patient as read from the attestation, and the coming invoice's header and lines.
    ``domain`` may be left out when every line belongs to one domain."""

    nir: str = Field(max_length=40)
    birth_date: str = Field(max_length=10)
    rang: int | None = None
    amc_number: str = Field(max_length=10)
    member_number: str = Field(max_length=40)
    convention_type: str | None = Field(default=None, max_length=10)
    routing_criterion: str | None = Field(default=None, max_length=20)
    domain: str | None = Field(default=None, max_length=20)
    care_date: datetime.date
    insurance_nature: str = Field(default="10", max_length=4)
    exemption: str = Field(default="0", max_length=4)
    amo_regime: str = Field(default="1", max_length=4)
    local_regime: str = Field(default="0", max_length=4)
    prescriber_rpps: str = Field(default="", max_length=11)
    prescription_date: datetime.date | None = None
    lines: list[CalculationLineIn] = Field(min_length=1, max_length=200)


class CalculationLineOut(Schema):
    line: int
    family: str
    amo: Decimal
    amc: Decimal
    rac: Decimal
    reasons: list[str]


class CalculationOut(Schema):
    """``outcome`` as a rights check; when covered for the domain: the lines' split, the
    totals, the domain's rules and the engagement to quote on the invoice."""

    outcome: str
    care_date: datetime.date
    domain: str
    reference: int
    engagement: str | None = None
    engagement_expires_at: datetime.datetime | None = None
    lines: list[CalculationLineOut] = []
    total_amc: Decimal | None = None
    total_rac: Decimal | None = None
    domain_rules: list[dict[str, object]] = []


def _invoice(payload: CalculationIn) -> InvoiceInput:
    lines = tuple(LineInput(**line.dict()) for line in payload.lines)
    return InvoiceInput(
        invoice_number="CLC",
        care_date=payload.care_date,
        insurance_nature=payload.insurance_nature,
        exemption=payload.exemption,
        amo_regime=payload.amo_regime,
        local_regime=payload.local_regime,
        prescriber_rpps=payload.prescriber_rpps,
        prescription_date=payload.prescription_date,
        total_billed=sum((line.billed for line in lines), ZERO),
        total_amo=sum((line.amo_paid for line in lines), ZERO),
        lines=lines,
    )


@calculation_router.post(
    "/calculations",
    auth=EligibilityBearer(),
    response={
        200: CalculationOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        429: ErrorOut,
        503: ErrorOut,
    },
    summary="Calculation (CLC): the AMC amount of invoice lines before billing",
)
def calculation(request: HttpRequest, payload: CalculationIn):  # type: ignore[no-untyped-def]
    """Identify the patient (v2 rights check, logged, counted) and price the lines."""
    try:
        answer = calculate(
            settings.TIERSPAYANT_KEYRING,
            professional=request.auth,  # type: ignore[attr-defined]
            query=RightsCheckInput(
                nir=payload.nir,
                birth_date=payload.birth_date,
                rang=payload.rang,
                amc_number=payload.amc_number,
                member_number=payload.member_number,
                convention_type=payload.convention_type,
                routing_criterion=payload.routing_criterion,
                domain=payload.domain,
            ),
            invoice=_invoice(payload),
            context=request_context(request, Channel.API),
            now=timezone.now(),
            today=timezone.localdate(),
            quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
            tables_dir=settings.TIERSPAYANT_GUARANTEE_TABLES_DIR,
            daily_quota=settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA,
            policy=settings.TIERSPAYANT_GUARD_POLICY,
        )
    except InvalidCalculation as exc:
        first = exc.problems[0]
        return Status(
            400, {"code": "invalid", "message": first["message"], "field": first["field"]}
        )
    except CalculationUnavailable as exc:
        return Status(503, {"code": "unavailable", "message": exc.message})
    result = answer.result
    return CalculationOut(
        outcome=answer.outcome.value,
        care_date=answer.care_date,
        domain=answer.domain.value,
        reference=answer.log_id,
        engagement=answer.engagement,
        engagement_expires_at=answer.engagement_expires_at,
        lines=[
            CalculationLineOut(
                line=number,
                family=str(item.family),
                amo=item.amo,
                amc=item.amc,
                rac=item.rac,
                reasons=[str(code) for code in item.reasons],
            )
            for number, item in enumerate(result.lines if result else (), start=1)
        ],
        total_amc=result.totals.amc if result else None,
        total_rac=result.totals.rac if result else None,
        domain_rules=answer.domain_rules,
    )
