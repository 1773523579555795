"""Checking and sealing batches of raw lines, in this process or in worker processes.

Validation and encryption are pure CPU work on independent lines, so with ``workers`` > 0 a
process pool does them while this process writes to the database. At most ``2 × workers``
batches are in flight, in file order: memory stays flat whatever the file size.
"""

from __future__ import annotations

import datetime
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice

from tierspayant.crypto.keys import Keyring
from tierspayant.registry.member_file.parsing import (
    Columns,
    LineError,
    MemberLine,
    check_raw_line,
)
from tierspayant.registry.member_file.sealing import SealedLine, seal_lines

#: A checked line: a rejected one, or a valid one with its sealed values.
Checked = LineError | tuple[MemberLine, SealedLine]


def check_batch(
    batch: list[tuple[int, bytes]], columns: Columns, today: datetime.date, keyring: Keyring
) -> list[Checked]:
    """Validate a batch of (line number, raw bytes) and seal its valid lines, in order;
    blank lines are dropped."""
    items = [check_raw_line(n, raw, columns, today=today) for n, raw in batch]
    valid = [item for item in items if isinstance(item, MemberLine)]
    sealed = iter(seal_lines(keyring, valid))
    out: list[Checked] = []
    for item in items:
        if item is None:
            continue
        out.append(item if isinstance(item, LineError) else (item, next(sealed)))
    return out


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
    batch_lines: int,
    workers: int,
) -> Iterator[list[Checked]]:
    """Yield checked batches in file order; ``workers`` 0 checks in this process."""
    if workers <= 0:
        for batch in _batches(lines, batch_lines):
            yield check_batch(batch, columns, today, keyring)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[list[Checked]]] = deque()
        for batch in _batches(lines, batch_lines):
            pending.append(pool.submit(check_batch, batch, columns, today, keyring))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
