"""FHIR rights check v2: the attestation keys on a contained Coverage, the engagement in
``preAuthRef``, the domain's rules as insurance items; every mismatch the single no-match."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse

from tests.engagements.conftest import AMC, BORN, CARE, MEMBER, Family
from tierspayant.eligibility.engagements import engagement_digest
from tierspayant.eligibility.models import Engagement
from tierspayant.providers.choices import Scope
from tierspayant.providers.models import Professional
from tierspayant.providers.services import issue_api_token

pytestmark = pytest.mark.django_db
BASE = "https://tierspayant.example/fhir"


@pytest.fixture
def bearer(optician: Professional) -> str:
    return issue_api_token(
        professional=optician,
        name="LGO",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=30,
    ).secret


def request_v2(family: Family, *, member: str = MEMBER, domain: str = "optical") -> dict[str, Any]:
    key = f"{BASE}/CodeSystem/attestation-key"
    return {
        "resourceType": "CoverageEligibilityRequest",
        "contained": [
            {
                "resourceType": "Patient",
                "id": "p1",
                "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": family.nir}],
                "birthDate": BORN.isoformat(),
            },
            {
                "resourceType": "Coverage",
                "id": "c1",
                "status": "active",
                "subscriberId": member,
                "beneficiary": {"reference": "#p1"},
                "payor": [{"identifier": {"value": AMC}}],
                "class": [
                    {"type": {"coding": [{"system": key, "code": "convention-type"}]},
                     "value": "TP"},
                    {"type": {"coding": [{"system": key, "code": "routing-criterion"}]},
                     "value": "R01"},
                ],
            },
        ],
        "status": "active",
        "purpose": ["validation", "benefits"],
        "patient": {"reference": "#p1"},
        "created": CARE.isoformat(),
        "servicedDate": CARE.isoformat(),
        "insurer": {"identifier": {"system": f"{BASE}/NamingSystem/amc-number", "value": AMC}},
        "insurance": [{"coverage": {"reference": "#c1"}}],
        "item": [
            {"category": {"coding": [{"system": f"{BASE}/CodeSystem/tiers-payant-domain",
                                      "code": domain}]}}
        ],
    }  # fmt: skip


def post(resource: dict[str, Any], bearer: str) -> tuple[int, dict[str, Any]]:
    response = Client().post(
        "/fhir/r4/CoverageEligibilityRequest",
        data=json.dumps(resource),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {bearer}",
    )
    return response.status_code, response.json()


def test_covered_v2_answer_carries_the_engagement_and_rules(
    bearer: str, attested: Family, optician: Professional
) -> None:
    status, body = post(request_v2(attested), bearer)
    assert status == 200, body
    CoverageEligibilityResponse.model_validate(body)
    number = body["preAuthRef"]
    engagement = Engagement.objects.get()
    assert engagement.number_digest == engagement_digest(number)
    assert (engagement.professional_id, engagement.domain) == (optician.pk, "optical")
    assert body["extension"][0]["url"] == f"{BASE}/StructureDefinition/engagement-expires"
    rules = [i for i in body["insurance"][0]["item"] if "name" in i]
    assert rules and all(i["category"]["coding"][0]["code"] == "optical" for i in rules)


@pytest.mark.parametrize("member", ["A1234568", "ZZ"])
def test_wrong_member_number_is_the_single_no_match(
    bearer: str, attested: Family, member: str
) -> None:
    status, body = post(request_v2(attested, member=member), bearer)
    assert (status, body["outcome"], body["error"][0]["code"]["coding"][0]["code"]) == (
        200,
        "error",
        "no-match",
    )
    assert "preAuthRef" not in body and not Engagement.objects.exists()


def test_unknown_domain_names_the_element(bearer: str, attested: Family) -> None:
    status, body = post(request_v2(attested, domain="astrologie"), bearer)
    assert status == 400
    assert body["issue"][0]["expression"] == ["CoverageEligibilityRequest.item.category"]
