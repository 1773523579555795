"""``POST /fhir/r4/Task`` (issue 16): cancel (``financialtaskcode#cancel``) and dispute
(``#reprocess``) an invoice the FHIR R4 way; answers validated with fhir.resources."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.task import Task

from tests.corrections.world import medicine, patient, pay, pharmacist, stored
from tierspayant.corrections.models import LedgerEntry
from tierspayant.invoices.models import Invoice
from tierspayant.providers.choices import Scope
from tierspayant.providers.models import Professional
from tierspayant.providers.services import issue_api_token

pytestmark = pytest.mark.usefixtures("nomenclatures")
CODES = "http://terminology.hl7.org/CodeSystem/financialtaskcode"


def _task(code: str, number: str, reason: str = "erreur de saisie") -> dict[str, Any]:
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": {"coding": [{"system": CODES, "code": code}]},
        "focus": {"identifier": {"value": number}},
        "reasonCode": {"text": reason},
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
        "/fhir/r4/Task",
        json.dumps(body),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def test_cancel_task_on_a_paid_invoice() -> None:
    pro = pharmacist()
    row = stored(pro, patient(), medicine("F-1"))
    pay(row, timezone.now())
    response = _post(pro, _task("cancel", "F-1"))
    assert response.status_code == 200
    task = Task.model_validate(response.json())
    assert (task.status, task.businessStatus.text) == ("completed", "Annulée")
    assert LedgerEntry.objects.get().amount == row.total_amc
    again = _post(pro, _task("cancel", "F-1"))
    assert again.status_code == 409
    OperationOutcome.model_validate(again.json())


def test_reprocess_task_disputes_a_rejection_with_the_deadline() -> None:
    pro = pharmacist()
    stored(pro, patient(), medicine("F-1", total="99.00"), at=timezone.now())
    response = _post(pro, _task("reprocess", "F-1", "total exact"))
    assert response.status_code == 200
    body = response.json()
    assert body["output"][0]["valueCode"] == "disputed"
    expected = (timezone.now().astimezone(dt.UTC).date() + dt.timedelta(days=30)).isoformat()
    assert body["restriction"]["period"]["end"] == expected


@pytest.mark.parametrize(
    ("body", "status", "expression"),
    [
        (_task("cancel", "F-404"), 404, "Task.focus"),
        (_task("poll", "F-1"), 422, "Task.code"),
        ({**_task("cancel", "F-1"), "focus": {}}, 422, "Task.focus"),
        (_task("cancel", "F-1", ""), 422, "Task.reasonCode.text"),
        (_task("cancel", "F-1", "   "), 422, "Task.reasonCode"),
        ({**_task("cancel", "F-1"), "resourceType": "Claim"}, 400, "Task"),
        ({**_task("cancel", "F-1"), "focus": "F-1"}, 422, "Task.focus"),
    ],
)
def test_refusals_are_operation_outcomes(
    body: dict[str, Any], status: int, expression: str
) -> None:
    pro = pharmacist()
    stored(pro, patient(), medicine("F-1"))
    response = _post(pro, body)
    assert response.status_code == status
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].expression == [expression]
    assert Invoice.objects.get().status == "accepted"


def test_another_professionals_invoice_is_not_found() -> None:
    stored(pharmacist(), patient(), medicine("F-1"))
    response = _post(pharmacist(), _task("cancel", "F-1"))
    assert response.status_code == 404
    assert Invoice.objects.get().status == "accepted"
