"""Fail closed: when the log row cannot be written, the caller gets an error and no data."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import DatabaseError, connection
from django.test import Client
from django.utils import timezone

from tests.factories import make_beneficiary, new_nir
from tierspayant.audit.models import DisclosureLog
from tierspayant.providers.choices import Scope
from tierspayant.providers.services import issue_api_token

pytestmark = pytest.mark.django_db
BORN = datetime.date(1988, 8, 8)


def test_an_unwritable_log_means_an_error_and_no_personal_data(optician) -> None:
    nir = new_nir(BORN)
    person = make_beneficiary(nir=nir, birth_date=BORN)
    token = issue_api_token(
        professional=optician,
        name="LGO",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=30,
    ).secret

    def disk_full(execute, sql, params, many, context):
        # The database refuses the log's insert, whatever code path writes it.
        if sql.lstrip().upper().startswith("INSERT") and DisclosureLog._meta.db_table in sql:
            raise DatabaseError("disk full")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(disk_full):
        response = Client(raise_request_exception=False).post(
            "/api/v1/eligibility",
            data=json.dumps({"nir": nir, "birth_date": BORN.isoformat()}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
    assert response.status_code == 500
    body = response.content.decode()
    for secret in (person.contract.insurer.amc_number, "covered", "2024-01-01", nir):
        assert secret not in body
    assert DisclosureLog.objects.count() == 0
