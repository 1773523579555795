"""Atomic counters in the ``limits`` storage (``memory://`` in one process, Redis with
``REDIS_URL`` so app servers share them; docs/adr/0003-quota-storage.md).

Windows are keyed by the instant the caller passes (``now``), not by the storage's clock, so
a replayed day (the attack simulation) counts exactly like a live one. Every storage error
becomes :class:`~tierspayant.guard.errors.GuardUnavailable`: the caller refuses (fail closed).
"""

from __future__ import annotations

import datetime
import functools

from limits.storage import Storage, storage_from_string

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


class Counters:
    """Named atomic counters over one storage URI. Keys are namespaced under ``tpguard:``.

    ``incr`` returns the count after the increment; ``get`` the current count (0 if absent).
    Both raise ``GuardUnavailable`` if the storage fails.
    """

    def __init__(self, uri: str) -> None:
        self.uri = uri

    def incr(self, key: str, *, ttl: int, amount: int = 1) -> int:
        """Add ``amount`` to ``key``; the key expires ``ttl`` seconds after its creation."""
        try:
            return int(storage_for(self.uri).incr(f"{PREFIX}:{key}", ttl, amount=amount))
        except Exception as exc:  # any storage failure must refuse, whatever its type
            raise GuardUnavailable from exc

    def get(self, key: str) -> int:
        """The count under ``key`` (0 when absent or expired)."""
        try:
            return int(storage_for(self.uri).get(f"{PREFIX}:{key}"))
        except Exception as exc:
            raise GuardUnavailable from exc

    def first_time(self, key: str, *, ttl: int) -> bool:
        """True the first time ``key`` is marked within ``ttl`` (a set-membership test built
        on an atomic increment: two concurrent callers cannot both see True)."""
        return self.incr(key, ttl=ttl) == 1


def reset_all(uri: str) -> None:
    """Clear every counter of the storage (staff action; tests start each case from zero)."""
    storage_for(uri).reset()
