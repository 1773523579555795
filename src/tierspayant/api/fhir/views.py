"""``/fhir/r4/`` endpoints: thin views over the eligibility service."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from tierspayant.api.auth import professional_from_request
from tierspayant.api.fhir.eligibility import (
    FhirError,
    eligibility_response,
    parse_eligibility_request,
    provider_matches,
)
from tierspayant.api.fhir.responses import (
    fhir_response,
    guard_outcome,
    outcome_response,
    request_body,
)
from tierspayant.audit.choices import Channel
from tierspayant.audit.context import request_context
from tierspayant.eligibility.services import InvalidRightsCheck, check_rights
from tierspayant.guard.services import (
    GuardRefusal,
)
from tierspayant.providers.choices import Scope

_FIELD_EXPRESSION = {
    "nir": "Patient.identifier",
    "birth_date": "Patient.birthDate",
    "rang": "Patient.extension",
    "amc_number": "CoverageEligibilityRequest.insurer.identifier",
    "care_date": "CoverageEligibilityRequest.servicedDate",
    "member_number": "Coverage.subscriberId",
    "convention_type": "Coverage.class",
    "routing_criterion": "Coverage.class",
    "domain": "CoverageEligibilityRequest.item.category",
}


@csrf_exempt
@require_POST
def coverage_eligibility_request(request: HttpRequest) -> HttpResponse:
    """POST a CoverageEligibilityRequest; answer a CoverageEligibilityResponse, or an
    OperationOutcome (400/401/403/422/429/503) naming the problem."""
    professional = professional_from_request(request, Scope.ELIGIBILITY_CHECK)
    if professional is None:
        return outcome_response(FhirError(401, "login", "Jeton d'API absent, invalide ou expiré."))
    base: str = settings.TIERSPAYANT_FHIR_BASE_URL
    context = request_context(request, Channel.FHIR)
    try:
        parsed = parse_eligibility_request(request_body(request), base=base)
        if not provider_matches(parsed.provider_ids, professional):
            raise FhirError(
                403,
                "forbidden",
                "provider ne correspond pas au professionnel titulaire du jeton.",
                "CoverageEligibilityRequest.provider",
            )
        result = check_rights(
            settings.TIERSPAYANT_KEYRING,
            professional=professional,
            query=parsed.query,
            context=context,
            now=timezone.now(),
            today=timezone.localdate(),
            quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
            daily_quota=settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA,
            policy=settings.TIERSPAYANT_GUARD_POLICY,
            tables_dir=settings.TIERSPAYANT_GUARANTEE_TABLES_DIR,
        )
    except FhirError as exc:
        return outcome_response(exc)
    except InvalidRightsCheck as exc:
        return outcome_response(
            FhirError(400, "invalid", exc.message, _FIELD_EXPRESSION.get(exc.field))
        )
    except GuardRefusal as exc:
        return guard_outcome(exc)
    return fhir_response(
        eligibility_response(
            result, parsed, base=base, request_id=str(context.request_id), created=timezone.now()
        )
    )


@require_GET
def capability_statement(request: HttpRequest) -> HttpResponse:
    """``GET /fhir/r4/metadata``: what this server supports."""
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    statement = CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-29",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "implementation": {"description": "tierspayant FHIR R4 API"},
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "description": "Authorization: Bearer <jeton d'API du professionnel>"
                    },
                    "resource": [
                        {"type": "CoverageEligibilityRequest", "interaction": [{"code": "create"}]},
                        {"type": "Claim", "interaction": [{"code": "create"}]},
                        {"type": "PaymentReconciliation", "interaction": [{"code": "read"}]},
                        {"type": "Task", "interaction": [{"code": "create"}]},
                        {
                            "type": "ClaimResponse",
                            "interaction": [{"code": "search-type"}],
                            "searchParam": [
                                {"name": "lot", "type": "number"},
                                {
                                    "name": "_cursor",
                                    "type": "number",
                                    "documentation": "Lignes de retour après ce curseur "
                                    "(docs/returns.md) ; suivre le lien next du Bundle.",
                                },
                            ],
                        },
                        {
                            "type": "AuditEvent",
                            "interaction": [{"code": "search-type"}],
                            "searchParam": [
                                {"name": "patient.identifier", "type": "token"},
                                {"name": "birthdate", "type": "date"},
                            ],
                        },
                    ],
                }
            ],
        }
    )
    return fhir_response(json.loads(statement.model_dump_json(exclude_none=True)))
