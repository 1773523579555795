"""The hot path's SQL (``tierspayant.hot_sql``) returns what the ORM returns."""

from __future__ import annotations

import datetime
import gc
import json
import threading
import uuid
import weakref

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.forms.models import model_to_dict
from django.test import Client
from django.utils import timezone

from tests.factories import ContractFactory, make_beneficiary, make_professional, new_nir
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


@pytest.mark.django_db(transaction=True)
def test_each_request_threads_connection_is_freed_with_its_thread() -> None:
    """Issue 13: under a thread-per-request server (``runserver``) every request brings a new
    thread, hence a new database connection. Nothing the request path keeps per connection
    (hot_sql's converters...) may keep that connection alive once its thread has ended:
    each one kept cost about 260 KB, for good."""
    born = datetime.date(1990, 6, 30)
    nir = new_nir(born)
    make_beneficiary(nir=nir, birth_date=born)
    body = json.dumps({"nir": nir, "birth_date": born.isoformat()})
    # Five practices, six checks each: below every quota and detector, so each request is
    # authenticated and answered through the whole gate.
    secrets = [
        issue_api_token(
            professional=make_professional(),
            name="LGO",
            scopes=[Scope.ELIGIBILITY_CHECK],
            now=timezone.now(),
            valid_days=30,
        ).secret
        for _ in range(5)
    ]
    statuses: list[int] = []
    connections_used: list[weakref.ref] = []

    def one_request(secret: str) -> None:
        # As runserver's ThreadedWSGIServer: one request in a fresh thread, then the
        # thread's connections closed (close_request), then the thread ends.
        try:
            response = Client().post(
                "/api/v1/eligibility",
                data=body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
            )
            statuses.append(response.status_code)
            connections_used.append(weakref.ref(connections[DEFAULT_DB_ALIAS]))
        finally:
            connections.close_all()

    for _ in range(6):
        for secret in secrets:
            thread = threading.Thread(target=one_request, args=(secret,))
            thread.start()
            thread.join()
    gc.collect()
    assert statuses == [200] * 30
    kept = sum(ref() is not None for ref in connections_used)
    assert kept == 0, f"{kept} of 30 request threads' connections still alive"
