"""Sign-in timing for a known and an unknown username with a wrong password (no user
enumeration, ASVS 5.0 V6.3.8): median and p90 in milliseconds over N attempts each, with the
production Argon2id cost. Prints JSON. Run: ``python bench/login_timing.py`` (from the
project root; uses a throw-away SQLite database and the test keys)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
os.environ["TIERSPAYANT_LOGIN_FAILURE_LIMIT"] = "100000"  # measure the hash, not the lock

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
logging.disable(logging.WARNING)  # axes logs each failure; the output here is the JSON line
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]  # production
setup_test_environment()
call_command("migrate", verbosity=0)
from tests.factories import make_professional  # noqa: E402

N = int(os.environ.get("BENCH_N", "30"))
known = make_professional().user.username


def measure(username: str) -> list[float]:
    times = []
    for i in range(N):
        client = Client(REMOTE_ADDR=f"10.{i // 250}.{i % 250}.1")
        start = time.perf_counter()
        client.post("/connexion/", {"username": username, "password": "pas-le-bon-mot-de-passe"})
        times.append((time.perf_counter() - start) * 1000)
    return times


result = {}
for label, name in (("known_username_ms", known), ("unknown_username_ms", "personne.inconnue")):
    times = sorted(measure(name))
    result[label] = {
        "median": round(statistics.median(times), 2),
        "p90": round(times[int(0.9 * (len(times) - 1))], 2),
    }
result["attempts_each"] = N
result["median_gap_ms"] = round(
    abs(result["known_username_ms"]["median"] - result["unknown_username_ms"]["median"]), 2
)
print(json.dumps(result))
