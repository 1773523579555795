"""Each attack scenario of issues 5 and 18, replayed through the real gate, against its
target: stopped after at most 20 distinct beneficiaries disclosed, or at the daily quota for
a pace a human could keep, and flagged the same day; honest populations (normal and busy
period) never suspended, step-ups on under 1 % of account-days."""

from __future__ import annotations

import pytest

from tests.guard.conftest import simulate
from tests.redis_helpers import redis_uri
from tierspayant.audit.choices import Outcome
from tierspayant.audit.models import DisclosureLog
from tierspayant.guard.models import AccountGuard, Alert
from tierspayant.guard.services import reset_quotas

pytestmark = pytest.mark.django_db


def test_a_phished_optician_as_fast_as_possible_is_suspended_within_20(result_of) -> None:
    report, _ = simulate("a")
    a = result_of(report, "a")
    assert a.stopped
    assert a.stop_reasons == ["suspended"]
    assert 1 <= a.disclosed_before_stop <= 20
    assert a.alerts.get("burst") == 1
    assert a.seconds_to_stop is not None and a.seconds_to_stop < 60


def test_b_slow_drip_stops_within_the_daily_quota_and_is_flagged_that_day(result_of) -> None:
    report, _ = simulate("b")
    b = result_of(report, "b")
    assert b.stopped
    assert b.disclosed_before_stop <= b.daily_quota
    assert b.flagged and {"volume_day", "low_follow_up"} & set(b.alerts)
    assert b.seconds_to_stop is not None and b.seconds_to_stop < 12 * 3600


def test_c_guessing_nirs_is_suspended_before_20_disclosures(result_of) -> None:
    report, _ = simulate("c")
    c = result_of(report, "c")
    assert c.stopped and c.stop_reasons == ["suspended"]
    assert c.disclosed_before_stop <= 20
    assert {"nir_pattern"} <= set(c.alerts)


def test_d_twenty_accounts_sharing_a_list_each_stopped_and_flagged_platform_wide(
    result_of,
) -> None:
    report, _ = simulate("d")
    d = result_of(report, "d")
    assert d.accounts == 20
    assert d.stopped
    assert d.max_per_account <= 20
    assert d.campaign
    assert Alert.objects.filter(kind="campaign", professional__isnull=True).count() >= 1


def test_e_canary_hit_suspends_at_the_first_canary(result_of) -> None:
    report, _ = simulate("e")
    e = result_of(report, "e")
    assert e.stopped and e.stop_reasons == ["suspended"]
    assert e.canaries_disclosed == 1
    assert e.disclosed_before_stop == 3  # the three real records listed before the canary
    assert e.alerts.get("canary") == 1
    assert e.lookups == 4  # three real records and the canary were answered; the next is refused
    refused = DisclosureLog.objects.filter(outcome=Outcome.REFUSED_SUSPENDED)
    assert refused.count() == 1 and refused.get().reason == "suspended"


def test_f_and_normal_population_no_suspension_few_step_ups(result_of) -> None:
    report, _ = simulate("f", normal_day=True, accounts=80)
    normal = result_of(report, "normal")
    busy = result_of(report, "f")
    assert normal.accounts == 77 and busy.accounts == 3
    assert normal.suspended_accounts == 0 and busy.suspended_accounts == 0
    assert normal.step_up_accounts / normal.accounts < 0.01
    assert busy.step_up_accounts == 0 and not busy.stopped
    assert busy.disclosed_before_stop > 0
    assert not AccountGuard.objects.filter(suspended=True).exists()


@pytest.mark.parametrize(
    ("scenario", "signal"), [("a", "burst"), ("c", "nir_pattern"), ("d", "campaign")]
)
def test_counters_in_redis_stop_the_attacks_as_in_memory(
    settings, result_of, scenario: str, signal: str
) -> None:
    """The counters a deployment runs (Redis, batched round trips) give the same stops."""
    settings.TIERSPAYANT_QUOTA_STORAGE_URI = redis_uri()
    reset_quotas(storage_uri=settings.TIERSPAYANT_QUOTA_STORAGE_URI)
    report, _ = simulate(scenario)
    result = result_of(report, scenario)
    assert result.stopped
    assert result.max_per_account <= 20
    assert signal in {*result.alerts, *(["campaign"] if result.campaign else [])}


def test_g_one_token_from_many_networks_is_suspended_and_its_tokens_revoked(result_of) -> None:
    from tierspayant.providers.models import ApiToken

    report, population = simulate("g")
    g = result_of(report, "g")
    assert g.stopped and g.stop_reasons == ["suspended"]
    assert g.flagged and g.alerts.get("token_networks") == 1
    assert g.disclosed_before_stop <= 3  # the third network suspends
    victim = [a for a in population.accounts if a.role == "victim"][24].professional
    assert not ApiToken.objects.filter(professional=victim, revoked_at__isnull=True).exists()


def test_h_slow_guesser_under_the_hourly_thresholds_is_flagged_the_same_day(result_of) -> None:
    report, _ = simulate("h")
    h = result_of(report, "h")
    assert h.stopped and h.flagged
    assert "no_match_ratio" in h.alerts
    assert h.disclosed_before_stop <= 20
    assert h.seconds_to_stop is not None and h.seconds_to_stop < 12 * 3600
    day_window = Alert.objects.get(kind="no_match_ratio").evidence["window_minutes"]
    assert day_window in {60, 1440}  # the sliding hour or the day: the clock hour never fills


def test_i_scraper_in_the_owners_session_answering_step_ups_is_suspended(result_of) -> None:
    report, _ = simulate("i")
    i = result_of(report, "i")
    assert i.stopped and i.stop_reasons == ["suspended"]
    # The step-up was asked and answered (the scraper sits in the owner's session), yet the
    # day's evidence stayed: the next finding suspended the account.
    assert i.step_up_accounts == 1 and i.flagged
    assert {"volume_hour", "low_follow_up"} & set(i.alerts)
    assert {"burst", "escalation"} & set(i.alerts)
    assert i.disclosed_before_stop <= 20


def test_j_thief_after_a_busy_fortnight_is_judged_against_a_bounded_baseline(
    result_of,
) -> None:
    from tierspayant.guard.policy import DEFAULT_POLICY

    report, population = simulate("j")
    j = result_of(report, "j")
    assert j.stopped and j.flagged
    assert j.disclosed_before_stop <= j.daily_quota
    victim = [a for a in population.accounts if a.role == "victim"][27]
    guard = AccountGuard.objects.get(pk=victim.professional.pk)
    normal = victim.daily_mean
    # Four times its volume for a fortnight, yet the baseline grew by 25 % a week at most.
    assert guard.day_median <= max(normal * 1.6, 1) * (1 + DEFAULT_POLICY.baseline_weekly_growth)
    assert guard.day_median <= DEFAULT_POLICY.quota(victim.professional.profession).per_day


def test_busy_period_population_no_suspension_few_step_ups(result_of) -> None:
    from tests.guard.conftest import simulate_busy

    report, _ = simulate_busy(accounts=80)
    busy = result_of(report, "busy")
    assert busy.accounts == 77
    assert busy.suspended_accounts == 0
    assert busy.step_up_accounts / busy.accounts < 0.01
