"""A rectification the FHIR R4 way (issue 16): ``POST /fhir/r4/Claim`` of a new invoice whose
``related`` names the invoice it replaces, ``related.claim.identifier.value`` the original's
number and ``related.relationship`` ``prior``
(``http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship``: "a prior claim
instance for the same intended suite of services").

The replacement Claim has the layout of a FHIR lot's Claims (``invoices.lot_formats.fhir``)
without its patient: the patient is the original's (no new rights check). It is adjudicated
at once (``corrections.services.rectify_invoice``); the answer is its ``ClaimResponse``
(201), or an OperationOutcome: 404 (unknown or another professional's original), 409 (the
original's state forbids it), 422 (the replacement refused: element, reason codes).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from fhir.resources.R4B.claimresponse import ClaimResponse

from tierspayant.api.fhir.claim import ADJUDICATION, invoice_system, share_system
from tierspayant.api.fhir.eligibility import FhirError
from tierspayant.api.fhir.responses import fhir_response, outcome_response
from tierspayant.corrections.services import CorrectionRefused, InvoiceNotFound, rectify_invoice
from tierspayant.invoices.lifecycle import TransitionRefused
from tierspayant.invoices.lot_formats import LotFormatError
from tierspayant.invoices.lot_formats.fhir import invoice_from_claim
from tierspayant.invoices.models import Invoice
from tierspayant.providers.models import Professional

RELATIONSHIPS = "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship"


def prior_invoice_number(body: bytes) -> tuple[dict[str, Any], str] | None:
    """(the Claim, the number of the invoice it replaces) when ``body`` is a Claim whose
    ``related`` has a ``prior`` relationship naming a claim by identifier; None otherwise
    (any other Claim, or no JSON at all: the Claim view answers it)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("resourceType") != "Claim":
        return None
    related = data.get("related")
    for item in related if isinstance(related, list) else []:
        if not isinstance(item, dict):
            continue
        relationship = item.get("relationship")
        codings = relationship.get("coding") if isinstance(relationship, dict) else None
        codes = [c.get("code") for c in codings or [] if isinstance(c, dict)]
        claim = item.get("claim")
        identifier = claim.get("identifier") if isinstance(claim, dict) else None
        number = identifier.get("value") if isinstance(identifier, dict) else None
        if "prior" in codes and isinstance(number, str) and number.strip():
            return data, number.strip()[:40]
    return None


def _money(value: Any) -> dict[str, Any]:
    return {"value": float(value), "currency": "EUR"}


def _share(system: str, code: str, amount: Any) -> dict[str, Any]:
    return {"category": {"coding": [{"system": system, "code": code}]}, "amount": _money(amount)}


def replacement_response(invoice: Invoice, original: str, *, base: str) -> dict[str, Any]:
    """The ClaimResponse of an accepted replacement (AMO, AMC, patient shares per item),
    validated with fhir.resources."""
    shares = share_system(base)
    resource = {
        "resourceType": "ClaimResponse",
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
        "patient": {"display": "Patient de la facture rectifiée"},
        "created": invoice.received_at.isoformat(),
        "insurer": {"display": "Organisme complémentaire"},
        "request": {
            "identifier": {"system": invoice_system(base), "value": invoice.invoice_number}
        },
        "outcome": "complete",
        "disposition": f"Acceptée ; remplace la facture {original}",
        "item": [
            {
                "itemSequence": line.position,
                "adjudication": [
                    _share(ADJUDICATION, "submitted", line.billed),
                    _share(shares, "amo", line.amo_paid),
                    _share(ADJUDICATION, "benefit", line.amc),
                    _share(shares, "patient", line.rac),
                ],
            }
            for line in invoice.lines.all()
        ],
        "total": [_share(ADJUDICATION, "benefit", invoice.total_amc)],
    }
    return json.loads(ClaimResponse.model_validate(resource).model_dump_json(exclude_none=True))


def rectification(
    request: HttpRequest, professional: Professional, claim: dict[str, Any], original: str
) -> HttpResponse:
    """Rectify ``original`` by ``claim`` (module docstring)."""
    base: str = settings.TIERSPAYANT_FHIR_BASE_URL
    try:
        replacement = invoice_from_claim(claim, base=base)
        done = rectify_invoice(
            professional,
            original,
            replacement,
            reason=f"Rectifiée par la facture {replacement.invoice_number} (FHIR)",
            keys=settings.TIERSPAYANT_KEYRING.encryption,
            tables_dir=settings.TIERSPAYANT_GUARANTEE_TABLES_DIR,
            now=timezone.now(),
        )
    except LotFormatError as exc:
        return outcome_response(FhirError(422, "invalid", str(exc), exc.field or "Claim"))
    except InvoiceNotFound as exc:
        return outcome_response(FhirError(404, "not-found", exc.message, "Claim.related.claim"))
    except TransitionRefused as exc:
        return outcome_response(FhirError(409, "business-rule", str(exc), "Claim.related.claim"))
    except CorrectionRefused as exc:
        codes = " ; ".join(p.get("message", "") for p in exc.problems if isinstance(p, dict))
        message = f"{exc.message} {codes}".strip()
        return outcome_response(FhirError(422, "business-rule", message, "Claim"))
    assert done.replacement is not None
    return fhir_response(replacement_response(done.replacement, original, base=base), 201)
