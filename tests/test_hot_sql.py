"""The hot path's SQL (``tierspayant.hot_sql``) returns what the ORM returns."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.utils import timezone

from tests.factories import ContractFactory, make_beneficiary, new_nir
from tierspayant import hot_sql
from tierspayant.audit.models import DisclosureLog
from tierspayant.guard.models import AccountGuard
from tierspayant.providers.choices import Scope
from tierspayant.providers.models import ApiToken
from tierspayant.providers.services import issue_api_token
from tierspayant.registry.choices import Quality
from tierspayant.registry.models import Beneficiary

pytestmark = pytest.mark.django_db


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_select_related_matches_the_orm(django_assert_num_queries) -> None:
    nir = new_nir(datetime.date(1980, 1, 1))
    contract = ContractFactory()
    born = datetime.date(2016, 3, 3)
    for rang in (2, 1):
        make_beneficiary(
            contract=contract, nir=nir, birth_date=born, rang=rang, quality=Quality.CHILD
        )
    indexes = list(Beneficiary.objects.values_list("identity_index", flat=True).distinct())
    expected = list(
        Beneficiary.objects.select_related("contract__insurer")
        .filter(identity_index__in=indexes)
        .order_by("rang", "pk")
    )
    with django_assert_num_queries(1):
        got = hot_sql.select_related(
            Beneficiary,
            ("contract", "insurer"),
            where="identity_index",
            values=indexes,
            order_by=("rang", "pk"),
        )
        # related rows come with it: no further query
        assert [_values(b.contract.insurer) for b in got] == [
            _values(b.contract.insurer) for b in expected
        ]
    assert [_values(b) for b in got] == [_values(b) for b in expected]
    assert [_values(b.contract) for b in got] == [_values(b.contract) for b in expected]
    assert isinstance(got[0].pk, uuid.UUID) and got[0].rang == 1
    assert isinstance(got[0].contract.tiers_payant_domains, list)
    assert got[0].contract.domains() == expected[0].contract.domains()


def test_select_related_without_a_match() -> None:
    assert (
        hot_sql.select_related(ApiToken, ("professional",), where="prefix", values=["none"]) == []
    )


def test_token_with_professional_and_user(optician, django_assert_num_queries) -> None:
    issued = issue_api_token(
        professional=optician,
        name="LGO",
        scopes=[Scope.ELIGIBILITY_CHECK],
        now=timezone.now(),
        valid_days=30,
    )
    with django_assert_num_queries(1):
        (token,) = hot_sql.select_related(
            ApiToken, ("professional", "user"), where="prefix", values=[issued.token.prefix]
        )
        assert token.professional.user.username == optician.user.username
    assert _values(token) == _values(ApiToken.objects.get(pk=issued.token.pk))
    assert token.scopes == [Scope.ELIGIBILITY_CHECK.value]
    assert timezone.is_aware(token.expires_at)


def test_insert_returns_the_new_row_id(optician) -> None:
    at = datetime.datetime(2026, 2, 1, 9, 30, 15, 123456, tzinfo=datetime.UTC)
    request_id = uuid.uuid4()
    row_id = hot_sql.insert(
        DisclosureLog,
        {
            "occurred_at": at,
            "request_id": request_id,
            "channel": "fhir",
            "purpose": "rights_check",
            "outcome": "no_match",
            "reason": "",
            "actor_id": None,
            "professional_id": optician.pk,
            "beneficiary_id": None,
            "fields_disclosed": ["coverage_status"],
            "ip_address": "192.0.2.1",
            "user_agent": "test",
        },
    )
    row = DisclosureLog.objects.get()
    assert row.pk == row_id
    assert (row.occurred_at, row.request_id, row.fields_disclosed, row.ip_address) == (
        at,
        request_id,
        ["coverage_status"],
        "192.0.2.1",
    )
    assert model_to_dict(row)["professional"] == optician.pk


def test_statements_are_prepared_on_postgresql(optician) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                [f"%FROM {connection.ops.quote_name(AccountGuard._meta.db_table)} t0%"],
            )
            return cursor.fetchone()[0]

    for _ in range(3):
        hot_sql.select_related(AccountGuard, (), where="pk", values=[optician.pk])
        assert prepared() == 1  # prepared once on this connection, then reused
