"""System checks of the guard (``manage.py check --deploy``)."""

from __future__ import annotations

import re
from typing import Any, cast

import redis
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from limits.storage import RedisStorage

from tierspayant.guard.counters import storage_for


@register(Tags.security, deploy=True)
def counters_are_shared(app_configs: Any = None, **_: Any) -> list[Warning]:
    """``tierspayant.G001`` when the quota and detector counters live in each process's
    memory (``memory://``, no ``REDIS_URL``): every app-server process would then count
    apart, so a professional could make N times their quota across N workers and the
    detectors would see 1/N of an attack (docs/adr/0003-quota-storage.md)."""
    if str(settings.TIERSPAYANT_QUOTA_STORAGE_URI).startswith("memory://"):
        return [
            Warning(
                "Quota and detector counters are kept per process (memory://).",
                hint="Set REDIS_URL so that every app-server process shares them.",
                id="tierspayant.G001",
            )
        ]
    return []


#: ``Counters.run`` sends ``EXPIRE … NX``, which Redis understands from this version on.
MIN_REDIS = (7, 0)


def redis_can_batch(version: str) -> bool:
    """True when a Redis server of ``version`` (``INFO server``'s ``redis_version``, e.g.
    ``"7.0.15"``) runs the guard's batched counters (:data:`MIN_REDIS` or later)."""
    found = re.match(r"(\d+)\.(\d+)", version)
    return found is not None and (int(found[1]), int(found[2])) >= MIN_REDIS


@register(Tags.security, deploy=True)
def redis_runs_batched_counters(app_configs: Any = None, **_: Any) -> list[CheckMessage]:
    """``tierspayant.G002`` (error) when the counters' Redis is older than 7.0: every
    increment there would fail and every rights check be refused (fail closed), and the
    counters already incremented would never expire. A warning when the server cannot be
    asked (``check --deploy`` run before Redis is up)."""
    storage_uri = str(settings.TIERSPAYANT_QUOTA_STORAGE_URI)
    if storage_uri.startswith("memory://"):
        return []
    try:
        storage = storage_for(storage_uri)
        if not isinstance(storage, RedisStorage):
            return []
        client = cast("redis.Redis", storage.get_connection())
        version = str(client.info("server")["redis_version"])
    except Exception:  # any failure to ask: say so, without the URI (it may hold a password)
        return [
            Warning(
                "The counters' Redis could not be asked its version.",
                hint="Run check --deploy with Redis up: the guard needs Redis 7.0 or later.",
                id="tierspayant.G002",
            )
        ]
    if redis_can_batch(version):
        return []
    return [
        Error(
            f"The counters' Redis is version {version}; the guard needs 7.0 or later.",
            hint="Upgrade Redis: EXPIRE … NX (guard.counters.Counters.run) needs 7.0.",
            id="tierspayant.G002",
        )
    ]
