"""Rectification the FHIR R4 way (issue 16): ``POST /fhir/r4/Claim`` of the replacement with
``related.claim`` naming the original and ``related.relationship`` ``prior``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.claimresponse import ClaimResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome

from tests.corrections.world import medicine, patient, pay, pharmacist, stored
from tests.invoices.builders import PRESCRIBER
from tierspayant.corrections.models import LedgerEntry
from tierspayant.invoices.models import Invoice
from tierspayant.providers.choices import Scope
from tierspayant.providers.models import Professional
from tierspayant.providers.services import issue_api_token

pytestmark = pytest.mark.usefixtures("nomenclatures")


def _money(value: str) -> dict[str, Any]:
    return {"value": float(value), "currency": "EUR"}


def replacement(number: str, original: str, *, total: str = "13.81") -> dict[str, Any]:
    base = settings.TIERSPAYANT_FHIR_BASE_URL
    ext = f"{base}/StructureDefinition/"
    return {
        "resourceType": "Claim",
        "status": "active",
        "use": "claim",
        "type": {"coding": [{"code": "pharmacy"}]},
        "created": "2025-03-14",
        "provider": {"display": "Pharmacie"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "AMC"}}],
        "identifier": [{"value": number}],
        "patient": {"display": "Patient de la facture rectifiée"},
        "related": [
            {
                "claim": {"identifier": {"value": original}},
                "relationship": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship",
                            "code": "prior",
                        }
                    ]
                },
            }
        ],
        "billablePeriod": {"start": "2025-03-14"},
        "total": _money(total),
        "extension": [
            {"url": f"{ext}insurance-nature", "valueCode": "10"},
            {"url": f"{ext}exemption", "valueCode": "0"},
            {"url": f"{ext}amo-regime", "valueCode": "1"},
            {"url": f"{ext}prescriber-rpps", "valueString": PRESCRIBER},
            {"url": f"{ext}prescription-date", "valueDate": "2025-03-11"},
            {"url": f"{ext}total-amo", "valueMoney": _money("7.98")},
        ],
        "item": [
            {
                "sequence": 1,
                "productOrService": {
                    "coding": [{"system": f"{base}/CodeSystem/cip13", "code": "3400936963504"}]
                },
                "quantity": {"value": 1},
                "unitPrice": _money("13.81"),
                "net": _money("13.81"),
                "extension": [
                    {"url": f"{ext}br", "valueMoney": _money("13.81")},
                    {"url": f"{ext}amo-rate", "valueDecimal": 65},
                    {"url": f"{ext}amo-paid", "valueMoney": _money("7.98")},
                    {"url": f"{ext}franchise", "valueMoney": _money("1.00")},
                ],
            }
        ],
    }


def _post(professional: Professional, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    secret = issue_api_token(
        professional=professional,
        name="LGO",
        scopes=[Scope.CLAIMS_SUBMIT],
        now=timezone.now(),
        valid_days=1,
    ).secret
    return Client().post(
        "/fhir/r4/Claim",
        json.dumps(body),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def test_a_claim_related_prior_rectifies_the_paid_invoice() -> None:
    pro = pharmacist()
    row = stored(pro, patient(), medicine("F-1"))
    pay(row, timezone.now())
    response = _post(pro, replacement("F-1-R", "F-1"))
    assert response.status_code == 201, response.content
    answer = ClaimResponse.model_validate(response.json())
    assert answer.outcome == "complete"
    assert answer.request.identifier.value == "F-1-R"
    assert str(answer.total[0].amount.value) == "4.83"
    assert Invoice.objects.get(pk=row.pk).status == "rectified"
    assert LedgerEntry.objects.get().amount == row.total_amc


@pytest.mark.parametrize(
    ("body", "status", "expression"),
    [
        (replacement("F-1-R", "F-404"), 404, "Claim.related.claim"),
        (replacement("F-1-R", "F-1", total="99.00"), 422, "Claim"),
        ({**replacement("F-1-R", "F-1"), "item": "x"}, 422, "Claim.item"),
    ],
)
def test_a_refused_rectification_is_an_operation_outcome(
    body: dict[str, Any], status: int, expression: str
) -> None:
    pro = pharmacist()
    stored(pro, patient(), medicine("F-1"))
    response = _post(pro, body)
    assert response.status_code == status, response.content
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].expression == [expression]
    assert Invoice.objects.count() == 1 and Invoice.objects.get().status == "accepted"
