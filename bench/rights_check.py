"""Benchmark: the FHIR rights check under load, against the raw SQL floor.

    .venv/bin/python bench/rights_check.py [--count 1000000] [--duration 30] [--connections 8]

1. A PostgreSQL register of ``--count`` synthetic beneficiaries (database
   ``tierspayant_bench_rights``, or ``$BENCH_RIGHTS_DATABASE`` when several checkouts share one
   server; built once by ``import-members``, then analysed, and reused while its keys in
   var/bench/rights.env and its size match).
2. gunicorn serves the platform with ``--workers`` gthread workers (default one per core) of
   ``--threads`` threads (default 4): a threaded worker keeps the client's connection alive
   (a sync worker closes it after every response) and overlaps the database waits (the
   commit's WAL flush) of several requests, while one process per core keeps the Python
   work on all cores. A professional and an API token are created; the daily quota and the
   guard's thresholds are raised for the run (TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA,
   TIERSPAYANT_GUARD_POLICY, findings only alert); every control (token check, guard,
   disclosure log, FHIR validation) still runs.
3. wrk, a second process, POSTs ``CoverageEligibilityRequest`` bodies for 2,000 beneficiaries
   of the file (round robin) for ``--duration`` seconds after a 5 s warm-up.
4. The floor: the same lookup done directly in SQL (the blind index computed, the selector's
   join run with psycopg) by ``--floor-processes`` processes (default: one per core) for the
   same duration.

Prints requests/s, p50/p95/p99 latency (ms) of both, and the stack's overhead as ratios.

``--v2`` (issue 17) instead runs today's rights check and the rights check v2 with
engagement side by side, in one process on PostgreSQL (database
``tierspayant_bench_rights_v2``, ``--v2-count`` beneficiaries with member numbers, rebuilt
each run): ``--v2-rounds`` rounds, each one v1 call then one v2 call for the same person,
both through ``eligibility.services.check_rights`` with every control (guard counters in
memory, disclosure log, engagement row and domain rules for v2). Prints the median and p95
(ms) of each and the v2/v1 ratio of the medians (target < 1.20); and, for the no-oracle
rule, the same figures for a v2 check with a wrong member number and one with a wrong NIR.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import psycopg
from _machine import (
    AS_OF,
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

#: Several worktrees may bench on one PostgreSQL server: each names its own database.
DATABASE = os.environ.get("BENCH_RIGHTS_DATABASE", "tierspayant_bench_rights")
PORT = 8765
URL = f"http://127.0.0.1:{PORT}/fhir/r4/CoverageEligibilityRequest"
BASE = "https://tierspayant.example/fhir"
SAMPLES = 2000
RAISED = 1_000_000_000
#: The guard keeps running (counters, detectors, log) with thresholds one professional doing
#: thousands of checks a second does not reach, and findings only alert: otherwise the
#: detectors rightly suspend the benchmark's account.
BENCH_GUARD_POLICY = json.dumps(
    {
        "quotas": {
            "optician": {
                "per_hour": RAISED,
                "per_day": RAISED,
                "practice_per_hour": RAISED,
                "practice_per_day": RAISED,
            }
        },
        "floors": {"optician": {"burst": RAISED, "hour": RAISED, "day": RAISED, "all_hours": True}},
        "actions": {"low": "alert", "medium": "alert", "high": "alert", "critical": "alert"},
    }
)

LUA = r"""
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/fhir+json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local threads = {}
function setup(thread) table.insert(threads, thread) end
local i = 0
ok, other = 0, 0  -- globals: done() reads them with thread:get
function init(args) i = math.random(#bodies) end
function request()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local ok_total, other_total = 0, 0
  for _, t in ipairs(threads) do
    ok_total = ok_total + t:get("ok")
    other_total = other_total + t:get("other")
  end
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "status_200": %d, "status_other": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, ok_total, other_total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""

ISSUER_CODE = """
import django, time
django.setup()
from django.utils import timezone
from tierspayant.providers.choices import Scope
from tierspayant.providers.services import create_professional, issue_api_token
from tierspayant.providers.synthetic import synthetic_rpps
import random
pro = create_professional(username=f"bench{time.time_ns()}", password="bench-password-not-used-42",
    profession="optician", display_name="Optique Banc d'essai",
    rpps=synthetic_rpps(random.Random(time.time_ns())))
print(issue_api_token(professional=pro, name="bench", scopes=[Scope.ELIGIBILITY_CHECK],
    now=timezone.now(), valid_days=1).secret)
"""


def ensure_register(count: int) -> dict[str, str]:
    env_file = VAR / "rights.env"
    marker = VAR / "rights-db.json"
    env = bench_env(env_file, pg_url_for(DATABASE))
    known = json.loads(marker.read_text()) if marker.exists() else {}
    if known.get("count") == count and pg_database_exists(DATABASE):
        return env
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
            str(VAR / "rights-import-errors.csv"),
        ],
        env,
    )
    # Planner statistics, as autovacuum would gather them after a bulk load: without them
    # PostgreSQL guesses row counts and picks hash joins over the whole contract table.
    with psycopg.connect(pg_url_for(DATABASE), autocommit=True) as conn:
        conn.execute("ANALYZE")
    marker.write_text(json.dumps({"count": count, "import": json.loads(done.stdout)}))
    return env


def samples(count: int) -> list[tuple[str, str, int, str]]:
    """(NIR, birth date, rang, AMC) for SAMPLES lines spread over the file."""
    path = VAR / f"members-{count}.csv"
    step = max(1, count // SAMPLES)
    picked = []
    with path.open(encoding="utf-8") as f:
        next(f)
        for n, line in enumerate(f):
            if n % step == 0:
                v = line.rstrip("\n").split(";")
                picked.append((v[3], v[7], int(v[4]), v[0]))
    return picked[:SAMPLES]


def fhir_body(nir: str, birth: str, rang: int, amc: str) -> str:
    patient: dict[str, object] = {
        "resourceType": "Patient",
        "id": "p",
        "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": nir}],
        "birthDate": birth,
    }
    if rang > 1:
        patient["extension"] = [
            {"url": f"{BASE}/StructureDefinition/rang-naissance", "valueInteger": rang}
        ]
    return json.dumps(
        {
            "resourceType": "CoverageEligibilityRequest",
            "contained": [patient],
            "status": "active",
            "purpose": ["validation"],
            "patient": {"reference": "#p"},
            "created": AS_OF,
            "servicedDate": AS_OF,
            "insurer": {"identifier": {"system": f"{BASE}/NamingSystem/amc-number", "value": amc}},
        }
    )


def wait_ready(token: str, body: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(
                URL,
                data=body.encode(),
                method="POST",
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/fhir+json",
                },
            )
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
                outcome = json.loads(answer.read())["outcome"]
                if answer.status == 200:
                    print(f"server ready, sample outcome {outcome}", file=sys.stderr)
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer within 60 s")


def wrk(seconds: int, connections: int, env: dict[str, str]) -> dict[str, float]:
    script = VAR / "rights_check.lua"
    script.write_text(LUA)
    done = subprocess.run(  # noqa: S603
        [
            shutil.which("wrk") or "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            str(script),
            URL,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or "WRKJSON" not in done.stdout:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    seconds_done = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "requests_per_s": round(raw["requests"] / seconds_done, 1),
        "status_200": raw["status_200"],
        "status_other": raw["status_other"],
        "socket_errors": raw["socket_errors"],
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
    }


def _floor_worker(args: tuple[str, str, list[tuple[str, str]], float]) -> list[float]:
    """One process: the selector's query, as fast as it goes, until the deadline."""
    url, index_spec, identities, seconds = args
    from tierspayant.crypto.blind_index import blind_index_candidates
    from tierspayant.crypto.keys import parse_key_spec

    keys = parse_key_spec(index_spec, name="TIERSPAYANT_INDEX_KEYS")
    sql = (
        "SELECT b.*, c.*, i.* FROM registry_beneficiary b "
        "JOIN registry_contract c ON c.id = b.contract_id "
        "JOIN registry_insurer i ON i.id = c.insurer_id "
        "WHERE b.identity_index = ANY(%s) ORDER BY b.rang, b.id"
    )
    latencies = []
    with psycopg.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            nir, birth = identities[n % len(identities)]
            n += 1
            started = time.perf_counter()
            candidates = blind_index_candidates(keys, nir, birth, purpose="beneficiary-identity")
            conn.execute(sql, [candidates], prepare=True).fetchall()
            latencies.append(time.perf_counter() - started)
    return latencies


def sql_floor(env: dict[str, str], picked: list, seconds: int, processes: int) -> dict:
    identities = [(nir, birth) for nir, birth, _, _ in picked]
    with multiprocessing.Pool(processes) as pool:
        parts = pool.map(
            _floor_worker,
            [
                (
                    pg_url_for(DATABASE),
                    env["TIERSPAYANT_INDEX_KEYS"],
                    identities[k::processes],
                    float(seconds),
                )
                for k in range(processes)
            ],
        )
    latencies = sorted(x for part in parts for x in part)
    q = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(q[49] * 1000, 3),
        "p95_ms": round(q[94] * 1000, 3),
        "p99_ms": round(q[98] * 1000, 3),
    }


V2_DATABASE = os.environ.get("BENCH_RIGHTS_V2_DATABASE", "tierspayant_bench_rights_v2")
V2_CODE = """
import datetime, json, random, statistics, sys, time, uuid
import django
django.setup()
from django.conf import settings
from tierspayant.audit.choices import Channel
from tierspayant.audit.services import RequestContext
from tierspayant.crypto.fields import encrypt_field
from tierspayant.eligibility.services import RightsCheckInput, check_rights
from tierspayant.guard.policy import policy_from_json
from tierspayant.providers.services import create_professional
from tierspayant.providers.synthetic import synthetic_rpps
from tierspayant.registry.models import Beneficiary, Contract, Insurer
from tierspayant.registry.services import build_beneficiary, member_number_index
from tierspayant.registry.synthetic import synthetic_nir

count, rounds, policy_json = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
keyring = settings.TIERSPAYANT_KEYRING
rng = random.Random(17)
insurer = Insurer.objects.create(amc_number="88000017", name="Mutuelle du banc")
contract = Contract.objects.create(
    insurer=insurer, number="BENCH-V2", contract_type="individual", responsible=True,
    valid_from=datetime.date(2024, 1, 1), tiers_payant_domains=["pharmacy", "optical"],
    guarantee_table="essentiel", convention_type="TP", routing_criterion="R01")
people = []
rows = []
for i in range(count):
    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(20000))
    nir = synthetic_nir(rng, sex=1 + i % 2, birth_date=born)
    member = f"M{i:08d}"
    b = build_beneficiary(keyring, contract=contract, nir=nir, rang=1, birth_date=born,
        last_name="Banc", first_name="Essai", quality="insured",
        rights_start=datetime.date(2024, 1, 1), rights_end=None)
    b.member_number_ciphertext = encrypt_field(keyring.encryption, member,
        table=Beneficiary.TABLE, column="member_number", row_id=str(b.id))
    b.member_number_index = member_number_index(keyring.index, insurer.amc_number, member)
    rows.append(b)
    people.append((nir, born, member))
Beneficiary.objects.bulk_create(rows)
pro = create_professional(username=f"benchv2{time.time_ns()}",
    password="bench-password-not-used-42", profession="optician", display_name="Optique Banc",
    rpps=synthetic_rpps(rng))
policy = policy_from_json(policy_json)
today = datetime.date(2026, 11, 29)

def call(query):
    now = datetime.datetime.now(datetime.UTC)
    started = time.perf_counter()
    result = check_rights(keyring, professional=pro, query=query,
        context=RequestContext(channel=Channel.API, request_id=uuid.uuid4(), ip="192.0.2.1",
            user_agent="bench", actor_id=pro.user_id),
        now=now, today=today, quota_storage_uri="memory://", daily_quota=10**9, policy=policy,
        tables_dir=settings.TIERSPAYANT_GUARANTEE_TABLES_DIR)
    elapsed = time.perf_counter() - started
    return elapsed, result

def v2_query(nir, born, member):
    return RightsCheckInput(nir=nir, birth_date=born, care_date=today, amc_number="88000017",
        member_number=member, convention_type="TP", routing_criterion="R01", domain="pharmacy")

v1, v2, wrong_member, wrong_nir = [], [], [], []
for r in range(rounds):
    nir, born, member = people[r % len(people)]
    t1, a = call(RightsCheckInput(nir=nir, birth_date=born, care_date=today))
    t2, b = call(v2_query(nir, born, member))
    t3, c = call(v2_query(nir, born, "Z" + member[1:]))
    t4, d = call(v2_query(synthetic_nir(rng, sex=1, birth_date=born), born, member))
    assert a.outcome == "covered" and b.engagement, (a.outcome, b.outcome)
    assert c.outcome == d.outcome == "no_match", (c.outcome, d.outcome)
    if r >= 50:  # warm-up
        v1.append(t1); v2.append(t2); wrong_member.append(t3); wrong_nir.append(t4)

def figures(xs):
    xs = sorted(xs)
    return {"median_ms": round(statistics.median(xs) * 1000, 3),
            "p95_ms": round(xs[int(len(xs) * 0.95) - 1] * 1000, 3)}

print(json.dumps({"v1": figures(v1), "v2": figures(v2),
    "ratio_median": round(statistics.median(v2) / statistics.median(v1), 3),
    "ratio_p95": round(figures(v2)["p95_ms"] / figures(v1)["p95_ms"], 3),
    "no_match_wrong_member_number": figures(wrong_member),
    "no_match_wrong_nir": figures(wrong_nir),
    "no_match_ratio_median": round(
        statistics.median(wrong_member) / statistics.median(wrong_nir), 3)}))
"""


def side_by_side(count: int, rounds: int) -> None:
    """Today's rights check and the v2 one with engagement, alternately, in one process."""
    VAR.mkdir(parents=True, exist_ok=True)
    env = bench_env(VAR / "rights.env", recreate_pg_database(V2_DATABASE))
    run([TIERSPAYANT, "migrate", "--no-input", "-v", "0"], env)
    done = run(
        [str(BIN / "python"), "-c", V2_CODE, str(count), str(rounds), BENCH_GUARD_POLICY], env
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    emit(
        {
            "benchmark": "rights-check-v2-side-by-side",
            "beneficiaries": count,
            "rounds": rounds,
            "warm_up_rounds": 50,
            "call": "eligibility.services.check_rights (in process, PostgreSQL, guard in memory)",
            "target": "v2 with engagement < 1.20 x today's (median)",
            **figures,
            "machine": machine_facts(PG_ADMIN_URL),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="gunicorn gthread workers"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument(
        "--redis",
        default="",
        help="REDIS_URL for the guard's counters (as deployed); default: each worker's memory",
    )
    parser.add_argument("--floor-processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--v2", action="store_true", help="v1 vs v2 side by side (issue 17)")
    parser.add_argument("--v2-count", type=int, default=2000)
    parser.add_argument("--v2-rounds", type=int, default=1000)
    args = parser.parse_args()
    if args.v2:
        side_by_side(args.v2_count, args.v2_rounds)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make bench does it)")
    VAR.mkdir(parents=True, exist_ok=True)
    env = ensure_register(args.count)
    token = run([str(BIN / "python"), "-c", ISSUER_CODE], env).stdout.strip()
    picked = samples(args.count)
    bodies = VAR / "rights_check_bodies.jsonl"
    bodies.write_text("\n".join(fhir_body(*s) for s in picked) + "\n")
    server_env = dict(
        env,
        TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA=str(RAISED),
        TIERSPAYANT_GUARD_POLICY=BENCH_GUARD_POLICY,
        TIERSPAYANT_ALLOWED_HOSTS="127.0.0.1",
        # Plain HTTP on loopback, as behind the TLS-terminating proxy of a deployment.
        TIERSPAYANT_SSL_REDIRECT="0",
    )
    if args.redis:  # the counters of a deployment: shared by every worker, one Redis
        server_env["REDIS_URL"] = args.redis
    else:
        server_env.pop("REDIS_URL", None)
    server_log = (VAR / "gunicorn.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [
            str(BIN / "gunicorn"),
            "tierspayant.wsgi:application",
            "--worker-class",
            "gthread",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        env=server_env,
        stdout=server_log,
        stderr=server_log,
    )
    try:
        wait_ready(token, fhir_body(*picked[0]))
        wrk_env = dict(os.environ, BENCH_BODIES=str(bodies), BENCH_TOKEN=token)
        wrk(5, args.connections, wrk_env)  # warm-up
        stack = wrk(args.duration, args.connections, wrk_env)
    finally:
        server.terminate()
        server.wait(timeout=30)
    floor = sql_floor(env, picked, args.duration, args.floor_processes)
    emit(
        {
            "benchmark": "rights-check",
            "beneficiaries": args.count,
            "endpoint": "POST /fhir/r4/CoverageEligibilityRequest",
            "quota_storage": "redis" if args.redis else "memory (per worker)",
            "gunicorn": {
                "worker_class": "gthread",
                "workers": args.workers,
                "threads": args.threads,
            },
            "wrk": {"threads": 2, "connections": args.connections, "seconds": args.duration},
            "target": ">= 300 requests/s with p99 < 50 ms on 2 cores",
            "stack": stack,
            "sql_floor": floor,
            "overhead": {
                "throughput_ratio": round(floor["requests_per_s"] / stack["requests_per_s"], 2),
                "p50_ratio": round(stack["p50_ms"] / floor["p50_ms"], 1),
            },
            "machine": machine_facts(PG_ADMIN_URL),
        }
    )


if __name__ == "__main__":
    main()
