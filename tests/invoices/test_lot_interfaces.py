"""Lots through the JSON API and the portal: sent, acknowledged, adjudicated (eagerly, as
the tests run Celery), results per invoice with AMC per line; only the lot's professional
sees it."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests.factories import make_professional
from tests.invoices.builders import invoice, line
from tests.invoices.lot_builders import jsonl, make_patient
from tierspayant.providers.choices import Profession, Scope
from tierspayant.providers.services import issue_api_token

pytestmark = pytest.mark.usefixtures("nomenclatures")

BOX = line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33", franchise="1.00")


def _auth(professional) -> dict[str, str]:  # type: ignore[no-untyped-def]
    secret = issue_api_token(
        professional=professional,
        name="logiciel",
        scopes=[Scope.CLAIMS_SUBMIT],
        now=timezone.now(),
        valid_days=30,
    ).secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_api_lot_round_trip(db: None, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    pharmacist = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    patient = make_patient()
    body = jsonl(
        [
            (invoice(BOX, number="F-1"), patient.card()),
            (invoice(BOX, number="F-2"), patient.card(rang=2)),
        ]
    )
    client, auth = Client(), _auth(pharmacist)
    with django_capture_on_commit_callbacks(execute=True):  # the worker, eagerly
        sent = client.post(
            "/api/v1/lots",
            {"file": SimpleUploadedFile("lot.jsonl", body), "format": "jsonl"},
            **auth,
        )
    assert sent.status_code == 202, sent.content
    ack = sent.json()
    assert (ack["declared_count"], ack["declared_total"]) == (2, "25.62")
    lot_id = ack["id"]
    status = client.get(f"/api/v1/lots/{lot_id}", **auth).json()
    assert (status["status"], status["percent_done"], status["accepted_count"]) == ("done", 100, 1)
    results = client.get(f"/api/v1/lots/{lot_id}/results", **auth).json()["results"]
    assert [(r["invoice_number"], r["status"], r["total_amc"]) for r in results] == [
        ("F-1", "accepted", "4.48"),
        ("F-2", "rejected", "0.00"),
    ]
    assert [(x["amo"], x["amc"], x["rac"]) for x in results[0]["lines"]] == [
        ("7.33", "4.48", "1.00")
    ]
    assert results[1]["reasons"][0]["code"] == "BENEFICIARY_UNKNOWN"
    assert patient.nir not in str(results)
    stranger = _auth(make_professional(profession=Profession.PHARMACIST, specialty_code="50"))
    assert client.get(f"/api/v1/lots/{lot_id}", **stranger).status_code == 404
    assert client.get(f"/api/v1/lots/{lot_id}/results", **stranger).status_code == 404
    assert client.get("/api/v1/lots", **stranger).json() == []


def test_api_refuses_a_bad_lot_whole(db: None) -> None:
    pharmacist = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    body = jsonl([(invoice(BOX, number="F-1"), make_patient().card())], total="1.00")
    sent = Client().post(
        "/api/v1/lots", {"file": SimpleUploadedFile("lot.jsonl", body)}, **_auth(pharmacist)
    )
    assert sent.status_code == 422
    assert (sent.json()["code"], sent.json()["field"]) == ("LOT_TOTAL_MISMATCH", "total_billed")
    assert Client().get("/api/v1/lots").status_code == 401


def test_fhir_batch_bundle_answers_claim_responses(
    db: None, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """A FHIR lot: the batch-response Bundle carries one ClaimResponse per Claim with the
    AMO, AMC and patient shares; they are read again by ``ClaimResponse?lot=``."""
    from tests.invoices.test_lot_fhir import bundle

    pharmacist = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    patient = make_patient()
    body = bundle()
    claim = body["entry"][0]["resource"]
    claim["contained"][0]["identifier"][0]["value"] = patient.nir
    claim["billablePeriod"]["start"] = "2025-03-14"
    client, auth = Client(), _auth(pharmacist)
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/fhir/r4/", body, content_type="application/fhir+json", **auth)
    assert sent.status_code == 202, sent.content
    answer = sent.json()
    assert answer["type"] == "batch-response"
    response = answer["entry"][0]["resource"]
    assert response["resourceType"] == "ClaimResponse"
    assert response["outcome"] == "queued"  # acknowledged before the worker ran
    lot_id = int(answer["id"].removeprefix("lot-"))
    found = client.get(f"/fhir/r4/ClaimResponse?lot={lot_id}", **auth).json()
    result = found["entry"][0]["resource"]
    assert result["outcome"] == "complete"
    shares = [(a["category"]["coding"][0]["code"], a["amount"]["value"])
              for a in result["item"][0]["adjudication"]]  # fmt: skip
    assert shares == [("submitted", 12.81), ("amo", 7.33), ("benefit", 4.48), ("patient", 1.0)]
    assert patient.nir not in json.dumps(found)
    stranger = _auth(make_professional(profession=Profession.PHARMACIST, specialty_code="50"))
    assert client.get(f"/fhir/r4/ClaimResponse?lot={lot_id}", **stranger).status_code == 404


def test_fhir_bad_lot_is_an_operation_outcome(db: None) -> None:
    from tests.invoices.test_lot_fhir import bundle

    pharmacist = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    body = bundle(count=2)
    sent = Client().post(
        "/fhir/r4/", body, content_type="application/fhir+json", **_auth(pharmacist)
    )
    assert sent.status_code == 422
    issue = sent.json()["issue"][0]
    assert issue["expression"] == ["Bundle.count"]
    assert "LOT_COUNT_MISMATCH" in issue["diagnostics"]
