"""Process counters (``memory://``): expiry from creation, sweeping, atomic for threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tierspayant.guard import counters
from tierspayant.guard.counters import ProcessCounters, storage_for


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    now = [1_000_000.0]
    monkeypatch.setattr(counters.time, "time", lambda: now[0])
    return now


def test_a_key_expires_its_ttl_after_creation(clock) -> None:
    store = ProcessCounters()
    assert [store.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    clock[0] += 59
    assert (store.incr("k", 60), store.get("k")) == (4, 4)  # later increments keep the expiry
    clock[0] += 1
    assert store.get("k") == 0
    assert store.incr("k", 60, amount=5) == 5


def test_expired_keys_are_swept(clock, monkeypatch) -> None:
    monkeypatch.setattr(ProcessCounters, "SWEEP_EVERY", 10)
    store = ProcessCounters()
    for n in range(5):
        store.incr(f"old{n}", 10)
    clock[0] += 11
    for n in range(5):
        store.incr(f"new{n}", 10)
    assert sorted(store._counts) == [f"new{n}" for n in range(5)]
    assert store.reset() == 5
    assert store.get("new0") == 0


def test_increments_from_threads_are_all_counted() -> None:
    store = ProcessCounters()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: store.incr("k", 60), range(2000)))
    assert sorted(results) == list(range(1, 2001))


def test_memory_uri_is_the_process_counters() -> None:
    assert isinstance(storage_for("memory://"), ProcessCounters)
    assert storage_for("memory://") is storage_for("memory://")
