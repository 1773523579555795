"""Property-based API testing with schemathesis against the published OpenAPI document
(``/api/v1/openapi.json``): no server error, answers conform to the schema, and the bearer
authentication the schema declares is really enforced (a call without it, or with a forged
token, is refused). Examples are bounded so the run stays short (ASVS 5.0 V4.1, V8.1)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth, response_schema_conformance

from tierspayant.providers.choices import Scope
from tierspayant.providers.services import issue_api_token


@pytest.fixture
def bearer(optician) -> str:
    return issue_api_token(
        professional=optician,
        name="schemathesis",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=1,
    ).secret


@pytest.mark.django_db
def test_api_against_its_openapi(bearer) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert [op.label for op in operations] == ["POST /api/v1/eligibility"]
    calls: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
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
    assert len(calls) >= 20
    assert set(calls) <= {200, 400, 422, 429}
