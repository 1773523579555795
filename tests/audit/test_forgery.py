"""Forged disclosure rows (issue 13): a row written later with an old date, and a row whose
chain columns its writer filled in. The database refuses the chain columns to anyone but the
sealer, the sealer refuses backdated rows (writing nothing), and audit-verify names both
kinds of row even when they were slipped past those guards by the table's owner."""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from tests.audit.conftest import T0, log_row
from tests.factories import make_beneficiary, make_professional
from tierspayant.audit import db_guard
from tierspayant.audit.chain import CHAIN_FIELDS, GENESIS, row_hash
from tierspayant.audit.checkpoints import CHECKPOINT
from tierspayant.audit.models import DisclosureLog
from tierspayant.audit.services import SealRefused, seal_log
from tierspayant.audit.verify import verify_log

pytestmark = pytest.mark.django_db

SEALED_AT = T0 + datetime.timedelta(minutes=5)
LATER = T0 + datetime.timedelta(hours=2)
OLD = T0 - datetime.timedelta(days=3)


@pytest.fixture
def chain(store) -> list[DisclosureLog]:
    """Four rows written from T0 and sealed five minutes later (checkpoint 1)."""
    pro = make_professional(with_totp=False)
    person = make_beneficiary()
    rows = [log_row(pro, person, at=T0 + datetime.timedelta(minutes=n)) for n in range(4)]
    seal_log(store=store, now=SEALED_AT)
    return [DisclosureLog.objects.get(pk=r.pk) for r in rows]


@contextlib.contextmanager
def triggers_dropped() -> Iterator[None]:
    """As the table's owner could: the triggers gone for the block, then put back."""
    db_guard.uninstall(connection)
    try:
        yield
    finally:
        db_guard.install(connection)


def fill_chain(row: DisclosureLog, *, after: DisclosureLog) -> str:
    """Chain ``row`` after ``after`` exactly as the sealer would (triggers dropped); returns
    the row's hash."""
    values = DisclosureLog.objects.filter(pk=row.pk).values_list(*CHAIN_FIELDS)[0]
    assert after.row_hash is not None and after.seq is not None
    digest = row_hash(after.row_hash, values)
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_disclosurelog SET seq = %s, prev_hash = %s, row_hash = %s WHERE id = %s",
            [after.seq + 1, after.row_hash, digest, row.pk],
        )
    return digest


def insert_sql(**chain: object) -> tuple[str, list[object]]:
    columns = {
        "occurred_at": LATER,
        "request_id": uuid.uuid4().hex,
        "channel": "api",
        "purpose": "rights_check",
        "outcome": "no_match",
        "reason": "",
        "fields_disclosed": "[]",
        "user_agent": "forger",
        **chain,
    }
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO audit_disclosurelog ({names}) VALUES ({marks})", list(columns.values())  # noqa: S608


# -- the database: chain columns are the sealer's alone -----------------------------------------


@pytest.mark.parametrize(
    "chain_columns",
    [
        {"seq": 5},
        {"prev_hash": GENESIS},
        {"row_hash": GENESIS},
        {"seq": 5, "prev_hash": GENESIS, "row_hash": GENESIS},
    ],
    ids=["seq", "prev_hash", "row_hash", "all"],
)
def test_an_insert_that_fills_a_chain_column_is_refused(chain, chain_columns) -> None:
    sql, params = insert_sql(**chain_columns)
    with (
        pytest.raises(DatabaseError, match="INSERT with chain columns refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
    assert DisclosureLog.objects.count() == 4
    plain, params = insert_sql()  # the same row without chain columns is welcome
    with connection.cursor() as cursor:
        cursor.execute(plain, params)
    assert DisclosureLog.objects.filter(seq__isnull=True).count() == 1


def test_an_update_that_chains_a_row_is_refused_outside_the_sealer(chain) -> None:
    row = log_row(chain[0].professional, at=LATER)
    values = DisclosureLog.objects.filter(pk=row.pk).values_list(*CHAIN_FIELDS)[0]
    digest = row_hash(chain[-1].row_hash or "", values)
    with (
        pytest.raises(DatabaseError, match="UPDATE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE audit_disclosurelog SET seq = 5, prev_hash = %s, row_hash = %s WHERE id = %s",
            [chain[-1].row_hash, digest, row.pk],
        )
    assert DisclosureLog.objects.get(pk=row.pk).seq is None


def test_a_role_that_does_not_own_the_log_cannot_chain_even_with_the_flag(chain) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("roles are PostgreSQL's")
    row = log_row(chain[0].professional, at=LATER)
    values = DisclosureLog.objects.filter(pk=row.pk).values_list(*CHAIN_FIELDS)[0]
    digest = row_hash(chain[-1].row_hash or "", values)
    role = f"tp_app_{connection.settings_dict['NAME']}"[:60]  # this test database's own
    with connection.cursor() as cursor:  # all inside the test's transaction: rolled back
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        cursor.execute(f'GRANT SELECT, INSERT, UPDATE ON audit_disclosurelog TO "{role}"')
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:  # the application's role, flag set by hand
                cursor.execute(f'SET LOCAL ROLE "{role}"')
                cursor.execute("SELECT set_config(%s, %s, true)", [db_guard.BYPASS_SETTING, "seal"])
            with (
                pytest.raises(DatabaseError, match="UPDATE refused"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(
                    "UPDATE audit_disclosurelog SET seq = 5, prev_hash = %s, row_hash = %s "
                    "WHERE id = %s",
                    [chain[-1].row_hash, digest, row.pk],
                )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert DisclosureLog.objects.get(pk=row.pk).seq is None


# -- the sealer refuses a backdated row ----------------------------------------------------------


def test_sealing_refuses_a_backdated_row_and_writes_nothing(chain, store) -> None:
    honest = log_row(chain[0].professional, at=LATER)
    forged = log_row(chain[0].professional, make_beneficiary(), at=OLD)
    entries_before = store.entries()
    with pytest.raises(SealRefused, match=f"row id {forged.pk} is dated") as refused:
        seal_log(store=store, now=LATER)
    assert refused.value.row_id == forged.pk
    assert store.entries() == entries_before  # no checkpoint
    assert DisclosureLog.objects.filter(seq__isnull=True).count() == 2  # nothing chained
    out = StringIO()
    with pytest.raises(CommandError, match=f"sealing refused: row id {forged.pk}") as exc:
        call_command("audit_seal", stdout=out)
    assert exc.value.returncode == 1
    assert DisclosureLog.objects.get(pk=honest.pk).seq is None
    problems = verify_log(store=store, now=LATER).problems
    assert [(p.kind, p.row_id) for p in problems] == [("inserted", forged.pk)]


def test_a_late_commit_within_the_grace_is_still_sealed(chain, store) -> None:
    late = log_row(chain[0].professional, at=SEALED_AT - datetime.timedelta(minutes=10))
    assert seal_log(store=store, now=LATER).sealed == 1
    assert DisclosureLog.objects.get(pk=late.pk).seq == 5
    assert verify_log(store=store, now=LATER).ok


# -- verify names both kinds of forged row -------------------------------------------------------


def test_verify_names_a_backdated_row_chained_and_signed_after_the_fact(chain, store) -> None:
    # What the old sealer did: chain the backdated row and sign a checkpoint over it.
    forged = log_row(chain[0].professional, make_beneficiary(), at=OLD)
    digest = fill_chain(forged, after=chain[-1])
    store.append(
        CHECKPOINT,
        {"count": 5, "head_hash": digest, "max_occurred_at": "2026-03-02T09:03:00.000000+00:00"},
        now=LATER,
    )
    problems = verify_log(store=store, now=LATER).problems
    assert [(p.kind, p.row_id, p.position, p.checkpoint) for p in problems] == [
        ("backdated", forged.pk, 5, 1)
    ]
    assert "before checkpoint 1 was signed" in problems[0].message


def test_verify_and_the_sealer_name_a_row_with_self_filled_chain_columns(chain, store) -> None:
    forged = log_row(chain[0].professional, make_beneficiary(), at=LATER)
    fill_chain(forged, after=chain[-1])  # a well-formed link and hash: the chain is consistent
    problems = verify_log(store=store, now=LATER).problems
    assert [(p.kind, p.row_id, p.position) for p in problems] == [("forged", forged.pk, 5)]
    assert "written outside the sealer" in problems[0].message
    log_row(chain[0].professional, at=LATER)
    with pytest.raises(SealRefused, match="no checkpoint vouches") as refused:
        seal_log(store=store, now=LATER)  # and the sealer does not adopt it
    assert refused.value.row_id == forged.pk
    assert [e.count for e in store.entries()] == [4]


def test_an_empty_store_vouches_for_no_chained_row(store) -> None:
    forged = log_row(make_professional(with_totp=False), at=T0)
    values = DisclosureLog.objects.filter(pk=forged.pk).values_list(*CHAIN_FIELDS)[0]
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_disclosurelog SET seq = 1, prev_hash = %s, row_hash = %s WHERE id = %s",
            [GENESIS, row_hash(GENESIS, values), forged.pk],
        )
    assert [(p.kind, p.row_id) for p in verify_log(store=store, now=T0).problems] == [
        ("forged", forged.pk)
    ]
    with pytest.raises(SealRefused):
        seal_log(store=store, now=T0)


def test_purging_seals_first_and_so_refuses_too(chain, store) -> None:
    forged = log_row(chain[0].professional, at=OLD)
    with pytest.raises(CommandError, match=f"sealing refused: row id {forged.pk}") as exc:
        call_command("audit_purge", "--days=1", stdout=StringIO())
    assert exc.value.returncode == 1
    assert DisclosureLog.objects.count() == 5  # nothing purged
