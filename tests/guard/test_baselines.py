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
