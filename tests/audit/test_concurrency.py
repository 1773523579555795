"""Writers never wait for the sealer: rows written concurrently with sealing all end up in
one verifiable chain (PostgreSQL: real concurrent transactions)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from tests.audit.conftest import T0, log_row
from tests.factories import make_beneficiary, make_professional
from tierspayant.audit.models import DisclosureLog
from tierspayant.audit.services import seal_log
from tierspayant.audit.verify import verify_log


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealer_give_one_intact_chain(store) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    pro = make_professional(with_totp=False)
    person = make_beneficiary()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(25):
                log_row(pro, person, at=T0)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        seal_log(store=store, now=T0, batch_size=7)
    for thread in threads:
        thread.join()
    seal_log(store=store, now=T0)
    assert not errors
    seqs = sorted(DisclosureLog.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, 101))
    report = verify_log(store=store, now=T0)
    assert report.ok, report.problems
    assert report.rows_checked == 100
