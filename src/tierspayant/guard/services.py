"""Quotas on disclosures, counted with the ``limits`` library.

Counters are atomic increments in the configured storage (``memory://`` in one process,
Redis when ``REDIS_URL`` is set so app servers share them; DESIGN.md "Counters are atomic").
A storage that cannot be reached refuses rather than allows (:class:`GuardUnavailable`).
"""

from __future__ import annotations

import functools

from limits import RateLimitItemPerDay
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter


class QuotaExceeded(Exception):
    """The professional's quota for this kind of request is spent; answer 429."""


class GuardUnavailable(Exception):
    """The counter store could not be reached; the request is refused (fail closed)."""


@functools.cache
def _storage(uri: str) -> Storage:
    # One storage (connection pool) per URI per process; counters themselves live in it.
    storage = storage_from_string(uri)
    if not isinstance(storage, Storage):
        raise TypeError(f"{uri.split(':', 1)[0]}: an asynchronous storage cannot count here")
    return storage


def consume_rights_check_quota(*, storage_uri: str, professional_id: int, per_day: int) -> None:
    """Count one rights check against the professional's daily quota (UTC day window).

    Raises :class:`QuotaExceeded` once ``per_day`` checks were made today, and
    :class:`GuardUnavailable` if the storage fails.
    """
    item = RateLimitItemPerDay(per_day)
    try:
        allowed = FixedWindowRateLimiter(_storage(storage_uri)).hit(
            item, "rights-check", str(professional_id)
        )
    except Exception as exc:  # any storage failure must refuse, whatever its type
        raise GuardUnavailable("quota storage unavailable") from exc
    if not allowed:
        raise QuotaExceeded


def reset_quotas(*, storage_uri: str) -> None:
    """Clear every counter in the storage (staff action; tests start each case from zero)."""
    _storage(storage_uri).reset()
