"""Checking the disclosure log against its hash chain and the signed checkpoint store.

``verify_log`` reads the store (every entry's signature and order), checks that the database
triggers are in place, then walks the sealed rows in chain order and stops at the first
problem, naming the row:

- **altered**: the row's content no longer gives its hash;
- **deleted**: a position is missing (between two named rows, or at the tail that a
  checkpoint vouches for, or at the head with no retention entry to explain it);
- **inserted**: a row sits between two rows that were chained to each other, or a row that
  is not sealed is dated well before the latest checkpoint (slipped in after sealing);
- **backdated**: a sealed row is dated well before the checkpoint signed just before its
  position (written after that seal with an old date, then chained by a later run);
- **forged**: a row is chained but no checkpoint vouches for it (every sealing batch signs
  its checkpoint before it commits, so its chain columns were written outside the sealer);
- **reordered**: a row's link points at a row that now comes *after* it;
- **rewritten**: the rows are self-consistent but a checkpoint disagrees (hashes were
  recomputed after a change): named by checkpoint and the range of positions it covers.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.models import Min

from tierspayant.audit.chain import CHAIN_FIELDS, GENESIS, SEAL_GRACE, row_hash
from tierspayant.audit.checkpoints import (
    CHECKPOINT,
    PURGE,
    CheckpointStore,
    StoreCorrupted,
    StoreEntry,
)
from tierspayant.audit.db_guard import lock_sealer, missing_triggers
from tierspayant.audit.models import DisclosureLog

_CHUNK = 5000
_OCCURRED_AT = CHAIN_FIELDS.index("occurred_at")


@dataclass(frozen=True)
class Problem:
    """One finding: ``kind`` (altered, deleted, inserted, backdated, forged, reordered,
    rewritten, store, triggers), a message naming the row (id and chain position) or the
    checkpoint."""

    kind: str
    message: str
    row_id: int | None = None
    position: int | None = None
    checkpoint: int | None = None


@dataclass
class VerifyReport:
    """The outcome: ``ok`` when no problem was found; figures for the summary line."""

    problems: list[Problem] = field(default_factory=list)
    rows_checked: int = 0
    chain_length: int = 0
    checkpoints: int = 0
    purged_through: int = 0
    unsealed: int = 0
    unsigned: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _row_at(position: int) -> int | None:
    found = DisclosureLog.objects.filter(seq=position).values_list("id", flat=True).first()
    return int(found) if found is not None else None


def _broken_link(*, seq: int, row_id: int, prev_hash: str, prev_id: int | None) -> Problem:
    """Classify a row whose ``prev_hash`` is not the hash of the row before it."""
    holder = DisclosureLog.objects.filter(row_hash=prev_hash).values_list("seq", "id").first()
    if holder is not None and holder[0] is not None and holder[0] > seq:
        return Problem(
            "reordered",
            f"row id {row_id} (position {seq}) is out of order: it was chained after row id "
            f"{holder[1]}, which now stands at position {holder[0]}",
            row_id=row_id,
            position=seq,
        )
    if holder is not None and holder[0] is not None and holder[0] < seq - 1:
        position = holder[0] + 1
        intruder = _row_at(position)
        return Problem(
            "inserted",
            f"row id {intruder} (position {position}) was inserted: row id {row_id} "
            f"(position {seq}) was chained to row id {holder[1]} (position {holder[0]})",
            row_id=intruder,
            position=position,
        )
    if prev_id is None:
        return Problem(
            "deleted",
            f"row id {row_id} (position {seq}) does not follow the retained anchor: the rows "
            f"before it were deleted, or it was altered",
            row_id=row_id,
            position=seq,
        )
    return Problem(
        "altered",
        f"the chain breaks between row id {prev_id} (position {seq - 1}) and row id {row_id} "
        f"(position {seq}): row id {prev_id} was altered and its hash recomputed, or a row "
        "between them was deleted and the positions renumbered",
        row_id=prev_id,
        position=seq - 1,
    )


def verify_log(*, store: CheckpointStore, now: datetime.datetime) -> VerifyReport:
    """Verify store, triggers and chain; the report lists the first chain problem (if any),
    plus a store, trigger or backdated-row problem. Reads the log in chunks of positions
    (keyset paging), holding the sealer's lock so that no sealing batch is seen half-done."""
    connection = connections[DisclosureLog.objects.db]
    with transaction.atomic(using=connection.alias):
        lock_sealer(connection)
        return _verify(store)


def _verify(store: CheckpointStore) -> VerifyReport:
    report = VerifyReport()
    try:
        entries = store.entries()
    except StoreCorrupted as exc:
        report.problems.append(Problem("store", str(exc), checkpoint=exc.number))
        return report
    checkpoints = {e.count: e for e in entries if e.kind == CHECKPOINT}
    report.checkpoints = len(checkpoints)
    report.purged_through = purged = max((e.count for e in entries if e.kind == PURGE), default=0)
    last_checkpoint = max(checkpoints.values(), key=lambda e: e.number, default=None)

    connection = connections[DisclosureLog.objects.db]
    missing = missing_triggers(connection)
    if missing:
        report.problems.append(
            Problem("triggers", f"append-only triggers missing or disabled: {sorted(missing)}")
        )

    report.unsealed = DisclosureLog.objects.filter(seq__isnull=True).count()
    if last_checkpoint is not None:
        backdated = (
            DisclosureLog.objects.filter(
                seq__isnull=True, occurred_at__lt=last_checkpoint.signed_at - SEAL_GRACE
            )
            .order_by("id")
            .values_list("id", "occurred_at")
            .first()
        )
        if backdated is not None:
            report.problems.append(
                Problem(
                    "inserted",
                    f"row id {backdated[0]} is not sealed although dated "
                    f"{backdated[1]:%Y-%m-%d %H:%M:%S} UTC, before checkpoint "
                    f"{last_checkpoint.number} was signed: it was inserted after sealing",
                    row_id=int(backdated[0]),
                )
            )

    chain_problem = _walk(report, checkpoints, purged)
    if chain_problem is None and report.unsigned:
        chain_problem = _forged(report.chain_length - report.unsigned + 1)
    if chain_problem is not None:
        report.problems.insert(0, chain_problem)
    return report


def _walk(report: VerifyReport, checkpoints: dict[int, StoreEntry], purged: int) -> Problem | None:
    signed = {count: entry for count, entry in checkpoints.items() if count > purged}
    last_signed = max(signed, default=0)
    first = DisclosureLog.objects.filter(seq__isnull=False).aggregate(first=Min("seq"))["first"]
    if first is None:
        if last_signed:
            return Problem(
                "deleted",
                f"the rows at positions {purged + 1} to {last_signed} were deleted: checkpoint "
                f"{signed[last_signed].number} vouches for them and none is left",
                position=purged + 1,
            )
        return None
    if first > purged + 1:
        follower = _row_at(first)
        return Problem(
            "deleted",
            f"the rows at positions {purged + 1} to {first - 1} were deleted with no retention "
            f"entry for them (the first remaining row is id {follower}, position {first})",
            position=purged + 1,
        )
    if first == 1:
        anchor = GENESIS
    elif first - 1 in checkpoints:
        anchor = checkpoints[first - 1].fields["head_hash"]
    else:
        return Problem(
            "deleted",
            f"rows before position {first} were deleted: no checkpoint anchors position "
            f"{first - 1}",
            position=first - 1,
        )

    prev_seq, prev_hash, prev_id = first - 1, anchor, None
    previous_signed = first - 1
    # The checkpoint signed just before each position: rows after it must not be dated
    # earlier than its signing (minus the grace for transactions still open then).
    floors = sorted(checkpoints.items())
    floor_index = -1
    backdated: Problem | None = None
    pending: Problem | None = None
    pending_until = 0
    columns = ("seq", "prev_hash", "row_hash", *CHAIN_FIELDS)
    while True:
        chunk = list(
            DisclosureLog.objects.filter(seq__gt=prev_seq)
            .order_by("seq")
            .values_list(*columns)[:_CHUNK]
        )
        if not chunk:
            break
        for seq, link, digest, *values in chunk:
            row_id = int(values[0])
            if seq != prev_seq + 1:
                after = f"row id {prev_id}" if prev_id is not None else "the retained anchor"
                what = (
                    f"the row at position {prev_seq + 1} was"
                    if seq == prev_seq + 2
                    else f"the rows at positions {prev_seq + 1} to {seq - 1} were"
                )
                return Problem(
                    "deleted",
                    f"{what} deleted (between {after} and row id {row_id})",
                    position=prev_seq + 1,
                )
            if link != prev_hash:
                return _broken_link(seq=seq, row_id=row_id, prev_hash=link, prev_id=prev_id)
            if row_hash(link, values) != digest:
                return Problem(
                    "altered",
                    f"row id {row_id} (position {seq}) was altered: its content no longer "
                    "matches its hash",
                    row_id=row_id,
                    position=seq,
                )
            while floor_index + 1 < len(floors) and floors[floor_index + 1][0] < seq:
                floor_index += 1
            if backdated is None and floor_index >= 0:
                before = floors[floor_index][1]
                if values[_OCCURRED_AT] < before.signed_at - SEAL_GRACE:
                    backdated = Problem(
                        "backdated",
                        f"row id {row_id} (position {seq}) is dated "
                        f"{values[_OCCURRED_AT]:%Y-%m-%d %H:%M:%S} UTC, before checkpoint "
                        f"{before.number} was signed: it was written after that seal with an "
                        "old date, then chained",
                        row_id=row_id,
                        position=seq,
                        checkpoint=before.number,
                    )
                    report.problems.append(backdated)
            if pending is not None and seq > pending_until:
                return pending
            entry = signed.get(seq)
            if entry is not None:
                if entry.fields["head_hash"] != digest and pending is None:
                    # Keep walking up to the next checkpoint: an insertion or a move shows
                    # there as a broken link, which names the row; otherwise this stands.
                    pending = Problem(
                        "rewritten",
                        f"checkpoint {entry.number} (signed for {seq} rows) does not match "
                        f"the chain: a row at positions {previous_signed + 1} to {seq} was "
                        "altered, inserted or deleted and the hashes after it recomputed",
                        position=previous_signed + 1,
                        checkpoint=entry.number,
                    )
                    pending_until = min((c for c in signed if c > seq), default=seq)
                previous_signed = seq
            prev_seq, prev_hash, prev_id = seq, digest, row_id
            report.rows_checked += 1
    report.chain_length = prev_seq
    if pending is not None:
        return pending
    if prev_seq < last_signed:
        entry = signed[last_signed]
        span = (
            f"the row at position {last_signed}"
            if prev_seq + 1 == last_signed
            else f"the rows at positions {prev_seq + 1} to {last_signed}"
        )
        return Problem(
            "deleted",
            f"{span} {'was' if prev_seq + 1 == last_signed else 'were'} deleted after row id "
            f"{prev_id}: checkpoint {entry.number} vouches for {last_signed} rows",
            position=prev_seq + 1,
            checkpoint=entry.number,
        )
    report.unsigned = max(0, prev_seq - last_signed)
    return None


def _forged(position: int) -> Problem:
    """The first chained row that no checkpoint vouches for."""
    row_id = _row_at(position)
    return Problem(
        "forged",
        f"row id {row_id} (position {position}) is chained but no checkpoint vouches for it: "
        "its chain columns were written outside the sealer",
        row_id=row_id,
        position=position,
    )
