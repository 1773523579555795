"""Quota counters: atomic under concurrency, shared through Redis between app servers."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from tierspayant.guard.services import QuotaExceeded, consume_rights_check_quota


def redis_uri() -> str:
    uri = os.environ.get("TIERSPAYANT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(uri, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError:
        if os.environ.get("TIERSPAYANT_REQUIRE_SERVICES"):
            pytest.fail(f"Redis required (TIERSPAYANT_REQUIRE_SERVICES=1) but {uri} is unreachable")
        pytest.skip(f"Redis not reachable at {uri}")
    return uri


def hits(uri: str, professional_id: int, attempts: int, per_day: int, workers: int = 8) -> int:
    def one(_: int) -> bool:
        try:
            consume_rights_check_quota(
                storage_uri=uri, professional_id=professional_id, per_day=per_day
            )
        except QuotaExceeded:
            return False
        return True

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(one, range(attempts)))


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_concurrent_calls_never_exceed_the_quota(backend: str) -> None:
    uri = "memory://" if backend == "memory" else redis_uri()
    professional_id = uuid.uuid4().int % 10**9  # fresh counter per run, even on a shared Redis
    assert hits(uri, professional_id, attempts=60, per_day=25) == 25


def test_two_app_servers_share_counters_through_redis() -> None:
    uri = redis_uri()
    other_server = uri.replace("127.0.0.1", "localhost")  # a second storage object, same Redis
    assert other_server != uri
    professional_id = uuid.uuid4().int % 10**9
    assert hits(uri, professional_id, attempts=4, per_day=6, workers=1) == 4
    assert hits(other_server, professional_id, attempts=4, per_day=6, workers=1) == 2
