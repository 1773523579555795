"""The nightly roll-up turns the disclosure log into daily activity and baselines."""

from __future__ import annotations

import datetime
import uuid
import zoneinfo

import pytest

from tierspayant.audit.choices import Channel, Outcome, Purpose
from tierspayant.audit.services import RequestContext, record_disclosure
from tierspayant.guard.baselines import refresh_baselines, roll_up_activity
from tierspayant.guard.models import AccountGuard, ActivityDay
from tierspayant.guard.policy import DEFAULT_POLICY

pytestmark = pytest.mark.django_db
TZ = zoneinfo.ZoneInfo("Europe/Paris")


def log(professional, when: datetime.datetime, outcome: Outcome) -> None:
    record_disclosure(
        context=RequestContext(Channel.API, uuid.uuid4(), None, "", None),
        professional=professional,
        purpose=Purpose.RIGHTS_CHECK,
        outcome=outcome,
        occurred_at=when,
    )


def test_roll_up_then_refresh(optician) -> None:
    start = datetime.date(2026, 2, 2)
    for offset, count in enumerate([10, 12, 14, 11, 13, 12, 40, 12]):  # one odd busy day
        day = start + datetime.timedelta(days=offset)
        for i in range(count):
            hour = 9 if i < count // 2 else 16
            when = datetime.datetime.combine(day, datetime.time(hour, i), tzinfo=TZ)
            log(optician, when, Outcome.NO_MATCH if i == 0 else Outcome.COVERED)
        assert roll_up_activity(day, tz=TZ) == 1
    first = ActivityDay.objects.get(day=start)
    assert (first.lookups, first.no_match, first.peak_hour_lookups) == (10, 1, 5)
    assert (first.first_hour, first.last_hour) == (9, 16)
    today = start + datetime.timedelta(days=8)
    assert refresh_baselines(today=today, policy=DEFAULT_POLICY, now=datetime.datetime.now(TZ)) == 1
    account = AccountGuard.objects.get(pk=optician.pk)
    assert account.baseline_days == 8
    assert account.day_median == 12.0  # the busy day barely moves the median
    assert account.day_mad == 1.0
    assert (account.usual_first_hour, account.usual_last_hour) == (9, 16)


# --- issue 18.5: baselines that resist poisoning -------------------------------------------


def _baseline(day_median: float, day_mad: float = 2.0, hour_median: float = 4.0):
    from tierspayant.guard.detectors import Baseline

    return Baseline(
        days=20, day_median=day_median, day_mad=day_mad, hour_median=hour_median, hour_mad=1.0
    )


@pytest.mark.parametrize(
    ("fresh", "previous", "weeks", "expected_day", "expected_hour"),
    [
        # Grown at most 25 % a week, compounded, from the previous median.
        (60.0, 12.0, 1.0, 15.0, 5.0),
        (60.0, 12.0, 2.0, 18.75, 6.25),
        (13.0, 12.0, 1.0, 13.0, 13.0 / 3),  # a small rise passes as is
        (8.0, 12.0, 1.0, 8.0, 8.0 / 3),  # a fall is never held back
        (60.0, None, 0.0, 60.0, 20.0),  # no previous baseline: only the quota holds
        (900.0, None, 0.0, 120.0, 40.0),  # never above the quota (optician: 120 a day, 40 an hour)
    ],
)
def test_bounded_baseline(fresh, previous, weeks, expected_day, expected_hour) -> None:
    from tierspayant.guard.baselines import bounded

    held = bounded(
        _baseline(fresh, hour_median=fresh / 3),
        previous=None if previous is None else _baseline(previous),
        weeks=weeks,
        per_hour=40,
        per_day=120,
        policy=DEFAULT_POLICY,
    )
    assert held.day_median == pytest.approx(expected_day)
    assert held.hour_median == pytest.approx(expected_hour)


@pytest.mark.parametrize(
    ("lookups", "matched", "followed", "median", "left_out"),
    [
        (60, 50, 2, 12.0, True),  # busy and almost never followed: poisoned
        (60, 50, 30, 12.0, False),  # busy and followed: a real busy day
        (10, 10, 0, 12.0, False),  # not busier than usual
        (60, 0, 0, 12.0, False),  # nothing known of its follow-up (older roll-ups)
    ],
)
def test_poisoned_days(lookups, matched, followed, median, left_out) -> None:
    from tierspayant.guard.baselines import poisoned

    day = ActivityDay(lookups=lookups, matched=matched, followed=followed)
    assert poisoned(day, median=median, policy=DEFAULT_POLICY) is left_out


def _history(professional, today, days: list[tuple[int, int, int]]) -> None:
    """Activity rows of the days before ``today``, the most recent last: (lookups,
    matched, followed)."""
    ActivityDay.objects.bulk_create(
        ActivityDay(
            professional=professional,
            day=today - datetime.timedelta(days=len(days) - index),
            lookups=lookups,
            matched=matched,
            followed=followed,
            peak_hour_lookups=max(1, lookups // 4),
            first_hour=9,
            last_hour=18,
        )
        for index, (lookups, matched, followed) in enumerate(days)
    )


@pytest.mark.parametrize(
    ("fortnight", "expected_median"),
    [
        ((60, 50, 40), 12 * 1.25),  # followed: the last week's refresh grows 25 % at most
        ((60, 50, 2), 12.0),  # a busy fortnight nobody followed up: left out
    ],
    ids=["legitimate", "poisoning"],
)
def test_a_busy_fortnight_cannot_carry_the_baseline(optician, fortnight, expected_median) -> None:
    today = datetime.date(2026, 3, 10)
    _history(optician, today, [(12, 10, 8)] * 14 + [fortnight] * 14)
    for weeks_before in (2, 1, 0):  # the nightly job, once a week
        day = today - datetime.timedelta(weeks=weeks_before)
        now = datetime.datetime.combine(day, datetime.time(3), tzinfo=TZ)
        refresh_baselines(today=day, policy=DEFAULT_POLICY, now=now)
    guard = AccountGuard.objects.get(pk=optician.pk)
    assert guard.day_median == pytest.approx(expected_median)
    # Without the bound, the median of the last 28 days would be 36 (half of them at 60).


def test_roll_up_counts_followed_lookups_and_leaves_invoices_out(optician) -> None:
    from tests.factories import make_beneficiary

    day = datetime.date(2026, 2, 2)
    people = [make_beneficiary() for _ in range(3)]

    def row(purpose, beneficiary, hour, minute=0):
        record_disclosure(
            context=RequestContext(Channel.API, uuid.uuid4(), None, "", None),
            professional=optician,
            purpose=purpose,
            outcome=Outcome.COVERED,
            occurred_at=datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=TZ),
            beneficiary=beneficiary,
        )

    for person in people:
        row(Purpose.RIGHTS_CHECK, person, 9)
    row(Purpose.PRIOR_APPROVAL, people[0], 9, 30)
    row(Purpose.INVOICE, people[1], 10)
    assert roll_up_activity(day, tz=TZ) == 1
    rolled = ActivityDay.objects.get(professional=optician, day=day)
    assert (rolled.lookups, rolled.matched, rolled.followed) == (4, 3, 2)
