"""FHIR lots: ``POST /fhir/r4/`` a ``Bundle`` of type ``batch`` of ``Claim`` (the lot,
``invoices.lot_formats.fhir``) answers a ``batch-response`` Bundle: one ``ClaimResponse``
per Claim (``outcome`` ``queued`` until a worker adjudicates it, then ``complete`` with the
AMO, AMC and patient shares per item, or ``error`` with the reason codes); ``GET
/fhir/r4/ClaimResponse?lot=<id>`` gives them again (searchset). A refused lot is an
OperationOutcome (422) naming the entry and element; nothing is stored. Token scope
``claims:submit``; another professional's lot is a 404.
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from fhir.resources.R4B.claimresponse import ClaimResponse

from tierspayant.api.auth import professional_from_request
from tierspayant.api.fhir.claim import ADJUDICATION, invoice_system, reason_system, share_system
from tierspayant.api.fhir.eligibility import FhirError
from tierspayant.api.fhir.responses import fhir_response, outcome_response, request_body
from tierspayant.audit.choices import Channel
from tierspayant.invoices.choices import LotFormat
from tierspayant.invoices.lot_formats import LotFormatError
from tierspayant.invoices.lots import LotConfig, receive_lot
from tierspayant.invoices.models import Lot
from tierspayant.invoices.selectors import lot_of, lot_results
from tierspayant.invoices.tasks import schedule_lot
from tierspayant.providers.choices import Scope

_UNAUTHORIZED = FhirError(
    401, "login", "Jeton d'API absent, invalide, expiré ou sans le droit claims:submit."
)
#: ClaimResponses per answer (a FHIR lot is bounded by the request size limit).
MAX_RESULTS = 10_000


def _money(value: str) -> dict[str, Any]:
    return {"value": float(value), "currency": "EUR"}


def _share(system: str, code: str, amount: str) -> dict[str, Any]:
    return {"category": {"coding": [{"system": system, "code": code}]}, "amount": _money(amount)}


def lot_claim_response(
    lot: Lot, result: dict[str, Any], *, base: str, created: str
) -> dict[str, Any]:
    """The ClaimResponse of one invoice of ``lot`` (``result`` from
    ``invoices.selectors.lot_results``), validated with fhir.resources."""
    outcome = {"pending": "queued", "accepted": "complete"}.get(result["status"], "error")
    resource: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": f"lot-{lot.pk}-{result['position']}",
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "claim",
        "patient": {"display": "Patient identifié par la carte"},
        "created": created,
        "insurer": {"display": "Organisme complémentaire"},
        "requestor": {"display": f"Lot {lot.pk}"},
        "request": {
            "identifier": {"system": invoice_system(base), "value": result["invoice_number"]}
        },
        "outcome": outcome,
        "disposition": {"queued": "En attente", "complete": "Acceptée"}.get(outcome, "Rejetée"),
    }
    if result["lines"]:
        shares = share_system(base)
        resource["item"] = [
            {
                "itemSequence": line["position"],
                "adjudication": [
                    _share(ADJUDICATION, "submitted", line["billed"]),
                    _share(shares, "amo", line["amo"]),
                    _share(ADJUDICATION, "benefit", line["amc"]),
                    _share(shares, "patient", line["rac"]),
                ],
            }
            for line in result["lines"]
        ]
        resource["total"] = [_share(ADJUDICATION, "benefit", result["total_amc"])]
    if result["reasons"]:
        resource["error"] = [
            {
                **({"itemSequence": r["line"]} if r.get("line") else {}),
                "code": {
                    "coding": [{"system": reason_system(base), "code": r["code"]}],
                    "text": r["message"],
                },
            }
            for r in result["reasons"]
        ]
    return json.loads(ClaimResponse.model_validate(resource).model_dump_json(exclude_none=True))


def _responses(lot: Lot, base: str) -> list[dict[str, Any]]:
    created = timezone.now().isoformat()
    return [
        lot_claim_response(lot, result, base=base, created=created)
        for result in lot_results(lot, limit=MAX_RESULTS)
    ]


@csrf_exempt
@require_POST
def batch(request: HttpRequest) -> HttpResponse:
    """POST a lot as a batch Bundle of Claim; answer the batch-response Bundle (202)."""
    professional = professional_from_request(request, Scope.CLAIMS_SUBMIT)
    if professional is None:
        return outcome_response(_UNAUTHORIZED)
    base: str = settings.TIERSPAYANT_FHIR_BASE_URL
    try:
        lot = receive_lot(
            LotConfig.from_settings(settings),
            professional=professional,
            lot_format=LotFormat.FHIR,
            stream=io.BytesIO(request_body(request)),
            channel=Channel.FHIR,
            now=timezone.now(),
        )
    except LotFormatError as exc:
        where = f"Bundle.entry[{exc.line - 1}]" if exc.line else "Bundle"
        expression = f"{where}.{exc.field}" if exc.field else where
        return outcome_response(
            FhirError(422, "invalid", f"{exc.refusal.value} : {exc}.", expression)
        )
    schedule_lot(lot.pk)
    lot.refresh_from_db()
    body = {
        "resourceType": "Bundle",
        "id": f"lot-{lot.pk}",
        "type": "batch-response",
        "entry": [
            {
                "resource": response,
                "response": {
                    "status": "202 Accepted" if response["outcome"] == "queued" else "200 OK",
                    "location": f"ClaimResponse/{response['id']}",
                },
            }
            for response in _responses(lot, base)
        ],
    }
    return fhir_response(body, 202)


@require_GET
def claim_responses(request: HttpRequest) -> HttpResponse:
    """``GET ClaimResponse?lot=<id>``: the lot's ClaimResponses as a searchset Bundle."""
    professional = professional_from_request(request, Scope.CLAIMS_SUBMIT)
    if professional is None:
        return outcome_response(_UNAUTHORIZED)
    try:
        lot = lot_of(professional, int(request.GET.get("lot", "")))
    except (ValueError, Lot.DoesNotExist):
        return outcome_response(FhirError(404, "not-found", "Lot introuvable.", "lot"))
    responses = _responses(lot, settings.TIERSPAYANT_FHIR_BASE_URL)
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(responses),
            "entry": [{"resource": r} for r in responses],
        }
    )
