"""``import_members``: stream a member file into the register, idempotently.

Each line is validated (:mod:`.parsing`), resolved to a known contract (:mod:`.contracts`),
sealed in batches (:mod:`.sealing`), in worker processes when asked (:mod:`.pipeline`), and
staged; every ``chunk_lines`` lines the staged chunk is merged in one transaction
(:mod:`.staging`), which is a checkpoint: if the run stops, every line
up to :attr:`ImportSummary.committed_through` is in the register, and a re-run (of the whole
file, or with ``resume_after``) finishes the job. Re-running a file changes nothing: the
upsert key is (contract, identity index, rang) and unchanged rows are not written.

With ``all_or_nothing`` the whole run is one transaction, rolled back if any line was
rejected (contracts created by the run included): the register is changed only if every line
was imported.

Rejected lines go to the ``report`` callback as :class:`~.parsing.LineError` (line, column,
reason): never the NIR, a name or a birth date.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from tierspayant.crypto.keys import Keyring
from tierspayant.registry.member_file.contracts import ContractBook
from tierspayant.registry.member_file.parsing import (
    LineError,
    MemberFileError,
    iter_raw_lines,
    open_member_file,
    read_header,
)
from tierspayant.registry.member_file.pipeline import checked_batches
from tierspayant.registry.member_file.staging import MergeCounts, Staging, staged_line

BATCH_LINES = 5_000
CHUNK_LINES = 150_000
#: Worker processes by default: one per core but one (the database, when local, and this
#: process need it), at most four.
DEFAULT_WORKERS = max(0, min(4, (os.cpu_count() or 1) - 1))


@dataclass
class ImportSummary:
    """Counts of one run. ``read``: data lines read and checked (blank lines aside);
    ``skipped``: data lines before the resume point, not checked; ``created`` / ``updated`` /
    ``terminated`` / ``unchanged`` / ``rejected``: lines by fate; ``contracts_created`` by
    ``create_contracts``; ``committed_through``: the last line number whose effects are in the
    register (the resume point); ``imported``: False when ``all_or_nothing`` refused the file;
    ``seconds``: wall time."""

    file: str
    read: int = 0
    skipped: int = 0
    created: int = 0
    updated: int = 0
    terminated: int = 0
    unchanged: int = 0
    rejected: int = 0
    contracts_created: int = 0
    committed_through: int = 0
    imported: bool = True
    all_or_nothing: bool = False
    seconds: float = 0.0
    backend: str = field(default_factory=lambda: connection.vendor)

    @property
    def rows_per_s(self) -> float:
        """Lines read and checked per second of wall time."""
        return round(self.read / self.seconds, 1) if self.seconds > 0 else 0.0

    def add(self, counts: MergeCounts) -> None:
        """Add a merged range's counts."""
        self.created += counts.created
        self.updated += counts.updated
        self.terminated += counts.terminated
        self.unchanged += counts.unchanged

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: every field plus ``rows_per_s``."""
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["rows_per_s"] = self.rows_per_s
        return data


class ImportInterrupted(Exception):
    """The run stopped (database error, interruption). ``summary.committed_through`` is the last
    line whose effects are committed: re-run with ``resume_after`` set to it (or re-run the
    whole file: the import is idempotent)."""

    def __init__(self, summary: ImportSummary, cause: BaseException) -> None:
        super().__init__(
            f"import interrompu après la ligne {summary.committed_through} ({type(cause).__name__})"
        )
        self.summary = summary
        self.cause = cause


@contextmanager
def _maybe_atomic(enabled: bool) -> Iterator[None]:
    if enabled:
        with transaction.atomic():
            yield
    else:
        yield


class _Rollback(Exception):
    """Leaves the all-or-nothing transaction without committing."""


def import_members(
    path: Path,
    *,
    keyring: Keyring,
    today: datetime.date,
    report: Callable[[LineError], None],
    all_or_nothing: bool = False,
    create_contracts: bool = False,
    resume_after: int = 0,
    batch_lines: int = BATCH_LINES,
    chunk_lines: int = CHUNK_LINES,
    workers: int = 0,
    progress: Callable[[int], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> ImportSummary:
    """Import the member file at ``path`` into the register; return the counts.

    ``today`` bounds birth dates; ``report`` receives each rejected line (in the order found:
    duplicates are found when their range is merged); ``resume_after`` skips data lines
    numbered up to it; ``workers`` > 0 checks and seals lines in that many processes;
    ``progress`` gets bytes read; ``clock`` measures wall time (seconds).
    Raises ``parsing.MemberFileError`` if the file is unreadable or its header unusable
    (nothing imported), :class:`ImportInterrupted` if the run stops midway.
    """
    started = clock()
    summary = ImportSummary(
        file=path.name, all_or_nothing=all_or_nothing, skipped=max(0, resume_after - 1)
    )
    stream = open_member_file(path)
    staging: Staging | None = None
    try:
        with _maybe_atomic(all_or_nothing):
            book = ContractBook(create_missing=create_contracts)
            staging = Staging(
                connection, key_count=len(keyring.index.keys), encryption=keyring.encryption
            )
            try:
                _run(
                    stream,
                    staging,
                    book,
                    summary,
                    keyring=keyring,
                    today=today,
                    report=report,
                    all_or_nothing=all_or_nothing,
                    resume_after=resume_after,
                    batch_lines=batch_lines,
                    chunk_lines=chunk_lines,
                    workers=workers,
                    progress=progress,
                )
            except _Rollback:
                transaction.set_rollback(True)
    except (Exception, KeyboardInterrupt) as exc:
        if isinstance(exc, MemberFileError):
            raise
        summary.seconds = clock() - started
        raise ImportInterrupted(summary, exc) from exc
    finally:
        stream.close()
        if staging is not None:
            with suppress(Exception):  # the temporary table goes with the connection anyway
                staging.drop()
    summary.contracts_created = book.created if summary.imported else 0
    summary.seconds = clock() - started
    return summary


def _run(
    stream: Any,
    staging: Staging,
    book: ContractBook,
    summary: ImportSummary,
    *,
    keyring: Keyring,
    today: datetime.date,
    report: Callable[[LineError], None],
    all_or_nothing: bool,
    resume_after: int,
    batch_lines: int,
    chunk_lines: int,
    workers: int,
    progress: Callable[[int], None] | None,
) -> None:
    staged_in_chunk = 0
    last_line = resume_after  # the last line read (checked) so far
    merged = MergeCounts()  # what the chunks merged so far add up to

    def reject(error: LineError) -> None:
        summary.rejected += 1
        report(error)

    def merge_chunk() -> None:
        nonlocal merged
        with transaction.atomic():
            for line in staging.member_number_conflicts():
                reject(
                    LineError(
                        line,
                        "numero_adherent",
                        "numéro d'adhérent déjà utilisé par une autre famille de l'organisme "
                        "(un autre contrat)",
                    )
                )
            for line, earlier in staging.match():
                reject(
                    LineError(
                        line,
                        "ligne",
                        f"doublon de la ligne {earlier} (même contrat, NIR, date de naissance "
                        "et rang)",
                    )
                )
            merged += staging.merge()
            book.settle()
            staging.clear()
        if not all_or_nothing:
            summary.add(merged)
            merged = MergeCounts()
            summary.committed_through = last_line

    summary.committed_through = resume_after
    columns = read_header(stream, progress)
    raw_lines = iter_raw_lines(stream, skip_through=resume_after, progress=progress)
    for batch in checked_batches(
        raw_lines,
        columns=columns,
        today=today,
        keyring=keyring,
        contracts=book.index,
        batch_lines=batch_lines,
        workers=workers,
        # The workers check the next chunk while this process waits on a merge (memory:
        # about 600 bytes a line).
        ahead=chunk_lines // batch_lines + 1,
    ):
        summary.read += batch.read
        last_line = batch.last_line or last_line
        errors, rows = batch.errors, batch.rows
        if batch.pending:
            errors, created_rows = list(errors), []
            for line, row in batch.pending:
                contract = book.resolve(line)
                if isinstance(contract, LineError):
                    errors.append(contract)
                else:
                    created_rows.append(staged_line(line.line, contract, row))
            errors.sort()
            rows += "".join(created_rows)
        for error in errors:
            reject(error)
        staging.load(rows)
        staged_in_chunk += batch.staged + len(batch.pending)
        if staged_in_chunk >= chunk_lines:
            merge_chunk()
            staged_in_chunk = 0
    merge_chunk()
    if all_or_nothing:
        if summary.rejected:
            summary.imported = False
            raise _Rollback
        summary.add(merged)
        summary.committed_through = last_line
    else:
        summary.committed_through = max(summary.committed_through, last_line)
