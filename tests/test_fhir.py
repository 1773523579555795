"""FHIR R4 rights check: the documented shape, every HL7 example, errors as OperationOutcome."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome

from tests.factories import ContractFactory, InsurerFactory, make_beneficiary, new_nir
from tierspayant.api.fhir.eligibility import ParsedEligibilityRequest, eligibility_response
from tierspayant.audit.choices import Outcome
from tierspayant.audit.models import DisclosureLog
from tierspayant.eligibility.services import RightsCheckInput, RightsCheckResult
from tierspayant.providers.choices import Scope
from tierspayant.providers.services import issue_api_token
from tierspayant.registry.choices import Domain, Quality

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
HL7_EXAMPLES = sorted((ROOT.parent / "shared/fixtures/fhir").glob("*.json"))
BASE = "https://tierspayant.example/fhir"
NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"


@pytest.fixture
def bearer(optician) -> str:
    return issue_api_token(
        professional=optician,
        name="LGO",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=30,
    ).secret


def request_for(
    nir: str,
    birth: str,
    *,
    amc: str | None = None,
    rang: int | None = None,
    served: str | None = "2026-02-01",
    provider: dict | None = None,
) -> dict:
    patient: dict = {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [{"system": NIR_SYSTEM, "value": nir}],
        "birthDate": birth,
    }
    if rang is not None:
        patient["extension"] = [
            {"url": f"{BASE}/StructureDefinition/rang-naissance", "valueInteger": rang}
        ]
    resource: dict = {
        "resourceType": "CoverageEligibilityRequest",
        "contained": [patient],
        "status": "active",
        "purpose": ["validation"],
        "patient": {"reference": "#p1"},
        "created": "2026-02-01",
        "insurer": {"identifier": {"system": f"{BASE}/NamingSystem/amc-number", "value": amc}}
        if amc
        else {"display": "inconnu"},
    }
    if served:
        resource["servicedDate"] = served
    if provider:
        resource["provider"] = provider
    return resource


def post(resource, bearer: str | None) -> tuple[int, dict]:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"} if bearer else {}
    body = resource if isinstance(resource, (str, bytes)) else json.dumps(resource)
    response = Client().post(
        "/fhir/r4/CoverageEligibilityRequest",
        data=body,
        content_type="application/fhir+json",
        **headers,
    )
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.status_code, response.json()


def test_covered_patient_gets_a_valid_response(bearer) -> None:
    born = datetime.date(1984, 2, 29)
    nir = new_nir(born)
    person = make_beneficiary(nir=nir, birth_date=born)
    amc = person.contract.insurer.amc_number
    status, body = post(request_for(nir, "1984-02-29", amc=amc), bearer)
    assert status == 200
    response = CoverageEligibilityResponse.model_validate(body)
    assert response.outcome == "complete"
    assert response.insurer.identifier.value == amc
    insurance = response.insurance[0]
    assert insurance.inforce is True
    assert insurance.benefitPeriod.start.isoformat() == "2024-01-01"
    assert [i.category.coding[0].code for i in insurance.item] == ["pharmacy", "optical", "audio"]
    text = json.dumps(body)
    assert nir not in text and person.last_name not in text and person.first_name not in text
    row = DisclosureLog.objects.get()
    assert (row.channel, row.outcome, row.beneficiary_id) == ("fhir", "covered", person.pk)
    assert response.request.identifier.value == str(row.request_id)


def test_twins_are_told_apart_by_the_rang_extension(bearer) -> None:
    born = datetime.date(2016, 3, 3)
    nir = new_nir(datetime.date(1982, 1, 1))
    contract = ContractFactory()
    make_beneficiary(contract=contract, nir=nir, birth_date=born, rang=1, quality=Quality.CHILD)
    twin = make_beneficiary(
        contract=contract, nir=nir, birth_date=born, rang=2, quality=Quality.CHILD
    )
    status, body = post(request_for(nir, "2016-03-03"), bearer)
    assert (status, body["outcome"], body["error"][0]["code"]["coding"][0]["code"]) == (
        200,
        "error",
        "rang-required",
    )
    status, body = post(request_for(nir, "2016-03-03", rang=2), bearer)
    assert (status, body["outcome"]) == (200, "complete")
    assert DisclosureLog.objects.order_by("id").last().beneficiary_id == twin.pk


def test_no_match_and_rights_ended(bearer) -> None:
    born = datetime.date(1970, 7, 7)
    nir = new_nir(born)
    make_beneficiary(nir=nir, birth_date=born, rights_end=datetime.date(2025, 1, 31))
    status, body = post(request_for(new_nir(born), "1970-07-07"), bearer)
    assert (status, body["outcome"], body["error"][0]["code"]["coding"][0]["code"]) == (
        200,
        "error",
        "no-match",
    )
    status, body = post(request_for(nir, "1970-07-07"), bearer)
    response = CoverageEligibilityResponse.model_validate(body)
    assert response.insurance[0].inforce is False
    assert response.insurance[0].benefitPeriod.end.isoformat() == "2025-01-31"


@pytest.mark.parametrize(
    ("mutate", "status", "expression"),
    [
        (
            lambda r: r["contained"][0]["identifier"][0].update(value="177025626004545"),
            400,
            "Patient.identifier",
        ),
        (lambda r: r["contained"][0].pop("birthDate"), 422, "Patient.birthDate"),
        (lambda r: r["contained"][0].update(identifier=[]), 422, "Patient.identifier"),
        (
            lambda r: r.update(patient={"reference": "Patient/123"}),
            422,
            "CoverageEligibilityRequest.patient",
        ),
        (
            lambda r: r.update(patient={"reference": "#other"}),
            422,
            "CoverageEligibilityRequest.contained",
        ),
        (
            lambda r: r.update(servicedDate="2026-02-30"),
            400,
            "CoverageEligibilityRequest.servicedDate",
        ),
        (lambda r: r.update(unknownElement=1), 400, "CoverageEligibilityRequest.unknownElement"),
        (
            lambda r: r.update(
                provider={
                    "identifier": {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "810000000000"}
                }
            ),
            403,
            "CoverageEligibilityRequest.provider",
        ),
    ],
    ids=[
        "bad-nir-key",
        "no-birth-date",
        "no-nir",
        "patient-not-contained",
        "dangling-reference",
        "impossible-date",
        "unknown-element",
        "provider-not-token-owner",
    ],
)
def test_bad_requests_get_an_operation_outcome_naming_the_element(
    bearer, mutate, status, expression
) -> None:
    resource = request_for("177025626004544", "1977-02-10")
    mutate(resource)
    got_status, body = post(resource, bearer)
    assert got_status == status
    outcome = OperationOutcome.model_validate(body)
    assert outcome.issue[0].expression == [expression]
    assert "177025626004545" not in json.dumps(body)


def test_provider_matching_the_token_owner_is_accepted(optician, bearer) -> None:
    provider = {
        "identifier": {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": optician.national_id}
    }
    status, body = post(
        request_for(new_nir(datetime.date(1999, 9, 9)), "1999-09-09", provider=provider), bearer
    )
    assert (status, body["resourceType"]) == (200, "CoverageEligibilityResponse")


def test_malformed_json_and_missing_token() -> None:
    status, body = post(b"{oops", "tp_x_y")
    assert (status, body["issue"][0]["code"]) == (401, "login")
    status, body = post(request_for("177025626004544", "1977-02-10"), None)
    assert status == 401


def test_malformed_json_with_token(bearer) -> None:
    status, body = post(b"{oops", bearer)
    assert (status, body["issue"][0]["code"]) == (400, "structure")


@pytest.mark.parametrize("example", HL7_EXAMPLES, ids=[p.name for p in HL7_EXAMPLES])
def test_every_hl7_example_gets_a_well_formed_answer(bearer, example: Path) -> None:
    status, body = post(example.read_bytes(), bearer)
    assert status < 500
    if body["resourceType"] == "CoverageEligibilityResponse":
        CoverageEligibilityResponse.model_validate(body)
    else:
        outcome = OperationOutcome.model_validate(body)
        assert outcome.issue[0].diagnostics


def test_hl7_examples_are_all_there() -> None:
    names = {p.name for p in HL7_EXAMPLES}
    assert {
        "coverageeligibilityrequest-example.json",
        "coverageeligibilityrequest-example-2.json",
    } <= names


def test_documented_example_works(bearer) -> None:
    """The complete example in docs/fhir.md runs as written against a matching beneficiary."""
    doc = (ROOT / "docs/fhir.md").read_text(encoding="utf-8")
    example = json.loads(re.search(r"```json\n(\{.*?\n\})\n```", doc, re.S).group(1))
    patient = example["contained"][0]
    nir = patient["identifier"][0]["value"]
    insurer = InsurerFactory(amc_number=example["insurer"]["identifier"]["value"])
    make_beneficiary(
        contract=ContractFactory(insurer=insurer),
        nir=nir,
        birth_date=datetime.date.fromisoformat(patient["birthDate"]),
    )
    status, body = post(example, bearer)
    assert (status, body["outcome"], body["insurance"][0]["inforce"]) == (200, "complete", True)


def test_capability_statement() -> None:
    response = Client().get("/fhir/r4/metadata")
    assert response.status_code == 200
    body = response.json()
    assert body["fhirVersion"] == "4.0.1"
    assert body["rest"][0]["resource"][0]["type"] == "CoverageEligibilityRequest"


@pytest.mark.parametrize("purpose", ["auth-requirements", "benefits", "discovery", "validation"])
@pytest.mark.parametrize(
    "result",
    [
        RightsCheckResult(Outcome.NO_MATCH, datetime.date(2026, 2, 1), 1),
        RightsCheckResult(Outcome.AMBIGUOUS, datetime.date(2026, 2, 1), 1),
        RightsCheckResult(
            Outcome.COVERED,
            datetime.date(2026, 2, 1),
            1,
            rights_start=datetime.date(2024, 1, 1),
            amc_number="88000001",
            domains=list(Domain),
        ),
        RightsCheckResult(
            Outcome.COVERED,
            datetime.date(2026, 2, 1),
            1,
            rights_start=datetime.date(2024, 1, 1),
            rights_end=datetime.date(2026, 12, 31),
            amc_number="8800000199",
            domains=[],
        ),
        RightsCheckResult(
            Outcome.NOT_COVERED,
            datetime.date(2026, 2, 1),
            1,
            rights_start=datetime.date(2024, 1, 1),
            rights_end=datetime.date(2025, 1, 31),
            amc_number="88000001",
        ),
    ],
    ids=["no-match", "ambiguous", "covered-open-ended", "covered-no-domain", "not-covered"],
)
def test_every_outcome_gives_a_valid_response(result, purpose: str) -> None:
    """The answer is built without the FHIR model at run time: every shape it can take is
    validated here, through the JSON a client receives."""
    parsed = ParsedEligibilityRequest(
        query=RightsCheckInput(nir="x", birth_date="2000-01-01"), purpose=[purpose], provider_ids=()
    )
    created = datetime.datetime(2026, 2, 1, 9, 30, tzinfo=datetime.UTC)
    body = eligibility_response(result, parsed, base=BASE, request_id="r-1", created=created)
    response = CoverageEligibilityResponse.model_validate_json(json.dumps(body))
    assert response.created.isoformat() == "2026-02-01T09:30:00+00:00"
    assert body["created"] == "2026-02-01T09:30:00Z"
    assert response.purpose == [purpose]
    assert (response.outcome == "error") == (
        result.outcome in (Outcome.NO_MATCH, Outcome.AMBIGUOUS)
    )
