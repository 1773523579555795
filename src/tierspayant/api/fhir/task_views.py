"""``POST /fhir/r4/Task``: cancel or dispute one of the token owner's invoices the FHIR R4
way (issue 16; docs/fhir.md).

R4 has no ProcessRequest any more: the financial module's actions on a claim are ``Task``s
whose ``code`` is from ``http://terminology.hl7.org/CodeSystem/financialtaskcode`` (the
spec's example ``task-example-fm-cancel`` reverses a claim this way). So:

* ``code`` ``cancel`` ("Cancel or reverse a resource, such as a claim"): cancel;
* ``code`` ``reprocess`` ("the processing of a resource, such as a claim, ... is now being
  requested" again): a dispute, staff re-examine the invoice;
* ``focus``: the invoice, ``{"identifier": {"value": "<invoice number>"}}``;
* ``reasonCode.text``: the reason (required, 300 characters at most).

The answer is the Task, ``status`` ``completed``, ``businessStatus.text`` the invoice's new
state and ``output`` its code; or an OperationOutcome: 401, 404 (unknown or another's
invoice), 409 (the state forbids it), 422 (reason, late dispute, malformed Task).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from fhir.resources.R4B.task import Task
from pydantic import ValidationError

from tierspayant.api.auth import professional_from_request
from tierspayant.api.fhir.eligibility import FhirError
from tierspayant.api.fhir.responses import fhir_response, outcome_response, request_body
from tierspayant.corrections.services import (
    CorrectionRefused,
    InvoiceNotFound,
    cancel_invoice,
    dispute_invoice,
)
from tierspayant.invoices.choices import InvoiceStatus
from tierspayant.invoices.lifecycle import TransitionRefused
from tierspayant.providers.choices import Scope

TASK_CODES = "http://terminology.hl7.org/CodeSystem/financialtaskcode"
_ACTIONS = {"cancel": cancel_invoice, "reprocess": dispute_invoice}


def _parse(body: bytes) -> tuple[str, str, str, dict[str, Any]]:
    """(action code, invoice number, reason, the Task as sent) of a valid Task; FhirError."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise FhirError(400, "structure", "Corps JSON illisible.") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Task":
        raise FhirError(400, "structure", "Une ressource Task est attendue.", "Task")
    try:
        Task.model_validate(data)
    except ValidationError as exc:
        where = ".".join(str(p) for p in (exc.errors()[0].get("loc") or ()))
        raise FhirError(
            422, "invalid", "Task invalide.", f"Task.{where}" if where else "Task"
        ) from None
    codes = [
        c.get("code")
        for c in ((data.get("code") or {}).get("coding") or [])
        if isinstance(c, dict) and c.get("system") == TASK_CODES
    ]
    action = next((c for c in codes if c in _ACTIONS), None)
    if action is None:
        raise FhirError(
            422,
            "not-supported",
            "Task.code : cancel ou reprocess (financialtaskcode).",
            "Task.code",
        )
    number = ((data.get("focus") or {}).get("identifier") or {}).get("value")
    if not isinstance(number, str) or not number.strip():
        raise FhirError(
            422, "required", "Facture visée absente (focus.identifier.value).", "Task.focus"
        )
    reasons = data.get("reasonCode") or {}
    reason = reasons.get("text") if isinstance(reasons, dict) else None
    return action, number.strip()[:40], reason if isinstance(reason, str) else "", data


@csrf_exempt
@require_POST
def task(request: HttpRequest) -> HttpResponse:
    """POST a Task cancel / reprocess on an invoice (module docstring)."""
    professional = professional_from_request(request, Scope.CLAIMS_SUBMIT)
    if professional is None:
        return outcome_response(
            FhirError(
                401, "login", "Jeton d'API absent, invalide, expiré ou sans le droit claims:submit."
            )
        )
    try:
        action, number, reason, data = _parse(request_body(request))
        done = _ACTIONS[action](professional, number, reason=reason, now=timezone.now())
    except FhirError as exc:
        return outcome_response(exc)
    except InvoiceNotFound as exc:
        return outcome_response(FhirError(404, "not-found", exc.message, "Task.focus"))
    except TransitionRefused as exc:
        return outcome_response(FhirError(409, "business-rule", str(exc), "Task.focus"))
    except CorrectionRefused as exc:
        where = "Task.reasonCode" if exc.field == "reason" else "Task.focus"
        return outcome_response(FhirError(422, "business-rule", exc.message, where))
    invoice = done.invoice
    answer = {
        "resourceType": "Task",
        "status": "completed",
        "intent": data.get("intent", "order"),
        "code": {"coding": [{"system": TASK_CODES, "code": action}]},
        "focus": {"identifier": {"value": invoice.invoice_number}},
        "authoredOn": done.event.at.isoformat(),
        "businessStatus": {"text": InvoiceStatus(invoice.status).label},
        "output": [
            {
                "type": {"text": "statut de la facture"},
                "valueCode": invoice.status,
            }
        ],
    }
    if done.event.deadline is not None:
        answer["restriction"] = {"period": {"end": done.event.deadline.isoformat()}}
    Task.model_validate(answer)
    return fhir_response(answer, 200)
