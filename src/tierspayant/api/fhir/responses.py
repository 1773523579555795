"""HTTP responses of the FHIR endpoints: FHIR JSON bodies and OperationOutcome errors."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException

from tierspayant.api.fhir.eligibility import FhirError, operation_outcome
from tierspayant.guard.errors import (
    AccountSuspended,
    GuardRefusal,
    GuardUnavailable,
    QuotaExceeded,
)

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


def request_body(request: HttpRequest) -> bytes:
    """The raw body of a FHIR POST, or ``b""`` when a form body (multipart) was already
    read as a form by the request-limits middleware: the caller then answers its "not a FHIR
    resource" OperationOutcome instead of failing (never a 500 on any input)."""
    try:
        return request.body
    except RawPostDataException:
        return b""


def guard_outcome(refusal: GuardRefusal) -> HttpResponse:
    """The OperationOutcome of a guard refusal: 429 throttled (a quota spent), 503 transient
    (the counter store is down: refused, fail closed), 403 suspended, else 403 forbidden."""
    if isinstance(refusal, QuotaExceeded):
        return outcome_response(FhirError(429, "throttled", refusal.message))
    if isinstance(refusal, GuardUnavailable):
        return outcome_response(FhirError(503, "transient", refusal.message))
    if isinstance(refusal, AccountSuspended):
        return outcome_response(FhirError(403, "suspended", refusal.message))
    return outcome_response(FhirError(403, "forbidden", refusal.message))
