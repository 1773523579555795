"""Property-based API testing with schemathesis against the published OpenAPI document
(``/api/v1/openapi.json``): no server error, answers conform to the schema, and the bearer
authentication the schema declares is really enforced (a call without it, or with a forged
token, is refused). Examples are bounded so the run stays short (ASVS 5.0 V4.1, V8.1)."""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth, response_schema_conformance

from tierspayant.guard.policy import policy_from_json
from tierspayant.providers.choices import Scope
from tierspayant.providers.services import issue_api_token


@pytest.fixture
def bearer(optician) -> str:
    return issue_api_token(
        professional=optician,
        name="schemathesis",
        scopes=list(Scope),
        now=timezone.now(),
        valid_days=1,
    ).secret


#: Fuzzing sends hundreds of calls a second from one account: the guard keeps counting and
#: detecting, but alerts instead of suspending (which would revoke the token mid-run).
FUZZ_POLICY = {
    "quotas": {
        "optician": {
            "per_hour": 10**6,
            "per_day": 10**6,
            "practice_per_hour": 10**6,
            "practice_per_day": 10**6,
        }
    },
    "floors": {"optician": {"burst": 10**6, "hour": 10**6, "day": 10**6, "all_hours": True}},
    "actions": {"low": "alert", "medium": "alert", "high": "alert", "critical": "alert"},
}


@pytest.mark.django_db
def test_api_against_its_openapi(bearer, settings) -> None:
    settings.TIERSPAYANT_GUARD_POLICY = policy_from_json(json.dumps(FUZZ_POLICY))
    settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA = 10**6
    calls: list[int] = []
    # Like Django's test client: keep the test's database connection open across requests
    # (the WSGI handler would close it at request end, which breaks the test transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {op.label for op in operations} == {
            "POST /api/v1/eligibility",
            "POST /api/v1/prior-approvals",
            "GET /api/v1/prior-approvals/{number}",
            "POST /api/v1/prior-approvals/{number}/cancel",
            "POST /api/v1/claims",
            "GET /api/v1/claims/{claim_id}",
            "GET /api/v1/statements",
            "POST /api/v1/calculations",
            "POST /api/v1/lots",
            "GET /api/v1/lots",
            "GET /api/v1/lots/{lot_id}",
            "GET /api/v1/lots/{lot_id}/results",
            "GET /api/v1/invoices/{invoice_number}",
            "POST /api/v1/invoices/{invoice_number}/cancel",
            "POST /api/v1/invoices/{invoice_number}/rectify",
            "POST /api/v1/invoices/{invoice_number}/dispute",
            "GET /api/v1/returns",
            "GET /api/v1/returns.csv",
        }
        _run(operations, bearer, calls)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert len(calls) >= 100
    assert set(calls) <= {200, 400, 404, 409, 422, 429}


def _run(operations, bearer: str, calls: list[int]) -> None:
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def check(case) -> None:
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {bearer}"},
                checks=[not_a_server_error, response_schema_conformance, ignored_auth],
            )
            calls.append(response.status_code)

        check()
