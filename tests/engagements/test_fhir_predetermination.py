"""FHIR CLC: a Claim with ``use = predetermination`` answered by a ClaimResponse carrying
the engine's split and the engagement; the same figures as the JSON calculation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.claimresponse import ClaimResponse

from tests.engagements.conftest import AMC, BORN, CARE, MEMBER, Family
from tests.factories import make_professional
from tests.invoices.builders import PRESCRIBER
from tierspayant.audit.models import DisclosureLog
from tierspayant.eligibility.engagements import engagement_digest
from tierspayant.eligibility.models import Engagement
from tierspayant.providers.choices import Profession, Scope
from tierspayant.providers.models import Professional
from tierspayant.providers.services import issue_api_token

pytestmark = pytest.mark.usefixtures("nomenclatures")
BASE = "https://tierspayant.example/fhir"
SD = f"{BASE}/StructureDefinition"


@pytest.fixture
def pharmacist(db: None) -> Professional:
    return make_professional(profession=Profession.PHARMACIST, specialty_code="50")


@pytest.fixture
def bearer(pharmacist: Professional) -> str:
    return issue_api_token(
        professional=pharmacist,
        name="LGO",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=30,
    ).secret


def money(value: str) -> dict[str, Any]:
    return {"value": float(value), "currency": "EUR"}


def claim(family: Family, *, member: str = MEMBER, amo: str = "7.33") -> dict[str, Any]:
    key = f"{BASE}/CodeSystem/attestation-key"
    return {
        "resourceType": "Claim",
        "status": "active",
        "use": "predetermination",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
                             "code": "pharmacy"}]},
        "contained": [
            {"resourceType": "Patient", "id": "p1",
             "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": family.nir}],
             "birthDate": BORN.isoformat()},
            {"resourceType": "Coverage", "id": "c1", "status": "active", "subscriberId": member,
             "beneficiary": {"reference": "#p1"}, "payor": [{"identifier": {"value": AMC}}],
             "class": [
                 {"type": {"coding": [{"system": key, "code": "convention-type"}]}, "value": "TP"},
                 {"type": {"coding": [{"system": key, "code": "routing-criterion"}]},
                  "value": "R01"}]},
        ],
        "patient": {"reference": "#p1"},
        "created": CARE.isoformat(),
        "provider": {"display": "Pharmacie"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurer": {"identifier": {"system": f"{BASE}/NamingSystem/amc-number", "value": AMC}},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "#c1"}}],
        "extension": [
            {"url": f"{SD}/prescriber-rpps", "valueString": PRESCRIBER},
            {"url": f"{SD}/prescription-date", "valueDate": "2025-03-11"},
        ],
        "item": [
            {"sequence": 1,
             "productOrService": {"coding": [{"system": f"{BASE}/CodeSystem/cip13",
                                              "code": "3400936963504"}]},
             "servicedDate": CARE.isoformat(), "quantity": {"value": 1},
             "unitPrice": money("12.81"), "net": money("12.81"),
             "extension": [
                 {"url": f"{SD}/br", "valueMoney": money("12.81")},
                 {"url": f"{SD}/amo-rate", "valueDecimal": 65},
                 {"url": f"{SD}/amo-paid", "valueMoney": money(amo)},
                 {"url": f"{SD}/franchise", "valueMoney": money("1.00")}]},
        ],
    }  # fmt: skip


def post(resource: dict[str, Any], bearer: str) -> tuple[int, dict[str, Any]]:
    response = Client().post(
        "/fhir/r4/Claim",
        data=json.dumps(resource),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {bearer}",
    )
    return response.status_code, response.json()


def shares(adjudication: list[dict[str, Any]]) -> dict[str, float]:
    return {a["category"]["coding"][-1]["code"]: a["amount"]["value"] for a in adjudication}


def test_predetermination_gives_the_split_and_the_engagement(bearer: str, attested: Family) -> None:
    status, body = post(claim(attested), bearer)
    assert status == 200, body
    ClaimResponse.model_validate(body)
    assert (body["use"], body["outcome"]) == ("predetermination", "complete")
    assert shares(body["item"][0]["adjudication"]) == {
        "submitted": 12.81,
        "amo": 7.33,
        "amc": 4.48,
        "patient": 1.0,
    }
    engagement = Engagement.objects.get()
    assert engagement.number_digest == engagement_digest(body["preAuthRef"])
    assert str(engagement.amc_amount) == "4.48"
    assert DisclosureLog.objects.get().purpose == "calculation"


def test_predetermination_of_a_wrong_member_number_is_no_match(
    bearer: str, attested: Family
) -> None:
    status, body = post(claim(attested, member="A1234568"), bearer)
    assert (status, body["outcome"]) == (200, "error")
    assert body["error"][0]["code"]["coding"][0]["code"] == "no-match"
    assert "preAuthRef" not in body and not Engagement.objects.exists()


def test_predetermination_with_a_bad_line_names_the_item(bearer: str, attested: Family) -> None:
    status, body = post(claim(attested, amo="13.00"), bearer)
    assert status == 400
    assert body["issue"][0]["expression"] == ["Claim.item[0]"]
    assert not DisclosureLog.objects.exists()
