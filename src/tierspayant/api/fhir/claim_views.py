"""``/fhir/r4/Claim`` and ``/fhir/r4/PaymentReconciliation/<id>``: thin views over the
prior-approval, claims and payments services."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from tierspayant.api.auth import professional_from_request
from tierspayant.api.fhir.calculation import is_predetermination
from tierspayant.api.fhir.calculation_views import predetermination
from tierspayant.api.fhir.claim import (
    claim_response,
    parse_claim,
    payment_reconciliation,
    preauthorization_response,
)
from tierspayant.api.fhir.eligibility import FhirError, provider_matches
from tierspayant.api.fhir.rectify_views import prior_invoice_number, rectification
from tierspayant.api.fhir.responses import (
    fhir_response,
    guard_outcome,
    outcome_response,
    request_body,
)
from tierspayant.audit.choices import Channel
from tierspayant.audit.context import request_context
from tierspayant.claims.selectors import claim_of
from tierspayant.claims.services import submit_claim
from tierspayant.guard.services import (
    GuardRefusal,
)
from tierspayant.payments.models import Statement
from tierspayant.payments.selectors import statement_of, transfers_of
from tierspayant.priorauth.adjudication import GuaranteeTableMissing
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.gate import BeneficiaryNotFound
from tierspayant.priorauth.lpp import InvalidCareRequest
from tierspayant.priorauth.selectors import approval_of
from tierspayant.priorauth.services import request_prior_approval
from tierspayant.providers.choices import Scope

_EXPRESSION = {
    "nir": "Patient.identifier",
    "birth_date": "Patient.birthDate",
    "rang": "Patient.extension",
    "amc_number": "Claim.insurer.identifier",
    "planned_date": "Claim.item.servicedDate",
    "care_date": "Claim.item.servicedDate",
    "invoice_number": "Claim.identifier",
    "approval_number": "Claim.insurance.preAuthRef",
    "prescription": "Claim.prescription",
}


def _expression(field: str) -> str:
    if field.startswith("lines["):
        index = field[6 : field.index("]")]
        rest = field.split(".", 1)[1] if "." in field else ""
        element = {"billed": "net", "code": "productOrService", "side": "bodySite"}.get(rest, "")
        return f"Claim.item[{index}]" + (f".{element}" if element else "")
    if field == "prescription.audiogram_on":
        return "Claim.supportingInfo"  # category audiogram, timingDate
    if field.startswith("prescription."):
        parts = field.split(".")
        if parts[1] in ("right", "left"):  # prescription.right.sphere -> lensSpecification
            element = {"addition": "add"}.get(parts[2], parts[2]) if len(parts) > 2 else ""
            return f"VisionPrescription.lensSpecification.where(eye='{parts[1]}')" + (
                f".{element}" if element else ""
            )
        return "Claim.prescription"
    return _EXPRESSION.get(field, "Claim")


@csrf_exempt
@require_POST
def claim(request: HttpRequest) -> HttpResponse:
    """POST a Claim (preauthorization or claim); answer a ClaimResponse, or an
    OperationOutcome (400/401/403/404/422/429/503) naming the problem. A Claim of use
    ``predetermination`` is a calculation (CLC): ``calculation_views.predetermination``; a
    Claim whose ``related.relationship`` is ``prior`` rectifies an invoice
    (``rectify_views.rectification``)."""
    if is_predetermination(request_body(request)):
        return predetermination(request)
    professional = professional_from_request(request, Scope.CLAIMS_SUBMIT)
    if professional is None:
        return outcome_response(
            FhirError(
                401, "login", "Jeton d'API absent, invalide, expiré ou sans le droit claims:submit."
            )
        )
    rectifying = prior_invoice_number(request_body(request))
    if rectifying is not None:  # related.relationship = prior: a rectification (issue 16)
        return rectification(request, professional, *rectifying)
    base: str = settings.TIERSPAYANT_FHIR_BASE_URL
    now = timezone.now()
    today = timezone.localdate()
    try:
        parsed = parse_claim(request_body(request), base=base)
        if parsed.provider_ids and not provider_matches(parsed.provider_ids, professional):
            raise FhirError(
                403,
                "forbidden",
                "provider ne correspond pas au titulaire du jeton.",
                "Claim.provider",
            )
        config = CareConfig.from_settings(settings)
        context = request_context(request, Channel.FHIR)
        if parsed.use == "preauthorization":
            approval = request_prior_approval(
                config,
                professional=professional,
                identity=parsed.identity,
                planned_date=parsed.care_date or today,
                lines=parsed.lines,
                context=context,
                now=now,
                today=today,
                prescription=parsed.prescription,
            )
            return fhir_response(
                preauthorization_response(
                    approval_of(professional, pk=approval.pk), base=base, created=now
                ),
                201,
            )
        if not parsed.invoice_number:
            raise FhirError(
                422, "required", "Numéro de facture absent (identifier).", "Claim.identifier"
            )
        submitted = submit_claim(
            config,
            professional=professional,
            identity=parsed.identity,
            invoice_number=parsed.invoice_number,
            care_date=parsed.care_date or today,
            lines=parsed.lines,
            approval_number=parsed.approval_number,
            context=context,
            now=now,
            today=today,
        )
        body = claim_response(claim_of(professional, submitted.claim.pk), base=base, created=now)
        return fhir_response(body, 201 if submitted.created else 200)
    except FhirError as exc:
        return outcome_response(exc)
    except InvalidCareRequest as exc:
        return outcome_response(FhirError(400, "invalid", exc.message, _expression(exc.field)))
    except BeneficiaryNotFound as exc:
        return outcome_response(FhirError(404, "not-found", exc.message, "Claim.patient"))
    except GuaranteeTableMissing as exc:
        return outcome_response(FhirError(503, "transient", exc.message))
    except GuardRefusal as exc:
        return guard_outcome(exc)


@require_GET
def payment_reconciliation_read(request: HttpRequest, statement_id: int) -> HttpResponse:
    """``GET /fhir/r4/PaymentReconciliation/<id>``: one of the token owner's statements
    (scope ``payments:read``); another professional's id is a 404."""
    professional = professional_from_request(request, Scope.PAYMENTS_READ)
    if professional is None:
        return outcome_response(
            FhirError(
                401, "login", "Jeton d'API absent, invalide, expiré ou sans le droit payments:read."
            )
        )
    try:
        statement = statement_of(professional, statement_id)
    except Statement.DoesNotExist:
        return outcome_response(FhirError(404, "not-found", "Relevé inconnu."))
    return fhir_response(
        payment_reconciliation(
            statement, list(transfers_of(statement)), base=settings.TIERSPAYANT_FHIR_BASE_URL
        )
    )
