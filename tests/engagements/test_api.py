"""The JSON API of issue 17: ``POST /api/v1/eligibility`` v2 (engagement) beside v1, and
``POST /api/v1/calculations`` (CLC), counted against the rights-check quota."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from tests.engagements.conftest import AMC, BORN, CARE, MEMBER, Family
from tests.factories import make_professional
from tests.invoices.builders import PRESCRIBER
from tierspayant.audit.models import DisclosureLog
from tierspayant.eligibility.models import Engagement
from tierspayant.providers.choices import Profession, Scope
from tierspayant.providers.models import Professional
from tierspayant.providers.services import issue_api_token

pytestmark = pytest.mark.usefixtures("nomenclatures")


@pytest.fixture
def pharmacist(db: None) -> Professional:
    return make_professional(profession=Profession.PHARMACIST, specialty_code="50")


@pytest.fixture
def secret(pharmacist: Professional) -> str:
    return issue_api_token(
        professional=pharmacist,
        name="LGO",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=30,
    ).secret


def post(path: str, body: dict[str, Any], secret: str) -> tuple[int, dict[str, Any]]:
    response = Client().post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    return response.status_code, response.json()


def identity(family: Family) -> dict[str, Any]:
    return {
        "nir": family.nir,
        "birth_date": BORN.isoformat(),
        "amc_number": AMC,
        "member_number": MEMBER,
        "convention_type": "TP",
        "routing_criterion": "R01",
        "prescriber_rpps": PRESCRIBER,
        "prescription_date": "2025-03-11",
    }


LINES = [
    {
        "code_system": "CIP13",
        "code": "3400936963504",
        "quantity": 1,
        "unit_price": "12.81",
        "billed": "12.81",
        "br": "12.81",
        "amo_rate": "65",
        "amo_paid": "7.33",
        "franchise": "1.00",
    }
]


def test_eligibility_v2_answers_an_engagement_and_v1_is_unchanged(
    secret: str, attested: Family
) -> None:
    status, body = post(
        "/api/v1/eligibility",
        {**identity(attested), "domain": "pharmacy", "care_date": CARE.isoformat()},
        secret,
    )
    assert (status, body["outcome"]) == (200, "covered")
    assert body["engagement"].startswith("ENG-")
    assert [r["rule"] for r in body["domain_rules"]] == ["pharmacie", "dispositifs-medicaux"]
    status, v1 = post(
        "/api/v1/eligibility",
        {"nir": attested.nir, "birth_date": BORN.isoformat(), "care_date": CARE.isoformat()},
        secret,
    )
    assert (status, v1["outcome"]) == (200, "covered")
    assert not {"engagement", "engagement_expires_at", "domain_rules"} & set(v1)  # v1 shape
    status, wrong = post(
        "/api/v1/eligibility",
        {**identity(attested), "member_number": "B7", "domain": "pharmacy"},
        secret,
    )
    assert (status, wrong["outcome"], wrong["engagement"]) == (200, "no_match", None)
    assert Engagement.objects.count() == 1


def test_calculation_gives_lines_and_engagement(secret: str, attested: Family) -> None:
    status, body = post(
        "/api/v1/calculations",
        {**identity(attested), "care_date": CARE.isoformat(), "lines": LINES},
        secret,
    )
    assert status == 200, body
    assert (body["outcome"], body["domain"]) == ("covered", "pharmacy")
    assert [(x["amo"], x["amc"], x["rac"]) for x in body["lines"]] == [("7.33", "4.48", "1.00")]
    assert (Decimal(body["total_amc"]), Decimal(body["total_rac"])) == (
        Decimal("4.48"),
        Decimal("1.00"),
    )
    assert Engagement.objects.get().amc_amount == Decimal("4.48")


def test_calculation_with_a_bad_line_names_it(secret: str, attested: Family) -> None:
    bad = [{**LINES[0], "amo_paid": "13.00"}]
    status, body = post(
        "/api/v1/calculations",
        {**identity(attested), "care_date": CARE.isoformat(), "lines": bad},
        secret,
    )
    assert (status, body["code"], body["field"]) == (400, "invalid", "amo_paid")
    assert "ligne 1" in body["message"] and attested.nir not in json.dumps(body)


@override_settings(TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA=2)
def test_calculation_counts_against_the_quota(secret: str, attested: Family) -> None:
    body = {**identity(attested), "care_date": CARE.isoformat(), "lines": LINES}
    assert (
        post("/api/v1/eligibility", {**identity(attested), "domain": "pharmacy"}, secret)[0] == 200
    )
    assert post("/api/v1/calculations", body, secret)[0] == 200
    status, refused = post("/api/v1/calculations", body, secret)
    assert (status, refused["code"]) == (429, "quota_exceeded")
    assert list(DisclosureLog.objects.order_by("id").values_list("purpose", "outcome")) == [
        ("rights_check", "covered"),
        ("calculation", "covered"),
        ("calculation", "refused_quota"),
    ]
