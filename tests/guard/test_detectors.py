"""Detectors are pure: features, baseline and policy in, findings out (table-driven)."""

from __future__ import annotations

import pytest

from tierspayant.guard.choices import AlertKind, Severity
from tierspayant.guard.detectors import (
    Baseline,
    Features,
    campaign_finding,
    evaluate,
    robust_threshold,
    thresholds_for,
)
from tierspayant.guard.policy import DEFAULT_POLICY

OPTICIAN = DEFAULT_POLICY.floor("optician")
HOSPITAL = DEFAULT_POLICY.floor("hospital")
QUIET = Baseline(
    days=20, day_median=12, day_mad=3, hour_median=3, hour_mad=1, first_hour=9, last_hour=18
)
BUSY = Baseline(
    days=20, day_median=60, day_mad=8, hour_median=10, hour_mad=2, first_hour=8, last_hour=19
)


@pytest.mark.parametrize(
    ("floor", "median", "mad", "expected"),
    [
        (40, 12, 3, 48),  # 12 + 8 * 1.4826 * 3 = 47.6 -> 48
        (40, 5, 1, 40),  # the profession's floor wins
        (40, 30, 0, 90),  # no spread: three times the median
        (20, 0, 0, 20),  # no history: the floor
    ],
)
def test_robust_threshold(floor: int, median: float, mad: float, expected: int) -> None:
    assert robust_threshold(floor, median, mad, mad_factor=8, multiplier=3) == expected


def test_thresholds_use_the_baseline_only_with_enough_history() -> None:
    assert thresholds_for(OPTICIAN, Baseline(days=3, day_median=100), DEFAULT_POLICY).day == 40
    assert thresholds_for(OPTICIAN, QUIET, DEFAULT_POLICY).day == 48
    assert thresholds_for(OPTICIAN, BUSY, DEFAULT_POLICY).day == 180


CASES = [
    ("ordinary", Features(burst=2, hour=3, day=10, local_hour=11), QUIET, []),
    ("burst", Features(burst=10, hour=10, day=10, local_hour=11), QUIET, [AlertKind.BURST]),
    ("burst-just-below", Features(burst=9, hour=9, day=9, local_hour=11), QUIET, []),
    ("volume-day", Features(burst=1, hour=5, day=48, local_hour=15), QUIET, [AlertKind.VOLUME_DAY]),
    ("busy-account-same-day", Features(burst=1, hour=5, day=48, local_hour=15), BUSY, []),
    (
        "volume-hour",
        Features(burst=5, hour=20, day=25, local_hour=15),
        QUIET,
        [AlertKind.VOLUME_HOUR],
    ),
    (
        "guessing",
        Features(burst=3, hour=12, day=12, misses_hour=10, local_hour=11),
        QUIET,
        [AlertKind.NO_MATCH_RATIO],
    ),
    (
        "misses-but-mostly-matches",
        Features(burst=3, hour=19, day=40, misses_hour=10, local_hour=11),
        BUSY,
        [],
    ),
    (
        "nir-pattern",
        Features(burst=3, hour=4, day=4, pattern=4, local_hour=11),
        QUIET,
        [AlertKind.NIR_PATTERN],
    ),
    ("night", Features(burst=1, hour=1, day=1, local_hour=3), QUIET, [AlertKind.UNUSUAL_HOUR]),
    (
        "new-network-and-device",
        Features(burst=1, hour=1, day=1, local_hour=10, new_network=True, new_device=True),
        QUIET,
        [AlertKind.NEW_NETWORK, AlertKind.NEW_DEVICE],
    ),
    (
        "many-networks",
        Features(burst=1, hour=1, day=5, local_hour=10, networks_today=4),
        QUIET,
        [AlertKind.MANY_NETWORKS],
    ),
    (
        "two-networks-at-once",
        Features(burst=1, hour=1, day=5, local_hour=10, networks_10min=2),
        QUIET,
        [AlertKind.CONCURRENT_NETWORKS],
    ),
    (
        "shared-network",
        Features(burst=1, hour=1, day=1, local_hour=10, practices_on_network=3),
        QUIET,
        [AlertKind.SHARED_NETWORK],
    ),
    (
        "canary",
        Features(burst=1, hour=1, day=1, local_hour=10, canary=True),
        QUIET,
        [AlertKind.CANARY],
    ),
]


@pytest.mark.parametrize(
    ("features", "baseline", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_findings(features: Features, baseline: Baseline, expected: list[AlertKind]) -> None:
    found = evaluate(features, floors=OPTICIAN, baseline=baseline, policy=DEFAULT_POLICY)
    assert [f.kind for f in found] == expected
    for finding in found:
        assert all(isinstance(v, int | float) for v in finding.evidence.values())


def test_hospitals_work_at_night_and_findings_come_strongest_first() -> None:
    night = Features(burst=1, hour=1, day=1, local_hour=3)
    assert evaluate(night, floors=HOSPITAL, baseline=None, policy=DEFAULT_POLICY) == []
    mixed = Features(burst=10, hour=10, day=10, local_hour=3, canary=True, new_network=True)
    found = evaluate(mixed, floors=OPTICIAN, baseline=QUIET, policy=DEFAULT_POLICY)
    assert [f.severity for f in found] == [
        Severity.CRITICAL,
        Severity.HIGH,
        Severity.LOW,
        Severity.LOW,
    ]
    assert found[1].evidence == {"count": 10, "threshold": 10, "window_minutes": 10}


@pytest.mark.parametrize(("accounts", "raised"), [(2, False), (3, True), (20, True)])
def test_campaign_needs_several_accounts(accounts: int, raised: bool) -> None:
    assert (campaign_finding(accounts, policy=DEFAULT_POLICY) is not None) is raised
