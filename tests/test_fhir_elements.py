"""FHIR elements read as R4 defines them, or refused with an OperationOutcome naming them:
dates of care as ``date`` or ``dateTime`` (an instant read in Europe/Paris), ``Claim.total``
the sum of the lines, ``net = quantity × unitPrice × factor``, the rang as ``valueInteger``."""

from __future__ import annotations

import datetime
import json
import zoneinfo

import pytest
from django.test import Client
from django.utils import timezone

from tests.care.conftest import make_patient
from tests.care.test_care_interfaces import _french_claim, _token
from tests.factories import make_beneficiary, make_professional, new_nir
from tests.test_fhir import bearer, post, request_for
from tierspayant.priorauth.models import PriorApproval
from tierspayant.providers.choices import Scope

pytestmark = pytest.mark.django_db
__all__ = ["bearer"]  # the rights-check token fixture of tests/test_fhir.py
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _issue(body: dict) -> tuple[str, list[str]]:
    assert body["resourceType"] == "OperationOutcome"
    issue = body["issue"][0]
    return issue["code"], issue.get("expression", [])


@pytest.mark.parametrize(
    ("period_start", "day"),
    [
        ("2026-11-29", "29/11/2026"),
        ("2026-11-29T23:30:00Z", "30/11/2026"),  # 00:30 in Paris
        ("2026-11-29T23:30:00+01:00", "29/11/2026"),
        ("2026-07-14T22:15:00Z", "15/07/2026"),  # summer time: 00:15 in Paris
    ],
    ids=["date", "utc-near-midnight", "paris-offset", "summer"],
)
def test_serviced_period_start_is_a_date_or_an_instant_read_in_paris(
    bearer: str, period_start: str, day: str
) -> None:
    born = datetime.date(1984, 2, 29)
    nir = new_nir(born)
    person = make_beneficiary(nir=nir, birth_date=born)
    resource = request_for(nir, "1984-02-29", amc=person.contract.insurer.amc_number, served=None)
    resource["servicedPeriod"] = {"start": period_start}
    status, body = post(resource, bearer)
    assert status == 200, body
    assert body["disposition"] == f"Droits ouverts au {day}."


@pytest.mark.parametrize(
    ("element", "value", "expression"),
    [
        ("servicedPeriod", {"start": "2026-11"}, "CoverageEligibilityRequest.servicedPeriod.start"),
        ("servicedPeriod", {"start": "2026"}, "CoverageEligibilityRequest.servicedPeriod.start"),
        ("servicedDate", "2026-11", "CoverageEligibilityRequest.servicedDate"),
    ],
    ids=["year-month", "year", "date-year-month"],
)
def test_a_partial_date_names_no_day_of_care(
    bearer: str, element: str, value: object, expression: str
) -> None:
    resource = request_for(new_nir(datetime.date(1984, 2, 29)), "1984-02-29", served=None)
    resource[element] = value
    status, body = post(resource, bearer)
    assert (status, _issue(body)) == (422, ("invalid", [expression]))


@pytest.fixture
def claims_auth() -> dict[str, str]:
    optician = make_professional()
    return {"HTTP_AUTHORIZATION": f"Bearer {_token(optician, Scope.CLAIMS_SUBMIT)}"}


def _post_claim(resource: dict, auth: dict[str, str]) -> tuple[int, dict]:
    response = Client().post(
        "/fhir/r4/Claim", json.dumps(resource), content_type="application/fhir+json", **auth
    )
    return response.status_code, response.json()


def test_an_item_instant_is_the_day_of_care_in_paris(claims_auth: dict[str, str]) -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    # 00:30 in Paris tomorrow is still today in UTC.
    instant = datetime.datetime.combine(tomorrow, datetime.time(0, 30), tzinfo=PARIS)
    resource = _french_claim(make_patient(), "preauthorization")
    for item in resource["item"]:
        del item["servicedDate"]
        item["servicedPeriod"] = {
            "start": instant.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
        }
    status, body = _post_claim(resource, claims_auth)
    assert status == 201, body
    assert PriorApproval.objects.get().planned_date == tomorrow


def _mutate(resource: dict, how: str) -> None:
    item = resource["item"][0]
    if how == "total-wrong":
        resource["total"] = {"value": 389.99, "currency": "EUR"}
    elif how == "quantity-two":
        item["quantity"] = {"value": 2}
    elif how == "net-not-unit-price":
        item["unitPrice"] = {"value": 100.0, "currency": "EUR"}
    elif how == "detail":
        item["detail"] = [{"sequence": 1, "productOrService": {"text": "x"}}]
    elif how == "rang-as-string":
        resource["contained"][0]["extension"] = [
            {
                "url": "https://tierspayant.example/fhir/StructureDefinition/rang-naissance",
                "valueString": "2",
            }
        ]
    elif how == "item-date-partial":
        item["servicedDate"] = "2026-11"
    elif how == "item-instant-without-zone":
        del item["servicedDate"]
        item["servicedPeriod"] = {"start": "2026-11-29T10:00:00"}


@pytest.mark.parametrize(
    ("how", "status", "code", "expression"),
    [
        ("total-wrong", 422, "invalid", "Claim.total"),
        ("quantity-two", 422, "not-supported", "Claim.item[0].quantity"),
        ("net-not-unit-price", 422, "invalid", "Claim.item[0].net"),
        ("detail", 422, "not-supported", "Claim.item[0].detail"),
        ("rang-as-string", 422, "invalid", "Patient.extension"),
        ("item-date-partial", 422, "invalid", "Claim.item[0].servicedDate"),
        ("item-instant-without-zone", 400, "structure", "Claim.item.0.servicedPeriod.start"),
    ],
)
def test_claim_elements_read_loosely_are_refused_by_name(
    claims_auth: dict[str, str], how: str, status: int, code: str, expression: str
) -> None:
    resource = _french_claim(make_patient(), "preauthorization")
    _mutate(resource, how)
    got, body = _post_claim(resource, claims_auth)
    assert (got, _issue(body)) == (status, (code, [expression])), body
    assert not PriorApproval.objects.exists()


def test_a_total_equal_to_the_lines_and_a_consistent_unit_price_are_accepted(
    claims_auth: dict[str, str],
) -> None:
    resource = _french_claim(make_patient(), "preauthorization")
    resource["total"] = {"value": 390.0, "currency": "EUR"}
    resource["item"][0]["unitPrice"] = {"value": 150.0, "currency": "EUR"}
    resource["item"][0]["quantity"] = {"value": 1}
    status, body = _post_claim(resource, claims_auth)
    assert status == 201, body
    assert PriorApproval.objects.get().total_billed == 390


_PLACES = {
    "net": lambda r: r["item"][0]["net"].update(value="__X__"),
    "total": lambda r: r.update(total={"value": "__X__", "currency": "EUR"}),
    "factor": lambda r: r["item"][0].update(factor="__X__"),
    "rang": lambda r: r["contained"][0].update(
        extension=[
            {
                "url": "https://tierspayant.example/fhir/StructureDefinition/rang-naissance",
                "valueInteger": "__X__",
            }
        ]
    ),
}


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-1e400", "1" + "0" * 5000])
@pytest.mark.parametrize("place", _PLACES)
def test_numbers_out_of_any_range_are_refused_not_a_500(
    claims_auth: dict[str, str], place: str, raw: str
) -> None:
    resource = _french_claim(make_patient(), "preauthorization")
    _PLACES[place](resource)
    response = Client().post(
        "/fhir/r4/Claim",
        json.dumps(resource).replace('"__X__"', raw),
        content_type="application/fhir+json",
        **claims_auth,
    )
    assert 400 <= response.status_code < 500, response.content[:300]
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "kind", ["", None, 7, "Nothing"], ids=["empty", "null", "number", "unknown"]
)
@pytest.mark.parametrize("endpoint", ["CoverageEligibilityRequest", "Claim"])
def test_a_contained_resource_of_unknown_type_is_refused_by_name(
    bearer: str, claims_auth: dict[str, str], endpoint: str, kind: object
) -> None:
    # Found by tests/test_input_limits.py::test_wrongly_typed_json_never_gets_a_500.
    if endpoint == "Claim":
        resource = _french_claim(make_patient(), "preauthorization")
        auth = claims_auth
    else:
        resource = request_for(new_nir(datetime.date(1984, 2, 29)), "1984-02-29")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"}
    resource["contained"][0]["resourceType"] = kind
    response = Client().post(
        f"/fhir/r4/{endpoint}", json.dumps(resource), content_type="application/fhir+json", **auth
    )
    assert response.status_code == 400, response.content[:300]
    assert _issue(response.json())[0] == "structure"
