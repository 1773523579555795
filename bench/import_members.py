"""Benchmark: import-members rows/s and peak memory, on PostgreSQL and on SQLite.

    .venv/bin/python bench/import_members.py [--count 1000000] [--backend postgresql|sqlite|both]

Each backend gets a fresh database (PostgreSQL ``tierspayant_bench_import``; SQLite under
var/bench), the synthetic contracts, then ``import-members FILE --json`` runs twice in a child
process: the first run creates every line, the second (idempotent re-run) changes nothing.
Peak memory is the child's maximum resident set (``wait4``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _machine import (
    PG_ADMIN_URL,
    TIERSPAYANT,
    VAR,
    bench_env,
    emit,
    machine_facts,
    member_file,
    prepare_register,
    recreate_pg_database,
)


def timed_import(path: Path, env: dict[str, str]) -> dict[str, object]:
    """Run one import in a child process; its JSON summary plus peak memory (MB)."""
    report = VAR / "import-errors.csv"
    child = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [TIERSPAYANT, "import-members", str(path), "--json", "--report", str(report)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stderr is not None
    out, err = child.stdout.read(), child.stderr.read()  # small: --json, no progress bar
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if not out:
        raise SystemExit(f"import failed ({child.returncode}): {err}")
    summary = json.loads(out)
    summary.pop("report", None)
    summary["exit_code"] = child.returncode
    summary["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both")
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    env_file = VAR / "import.env"
    results: dict[str, object] = {
        "benchmark": "import-members",
        "lines": args.count,
        "target": ">= 20000 rows/s on PostgreSQL, memory flat",
        "machine": machine_facts(PG_ADMIN_URL),
    }
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    path = member_file(args.count, bench_env(env_file, "sqlite:///" + str(VAR / "gen.sqlite3")))
    results["file_mb"] = round(path.stat().st_size / 2**20, 1)
    for backend in backends:
        if backend == "postgresql":
            url = recreate_pg_database("tierspayant_bench_import")
        else:
            db = VAR / "import.sqlite3"
            db.unlink(missing_ok=True)
            url = f"sqlite:///{db}"
        env = bench_env(env_file, url)
        prepare_register(env)
        first = timed_import(path, env)
        again = timed_import(path, env)
        results[backend] = {
            "first_run": first,
            "rerun_idempotent": {
                k: again[k]
                for k in ("created", "updated", "unchanged", "rows_per_s", "seconds", "peak_rss_mb")
                if k in again
            },
        }
    emit(results)


if __name__ == "__main__":
    main()
