"""Benchmark: tiers payant attestations issued per second (PDF with DataMatrix + JSON), and
the member file version 2 import beside version 1.

    .venv/bin/python bench/attestations.py [--count 550000] [--workers N]

A fresh PostgreSQL database (``tierspayant_bench_attestations``) gets the synthetic
contracts, then a synthetic member file of ``--count`` lines in version 1 and the same people
in version 2 (``generate-members --format-version 2``) are imported (the second updates every
row with its member number, formulas...; a re-run of version 2 changes nothing), then
``issue-attestations --insurer 70100001 --year 2026 --json`` writes every family's PDF and JSON
under var/bench/attestations (wall time, and CPU time of the command and its workers, which
does not depend on what else runs); the version 2 file is also imported into an empty
register (``tierspayant_bench_attestations_v2``) beside version 1's first import; rendering
alone is timed in one process. 550,000 lines give about 100,000 families of that insurer.
Prints one JSON object; the target is 100,000 attestations in under 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _machine import (
    AS_OF,
    TIERSPAYANT,
    VAR,
    bench_env,
    emit,
    machine_facts,
    member_file,
    prepare_register,
    recreate_pg_database,
    run,
)

DATABASE = "tierspayant_bench_attestations"
TARGET_ATTESTATIONS = 100_000
TARGET_SECONDS = 600


def v2_file(count: int, env: dict[str, str]) -> Path:
    """The version 2 file of the same people as ``member_file(count)`` (generated once)."""
    path = VAR / f"members-v2-{count}.csv"
    if not path.exists():
        partial = path.with_suffix(".part")
        run(
            [
                TIERSPAYANT,
                "generate-members",
                "--count",
                str(count),
                "--as-of",
                AS_OF,
                "--format-version",
                "2",
                "--out",
                str(partial),
            ],
            env,
        )
        partial.rename(path)
    return path


#: Rendering alone (PDF with its DataMatrix), one process, no database: the CPU cost of one
#: attestation, which bounds what N cores can issue.
RENDER = """
import time, django
django.setup()
from tierspayant.attestations.services import Attestation, Block, Member, attestation_pdf
from tierspayant.attestations.services import datamatrix_text
block = Block("70100001", "TP", "701", "A000000001", "01/01/2026", "31/12/2026")
formulas = {"pharmacy": "100%", "optical": "OPT2", "audio": "AUD1", "dental": "300%"}
member = Member("Lambert", "Louise", "08/08/1966", 1, "insured", "01/01/2026", "31/12/2026",
                formulas)
made = Attestation("x", 2026, "Mutuelle", block, True, list(formulas), [member] * 3, "01",
                   "751", datamatrix_text(block))
attestation_pdf(made)
started = time.process_time()
for _ in range(300):
    attestation_pdf(made)
print(round((time.process_time() - started) / 300 * 1000, 2))
"""


def imported(path: Path, env: dict[str, str]) -> dict[str, object]:
    done = run([TIERSPAYANT, "import-members", str(path), "--json"], env)
    data = json.loads(done.stdout)
    keep = ("read", "created", "updated", "unchanged", "rejected", "seconds", "rows_per_s")
    return {k: data[k] for k in keep}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=550_000, help="member-file lines")
    parser.add_argument("--workers", type=int, default=None, help="issue-attestations --workers")
    args = parser.parse_args()
    url = recreate_pg_database(DATABASE)
    env = bench_env(VAR / "bench.env", url)
    prepare_register(env)
    v1, v2 = member_file(args.count, env), v2_file(args.count, env)
    result: dict[str, object] = {"machine": machine_facts(url), "lines": args.count}
    result["import_v1"] = imported(v1, env)
    result["import_v2_over_v1"] = imported(v2, env)
    result["import_v2_again"] = imported(v2, env)
    out = VAR / "attestations"
    shutil.rmtree(out, ignore_errors=True)
    command = [
        TIERSPAYANT,
        "issue-attestations",
        "--insurer",
        "70100001",
        "--year",
        "2026",
        "--out",
        str(out),
        "--json",
    ]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        command, env=env, text=True, capture_output=True, check=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the command and its worker processes (reaped by it): what the work
    # costs whatever else runs on the machine.
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    summary = json.loads(child.stdout)
    issued = summary["issued"]
    per_s = issued / wall if wall else 0.0
    result["issue"] = {
        **summary,
        "wall_seconds": round(wall, 1),
        "files_mb": round(sum(p.stat().st_size for p in out.iterdir()) / 2**20, 1),
        "seconds_for_100000": round(TARGET_ATTESTATIONS / per_s, 1) if per_s else None,
        "target_met": bool(per_s) and TARGET_ATTESTATIONS / per_s < TARGET_SECONDS,
        "cpu_seconds": round(cpu, 1),
        "cpu_ms_per_attestation": round(cpu / issued * 1000, 2) if issued else None,
        "cpu_seconds_for_100000": round(cpu / issued * TARGET_ATTESTATIONS, 1) if issued else None,
        "workers": args.workers if args.workers is not None else "default",
        "cpu_count": os.cpu_count(),
    }
    # The same people imported in version 2 into an empty register, beside version 1's first
    # import: what the extra columns (a third ciphertext, a second index) cost.
    fresh = bench_env(VAR / "bench.env", recreate_pg_database(DATABASE + "_v2"))
    prepare_register(fresh)
    result["import_v2_fresh"] = imported(v2, fresh)
    render = run([sys.executable, "-c", RENDER], env)
    cpu_ms = float(render.stdout.strip())
    result["render_cpu_ms_per_attestation"] = cpu_ms
    result["render_only_seconds_for_100000_per_core"] = round(cpu_ms * 100, 1)
    emit(result)


if __name__ == "__main__":
    main()
