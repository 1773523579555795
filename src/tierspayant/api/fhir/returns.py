"""FHIR returns: ``GET /fhir/r4/ClaimResponse?_cursor=<cursor>&_count=<n>`` answers a
``searchset`` Bundle of the token owner's return lines after the cursor (scope
``claims:submit``; 100 lines a page, ``_count`` up to 1,000): one ``ClaimResponse`` per
line (``search.mode`` match) and one ``PaymentReconciliation`` per transfer the page's
paid lines name, with one detail per invoice that transfer paid (``search.mode``
include). The Bundle's ``next`` link carries the cursor to poll with next (FHIR's paging:
follow ``link[next]``); ``_cursor`` is the platform's own search parameter (FHIR's
``_since`` is an instant, not a cursor). The search by lot (``?lot=<id>``) stays
``lot_views.claim_responses``. Resources are validated with fhir.resources; they name the
invoice by number and the insurer by AMC number, never the patient.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.paymentreconciliation import PaymentReconciliation

from tierspayant.api.auth import professional_from_request
from tierspayant.api.fhir import lot_views
from tierspayant.api.fhir.claim import ADJUDICATION, invoice_system, reason_system, share_system
from tierspayant.api.fhir.eligibility import FhirError
from tierspayant.api.fhir.responses import fhir_response, outcome_response
from tierspayant.api.fhir.systems import amc_number_system
from tierspayant.invoices.choices import InvoiceEventKind as K
from tierspayant.providers.choices import Scope
from tierspayant.returns.choices import reason_label
from tierspayant.returns.selectors import (
    ReturnLine,
    TransferSummary,
    invoice_lines,
    return_lines,
    transfers_of,
)

PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/ex-paymenttype"
_MAX_CURSOR = 2**63 - 1
#: ClaimResponses per page: default and most (each resource is validated with
#: fhir.resources, about 2 ms each: bench/returns_poll.py); the JSON API pages by 10,000.
FHIR_DEFAULT_COUNT = 100
FHIR_MAX_COUNT = 1000


def cursor_system(base: str) -> str:
    """Identifier system of return lines (ClaimResponse.identifier: the line's cursor)."""
    return f"{base}/NamingSystem/return-cursor"


def transfer_system(base: str) -> str:
    """Identifier system of SEPA transfers (their end-to-end id)."""
    return f"{base}/NamingSystem/transfer"


def _money(value: Decimal) -> dict[str, Any]:
    return {"value": float(value), "currency": "EUR"}


def _share(system: str, code: str, amount: Decimal) -> dict[str, Any]:
    return {"category": {"coding": [{"system": system, "code": code}]}, "amount": _money(amount)}


def _fhir_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", text)[:64] or "x"


def _payment(line: ReturnLine, base: str) -> dict[str, Any] | None:
    """ClaimResponse.payment: the transfer that paid the invoice (paid), or money coming
    back, as a negative adjustment (payment_returned: the transfer; recovered: the run)."""
    if line.amount is None:
        return None
    if line.kind == K.PAID:
        return {
            "type": {"coding": [{"system": PAYMENT_TYPE, "code": "complete"}]},
            **({"date": line.transfer_date.isoformat()} if line.transfer_date else {}),
            "amount": _money(line.amount),
            "identifier": {"system": transfer_system(base), "value": line.transfer_reference},
        }
    if line.kind in (K.PAYMENT_RETURNED, K.RECOVERED):
        reference = line.transfer_reference or line.run_reference
        system = (
            transfer_system(base)
            if line.kind == K.PAYMENT_RETURNED
            else f"{base}/NamingSystem/payment-run"
        )
        return {
            "type": {"coding": [{"system": PAYMENT_TYPE, "code": "partial"}]},
            "adjustment": _money(-line.amount),
            "adjustmentReason": {"text": str(K(line.kind).label)},
            "amount": _money(-line.amount),
            **({"identifier": {"system": system, "value": reference}} if reference else {}),
        }
    return None


def _notes(line: ReturnLine) -> list[dict[str, Any]]:
    texts = [f"{code} : {reason_label(code)}" for code in line.reason_codes]
    if line.replacement_number:
        texts.append(f"Remplacée par la facture {line.replacement_number}.")
    if line.deadline:
        texts.append(f"Décision au plus tard le {line.deadline:%d/%m/%Y}.")
    return [{"number": n, "type": "display", "text": t} for n, t in enumerate(texts, 1)]


def return_claim_response(
    line: ReturnLine, lines: list[dict[str, Any]], *, base: str
) -> dict[str, Any]:
    """The ClaimResponse of one return line: the invoice (``request``) as of that event,
    ``outcome`` error when rejected else complete, status cancelled once cancelled or
    rectified, items (billed, AMO, AMC, patient share per invoice line ``lines`` from
    ``selectors.invoice_lines``), totals, payment, reasons as processNote (and as
    ``error`` when rejected). Validated with fhir.resources."""
    rejected = line.kind == K.REJECTED
    resource: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": f"return-{line.cursor}",
        "identifier": [{"system": cursor_system(base), "value": str(line.cursor)}],
        "status": "cancelled" if line.kind in (K.CANCELLED, K.RECTIFIED) else "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "claim",
        "patient": {"display": "Patient de la facture"},
        "created": line.at.isoformat(),
        "insurer": (
            {"identifier": {"system": amc_number_system(base), "value": line.amc_number}}
            if line.amc_number
            else {"display": "Organisme complémentaire"}
        ),
        "request": {"identifier": {"system": invoice_system(base), "value": line.invoice_number}},
        "outcome": "error" if rejected else "complete",
        "disposition": str(K(line.kind).label),
        "total": [
            _share(ADJUDICATION, "submitted", line.billed),
            _share(ADJUDICATION, "benefit", line.amc_requested),
        ],
    }
    if lines:
        shares = share_system(base)
        resource["item"] = [
            {
                "itemSequence": row["position"],
                "adjudication": [
                    _share(ADJUDICATION, "submitted", row["billed"]),
                    _share(ADJUDICATION, "eligible", row["br"]),
                    _share(shares, "amo", row["amo_paid"]),
                    _share(ADJUDICATION, "benefit", row["amc"]),
                    _share(shares, "patient", row["rac"]),
                ],
            }
            for row in lines
        ]
    payment = _payment(line, base)
    if payment:
        resource["payment"] = payment
    notes = _notes(line)
    if notes:
        resource["processNote"] = notes
    if rejected and line.reason_codes:
        resource["error"] = [
            {
                "code": {
                    "coding": [{"system": reason_system(base), "code": code}],
                    "text": reason_label(code),
                }
            }
            for code in line.reason_codes
        ]
    return json.loads(ClaimResponse.model_validate(resource).model_dump_json(exclude_none=True))


def transfer_reconciliation(transfer: TransferSummary, *, base: str) -> dict[str, Any]:
    """The PaymentReconciliation of one transfer to the professional: its end-to-end id,
    execution date, the AMC paid (sum of its paid lines) and one detail per invoice.
    Validated with fhir.resources."""
    date = transfer.date.isoformat() if transfer.date else None
    resource: dict[str, Any] = {
        "resourceType": "PaymentReconciliation",
        "id": f"transfer-{_fhir_id(transfer.reference)}"[:64],
        "status": "active",
        "created": f"{date}T00:00:00+00:00" if date else None,
        "paymentDate": date,
        "paymentAmount": _money(transfer.total),
        "paymentIdentifier": {"system": transfer_system(base), "value": transfer.reference},
        "outcome": "complete",
        "disposition": f"{len(transfer.details)} facture(s) payée(s) par ce virement",
        "detail": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/payment-type",
                            "code": "payment",
                        }
                    ]
                },
                "request": {"identifier": {"system": invoice_system(base), "value": number}},
                **({"date": date} if date else {}),
                "amount": _money(amount),
            }
            for number, amount in sorted(transfer.details.items())
        ],
    }
    return json.loads(
        PaymentReconciliation.model_validate(resource).model_dump_json(exclude_none=True)
    )


def returns_bundle(
    lines: list[ReturnLine],
    invoice_rows: dict[int, list[dict[str, Any]]],
    transfers: list[TransferSummary],
    *,
    since: int,
    count: int,
    base: str,
) -> dict[str, Any]:
    """The searchset Bundle of a poll (module docstring); ``link[next]`` is present when
    the page is full (poll it at once), ``link[self]`` always; ``total`` is left out (the
    lines after the cursor are not counted)."""
    following = lines[-1].cursor if lines else since
    links = [{"relation": "self", "url": f"{base}/ClaimResponse?_cursor={since}&_count={count}"}]
    if len(lines) >= count:
        links.append(
            {"relation": "next", "url": f"{base}/ClaimResponse?_cursor={following}&_count={count}"}
        )
    entries = [
        {
            "fullUrl": f"{base}/ClaimResponse/return-{line.cursor}",
            "resource": return_claim_response(
                line, invoice_rows.get(line.invoice_id, []), base=base
            ),
            "search": {"mode": "match"},
        }
        for line in lines
    ]
    entries += [
        {
            "fullUrl": f"{base}/PaymentReconciliation/transfer-{_fhir_id(t.reference)}",
            "resource": transfer_reconciliation(t, base=base),
            "search": {"mode": "include"},
        }
        for t in transfers
    ]
    return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}


_UNAUTHORIZED = FhirError(
    401, "login", "Jeton d'API absent, invalide, expiré ou sans le droit claims:submit."
)


def _number(request: HttpRequest, name: str, default: int, highest: int) -> int:
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or int(raw) > highest:
        raise FhirError(
            400, "invalid", f"Paramètre {name} : entier de 0 à {highest} attendu.", name
        )
    return int(raw)


@require_GET
def claim_responses(request: HttpRequest) -> HttpResponse:
    """``GET ClaimResponse``: by lot (``?lot=``, ``lot_views.claim_responses``) or the
    return lines after ``_cursor`` (default 0), ``_count`` per page (default 100, at most
    1,000: ``FHIR_MAX_COUNT``)."""
    if "lot" in request.GET:
        return lot_views.claim_responses(request)
    professional = professional_from_request(request, Scope.CLAIMS_SUBMIT)
    if professional is None:
        return outcome_response(_UNAUTHORIZED)
    try:
        since = _number(request, "_cursor", 0, _MAX_CURSOR)
        count = min(_number(request, "_count", FHIR_DEFAULT_COUNT, _MAX_CURSOR), FHIR_MAX_COUNT)
        count = max(count, 1)
    except FhirError as exc:
        return outcome_response(exc)
    lines = return_lines(professional, since=since, count=count)
    base: str = settings.TIERSPAYANT_FHIR_BASE_URL
    body = returns_bundle(
        lines,
        invoice_lines(line.invoice_id for line in lines),
        transfers_of(
            professional, (line.transfer_reference for line in lines if line.kind == K.PAID)
        ),
        since=since,
        count=count,
        base=base,
    )
    return fhir_response(body)
