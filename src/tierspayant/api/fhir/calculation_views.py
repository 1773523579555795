"""``POST /fhir/r4/Claim`` with ``use = predetermination``: the calculation (CLC)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tierspayant.api.auth import professional_from_request
from tierspayant.api.fhir.calculation import parse_predetermination, predetermination_response
from tierspayant.api.fhir.eligibility import FhirError
from tierspayant.api.fhir.responses import (
    fhir_response,
    guard_outcome,
    outcome_response,
    request_body,
)
from tierspayant.audit.choices import Channel
from tierspayant.audit.context import request_context
from tierspayant.calculations.services import (
    CalculationUnavailable,
    InvalidCalculation,
    calculate,
)
from tierspayant.eligibility.services import InvalidRightsCheck
from tierspayant.guard.services import (
    GuardRefusal,
)
from tierspayant.providers.choices import Scope

_EXPRESSION = {
    "nir": "Patient.identifier",
    "birth_date": "Patient.birthDate",
    "amc_number": "Claim.insurer.identifier",
    "member_number": "Coverage.subscriberId",
    "convention_type": "Coverage.class",
    "routing_criterion": "Coverage.class",
    "domain": "Claim.item.productOrService",
}


def predetermination(request: HttpRequest) -> HttpResponse:
    """A predetermination Claim (token scope ``eligibility:check``): ClaimResponse, or an
    OperationOutcome (400/401/403/422/429/503) naming the element."""
    professional = professional_from_request(request, Scope.ELIGIBILITY_CHECK)
    if professional is None:
        return outcome_response(
            FhirError(401, "login", "Jeton d'API absent, invalide, expiré ou sans le droit "
                      "eligibility:check.")
        )  # fmt: skip
    base: str = settings.TIERSPAYANT_FHIR_BASE_URL
    now = timezone.now()
    try:
        parsed = parse_predetermination(request_body(request), base=base)
        answer = calculate(
            settings.TIERSPAYANT_KEYRING,
            professional=professional,
            query=parsed.query,
            invoice=parsed.invoice,
            context=request_context(request, Channel.FHIR),
            now=now,
            today=timezone.localdate(),
            quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
            tables_dir=settings.TIERSPAYANT_GUARANTEE_TABLES_DIR,
            daily_quota=settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA,
            policy=settings.TIERSPAYANT_GUARD_POLICY,
        )
    except FhirError as exc:
        return outcome_response(exc)
    except InvalidCalculation as exc:
        first = exc.problems[0]
        line = first.get("line")
        where = f"Claim.item[{int(str(line)) - 1}]" if line else "Claim"
        return outcome_response(FhirError(400, "invalid", str(first["message"]), where))
    except InvalidRightsCheck as exc:
        return outcome_response(FhirError(400, "invalid", exc.message, _EXPRESSION.get(exc.field)))
    except CalculationUnavailable as exc:
        return outcome_response(FhirError(503, "transient", exc.message))
    except GuardRefusal as exc:
        return guard_outcome(exc)
    return fhir_response(predetermination_response(answer, parsed.invoice, base=base, created=now))
