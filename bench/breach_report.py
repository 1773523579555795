"""Breach-report time on a large disclosure log (PostgreSQL).

Usage, from the project root:

    .venv/bin/python bench/breach_report.py [--rows 10000000] [--professionals 5000]
                                            [--beneficiaries 1000000] [--repeat 3]

``--rows`` defaults to ``BENCH_AUDIT_ROWS`` or 10 million. Builds (once; reused while its
size matches) the database ``tierspayant_bench_audit`` on the
server at ``BENCH_PG_URL`` (default ``postgres://postgres@127.0.0.1:5432/postgres``): the
platform's schema by migration, then with ``generate_series`` 20 insurers, 200 contracts,
``--beneficiaries`` beneficiaries, ``--professionals`` professionals and ``--rows`` sealed
log rows spread over 365 days (85% covered, 5% not covered, 10% no match; each row a random
professional and beneficiary). Then times ``build_breach_report`` (the service behind
``tierspayant breach-report``, JSON rendering included) for one account over 30 days and for
1,000 accounts over 90 days: the first (cold) run and the best of ``--repeat`` runs.

Prints one JSON object with the figures, the sizes, the table's and indexes' sizes, and
machine facts. Nothing here asserts a time. Data is synthetic; ciphertext columns hold
placeholders (the report never decrypts: only the letters do).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DATABASE = "tierspayant_bench_audit"
ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
END = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)  # the log covers the 365 days before this
LAYOUT = 2  # bump when the generated data changes: the database is rebuilt


def database_url() -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE


def setup_django() -> None:
    """Django on the bench database, with throw-away keys (nothing here is decrypted)."""
    from tierspayant.crypto.keys import generate_key_spec

    os.environ["DATABASE_URL"] = database_url()
    os.environ.setdefault("TIERSPAYANT_SECRET_KEY", "bench-" + "x9Yq2Lm4Rt7Vw1Zs8Kp3" * 3)
    os.environ.setdefault("TIERSPAYANT_FIELD_KEYS", generate_key_spec("b1"))
    os.environ.setdefault("TIERSPAYANT_INDEX_KEYS", generate_key_spec("b2"))
    os.environ.setdefault("TIERSPAYANT_AUDIT_SIGNING_KEYS", generate_key_spec("b3"))
    os.environ.setdefault("TIERSPAYANT_VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tierspayant.settings"
    import django

    django.setup()


def existing_size() -> dict[str, int] | None:
    """The sizes the bench database was built with, or None if it must be (re)built."""
    try:
        with psycopg.connect(database_url(), connect_timeout=3) as conn:
            row = conn.execute(
                "SELECT rows, professionals, beneficiaries, layout FROM bench_meta"
            ).fetchone()
    except psycopg.Error:
        return None
    if row is None or row[3] != LAYOUT:
        return None
    return dict(zip(("rows", "professionals", "beneficiaries"), row[:3], strict=True))


def build(rows: int, professionals: int, beneficiaries: int) -> float:
    """(Re)create and fill the bench database; return the seconds it took."""
    started = time.perf_counter()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    with psycopg.connect(database_url(), autocommit=True) as conn:
        statements = [
            """INSERT INTO registry_insurer (amc_number, name)
               SELECT (88000000 + i)::text, 'Organisme ' || i FROM generate_series(1, 20) i""",
            """INSERT INTO registry_contract (insurer_id, number, contract_type, responsible,
                 valid_from, tiers_payant_domains, guarantee_table)
               SELECT (SELECT min(id) FROM registry_insurer) + mod(i, 20), 'CT-' || i,
                 'individual', true, '2020-01-01', '["pharmacy", "optical"]', ''
               FROM generate_series(1, 200) i""",
            """INSERT INTO registry_beneficiary (id, contract_id, nir_ciphertext,
                 birth_date_ciphertext, identity_index, rang, last_name, first_name, quality,
                 rights_start, is_canary)
               SELECT md5('b' || i)::uuid, (SELECT min(id) FROM registry_contract) + mod(i, 200),
                 'b1:placeholder', 'b1:placeholder', 'b2$' || md5('i' || i), 1, 'Nom' || i,
                 'Prénom', 'insured', '2020-01-01', false
               FROM generate_series(1, %(beneficiaries)s) i""",
            """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                 email, is_staff, is_active, date_joined)
               SELECT '!', false, 'pro' || i, '', '', '', false, true, now()
               FROM generate_series(1, %(professionals)s) i""",
            """INSERT INTO providers_professional (user_id, profession, display_name, rpps,
                 adeli, finess, siret)
               SELECT id, 'optician', 'Optique ' || id, lpad(id::text, 11, '0'), '', '',
                 lpad(id::text, 14, '0')
               FROM auth_user WHERE username LIKE 'pro%'""",
        ]
        sizes = {"beneficiaries": beneficiaries, "professionals": professionals}
        for sql in statements:
            conn.execute(sql, sizes if "%(" in sql else None)
        first_pro = conn.execute("SELECT min(id) FROM providers_professional").fetchone()[0]
        seconds = 365 * 86400
        chunk = 1_000_000
        for start in range(1, rows + 1, chunk):
            stop = min(rows, start + chunk - 1)
            # h, g: cheap deterministic hashes of i. The outcome (85% covered, 5% not, 10% no
            # match) and the professional come from h, the beneficiary from g.
            conn.execute(
                """INSERT INTO audit_disclosurelog (occurred_at, request_id, channel, purpose,
                     outcome, reason, actor_id, professional_id, beneficiary_id,
                     fields_disclosed, ip_address, user_agent, seq, prev_hash, row_hash)
                   SELECT %(end)s - make_interval(secs => %(span)s * (1 - i::float8 / %(rows)s)),
                     md5('r' || i)::uuid, 'api', 'rights_check',
                     CASE WHEN mod(h, 20) < 17 THEN 'covered'
                          WHEN mod(h, 20) = 17 THEN 'not_covered' ELSE 'no_match' END,
                     '', NULL, %(first_pro)s + mod(h / 20, %(pros)s),
                     CASE WHEN mod(h, 20) < 18
                          THEN md5('b' || (1 + mod(g, %(people)s)))::uuid END,
                     CASE WHEN mod(h, 20) < 17 THEN
                          '["coverage_status", "rights_period", "tiers_payant_domains",
                            "amc_number"]'::jsonb
                          WHEN mod(h, 20) = 17 THEN
                          '["coverage_status", "rights_period", "amc_number"]'::jsonb
                          ELSE '[]'::jsonb END,
                     ('10.' || mod(mod(h / 20, %(pros)s) / 256, 256) || '.' ||
                      mod(mod(h / 20, %(pros)s), 256) || '.7')::inet,
                     'bench', i, md5('p' || i), md5('h' || i)
                   FROM (SELECT i, abs(hashint8(i)) AS h, abs(hashint8(-i)) AS g
                         FROM generate_series(%(start)s::bigint, %(stop)s::bigint) i) s""",
                {
                    "end": END,
                    "span": seconds,
                    "rows": rows,
                    "first_pro": first_pro,
                    "pros": professionals,
                    "people": beneficiaries,
                    "start": start,
                    "stop": stop,
                },
            )
        conn.execute(
            "CREATE TABLE bench_meta (rows bigint, professionals int, beneficiaries int, "
            "layout int)"
        )
        conn.execute(
            "INSERT INTO bench_meta VALUES (%s, %s, %s, %s)",
            [rows, professionals, beneficiaries, LAYOUT],
        )
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def timed(scope: Any, repeat: int) -> dict[str, Any]:
    from tierspayant.audit.breach import build_breach_report

    def once() -> tuple[float, Any]:
        started = time.perf_counter()
        report = build_breach_report(scope, now=END)
        json.dumps(report.as_dict())  # what --format json prints
        return time.perf_counter() - started, report

    cold, report = once()
    warm = min(once()[0] for _ in range(repeat))
    return {
        "accounts": len(scope.accounts),
        "days": (scope.until - scope.since).days,
        "cold_s": round(cold, 3),
        "best_s": round(warm, 3),
        "lookups": report.lookups,
        "people_exposed": report.people,
        "records_exposed": report.records,
        "attempts": sum(report.attempts.values()),
        "insurers": len(report.insurers),
    }


def sizes() -> dict[str, Any]:
    with psycopg.connect(database_url()) as conn:
        table = conn.execute(
            "SELECT pg_size_pretty(pg_table_size('audit_disclosurelog')), "
            "pg_size_pretty(pg_indexes_size('audit_disclosurelog'))"
        ).fetchone()
        version = conn.execute("SHOW server_version").fetchone()[0]
        buffers = conn.execute("SHOW shared_buffers").fetchone()[0]
    return {
        "log_table": table[0],
        "log_indexes": table[1],
        "postgresql": version,
        "shared_buffers": buffers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--rows", type=int, default=int(os.environ.get("BENCH_AUDIT_ROWS", 10_000_000))
    )
    parser.add_argument("--professionals", type=int, default=5000)
    parser.add_argument("--beneficiaries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.professionals < 1000:
        parser.error("--professionals must be at least 1000 (the 1,000-account case)")
    setup_django()
    wanted = {
        "rows": args.rows,
        "professionals": args.professionals,
        "beneficiaries": args.beneficiaries,
    }
    build_seconds = None
    if existing_size() != wanted:
        build_seconds = round(build(args.rows, args.professionals, args.beneficiaries), 1)

    from tierspayant.audit.breach import BreachScope

    usernames = [f"pro{i}" for i in range(1, args.professionals + 1)]
    one = BreachScope(since=END - dt.timedelta(days=30), until=END, accounts=(usernames[0],))
    thousand = BreachScope(
        since=END - dt.timedelta(days=90), until=END, accounts=tuple(usernames[:1000])
    )
    result = {
        "benchmark": "breach_report",
        "size": wanted,
        "build_s": build_seconds,
        "one_account_30_days": timed(one, args.repeat),
        "thousand_accounts_90_days": timed(thousand, args.repeat),
        "database": sizes(),
        "machine": {
            "cores": os.cpu_count(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
