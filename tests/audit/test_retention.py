"""Retention: rows past the period go, the chain stays verifiable from the last retained
checkpoint, and the database flush (tests, fresh demos) still empties the log."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.audit.conftest import T0, log_row
from tests.factories import make_beneficiary, make_professional
from tierspayant.audit.models import DisclosureLog
from tierspayant.audit.services import purge_expired, seal_log
from tierspayant.audit.verify import verify_log

OLD = T0 - datetime.timedelta(days=400)


@pytest.fixture
def history(store):
    """Three old rows (one checkpoint), then two old-ish and two recent rows (a second)."""
    pro = make_professional(with_totp=False)
    person = make_beneficiary()
    old = [log_row(pro, person, at=OLD + datetime.timedelta(minutes=n)) for n in range(3)]
    seal_log(store=store, now=OLD + datetime.timedelta(hours=1))
    straddling = log_row(pro, person, at=OLD + datetime.timedelta(days=1))
    recent = [log_row(pro, person, at=T0 - datetime.timedelta(days=n)) for n in range(2)]
    seal_log(store=store, now=T0)
    return {"old": old, "straddling": straddling, "recent": recent, "pro": pro}


@pytest.mark.django_db
def test_purge_cuts_at_a_checkpoint_and_verify_still_passes(history, store) -> None:
    result = purge_expired(store=store, now=T0, retention_days=365)
    assert (result.deleted, result.purged_through) == (3, 3)
    kept = set(DisclosureLog.objects.values_list("pk", flat=True))
    assert kept == {history["straddling"].pk, *(r.pk for r in history["recent"])}
    assert [e.kind for e in store.entries()] == ["checkpoint", "checkpoint", "purge"]
    report = verify_log(store=store, now=T0)
    assert report.ok, report.problems
    assert (report.purged_through, report.rows_checked) == (3, 3)
    # nothing more to purge until the second checkpoint is wholly past the period
    assert purge_expired(store=store, now=T0, retention_days=365).deleted == 0
    later = T0 + datetime.timedelta(days=400)
    assert purge_expired(store=store, now=later, retention_days=365).deleted == 3
    assert verify_log(store=store, now=later).ok


@pytest.mark.django_db
def test_deleting_the_oldest_rows_without_the_purge_is_caught(history, store, tamper) -> None:
    purge_expired(store=store, now=T0, retention_days=365)
    tamper("DELETE FROM audit_disclosurelog WHERE id = %s", [history["straddling"].pk])
    problem = verify_log(store=store, now=T0).problems[0]
    assert (problem.kind, problem.position) == ("deleted", 4)


@pytest.mark.django_db
def test_purge_command(history, settings) -> None:
    settings.TIERSPAYANT_AUDIT_RETENTION_DAYS = 365
    out = StringIO()
    with time_machine.travel(T0 + datetime.timedelta(days=1), tick=False):
        call_command("audit_purge", stdout=out)
    assert "purged 3 rows (chain positions up to 3)" in out.getvalue()
    assert not DisclosureLog.objects.filter(seq__lte=3).exists()
    with pytest.raises(CommandError) as caught:
        call_command("audit_purge", "--days=0", stdout=out)
    assert caught.value.returncode == 2


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_log_between_transactional_tests(store) -> None:
    # pytest-django flushes the database after this test (TRUNCATE on PostgreSQL, DELETE on
    # SQLite): the `flush` command lifts the log's guard for itself, so teardown succeeds.
    pro = make_professional(with_totp=False)
    log_row(pro, make_beneficiary())
    seal_log(store=store, now=T0)
    call_command("flush", interactive=False, verbosity=0)
    assert DisclosureLog.objects.count() == 0
    log_row(make_professional(with_totp=False))  # leave a row for the runner's own flush
