"""Benchmark: the register at scale on PostgreSQL (20 million beneficiaries by default).

    .venv/bin/python bench/register_scale.py [--count 20000000] [--samples 2000]

(``make bench BENCH_SCALE_COUNT=2000000`` for the shorter run.)

Builds (once; reused while the size and var/bench/scale.env keys match) a PostgreSQL database
``tierspayant_bench_scale`` by importing a synthetic member file of ``--count`` lines, then
reports: the import's figures, rights-check latency at that size through the service
(``check_rights``: guard, lookup, disclosure log; in process, one at a time) and for the raw
SQL lookup, every index's size, and database bytes per beneficiary. A 20-million run needs
about 20 GB of disk and an hour or more on 2 cores: ``--count 2000000`` gives the trend.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import psycopg
from _machine import (
    BIN,
    PG_ADMIN_URL,
    TIERSPAYANT,
    VAR,
    bench_env,
    emit,
    machine_facts,
    member_file,
    pg_database_exists,
    pg_url_for,
    prepare_register,
    recreate_pg_database,
    run,
)

DATABASE = "tierspayant_bench_scale"

SERVICE_SNIPPET = r"""
import datetime, json, statistics, sys, time, uuid
import django
django.setup()
from django.conf import settings
from django.utils import timezone
from tierspayant.audit.choices import Channel
from tierspayant.audit.services import RequestContext
from tierspayant.eligibility.services import RightsCheckInput, check_rights
from tierspayant.providers.services import create_professional
from tierspayant.providers.synthetic import synthetic_rpps
import random
pro = create_professional(username=f"scale{time.time_ns()}", password="bench-password-not-used-42",
    profession="optician", display_name="Optique Banc d'essai",
    rpps=synthetic_rpps(random.Random(time.time_ns())))
samples = json.loads(sys.stdin.read())
latencies, outcomes = [], {}
for nir, birth, rang, amc in samples:
    started = time.perf_counter()
    result = check_rights(settings.TIERSPAYANT_KEYRING, professional=pro,
        query=RightsCheckInput(nir=nir, birth_date=birth, rang=rang, amc_number=amc,
                               care_date="2026-11-29"),
        context=RequestContext(Channel.API, uuid.uuid4(), "127.0.0.1", "bench", None),
        now=timezone.now(), today=datetime.date(2026, 11, 29),
        quota_storage_uri="memory://", daily_quota=10**9,
        **({"policy": settings.TIERSPAYANT_GUARD_POLICY}
           if hasattr(settings, "TIERSPAYANT_GUARD_POLICY") else {}))
    latencies.append(time.perf_counter() - started)
    outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
q = statistics.quantiles(sorted(latencies[50:]), n=100)
print(json.dumps({"checks": len(latencies) - 50, "p50_ms": round(q[49] * 1000, 3),
    "p95_ms": round(q[94] * 1000, 3), "p99_ms": round(q[98] * 1000, 3), "outcomes": outcomes}))
"""


def ensure_register(count: int) -> tuple[dict[str, str], dict[str, object]]:
    env = bench_env(VAR / "scale.env", pg_url_for(DATABASE))
    marker = VAR / "scale-db.json"
    if pg_database_exists(DATABASE) and marker.exists():
        known = json.loads(marker.read_text())
        if known.get("count") == count:
            return env, known["import"]
    recreate_pg_database(DATABASE)
    prepare_register(env)
    path = member_file(count, env)
    done = run(
        [
            TIERSPAYANT,
            "import-members",
            str(path),
            "--json",
            "--report",
            str(VAR / "scale-import-errors.csv"),
        ],
        env,
    )
    summary = json.loads(done.stdout)
    marker.write_text(json.dumps({"count": count, "import": summary}))
    return env, summary


def samples(count: int, wanted: int) -> list[tuple[str, str, int, str]]:
    step = max(1, count // wanted)
    picked = []
    with (VAR / f"members-{count}.csv").open(encoding="utf-8") as f:
        next(f)
        for n, line in enumerate(f):
            if n % step == 0:
                v = line.rstrip("\n").split(";")
                picked.append((v[3], v[7], int(v[4]), v[0]))
    return picked[:wanted]


def sizes(url: str) -> dict[str, object]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT count(*) FROM registry_beneficiary").fetchone()[0]
        database = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        table = conn.execute(
            "SELECT pg_relation_size('registry_beneficiary'), "
            "pg_total_relation_size('registry_beneficiary')"
        ).fetchone()
        indexes = conn.execute(
            "SELECT indexname, pg_relation_size(quote_ident(indexname)::regclass) "
            "FROM pg_indexes WHERE tablename = 'registry_beneficiary' ORDER BY 1"
        ).fetchall()
    mb = 2**20
    return {
        "beneficiaries": rows,
        "database_mb": round(database / mb, 1),
        "database_bytes_per_beneficiary": round(database / max(rows, 1)),
        "table_heap_mb": round(table[0] / mb, 1),
        "table_with_indexes_and_toast_mb": round(table[1] / mb, 1),
        "bytes_per_beneficiary_table_and_indexes": round(table[1] / max(rows, 1)),
        "indexes_mb": {name: round(size / mb, 1) for name, size in indexes},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--count", type=int, default=int(os.environ.get("BENCH_SCALE_COUNT", "20000000"))
    )
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    env, imported = ensure_register(args.count)
    # Statistics first, as autovacuum gives a register in service: without them PostgreSQL
    # guesses thousands of rows per identity and scans the table (p50 65 ms at 20 M).
    with psycopg.connect(pg_url_for(DATABASE), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE registry_beneficiary")
    picked = samples(args.count, args.samples)
    from rights_check import BENCH_GUARD_POLICY, _floor_worker  # same policy and raw lookup

    # The guard runs with raised thresholds: thousands of checks by one professional in a
    # minute would (rightly) get the account suspended by the detectors.
    service_env = dict(env, TIERSPAYANT_GUARD_POLICY=BENCH_GUARD_POLICY)
    service = json.loads(
        run(
            [str(BIN / "python"), "-c", SERVICE_SNIPPET], service_env, input=json.dumps(picked)
        ).stdout
    )

    identities = [(nir, birth) for nir, birth, _, _ in picked]
    latencies = sorted(
        _floor_worker((pg_url_for(DATABASE), env["TIERSPAYANT_INDEX_KEYS"], identities, 10.0))
    )
    quantile = statistics.quantiles(latencies, n=100)
    emit(
        {
            "benchmark": "register-scale",
            "beneficiaries_requested": args.count,
            "import": {
                k: imported.get(k) for k in ("created", "rejected", "seconds", "rows_per_s")
            },
            "rights_check_service": service,
            "sql_lookup": {
                "lookups": len(latencies),
                "p50_ms": round(quantile[49] * 1000, 3),
                "p95_ms": round(quantile[94] * 1000, 3),
                "p99_ms": round(quantile[98] * 1000, 3),
            },
            "storage": sizes(pg_url_for(DATABASE)),
            "machine": machine_facts(PG_ADMIN_URL),
        }
    )


if __name__ == "__main__":
    main()
