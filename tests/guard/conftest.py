"""Guard test helpers: a replay gate over the real ``check_rights`` and a small population."""

from __future__ import annotations

import datetime
import random
import zoneinfo

import pytest
from django.conf import settings

from tierspayant.eligibility.services import replay_gate
from tierspayant.guard.policy import DEFAULT_POLICY, GuardPolicy
from tierspayant.guard.simulation import Population, SimulationReport, build_population, replay

DAY = datetime.date(2026, 3, 10)  # a Tuesday
TZ = zoneinfo.ZoneInfo("Europe/Paris")
#: The production per-account ceiling (settings default); tests/settings lowers it to 20 for
#: the other suites, too low for a hospital desk's normal day.
DAILY_CAP = 150


def simulate(
    scenarios: str,
    *,
    normal_day: bool = False,
    accounts: int = 40,
    policy: GuardPolicy = DEFAULT_POLICY,
    seed: int = 5,
    busy_factor: float = 1.0,
) -> tuple[SimulationReport, Population]:
    """Build a small population and replay ``scenarios`` through the real gate."""
    storage = settings.TIERSPAYANT_QUOTA_STORAGE_URI
    rng = random.Random(seed)
    population = build_population(
        settings.TIERSPAYANT_KEYRING,
        rng=rng,
        day=DAY,
        tz=TZ,
        policy=policy,
        storage_uri=storage,
        accounts=accounts,
        beneficiaries=2500,
        canaries=5,
    )
    gate = replay_gate(
        settings.TIERSPAYANT_KEYRING,
        quota_storage_uri=storage,
        policy=policy,
        daily_quota=DAILY_CAP,
    )
    report = replay(
        gate,
        population,
        scenarios=list(scenarios),
        rng=rng,
        policy=policy,
        normal_day=normal_day,
        busy_factor=busy_factor,
    )
    return report, population


def simulate_busy(*, accounts: int = 80) -> tuple[SimulationReport, Population]:
    """A busy-period day: every honest account 1.6 times its usual volume."""
    return simulate("", normal_day=True, accounts=accounts, busy_factor=1.6)


@pytest.fixture
def result_of():
    def pick(report: SimulationReport, name: str):
        return next(r for r in report.results if r.name == name)

    return pick
