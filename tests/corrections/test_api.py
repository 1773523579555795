"""``/api/v1/invoices/{invoice_number}`` (issue 16 part 2): state and events, cancel,
rectify, dispute; another professional's invoice is a 404 like an unknown one."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.corrections.world import medicine, patient, pay, pharmacist, stored
from tierspayant.corrections.models import LedgerEntry
from tierspayant.corrections.services import add_months
from tierspayant.invoices.lot_formats.codec import invoice_to_json
from tierspayant.invoices.models import Invoice
from tierspayant.providers.choices import Scope
from tierspayant.providers.models import Professional
from tierspayant.providers.services import issue_api_token

pytestmark = pytest.mark.usefixtures("nomenclatures")


def _headers(professional: Professional) -> dict[str, str]:
    secret = issue_api_token(
        professional=professional,
        name="LGO",
        scopes=[Scope.CLAIMS_SUBMIT],
        now=timezone.now(),
        valid_days=1,
    ).secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _post(professional: Professional, path: str, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return Client().post(
        path, json.dumps(body), content_type="application/json", **_headers(professional)
    )


@pytest.fixture
def recent() -> Invoice:
    """An invoice stored and paid a few days ago (within every window)."""
    now = timezone.now()
    row = stored(pharmacist(), patient(), medicine("F-1"), at=now - dt.timedelta(days=5))
    pay(row, now - dt.timedelta(days=2))
    return row


def test_the_invoice_shows_its_state_and_events_without_the_patient(recent: Invoice) -> None:
    response = Client().get("/api/v1/invoices/F-1", **_headers(recent.professional))
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["total_amc"]) == ("paid", "4.48")
    assert [e["kind"] for e in body["events"]] == ["received", "accepted", "paid"]
    assert body["events"][2]["amount"] == "4.48"
    assert body["events"][2]["reference"] == f"E2E-{recent.pk}"
    text = response.content.decode()
    assert "beneficiary" not in text and "nir" not in text and "birth" not in text


def test_another_professionals_invoice_is_a_404_like_an_unknown_one(recent: Invoice) -> None:
    stranger = pharmacist()
    answers = [
        Client().get("/api/v1/invoices/F-1", **_headers(stranger)),
        _post(stranger, "/api/v1/invoices/F-1/cancel", {"reason": "x"}),
        _post(stranger, "/api/v1/invoices/F-1/dispute", {"reason": "x"}),
        _post(
            stranger,
            "/api/v1/invoices/F-1/rectify",
            {"reason": "x", "invoice": invoice_to_json(medicine("F-2"))},
        ),
    ]
    unknown = Client().get("/api/v1/invoices/F-404", **_headers(stranger))
    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert {a.json()["code"] for a in answers} == {"not_found"}
    assert unknown.json()["message"] == "Facture F-404 introuvable."
    assert recent.events.count() == 3


def test_cancelling_a_paid_invoice_through_the_api(recent: Invoice) -> None:
    response = _post(recent.professional, "/api/v1/invoices/F-1/cancel", {"reason": "erreur"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["events"][-1]["actor"] == "professional"
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount) == ("overpayment", Decimal("4.48"))
    again = _post(recent.professional, "/api/v1/invoices/F-1/cancel", {"reason": "erreur"})
    assert again.status_code == 409
    assert again.json()["code"] == "not_allowed"
    assert again.json()["message"].startswith("Facture F-1 : ")


def test_rectifying_through_the_api(recent: Invoice) -> None:
    body = {"reason": "prix", "invoice": invoice_to_json(medicine("F-1-R", unit="13.81"))}
    response = _post(recent.professional, "/api/v1/invoices/F-1/rectify", body)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["status"], answer["replacement"]) == ("rectified", "F-1-R")
    assert answer["events"][-1]["related"] == "F-1-R"
    replacement = Client().get("/api/v1/invoices/F-1-R", **_headers(recent.professional))
    assert (replacement.json()["status"], replacement.json()["total_amc"]) == ("accepted", "4.83")


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"care_date": "14/03/2025"}, 422, "invoice.care_date"),
        ({"total_billed": "99.00"}, 422, "invoice"),
        ({"invoice_number": "F-1"}, 422, "invoice.invoice_number"),
    ],
)
def test_a_refused_rectification_names_the_field(
    recent: Invoice, change: dict[str, str], status: int, field: str
) -> None:
    replacement = {**invoice_to_json(medicine("F-1-R")), **change}
    response = _post(
        recent.professional,
        "/api/v1/invoices/F-1/rectify",
        {"reason": "prix", "invoice": replacement},
    )
    assert response.status_code == status
    assert response.json()["field"] == field
    assert Invoice.objects.count() == 1
    assert "14/03/2025" not in response.json()["message"]


def test_a_late_dispute_is_refused_naming_the_deadline() -> None:
    long_ago = timezone.now() - dt.timedelta(days=120)
    row = stored(pharmacist(), patient(), medicine("F-1", total="99.00"), at=long_ago)
    response = _post(row.professional, "/api/v1/invoices/F-1/dispute", {"reason": "à revoir"})
    assert response.status_code == 422
    deadline = add_months(long_ago.astimezone(dt.UTC).date(), 2)
    assert response.json()["message"] == (
        f"Facture F-1 : le délai de contestation a expiré le {deadline:%d/%m/%Y}."
    )
    assert Invoice.objects.get().status == "rejected"


def test_a_dispute_within_the_window(recent: Invoice) -> None:
    response = _post(recent.professional, "/api/v1/invoices/F-1/dispute", {"reason": "montant"})
    assert response.status_code == 200
    event = response.json()["events"][-1]
    assert event["kind"] == "disputed"
    assert event["deadline"] == (timezone.now().date() + dt.timedelta(days=30)).isoformat()


def test_a_reason_too_long_is_refused(recent: Invoice) -> None:
    response = _post(recent.professional, "/api/v1/invoices/F-1/cancel", {"reason": "x" * 301})
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "payload.reason"
