"""The rights check service: answers, no oracle, one log row per call, refusals, fail closed."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from tests.factories import ContractFactory, InsurerFactory, make_beneficiary, new_nir
from tierspayant.audit.choices import Channel, Outcome
from tierspayant.audit.models import AppendOnlyError, DisclosureLog
from tierspayant.audit.services import RequestContext
from tierspayant.eligibility import services as eligibility
from tierspayant.eligibility.services import InvalidRightsCheck, RightsCheckInput, check_rights
from tierspayant.guard.services import GuardUnavailable, QuotaExceeded
from tierspayant.registry.choices import Domain, Quality

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 15)
BORN = datetime.date(1981, 4, 2)


def run(professional, query: RightsCheckInput, *, quota: int = 20, storage: str | None = None):
    return check_rights(
        settings.TIERSPAYANT_KEYRING,
        professional=professional,
        query=query,
        context=RequestContext(
            channel=Channel.API,
            request_id=uuid.uuid4(),
            ip="192.0.2.10",
            user_agent="test-agent",
            actor_id=professional.user_id,
        ),
        now=timezone.now(),
        today=TODAY,
        quota_storage_uri=storage or settings.TIERSPAYANT_QUOTA_STORAGE_URI,
        daily_quota=quota,
    )


@pytest.fixture
def family():
    """An insured person, their twins on the same NIR, and a person whose rights ended."""
    insurer = InsurerFactory(amc_number="88000001")
    contract = ContractFactory(
        insurer=insurer, tiers_payant_domains=[Domain.OPTICAL.value, Domain.PHARMACY.value]
    )
    nir = new_nir(BORN)
    twins_born = datetime.date(2015, 9, 1)
    ended_born = datetime.date(1960, 1, 20)
    return {
        "nir": nir,
        "insured": make_beneficiary(contract=contract, nir=nir, birth_date=BORN),
        "twin1": make_beneficiary(
            contract=contract, nir=nir, birth_date=twins_born, rang=1, quality=Quality.CHILD
        ),
        "twin2": make_beneficiary(
            contract=contract, nir=nir, birth_date=twins_born, rang=2, quality=Quality.CHILD
        ),
        "twins_born": twins_born,
        "ended_nir": (ended_nir := new_nir(ended_born)),
        "ended": make_beneficiary(
            contract=contract,
            nir=ended_nir,
            birth_date=ended_born,
            rights_end=datetime.date(2025, 12, 31),
        ),
        "ended_born": ended_born,
    }


def test_covered_answer_confirms_without_identity(optician, family) -> None:
    result = run(optician, RightsCheckInput(nir=family["nir"], birth_date=BORN.isoformat()))
    assert result.outcome is Outcome.COVERED
    assert result.care_date == TODAY
    assert result.rights_start == datetime.date(2024, 1, 1)
    assert result.rights_end is None
    assert result.amc_number == "88000001"
    assert result.domains == [Domain.PHARMACY, Domain.OPTICAL]
    row = DisclosureLog.objects.get()
    assert row.pk == result.log_id
    assert row.beneficiary_id == family["insured"].pk
    assert row.fields_disclosed == eligibility.FIELDS_COVERED
    assert row.professional_id == optician.pk
    assert row.ip_address == "192.0.2.10"
    assert not {"name", "last_name", "first_name", "nir"} & set(vars(result))


def test_rights_ended_is_said_only_when_identity_matched(optician, family) -> None:
    result = run(
        optician, RightsCheckInput(nir=family["ended_nir"], birth_date=family["ended_born"])
    )
    assert result.outcome is Outcome.NOT_COVERED
    assert result.rights_end == datetime.date(2025, 12, 31)
    assert result.domains == []
    past = run(
        optician,
        RightsCheckInput(
            nir=family["ended_nir"], birth_date=family["ended_born"], care_date="2025-06-01"
        ),
    )
    assert past.outcome is Outcome.COVERED


@pytest.mark.parametrize(
    "variant",
    ["unknown-nir", "wrong-birth-date", "wrong-insurer", "missing-rang", "ended-wrong-birth-date"],
)
def test_every_mismatch_gets_the_same_no_match(optician, family, variant) -> None:
    queries = {
        "unknown-nir": RightsCheckInput(nir=new_nir(BORN), birth_date=BORN),
        "wrong-birth-date": RightsCheckInput(
            nir=family["nir"], birth_date=datetime.date(1981, 4, 3)
        ),
        "wrong-insurer": RightsCheckInput(
            nir=family["nir"], birth_date=BORN, amc_number="99999999"
        ),
        "missing-rang": RightsCheckInput(nir=family["nir"], birth_date=BORN, rang=3),
        "ended-wrong-birth-date": RightsCheckInput(nir=family["ended_nir"], birth_date=BORN),
    }
    result = run(optician, queries[variant])
    assert (
        result.outcome,
        result.rights_start,
        result.rights_end,
        result.amc_number,
        result.domains,
    ) == (Outcome.NO_MATCH, None, None, None, [])
    row = DisclosureLog.objects.get()
    assert (row.outcome, row.beneficiary_id, row.fields_disclosed) == ("no_match", None, [])


def test_twins_need_the_rang(optician, family) -> None:
    ambiguous = run(optician, RightsCheckInput(nir=family["nir"], birth_date=family["twins_born"]))
    assert ambiguous.outcome is Outcome.AMBIGUOUS
    assert ambiguous.rights_start is None
    second = run(
        optician, RightsCheckInput(nir=family["nir"], birth_date=family["twins_born"], rang="2")
    )
    assert second.outcome is Outcome.COVERED
    assert DisclosureLog.objects.order_by("id").last().beneficiary_id == family["twin2"].pk


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (RightsCheckInput(nir="177025626004545", birth_date="1977-02-10"), "nir"),
        (RightsCheckInput(nir="12345", birth_date="1977-02-10"), "nir"),
        (RightsCheckInput(nir="177025626004544", birth_date="1977-02-30"), "birth_date"),
        (RightsCheckInput(nir="177025626004544", birth_date="2027-01-01"), "birth_date"),
        (RightsCheckInput(nir="177025626004544", birth_date="1977-02-10", rang="x"), "rang"),
        (
            RightsCheckInput(nir="177025626004544", birth_date="1977-02-10", amc_number="12"),
            "amc_number",
        ),
        (
            RightsCheckInput(
                nir="177025626004544", birth_date="1977-02-10", care_date="15/03/2026"
            ),
            "care_date",
        ),
        (
            RightsCheckInput(
                nir="177025626004544", birth_date="1977-02-10", care_date="1970-01-01"
            ),
            "care_date",
        ),
    ],
    ids=[
        "bad-key",
        "too-short",
        "impossible-date",
        "future-birth",
        "rang-letter",
        "short-amc",
        "french-date",
        "care-before-birth",
    ],
)
def test_bad_input_is_refused_logged_without_the_nir(optician, query, field) -> None:
    with pytest.raises(InvalidRightsCheck) as caught:
        run(optician, query)
    assert caught.value.field == field
    assert query.nir not in str(caught.value)
    row = DisclosureLog.objects.get()
    assert (row.outcome, row.reason, row.beneficiary_id) == ("invalid_input", field, None)
    assert query.nir not in repr(vars(row))


def test_daily_quota_refuses_and_logs(optician, family) -> None:
    query = RightsCheckInput(nir=family["nir"], birth_date=BORN)
    for _ in range(3):
        assert run(optician, query, quota=3).outcome is Outcome.COVERED
    with pytest.raises(QuotaExceeded):
        run(optician, query, quota=3)
    assert list(DisclosureLog.objects.values_list("outcome", flat=True)) == ["covered"] * 3 + [
        "refused_quota"
    ]


def test_unreachable_counter_store_refuses(optician, family) -> None:
    with pytest.raises(GuardUnavailable):
        run(
            optician,
            RightsCheckInput(nir=family["nir"], birth_date=BORN),
            storage="redis://127.0.0.1:1/0",
        )
    assert DisclosureLog.objects.get().outcome == "refused_guard"


def test_failed_log_write_discloses_nothing(optician, family, monkeypatch) -> None:
    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(eligibility, "record_disclosure", broken)
    with pytest.raises(DatabaseError):
        run(optician, RightsCheckInput(nir=family["nir"], birth_date=BORN))
    assert DisclosureLog.objects.count() == 0


def test_log_is_append_only(optician, family) -> None:
    run(optician, RightsCheckInput(nir=family["nir"], birth_date=BORN))
    row = DisclosureLog.objects.get()
    row.outcome = "no_match"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        DisclosureLog.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        DisclosureLog.objects.update(outcome="no_match")
    assert DisclosureLog.objects.get().outcome == "covered"
