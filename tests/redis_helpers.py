"""The Redis the tests count in: a real server (database 15 unless
``TIERSPAYANT_TEST_REDIS_URL`` says otherwise), required when ``TIERSPAYANT_REQUIRE_SERVICES``
is set (CI)."""

from __future__ import annotations

import os

import pytest
import redis


def redis_uri() -> str:
    """The test Redis URI; skips the test when Redis is unreachable, fails it under CI."""
    uri = os.environ.get("TIERSPAYANT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(uri, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError:
        if os.environ.get("TIERSPAYANT_REQUIRE_SERVICES"):
            pytest.fail(f"Redis required (TIERSPAYANT_REQUIRE_SERVICES=1) but {uri} is unreachable")
        pytest.skip(f"Redis not reachable at {uri}")
    return uri
