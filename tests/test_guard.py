"""Quota and feature counters: atomic under concurrency, shared through Redis between app
servers, the same on every storage, and batched into few Redis round trips."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from tests.redis_helpers import redis_uri
from tierspayant.guard.counters import Counters, storage_for
from tierspayant.guard.detectors import Features
from tierspayant.guard.observe import Lookup, gather
from tierspayant.guard.quotas import QuotaLimits, consume
from tierspayant.guard.services import QuotaExceeded, consume_rights_check_quota


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


# --- Counters batched into round trips (issue 7: a rights check's dozen counters) ---------

KEY = b"k" * 32
AT = datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.UTC)


def lookup(pro: int, net: int, nir: str, ip: str, ua: str = "Firefox", miss: bool = False):
    """One lookup by professional ``pro`` at practice ``siret:<net>``, at ``AT``."""
    return Lookup(
        professional_id=pro,
        practice=f"siret:{net}",
        now=AT,
        local_hour=10,
        day=AT.date(),
        miss=miss,
        canary=False,
        nir=nir,
        ip=ip,
        user_agent=ua,
        hour_count=1,
        day_count=1,
    )


# (NIR, host in the account's networks, user agent, miss) then the features expected.
# NIRs 1 and 2 share their first ten digits (the pattern bucket); NIR 3 does not.
NIR_1, NIR_2, NIR_3 = "1850775123456", "1850775123999", "2920375000001"
SEQUENCE = [
    (
        (NIR_1, "a.1", "Firefox", False),
        dict(
            burst=1,
            pattern=1,
            new_network=True,
            new_device=True,
            networks_today=1,
            networks_10min=1,
            practices_on_network=1,
        ),
    ),
    ((NIR_1, "a.1", "Firefox", False), dict(burst=2, practices_on_network=1)),
    ((NIR_2, "a.1", "Firefox", False), dict(burst=3, pattern=2, practices_on_network=1)),
    (
        (NIR_3, "a.2", "Chrome", False),
        dict(
            burst=4,
            pattern=1,
            new_network=True,
            new_device=True,
            networks_today=2,
            practices_on_network=1,
        ),
    ),
    (
        (NIR_3, "b.1", "Chrome", True),
        dict(
            burst=5,
            misses_hour=1,
            misses_sliding_hour=1,
            misses_day=1,
            new_network=True,
            networks_today=3,
            networks_10min=2,
            practices_on_network=1,
        ),
    ),
]


def run_sequence(uri: str, pro: int, prefix: int) -> list[Features]:
    """Replay :data:`SEQUENCE` for a fresh account; networks ``a`` and ``b`` are two /16s
    named from ``prefix`` so that a re-run on a shared Redis starts from empty counters."""
    nets = {"a": f"10.{prefix}", "b": f"11.{prefix}"}
    counters = Counters(uri)
    features = []
    for (nir, host, ua, miss), _expected in SEQUENCE:
        net, last = host.split(".")
        ip = f"{nets[net]}.0.{last}"
        features.append(
            gather(counters, lookup(pro, prefix, nir, ip, ua, miss), key=KEY, has_history=True)
        )
    return features


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_live_features_count_what_the_detectors_read(backend: str) -> None:
    uri = "memory://" if backend == "memory" else redis_uri()
    pro, prefix = uuid.uuid4().int % 10**9, uuid.uuid4().int % 250
    expected = [
        Features(hour=1, day=1, hour_sliding=1, local_hour=10, **values)
        for _lookup, values in SEQUENCE
    ]
    assert run_sequence(uri, pro, prefix) == expected


class RoundTrips:
    """Counts the packets the Redis client sends (a spy on the real connection)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent = 0
        send = redis.connection.AbstractConnection.send_packed_command

        def counting(connection, command, check_health=True):  # type: ignore[no-untyped-def]
            self.sent += 1
            return send(connection, command, check_health)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)


def test_a_rights_check_costs_three_redis_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    uri = redis_uri()
    counters = Counters(uri)
    counters.get("warm-up")  # the pool's connection and its handshake, before counting
    trips = RoundTrips(monkeypatch)
    pro, prefix = uuid.uuid4().int % 10**9, uuid.uuid4().int % 250
    consume(
        counters,
        professional_id=pro,
        limits=QuotaLimits(
            per_hour=50,
            per_day=150,
            practice="siret:1",
            practice_per_hour=90,
            practice_per_day=400,
            slow_per_hour=10,
        ),
        now=AT,
    )
    assert trips.sent == 1  # five quota counters, one round trip
    features = gather(
        counters, lookup(pro, prefix, NIR_1, f"10.{prefix}.0.1"), key=KEY, has_history=True
    )
    assert trips.sent == 3  # nine feature counters, then four first-time follow-ups
    assert (features.pattern, features.networks_today, features.practices_on_network) == (1, 1, 1)
    gather(counters, lookup(pro, prefix, NIR_1, f"10.{prefix}.0.1"), key=KEY, has_history=True)
    assert trips.sent == 4  # nothing new: no follow-up round trip


def test_redis_counters_expire_and_read_like_limits_own(monkeypatch: pytest.MonkeyPatch) -> None:
    uri = redis_uri()
    counters = Counters(uri)
    key = f"ttl-{uuid.uuid4().hex}"
    assert counters.incr(key, ttl=100) == 1
    assert counters.incr(key, ttl=5000, amount=4) == 5  # the expiry set at creation stays
    storage = storage_for(uri)
    assert storage.get(f"tpguard:{key}") == 5  # limits reads what the pipeline wrote
    client = redis.Redis.from_url(uri)
    assert 90 <= client.ttl(storage.prefixed_key(f"tpguard:{key}")) <= 100


@pytest.mark.parametrize(
    ("limits", "calls", "refused_by"),
    [
        (QuotaLimits(per_hour=None, per_day=3), 4, "daily_quota"),
        (QuotaLimits(per_hour=2, per_day=3), 3, "quota_professional_hour"),
        (QuotaLimits(per_hour=5, per_day=9, slow_per_hour=1), 2, "slowed_down"),
        (
            QuotaLimits(per_hour=5, per_day=9, practice="siret:7", practice_per_hour=1),
            2,
            "quota_practice_hour",
        ),
        (
            QuotaLimits(per_hour=5, per_day=9, practice="siret:7", practice_per_day=2),
            3,
            "quota_practice_day",
        ),
        (QuotaLimits(per_hour=5, per_day=9, practice_per_hour=1), 5, None),  # no practice key
        # several spent at once: the first in order names it
        (QuotaLimits(per_hour=1, per_day=1, slow_per_hour=1), 2, "slowed_down"),
        (
            QuotaLimits(per_hour=1, per_day=1, practice="siret:7", practice_per_hour=1),
            2,
            "quota_professional_hour",
        ),
        (
            QuotaLimits(per_hour=None, per_day=1, practice="siret:7", practice_per_day=1),
            2,
            "daily_quota",
        ),
    ],
)
@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_the_first_spent_limit_names_the_refusal(
    backend: str, limits: QuotaLimits, calls: int, refused_by: str | None
) -> None:
    uri = "memory://" if backend == "memory" else redis_uri()
    if limits.practice:  # a practice of its own per run, even on a shared Redis
        limits = dataclasses.replace(limits, practice=f"siret:{uuid.uuid4().hex}")
    pro = uuid.uuid4().int % 10**9
    for _ in range(calls - 1):
        consume(Counters(uri), professional_id=pro, limits=limits, now=AT)
    if refused_by is None:
        assert consume(Counters(uri), professional_id=pro, limits=limits, now=AT).hour == calls
        return
    with pytest.raises(QuotaExceeded) as refused:
        consume(Counters(uri), professional_id=pro, limits=limits, now=AT)
    assert refused.value.reason == refused_by
