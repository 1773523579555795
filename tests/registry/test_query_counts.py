"""The rights check's SQL query count is pinned, so an N+1 cannot creep into the hot path.

The account-guard read, one indexed read of the candidates (contracts and insurers joined
in), one disclosure-log insert, and the savepoint pair of the gate's transaction: the same
count with one candidate or a whole family and a second contract on the card's NIR. Bad input
costs the guard read and the log insert. Approval and claim paths do not exist yet (issue tracker).
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.conf import settings

from tests.factories import ContractFactory, make_beneficiary, new_nir
from tierspayant.audit.choices import Channel, Outcome
from tierspayant.audit.services import RequestContext
from tierspayant.eligibility.services import (
    InvalidRightsCheck,
    RightsCheckInput,
    check_rights,
)
from tierspayant.registry.choices import Quality

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(1980, 5, 17)
TODAY = datetime.date(2026, 2, 1)


def ask(keyring, optician, query: RightsCheckInput):
    return check_rights(
        keyring,
        professional=optician,
        query=query,
        context=RequestContext(Channel.API, uuid.uuid4(), "192.0.2.1", "test", None),
        now=datetime.datetime(2026, 2, 1, 9, tzinfo=datetime.UTC),
        today=TODAY,
        quota_storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI,
        daily_quota=settings.TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA,
    )


@pytest.fixture
def family_nir() -> str:
    """A card NIR carrying the insured and four children (one candidate per birth date)."""
    nir = new_nir(BIRTH)
    contract = ContractFactory()
    make_beneficiary(contract=contract, nir=nir, birth_date=BIRTH)
    for year in (2010, 2012, 2014, 2016):
        make_beneficiary(
            contract=contract,
            nir=nir,
            birth_date=datetime.date(year, 3, 1),
            quality=Quality.CHILD,
        )
    # The same person on a second contract: two candidates for one identity.
    make_beneficiary(nir=nir, birth_date=BIRTH)
    return nir


@pytest.mark.parametrize(
    ("birth", "expected", "queries"),
    [
        pytest.param(BIRTH, Outcome.COVERED, 5, id="covered-two-contracts"),
        pytest.param(datetime.date(2012, 3, 1), Outcome.COVERED, 5, id="covered-child"),
        pytest.param(datetime.date(1999, 1, 1), Outcome.NO_MATCH, 5, id="no-match"),
    ],
)
def test_rights_check_query_count(
    keyring, optician, family_nir, django_assert_num_queries, birth, expected, queries
) -> None:
    with django_assert_num_queries(queries):
        result = ask(keyring, optician, RightsCheckInput(nir=family_nir, birth_date=birth))
    assert result.outcome == expected


def test_refused_input_costs_two_queries(keyring, optician, django_assert_num_queries) -> None:
    with django_assert_num_queries(2), pytest.raises(InvalidRightsCheck):
        ask(keyring, optician, RightsCheckInput(nir="284076912304596", birth_date=BIRTH))
