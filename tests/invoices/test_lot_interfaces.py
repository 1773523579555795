"""Lots through the JSON API and the portal: sent, acknowledged, adjudicated (eagerly, as
the tests run Celery), results per invoice with AMC per line; only the lot's professional
sees it."""

from __future__ import annotations

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
