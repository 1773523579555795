"""Benchmark: the guard's added median latency per rights check (JSON on stdout).

Runs on a throw-away SQLite database with the test keys and in-memory counters (or the
Redis of ``BENCH_REDIS_URL``). It times, per rights check, the guard's own calls (screen,
quotas, live features and detectors) and the whole ``check_rights`` for context, over
ordinary lookups that raise no alert. Target (issue 5): under 2 ms added, median.

Each lookup is followed up (an invoice's identification row, written outside the timing),
so the follow-up signal (issue 18.1) judges the day every 10 matched lookups from the 30th,
one query each time: it shows in the mean and the p95, and in ``follow_up_judged_ms``.
"""

from __future__ import annotations

import datetime
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA"] = "100000"
_db = Path(tempfile.mkdtemp()) / "bench.sqlite3"
os.environ["DATABASE_URL"] = f"sqlite:///{_db}"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from tests.factories import make_beneficiary, make_professional, new_nir  # noqa: E402

from tierspayant.audit.choices import Channel, Outcome, Purpose  # noqa: E402
from tierspayant.audit.services import RequestContext, record_disclosure  # noqa: E402
from tierspayant.eligibility import services as gate  # noqa: E402
from tierspayant.guard.policy import build_policy  # noqa: E402
from tierspayant.providers.choices import Profession  # noqa: E402

N = int(os.environ.get("BENCH_N", "400"))
STORAGE = os.environ.get("BENCH_REDIS_URL") or "memory://"
GUARD_CALLS = ["screen_rights_check", "consume_rights_check_quota", "observe_rights_check"]


def main() -> None:
    call_command("migrate", verbosity=0)
    # A hospital desk with room for N lookups: the bench measures cost, not refusals.
    policy = build_policy(
        {
            "floors": {"hospital": {"burst": 10 * N, "hour": 10 * N, "day": 10 * N}},
            "quotas": {"hospital": {"per_hour": 10 * N, "per_day": 10 * N}},
        }
    )
    professional = make_professional(profession=Profession.HOSPITAL)
    born = datetime.date(1970, 1, 1)
    people = [(new_nir(born), born) for _ in range(50)]
    records = [make_beneficiary(nir=nir, birth_date=birth) for nir, birth in people]
    guard_time = [0.0]
    originals = {name: getattr(gate, name) for name in GUARD_CALLS}

    def timed(function):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                guard_time[0] += time.perf_counter() - start

        return wrapper

    for name, function in originals.items():
        setattr(gate, name, timed(function))
    added, total = [], []
    for i in range(N):
        nir, birth = people[i % len(people)]
        guard_time[0] = 0.0
        start = time.perf_counter()
        gate.check_rights(
            settings.TIERSPAYANT_KEYRING,
            professional=professional,
            query=gate.RightsCheckInput(nir=nir, birth_date=birth),
            context=RequestContext(Channel.API, uuid.uuid4(), "192.0.2.7", "bench", None),
            now=timezone.now(),
            today=timezone.localdate(),
            quota_storage_uri=STORAGE,
            policy=policy,
        )
        total.append(time.perf_counter() - start)
        added.append(guard_time[0])
        record_disclosure(  # the lot's invoice that follows the lookup up
            context=RequestContext(Channel.API, uuid.uuid4(), "192.0.2.7", "bench", None),
            professional=professional,
            purpose=Purpose.INVOICE,
            outcome=Outcome.COVERED,
            occurred_at=timezone.now(),
            beneficiary=records[i % len(records)],
        )
    judged = [added[i] for i in range(30, N) if (i + 1 - 30) % 10 == 0]
    print(
        json.dumps(
            {
                "bench": "guard",
                "storage": STORAGE.split(":", 1)[0],
                "database": "sqlite",
                "rights_checks": N,
                "guard_added_median_ms": round(statistics.median(added) * 1000, 3),
                "guard_added_p95_ms": round(sorted(added)[int(0.95 * N)] * 1000, 3),
                "guard_added_mean_ms": round(statistics.mean(added) * 1000, 3),
                "follow_up_judged_ms": round(statistics.median(judged) * 1000, 3)
                if judged
                else None,
                "rights_check_median_ms": round(statistics.median(total) * 1000, 3),
                "target_ms": 2.0,
            }
        )
    )


if __name__ == "__main__":
    main()
