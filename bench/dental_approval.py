"""Server time of a dental approval decision (issue 15 target: under 50 ms median).

Usage, from the project root:  .venv/bin/python bench/dental_approval.py [--runs 2000]

Times, per quote, what the approval service computes itself: checking the lines against the
dental CCAM table (code, basket, FDI tooth, fee cap, alternative), the coverage engine's
split under « Équilibre », and the decision. The rights check (guard, Redis, disclosure log)
and the database writes are not included (bench/rights_check.py measures the first). Prints
one JSON object with median, p95 and max in milliseconds, the mix and machine facts. Nothing
here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from bench._machine import machine_facts  # noqa: E402

from tierspayant.coverage import History, load_guarantee_table  # noqa: E402
from tierspayant.priorauth.adjudication import compute_lines  # noqa: E402
from tierspayant.priorauth.lpp import LineInput, parse_lines  # noqa: E402
from tierspayant.priorauth.services import decide  # noqa: E402

QUOTES = [
    [LineInput(code="HBLD634", billed="500.00", tooth="11")],
    [
        LineInput(code="HBLD090", billed="175.00", tooth="21"),
        LineInput(code="HBLD490", billed="60.00", tooth="21"),
        LineInput(code="HBLD634", billed="500.00", tooth="21"),
    ],
    [LineInput(code="HBLD491", billed="550.00", tooth="15")],
    [
        LineInput(code="HBLD734", billed="700.00", tooth="36"),
        LineInput(code="HBLD073", billed="480.00", tooth="46"),
    ],
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    table = load_guarantee_table(ROOT / "fixtures" / "guarantee-tables" / "equilibre.json")
    day = dt.date(2025, 3, 14)
    timings: list[float] = []
    for _ in range(args.runs):
        lines = rng.choice(QUOTES)
        start = time.perf_counter()
        parsed = parse_lines(lines, age=43, care_date=day)
        history = History()
        result = compute_lines(parsed, table=table, age=43, care_date=day, history=history)
        decide(result, history)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    print(
        json.dumps(
            {
                "what": "dental approval decision (lines check + engine + decision), no I/O",
                "runs": args.runs,
                "median_ms": round(statistics.median(timings), 3),
                "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 3),
                "max_ms": round(timings[-1], 3),
                "quotes": len(QUOTES),
                "machine": machine_facts(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
