"""No input anywhere gives a 500 (issue 13, item 9).

1. Every route of the URL configuration, fed a JSON body nested past the limit (and 2,000
   deep), an oversized body, a NUL or control character in a JSON string, a form field, a
   form field's name or the query string, answers 400/413 naming the field, before any view:
   FHIR paths with an OperationOutcome, ``/api/`` with ``{"code", "message", "field"}``.
2. Every JSON endpoint (FHIR, ``/api/v1/``, the passkey endpoints signed in and not), signed
   in or with a token of every scope, fed wrongly typed JSON (hypothesis: any JSON value put
   anywhere in a valid request) answers a 4xx, never a 500.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.care.conftest import make_patient
from tests.care.test_care_interfaces import _french_claim
from tests.factories import make_professional, new_nir
from tests.invoices.test_lot_docs import _block
from tests.test_access_walk import ROUTES, sample_path
from tests.test_fhir import request_for
from tierspayant.providers.choices import Scope
from tierspayant.providers.services import issue_api_token
from tierspayant.text import control_path, json_depth

pytestmark = pytest.mark.django_db
MAX_BYTES = 4096
MAX_DEPTH = 64


@pytest.fixture(autouse=True)
def _lower_limits(settings) -> None:
    # Tests lower thresholds, they never switch the control off.
    settings.TIERSPAYANT_JSON_MAX_BYTES = MAX_BYTES


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


BAD: dict[str, dict[str, Any]] = {
    "nested-2000": {"data": b"[" * 2000 + b"]" * 2000},
    "nested-just-over": {"data": _nested(MAX_DEPTH + 1)},
    "oversized": {"data": json.dumps({"a": "x" * MAX_BYTES}).encode(), "status": 413},
    "nul-in-json": {"data": b'{"resourceType": "Claim", "note": [{"text": "a\\u0000b"}]}'},
    "escape-in-json-key": {"data": b'{"a\\u001b": 1}'},
    "nul-in-form": {"form": {"nom": "Dupont\x00"}},
    "control-in-form-name": {"form": {"no\x01m": "Dupont"}},
    "c1-in-form": {"form": {"nom": "Dupont\x85"}},
    "nul-in-query": {"query": "?q=%00"},
}


def _send(client: Client, path: str, bad: dict[str, Any]):  # type: ignore[no-untyped-def]
    if "query" in bad:
        return client.get(path + bad["query"])
    if "form" in bad:
        return client.post(path, bad["form"])
    return client.post(path, bad["data"], content_type="application/json")


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_refuses_bad_input_before_any_view(route: str) -> None:
    path = sample_path(route)
    client = Client()
    for kind, bad in BAD.items():
        response = _send(client, path, bad)
        assert response.status_code == bad.get("status", 400), (path, kind, response.status_code)
        body = response.content.decode()
        assert "\x00" not in body and "Dupont" not in body
        if path.startswith("/fhir/"):
            outcome = response.json()
            assert outcome["resourceType"] == "OperationOutcome"
            assert outcome["issue"][0]["diagnostics"]
        elif path.startswith("/api/"):
            assert response.json()["code"] == "invalid"


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("nul-in-json", "Claim.note[0].text"),
        ("escape-in-json-key", None),
        ("nested-just-over", None),
    ],
)
def test_the_refusal_names_the_element(kind: str, field: str | None) -> None:
    response = _send(Client(), "/fhir/r4/Claim", BAD[kind])
    assert response.json()["issue"][0].get("expression", [None])[0] == field
    response = _send(Client(), "/api/v1/eligibility", BAD["nul-in-json"])
    assert response.json()["field"] == "note[0].text"


def test_form_text_areas_keep_line_breaks_and_the_limit_lets_real_requests_through(
    verified_client: Client,
) -> None:
    response = verified_client.post("/jetons/", {"name": "Logiciel\r\ndu magasin\tA"})
    assert response.status_code != 400
    assert json_depth(_nested(MAX_DEPTH), limit=MAX_DEPTH) == MAX_DEPTH


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"a": [{"b": "x\x00"}]}, "a[0].b"),
        (["ok", "\u2028"], "[1]"),
        ({"ok": "tab\tin a single-line value"}, "ok"),
        ({"ok": "é ü 李 😀"}, None),
        ({"284076912304595": "\x00"}, "?"),  # a value used as a key is never shown
    ],
)
def test_control_path_names_the_first_bad_string(data: Any, path: str | None) -> None:
    assert control_path(data) == path


# --- 2. wrongly typed JSON reaches every JSON endpoint: never a 500 --------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _replaced(template: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(template))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


def _templates() -> dict[str, Any]:
    patient = make_patient()
    nir = new_nir(patient.born)
    return {
        "/fhir/r4/CoverageEligibilityRequest": request_for(nir, patient.born.isoformat()),
        "/fhir/r4/Claim": _french_claim(patient, "preauthorization"),
        "/api/v1/eligibility": {"nir": nir, "birth_date": patient.born.isoformat()},
        "/api/v1/prior-approvals": {
            "patient": {"nir": patient.nir, "birth_date": patient.born.isoformat()},
            "lines": [{"code": "2264861", "billed": "150.00"}],
        },
        "/api/v1/claims": {
            "patient": {"nir": patient.nir, "birth_date": patient.born.isoformat()},
            "invoice_number": "F-1",
            "lines": [{"code": "2264861", "billed": "150.00"}],
        },
        "/api/v1/prior-approvals/PEC-1/cancel": {},
        # Corrections (issue 16): on an unknown invoice (404) or a real one (422, 409).
        "/api/v1/invoices/x/cancel": {"reason": "erreur de saisie"},
        "/api/v1/invoices/x/dispute": {"reason": "montant contesté"},
        "/fhir/r4/Task": {
            "resourceType": "Task",
            "status": "requested",
            "intent": "order",
            "code": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/financialtaskcode",
                        "code": "cancel",
                    }
                ]
            },
            "focus": {"identifier": {"value": "F-1"}},
            "reasonCode": {"text": "erreur de saisie"},
        },
        "/api/v1/invoices/x/rectify": {
            "reason": "prix",
            "invoice": {
                "invoice_number": "F-2",
                "care_date": "2025-03-14",
                "insurance_nature": "10",
                "exemption": "0",
                "amo_regime": "1",
                "total_billed": "7.99",
                "total_amo": "5.19",
                "lines": [
                    {
                        "code_system": "CIP13",
                        "code": "3400930000000",
                        "quantity": 1,
                        "unit_price": "7.99",
                        "billed": "7.99",
                        "br": "7.99",
                        "amo_rate": "65",
                        "amo_paid": "5.19",
                    }
                ],
            },
        },
        "/api/v1/calculations": {
            "nir": nir,
            "birth_date": patient.born.isoformat(),
            "amc_number": "70100001",
            "member_number": "A1",
            "care_date": "2025-03-14",
            "lines": [
                {
                    "code_system": "CIP13",
                    "code": "3400930000000",
                    "quantity": 1,
                    "unit_price": "7.99",
                    "billed": "7.99",
                    "br": "7.99",
                    "amo_rate": "65",
                    "amo_paid": "5.19",
                }
            ],
        },
        # A lot sent as a FHIR batch Bundle: the complete example of docs/invoices.md.
        "/fhir/r4/": json.loads(_block("json")),
        "/cle-acces/enregistrement/debut/": {},
        "/cle-acces/enregistrement/fin/": {"id": "x", "response": {"clientDataJSON": "e30"}},
        "/cle-acces/verification/debut/": {},
        "/cle-acces/verification/fin/": {"id": "x", "response": {"clientDataJSON": "e30"}},
    }


def test_every_json_endpoint_is_in_the_typed_walk() -> None:
    routes = {
        sample_path(r)
        for r in ROUTES
        if r.startswith(("api/", "fhir/", "cle-acces/"))
        and not r.endswith(("openapi.json", "docs", "metadata", "jsi18n/"))
    }
    # Reads: no JSON body (their query strings and forms are part 1's).
    reads = {
        "/api/v1/",
        "/api/v1/statements",
        "/api/v1/claims/x",
        "/api/v1/prior-approvals/x",
        "/fhir/r4/AuditEvent/_search",
        "/fhir/r4/PaymentReconciliation/1",
        "/fhir/r4/ClaimResponse",
        "/api/v1/lots/x",
        "/api/v1/lots/x/results",
        # Its GET lists lots; its POST is a multipart file upload, not JSON (the lot's own
        # parsers name what is wrong: tests/invoices/test_lot_interfaces.py, test_lots.py).
        "/api/v1/lots",
        "/api/v1/invoices/x",
        # Return lines (issue 16): GET with a cursor (tests/returns/test_returns.py refuses
        # bad cursors and counts plainly).
        "/api/v1/returns",
        "/api/v1/returns.csv",
    }
    walked = {p.replace("PEC-1", "x") for p in _templates()}
    assert routes - reads == walked


@hsettings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_wrongly_typed_json_never_gets_a_500(data: st.DataObject, verified_client: Client) -> None:
    optician = make_professional()
    token = issue_api_token(
        professional=optician, name="LGO", scopes=list(Scope), now=timezone.now(), valid_days=1
    ).secret
    anonymous = Client()
    for path, template in _templates().items():
        where = data.draw(st.sampled_from(_paths(template)), label=f"{path} element")
        body = _replaced(template, where, data.draw(JSON, label=f"{path} value"))
        clients = [verified_client, anonymous] if path.startswith("/cle-acces/") else [anonymous]
        for client in clients:
            response = client.post(
                path,
                json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
            assert response.status_code < 500, (path, where, response.content[:300])
