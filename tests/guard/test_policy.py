"""The policy is configuration validated at start: bad values refuse to start."""

from __future__ import annotations

import pytest

from tests.test_settings import start
from tierspayant.guard.choices import Action, Severity
from tierspayant.guard.policy import DEFAULT_POLICY, PolicyError, build_policy, policy_from_json


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"quotas": {"optician": {"per_day": -5}}}, "quotas.optician.per_day: expected a positive"),
        ({"quotas": {"optician": {"per_day": 0}}}, "quotas.optician.per_day: expected a positive"),
        ({"quotas": {"plumber": {"per_day": 5}}}, "unknown profession 'plumber'"),
        ({"quotas": {"optician": {"per_week": 5}}}, "quotas.optician.per_week: unknown key"),
        ({"floors": {"hospital": {"all_hours": "yes"}}}, "expected true or false"),
        ({"actions": {"high": "shrug"}}, "actions.high: unknown action 'shrug'"),
        ({"actions": {"severe": "suspend"}}, "actions.severe: unknown severity"),
        ({"no_match_ratio": 1.5}, "a ratio lies between 0 and 1"),
        ({"no_match_min": 2.5}, "no_match_min: expected a positive whole number"),
        ({"burst": 3}, "burst: unknown key"),
    ],
    ids=[
        "negative-quota",
        "zero-quota",
        "unknown-profession",
        "unknown-quota-key",
        "bad-bool",
        "unknown-action",
        "unknown-severity",
        "ratio-above-one",
        "fractional-count",
        "unknown-top-key",
    ],
)
def test_bad_policy_is_refused(overrides: dict, message: str) -> None:
    with pytest.raises(PolicyError, match=message.replace("(", r"\(")):
        build_policy(overrides)


def test_overrides_apply_over_the_defaults() -> None:
    policy = policy_from_json(
        '{"quotas": {"optician": {"per_day": 80}}, "actions": {"medium": "slow_down"},'
        ' "no_match_min": 12}'
    )
    assert policy.quota("optician").per_day == 80
    assert policy.quota("optician").per_hour == DEFAULT_POLICY.quota("optician").per_hour
    assert policy.action_for(Severity.MEDIUM) is Action.SLOW_DOWN
    assert policy.no_match_min == 12
    assert policy_from_json("") is DEFAULT_POLICY


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"quotas": {"optician": {"per_day": -1}}}', "TIERSPAYANT_GUARD_POLICY: quotas.optician"),
        ('{"actions": {"low": "nuke"}}', "unknown action 'nuke'"),
        ("{not json", "TIERSPAYANT_GUARD_POLICY: not valid JSON"),
    ],
    ids=["negative-quota", "unknown-action", "bad-json"],
)
def test_bad_policy_refuses_to_start(value: str, message: str) -> None:
    result = start({"TIERSPAYANT_GUARD_POLICY": value})
    assert result.returncode != 0
    assert message in result.stderr


def test_good_policy_starts() -> None:
    assert start({"TIERSPAYANT_GUARD_POLICY": '{"no_match_min": 12}'}).returncode == 0
