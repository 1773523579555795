"""HTTP responses of the FHIR endpoints: FHIR JSON bodies and OperationOutcome errors."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

from tierspayant.api.fhir.eligibility import FhirError, operation_outcome

FHIR_JSON = "application/fhir+json; charset=utf-8"


def fhir_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    """``body`` (a FHIR resource as a dict) as ``application/fhir+json`` UTF-8."""
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=FHIR_JSON)


def outcome_response(error: FhirError) -> HttpResponse:
    """The OperationOutcome for ``error`` with its HTTP status; a 401 names the Bearer scheme
    (RFC 6750 §3)."""
    response = fhir_response(operation_outcome(error), error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="tierspayant"'
    return response
