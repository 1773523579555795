"""Tamper evidence: the triggers, the sealer, and audit-verify naming the first bad row."""

from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from tests.audit.conftest import T0, log_row
from tests.factories import make_beneficiary, make_professional
from tierspayant.audit import db_guard
from tierspayant.audit.chain import CHAIN_FIELDS, GENESIS, row_hash
from tierspayant.audit.models import AppendOnlyError, DisclosureLog
from tierspayant.audit.services import seal_log
from tierspayant.audit.verify import verify_log

pytestmark = pytest.mark.django_db

NOW = T0 + datetime.timedelta(hours=1)


@pytest.fixture
def sealed_rows(store) -> list[DisclosureLog]:
    """Eight rows (five disclosures, three no-match) sealed under two checkpoints."""
    pro = make_professional(with_totp=False)
    people = [make_beneficiary() for _ in range(3)]
    rows = []
    for n in range(8):
        who = people[n % 3] if n % 3 != 2 or n == 2 else None
        rows.append(log_row(pro, who, at=T0 + datetime.timedelta(minutes=n)))
        if n == 3:  # a sealing run just after the fourth row
            seal_log(store=store, now=T0 + datetime.timedelta(minutes=n))
    seal_log(store=store, now=NOW)
    return [DisclosureLog.objects.get(pk=r.pk) for r in rows]


def verify(store):
    return verify_log(store=store, now=NOW)


def run_verify() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit_verify", stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


# -- database triggers -------------------------------------------------------------------------


def assert_refused(sql: str, params: list[object]) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def test_triggers_refuse_update_and_delete_from_sql(sealed_rows) -> None:
    assert db_guard.missing_triggers(connection) == set()
    row = sealed_rows[0]
    for sql in (
        "UPDATE audit_disclosurelog SET outcome = 'no_match' WHERE id = %s",
        "UPDATE audit_disclosurelog SET seq = seq + 100 WHERE id = %s",
        "DELETE FROM audit_disclosurelog WHERE id = %s",
    ):
        assert_refused(sql, [row.pk])
    assert DisclosureLog.objects.get(pk=row.pk).outcome == row.outcome


def test_an_unsealed_row_can_be_sealed_once_but_its_content_never_changes() -> None:
    row = log_row(make_professional(with_totp=False), make_beneficiary())
    seal = "UPDATE audit_disclosurelog SET seq = 1, prev_hash = %s, row_hash = %s WHERE id = %s"
    assert_refused(seal, [GENESIS, GENESIS, row.pk])  # not the sealer: refused
    with transaction.atomic(), db_guard.guard_lifted(connection, db_guard.SEAL):
        assert_refused(  # sealing columns *and* content at once
            "UPDATE audit_disclosurelog SET seq = 1, prev_hash = %s, row_hash = %s, "
            "reason = 'x' WHERE id = %s",
            [GENESIS, GENESIS, row.pk],
        )
        with connection.cursor() as cursor:
            cursor.execute(seal, [GENESIS, GENESIS, row.pk])
        # a second sealing is a change
        assert_refused("UPDATE audit_disclosurelog SET seq = 2 WHERE id = %s", [row.pk])


def test_orm_still_refuses_before_the_database_does(sealed_rows) -> None:
    with pytest.raises(AppendOnlyError):
        DisclosureLog.objects.filter(pk=sealed_rows[0].pk).delete()
    with pytest.raises(AppendOnlyError):
        sealed_rows[0].save()


def test_the_purge_flag_lets_only_sealed_rows_go(sealed_rows) -> None:
    unsealed = log_row(sealed_rows[0].professional)
    with (
        transaction.atomic(),
        db_guard.guard_lifted(connection, db_guard.PURGE),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_disclosurelog WHERE id = %s", [sealed_rows[0].pk])
    assert not DisclosureLog.objects.filter(pk=sealed_rows[0].pk).exists()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        db_guard.guard_lifted(connection, db_guard.PURGE),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_disclosurelog WHERE id = %s", [unsealed.pk])
    # and the flag is gone after the block
    assert_refused("DELETE FROM audit_disclosurelog WHERE id = %s", [sealed_rows[1].pk])


# -- sealing -----------------------------------------------------------------------------------


def test_sealing_chains_rows_in_order_and_signs_checkpoints(sealed_rows, store) -> None:
    assert [r.seq for r in sealed_rows] == list(range(1, 9))
    previous = GENESIS
    for row in sealed_rows:
        assert row.prev_hash == previous
        previous = row.row_hash
    entries = store.entries()
    assert [(e.kind, e.count) for e in entries] == [("checkpoint", 4), ("checkpoint", 8)]
    assert entries[-1].fields["head_hash"] == sealed_rows[-1].row_hash
    assert seal_log(store=store, now=NOW).checkpoint is None  # nothing new: nothing signed


def test_a_late_commit_is_chained_after_rows_sealed_before_it(sealed_rows, store) -> None:
    # A row written now gets a higher id; simulate a transaction that committed late by
    # sealing, then adding a row: it simply takes the next position.
    late = log_row(sealed_rows[0].professional, at=NOW - datetime.timedelta(minutes=10))
    result = seal_log(store=store, now=NOW)
    assert result.sealed == 1
    assert DisclosureLog.objects.get(pk=late.pk).seq == 9


def test_verify_passes_on_an_intact_log(sealed_rows) -> None:
    code, out = run_verify()
    assert code == 0, out
    assert "intact: 8 rows checked" in out


# -- tampering: each case names the row --------------------------------------------------------


def test_altered_row_is_named(sealed_rows, store, tamper) -> None:
    target = sealed_rows[5]
    tamper("UPDATE audit_disclosurelog SET outcome = 'ambiguous' WHERE id = %s", [target.pk])
    report = verify(store)
    assert [p.kind for p in report.problems] == ["altered"]
    assert report.problems[0].row_id == target.pk
    code, out = run_verify()
    assert code == 1
    assert f"row id {target.pk} (position 6) was altered" in out


def test_deleted_row_is_named_by_its_position_and_neighbours(sealed_rows, store, tamper) -> None:
    target = sealed_rows[2]
    tamper("DELETE FROM audit_disclosurelog WHERE id = %s", [target.pk])
    problem = verify(store).problems[0]
    assert problem.kind == "deleted"
    assert problem.position == 3
    assert f"between row id {sealed_rows[1].pk} and row id {sealed_rows[3].pk}" in problem.message


def test_deleted_last_row_is_caught_by_the_checkpoint(sealed_rows, store, tamper) -> None:
    tamper("DELETE FROM audit_disclosurelog WHERE id = %s", [sealed_rows[-1].pk])
    problem = verify(store).problems[0]
    assert (problem.kind, problem.position, problem.checkpoint) == ("deleted", 8, 2)


def test_deleted_first_row_is_caught(sealed_rows, store, tamper) -> None:
    tamper("DELETE FROM audit_disclosurelog WHERE id = %s", [sealed_rows[0].pk])
    problem = verify(store).problems[0]
    assert (problem.kind, problem.position) == ("deleted", 1)


def test_inserted_row_is_named(sealed_rows, store, tamper) -> None:
    # The attacker shifts positions 4..8 up by one and slips a well-formed row in at 4.
    intruder = log_row(sealed_rows[0].professional, sealed_rows[0].beneficiary)
    tamper("UPDATE audit_disclosurelog SET seq = -seq WHERE seq >= 4")
    tamper("UPDATE audit_disclosurelog SET seq = -seq + 1 WHERE seq < 0")
    values = DisclosureLog.objects.filter(pk=intruder.pk).values_list(*CHAIN_FIELDS)[0]
    prev = sealed_rows[2].row_hash
    tamper(
        "UPDATE audit_disclosurelog SET seq = 4, prev_hash = %s, row_hash = %s WHERE id = %s",
        [prev, row_hash(prev, values), intruder.pk],
    )
    problem = verify(store).problems[0]
    assert (problem.kind, problem.row_id, problem.position) == ("inserted", intruder.pk, 4)


def test_backdated_unsealed_row_is_named(sealed_rows, store) -> None:
    log_row(sealed_rows[0].professional, at=NOW)  # unsealed but recent: a late commit
    intruder = log_row(sealed_rows[0].professional, at=T0 - datetime.timedelta(days=3))
    problems = verify(store).problems
    assert [(p.kind, p.row_id) for p in problems] == [("inserted", intruder.pk)]
    assert "inserted after sealing" in problems[0].message


def test_reordered_rows_are_named(sealed_rows, store, tamper) -> None:
    a, b = sealed_rows[4], sealed_rows[5]
    tamper("UPDATE audit_disclosurelog SET seq = -1 WHERE id = %s", [a.pk])
    tamper("UPDATE audit_disclosurelog SET seq = 5 WHERE id = %s", [b.pk])
    tamper("UPDATE audit_disclosurelog SET seq = 6 WHERE id = %s", [a.pk])
    problem = verify(store).problems[0]
    assert (problem.kind, problem.row_id, problem.position) == ("reordered", b.pk, 5)
    assert f"row id {a.pk}" in problem.message


def test_a_rewritten_chain_is_caught_by_the_checkpoint(sealed_rows, store, tamper) -> None:
    # The attacker alters row 6 and recomputes every hash after it: only the signed
    # checkpoint (8 rows) can tell, and it names the range it covers.
    tamper("UPDATE audit_disclosurelog SET reason = 'x' WHERE seq = 6")
    prev = sealed_rows[4].row_hash
    for row in DisclosureLog.objects.filter(seq__gte=6).order_by("seq"):
        values = DisclosureLog.objects.filter(pk=row.pk).values_list(*CHAIN_FIELDS)[0]
        digest = row_hash(prev, values)
        tamper(
            "UPDATE audit_disclosurelog SET prev_hash = %s, row_hash = %s WHERE id = %s",
            [prev, digest, row.pk],
        )
        prev = digest
    problem = verify(store).problems[0]
    assert (problem.kind, problem.checkpoint, problem.position) == ("rewritten", 2, 5)


def test_missing_triggers_are_reported(sealed_rows, store) -> None:
    db_guard.uninstall(connection)
    try:
        assert [p.kind for p in verify(store).problems] == ["triggers"]
    finally:
        db_guard.install(connection)


# -- a corrupted checkpoint store ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "number", "words"),
    [
        ("edit", 1, "signature does not verify"),
        ("remove-first", 1, "missing"),
        ("garble", 2, "unreadable"),
        ("swap", 1, "says it is entry 2"),
    ],
)
def test_corrupted_store_names_the_checkpoint(sealed_rows, store, damage, number, words) -> None:
    first, second = (store.directory / f"{n:010d}.json" for n in (1, 2))
    for path in (first, second):
        path.chmod(0o644)
    if damage == "edit":
        doc = json.loads(first.read_text())
        doc["count"] = 3
        first.write_text(json.dumps(doc))
    elif damage == "remove-first":
        first.unlink()
    elif damage == "garble":
        second.write_text("{not json")
    else:
        a, b = first.read_text(), second.read_text()
        first.write_text(b)
        second.write_text(a)
    problems = verify(store).problems
    assert problems[0].kind == "store"
    assert problems[0].checkpoint == number
    assert words in problems[0].message
    code, out = run_verify()
    assert code == 1
    assert f"{number:010d}.json" in out


def test_checkpoints_are_written_once_and_read_only(sealed_rows, store) -> None:
    path = store.directory / "0000000001.json"
    assert path.stat().st_mode & 0o222 == 0
    assert sorted(p.name for p in store.directory.iterdir()) == [
        "0000000001.json",
        "0000000002.json",
    ]


def test_seal_command_chains_and_signs(store) -> None:
    pro = make_professional(with_totp=False)
    for _ in range(3):
        log_row(pro)
    out = StringIO()
    call_command("audit_seal", stdout=out)
    assert "sealed 3 rows; chain length 3; checkpoint 1 signed" in out.getvalue()
    call_command("audit_seal", "--every=1", "--runs=1", stdout=out)
    assert "sealed 0 rows; chain length 3; no new checkpoint" in out.getvalue()
    assert run_verify()[0] == 0


def test_sealing_refuses_to_sign_over_a_broken_store(sealed_rows, store) -> None:
    last = store.directory / "0000000002.json"
    last.chmod(0o644)
    last.write_text("{}")
    log_row(sealed_rows[0].professional)
    with pytest.raises(CommandError, match="checkpoint store refused"):
        call_command("audit_seal", stdout=StringIO())
