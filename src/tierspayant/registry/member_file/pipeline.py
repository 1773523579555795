"""Checking and sealing batches of raw lines, in this process or in worker processes.

Validation, contract lookup, encryption and formatting the staged rows are pure CPU work on
independent lines, so with ``workers`` > 0 a process pool does them while this process feeds
the database (and waits on its merges). A batch comes back as one string of staged rows
(cheap to pass between processes) plus its rejected lines. At most ``ahead`` batches are in
flight, in file order: memory stays flat whatever the file size.
"""

from __future__ import annotations

import datetime
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import NamedTuple

from tierspayant.crypto.keys import Keyring
from tierspayant.registry.member_file.contracts import ContractIndex
from tierspayant.registry.member_file.parsing import (
    Columns,
    LineError,
    MemberLine,
    check_raw_line,
)
from tierspayant.registry.member_file.sealing import seal_lines
from tierspayant.registry.member_file.staging import staged_line, staged_row


class CheckedBatch(NamedTuple):
    """A checked batch. ``last_line``: its last non-blank line number (0 if it had none);
    ``read``: its non-blank lines; ``errors``: the rejected ones,
    in order; ``rows``: the staged rows (``COPY`` text, see ``staging.Staging.load``) of the
    lines whose contract the index knows, ``staged`` how many; ``pending``: lines whose
    contract the import creates (``ContractIndex.resolve`` gave None), each with its
    :func:`~.staging.staged_row`."""

    last_line: int
    read: int
    errors: list[LineError]
    rows: str
    staged: int
    pending: list[tuple[MemberLine, str]]


def check_batch(
    batch: list[tuple[int, bytes]],
    columns: Columns,
    today: datetime.date,
    keyring: Keyring,
    contracts: ContractIndex,
) -> CheckedBatch:
    """Validate a batch of (line number, raw bytes), resolve contracts and seal the valid
    lines; blank lines are dropped."""
    errors: list[LineError] = []
    valid: list[tuple[MemberLine, int | None]] = []
    last = read = 0
    for number, raw in batch:
        item = check_raw_line(number, raw, columns, today=today)
        if item is None:
            continue
        last, read = number, read + 1
        if isinstance(item, LineError):
            errors.append(item)
            continue
        contract = contracts.resolve(item)
        if isinstance(contract, LineError):
            errors.append(contract)
        else:
            valid.append((item, contract))
    sealed = seal_lines(keyring, [line for line, _ in valid])
    rows, pending = [], []
    for (line, contract), seal in zip(valid, sealed, strict=True):
        if contract is None:
            pending.append((line, staged_row(line, seal)))
        else:
            rows.append(staged_line(line.line, contract, staged_row(line, seal)))
    return CheckedBatch(last, read, errors, "".join(rows), len(rows), pending)


_worker_context: tuple[Columns, datetime.date, Keyring, ContractIndex] | None = None


def _start_worker(
    columns: Columns, today: datetime.date, keyring: Keyring, contracts: ContractIndex
) -> None:
    global _worker_context
    _worker_context = (columns, today, keyring, contracts)


def _check_in_worker(batch: list[tuple[int, bytes]]) -> CheckedBatch:
    assert _worker_context is not None, "started by _start_worker"
    return check_batch(batch, *_worker_context)


def _batches(lines: Iterable[tuple[int, bytes]], size: int) -> Iterator[list[tuple[int, bytes]]]:
    it = iter(lines)
    while batch := list(islice(it, size)):
        yield batch


def checked_batches(
    lines: Iterable[tuple[int, bytes]],
    *,
    columns: Columns,
    today: datetime.date,
    keyring: Keyring,
    contracts: ContractIndex,
    batch_lines: int,
    workers: int,
    ahead: int,
) -> Iterator[CheckedBatch]:
    """Yield checked batches in file order; ``workers`` 0 checks in this process, else up to
    ``ahead`` batches (at least two per worker) are submitted or done before the one yielded."""
    if workers <= 0:
        for batch in _batches(lines, batch_lines):
            yield check_batch(batch, columns, today, keyring, contracts)
        return
    with ProcessPoolExecutor(
        max_workers=workers,
        initializer=_start_worker,
        initargs=(columns, today, keyring, contracts),
    ) as pool:
        pending: deque[Future[CheckedBatch]] = deque()
        for batch in _batches(lines, batch_lines):
            pending.append(pool.submit(_check_in_worker, batch))
            if len(pending) >= max(ahead, 2 * workers):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
