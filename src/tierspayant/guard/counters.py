"""Atomic counters in the ``limits`` storage (``memory://`` in one process, Redis with
``REDIS_URL`` so app servers share them; docs/adr/0003-quota-storage.md).

Windows are keyed by the instant the caller passes (``now``), not by the storage's clock, so
a replayed day (the attack simulation) counts exactly like a live one. Every storage error
becomes :class:`~tierspayant.guard.errors.GuardUnavailable`: the caller refuses (fail closed).

A rights check touches a dozen counters. :meth:`Counters.run` sends independent operations
together: on Redis, one pipeline (one round trip) where each increment is ``INCRBY`` then
``EXPIRE … NX`` (Redis ≥ 7.0), which keeps the keys, prefix, values and expiry of
``limits``' own ``incr`` (its script sets the expiry when the increment creates the key);
on other storages, one ``limits`` call per operation.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import redis
from limits.storage import RedisStorage, Storage, storage_from_string

from tierspayant.guard.errors import GuardUnavailable

PREFIX = "tpguard"
MINUTE = 60
HOUR = 3600
DAY = 86400
BUCKET = 300  # seconds: the burst detector's bucket


@functools.cache
def storage_for(uri: str) -> Storage:
    """One storage (connection pool) per URI per process; the counters live in it."""
    storage = storage_from_string(uri)
    if not isinstance(storage, Storage):
        raise TypeError(f"{uri.split(':', 1)[0]}: an asynchronous storage cannot count here")
    return storage


def window(now: datetime.datetime, seconds: int) -> int:
    """The index of the fixed window of ``seconds`` holding ``now`` (aware), since the epoch."""
    return int(now.timestamp()) // seconds


@dataclass(frozen=True)
class Incr:
    """Add ``amount`` to the counter ``key``, which expires ``ttl`` seconds after its
    creation; its result is the count after the increment."""

    key: str
    ttl: int
    amount: int = 1


@dataclass(frozen=True)
class Get:
    """Read the counter ``key``; its result is the count (0 when absent or expired)."""

    key: str


def _run_pipelined(storage: RedisStorage, keys: list[str], ops: Sequence[Incr | Get]) -> list[int]:
    """``ops`` in one Redis round trip. The pipeline is not a transaction: each ``INCRBY``
    is atomic on its own, which is all a counter needs, and ``EXPIRE NX`` only sets an
    expiry on a key that has none (the one the increment just created)."""
    client = cast("redis.Redis", storage.get_connection())
    pipe = client.pipeline(transaction=False)
    for key, op in zip(keys, ops, strict=True):
        if isinstance(op, Incr):
            pipe.incrby(key, op.amount)
            pipe.expire(key, op.ttl, nx=True)
        else:
            pipe.get(key)
    replies = pipe.execute()
    results: list[int] = []
    position = 0
    for op in ops:
        results.append(int(replies[position] or 0))
        position += 2 if isinstance(op, Incr) else 1
    return results


class Counters:
    """Named atomic counters over one storage URI. Keys are namespaced under ``tpguard:``.

    ``incr`` returns the count after the increment; ``get`` the current count (0 if absent);
    ``run`` does several of these at once. All raise ``GuardUnavailable`` if the storage
    fails.
    """

    def __init__(self, uri: str) -> None:
        self.uri = uri

    def run(self, ops: Sequence[Incr | Get]) -> list[int]:
        """The results of ``ops``, in order, sent together (one round trip on Redis).

        The operations must not depend on each other's results; a caller that needs a result
        to decide the next operation runs a second batch.
        """
        if not ops:
            return []
        try:
            storage = storage_for(self.uri)
            keys = [f"{PREFIX}:{op.key}" for op in ops]
            if isinstance(storage, RedisStorage):
                return _run_pipelined(storage, [storage.prefixed_key(k) for k in keys], ops)
            return [
                int(storage.incr(key, op.ttl, amount=op.amount))
                if isinstance(op, Incr)
                else int(storage.get(key))
                for key, op in zip(keys, ops, strict=True)
            ]
        except Exception as exc:  # any storage failure must refuse, whatever its type
            raise GuardUnavailable from exc

    def incr(self, key: str, *, ttl: int, amount: int = 1) -> int:
        """Add ``amount`` to ``key``; the key expires ``ttl`` seconds after its creation."""
        return self.run([Incr(key, ttl, amount)])[0]

    def get(self, key: str) -> int:
        """The count under ``key`` (0 when absent or expired)."""
        return self.run([Get(key)])[0]

    def first_time(self, key: str, *, ttl: int) -> bool:
        """True the first time ``key`` is marked within ``ttl`` (a set-membership test built
        on an atomic increment: two concurrent callers cannot both see True)."""
        return self.incr(key, ttl=ttl) == 1


def reset_all(uri: str) -> None:
    """Clear every counter of the storage (staff action; tests start each case from zero)."""
    storage_for(uri).reset()
