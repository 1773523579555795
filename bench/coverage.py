"""Throughput of the coverage engine: act lines computed per second for a realistic mix.

Usage, from the project root:  .venv/bin/python bench/coverage.py [--seconds 3] [--seed 7]

Prints one JSON object: lines per second for ``compute()`` on ready ``ActLine`` objects
and for the JSON path (``line_from_dict`` + ``compute``), the mix, and machine facts
(cores, Python). Single process, single thread. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import pydantic  # noqa: E402

from tierspayant.coverage import (  # noqa: E402
    GuaranteeTable,
    History,
    compute,
    load_guarantee_table,
)
from tierspayant.coverage.acts import history_from_dict, line_from_dict  # noqa: E402

Invoice = list[dict[str, Any]]


def euros(rng: random.Random, low: float, high: float) -> str:
    return f"{rng.uniform(low, high):.2f}"


def consultation(rng: random.Random) -> Invoice:
    br = rng.choice(["30.00", "30.00", "30.00", "60.00"])
    extra = rng.choice([0, 0, 0, 20, 40])
    billed = f"{float(br) + extra:.2f}"
    return [
        {
            "family": "consultation",
            "code": rng.choice(["G", "G", "CS", "APC"]),
            "billed": billed,
            "br": br,
            "amo_rate": "70",
            "participation_forfaitaire": "2.00",
            "optam": rng.random() < 0.8,
        }
    ]


def pharmacy(rng: random.Random) -> Invoice:
    lines = []
    for index in range(rng.randint(1, 4)):
        price = euros(rng, 1.5, 40)
        rate = rng.choice(["65", "65", "30", "15", "100"])
        franchise = "1.00" if float(price) * int(rate) / 100 >= 1 else "0.00"
        code = f"34009300000{index:02d}"
        lines.append(
            {
                "family": "pharmacy",
                "code": code,
                "billed": price,
                "br": price,
                "amo_rate": rate,
                "franchise": franchise,
            }
        )
    return lines


def paramedical(rng: random.Random) -> Invoice:
    br = rng.choice(["16.13", "21.50", "25.92"])
    family, code = rng.choice(
        [("paramedical", "AMK"), ("paramedical", "AMI"), ("lab_test", "1104")]
    )
    return [
        {
            "family": family,
            "code": code,
            "billed": br,
            "br": br,
            "amo_rate": "60",
            "franchise": "1.00" if family == "paramedical" else "0.00",
            "participation_forfaitaire": "2.00" if family == "lab_test" else "0.00",
        }
    ]


def optical(rng: random.Random) -> Invoice:
    if rng.random() < 0.2:
        return [
            {
                "family": "optical_frame",
                "code": "2222124",
                "class": "A",
                "billed": "30.00",
                "br": "9.00",
                "amo_rate": "60",
            },
            *(
                {
                    "family": "optical_lens",
                    "class": "A",
                    "lens_complexity": "simple",
                    "side": side,
                    "billed": "32.50",
                    "br": "13.00",
                    "amo_rate": "60",
                    "price_limit": "32.50",
                }
                for side in ("right", "left")
            ),
        ]
    complexity = rng.choice(["simple", "simple", "complex", "very_complex"])
    return [
        {
            "family": "optical_frame",
            "code": "2264861",
            "class": "B",
            "billed": euros(rng, 60, 300),
            "br": "0.05",
            "amo_rate": "60",
        },
        *(
            {
                "family": "optical_lens",
                "class": "B",
                "lens_complexity": complexity,
                "side": side,
                "billed": euros(rng, 60, 450),
                "br": "0.05",
                "amo_rate": "60",
            }
            for side in ("right", "left")
        ),
    ]


def dental(rng: random.Random) -> Invoice:
    basket = rng.choice(["100_sante", "maitrise", "libre"])
    line = {
        "family": "dental_prosthesis",
        "code": "HBLD634",
        "class": basket,
        "br": "120.00",
        "amo_rate": "60",
        "billed": "500.00" if basket == "100_sante" else euros(rng, 450, 1000),
    }
    if basket != "libre":
        line["price_limit"] = "500.00" if basket == "100_sante" else "550.00"
    return [
        line,
        {
            "family": "dental_care",
            "code": "HBJD001",
            "billed": "43.38",
            "br": "43.38",
            "amo_rate": "60",
        },
    ]


def hearing(rng: random.Random) -> Invoice:
    cls = rng.choice(["I", "II", "II"])
    billed = "950.00" if cls == "I" else euros(rng, 1200, 2200)
    return [
        {
            "family": "hearing_aid",
            "class": cls,
            "side": side,
            "billed": billed,
            "br": "400.00",
            "amo_rate": "60",
        }
        for side in ("right", "left")
    ]


def hospital(rng: random.Random) -> Invoice:
    days = rng.randint(1, 8)
    return [
        {
            "family": "hospital_stay",
            "billed": euros(rng, 800, 3000),
            "br": "700.00",
            "amo_rate": "80",
        },
        {
            "family": "hospital_daily_fee",
            "code": "FJ",
            "billed": f"{20 * days:.2f}",
            "br": "0.00",
            "amo_rate": "0",
            "quantity": days,
        },
    ]


MIX = [  # (kind, share of invoices, generator)
    ("consultation", 0.38, consultation),
    ("pharmacy", 0.30, pharmacy),
    ("paramedical_lab", 0.12, paramedical),
    ("optical", 0.07, optical),
    ("dental", 0.06, dental),
    ("hospital", 0.05, hospital),
    ("hearing", 0.02, hearing),
]


def workload(rng: random.Random, tables: list[GuaranteeTable], size: int) -> list[dict[str, Any]]:
    kinds = [generator for _, _, generator in MIX]
    weights = [share for _, share, _ in MIX]
    history = history_from_dict(
        {
            "ceilings_used": {"dentaire-protheses-annuel": "400.00"},
            "previous_equipment": [
                {"family": "optical_lens", "side": "right", "date": "2022-06-01"}
            ],
        }
    )
    work = []
    for _ in range(size):
        lines = rng.choices(kinds, weights)[0](rng)
        work.append(
            {
                "json": lines,
                "lines": [line_from_dict(line) for line in lines],
                "table": rng.choice(tables),
                "age": rng.randint(18, 85),
                "care_date": dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 364)),
                "history": history if rng.random() < 0.3 else History(),
            }
        )
    return work


def measure(work: list[dict[str, Any]], seconds: float, *, from_json: bool) -> tuple[int, float]:
    lines = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for item in work:
            acts = [line_from_dict(line) for line in item["json"]] if from_json else item["lines"]
            compute(
                acts,
                table=item["table"],
                beneficiary_age=item["age"],
                care_date=item["care_date"],
                history=item["history"],
            )
            lines += len(acts)
    return lines, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measure (default 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--invoices", type=int, default=2000, help="distinct invoices generated")
    args = parser.parse_args()
    tables = [
        load_guarantee_table(p)
        for p in sorted((ROOT / "fixtures" / "guarantee-tables").glob("*.json"))
    ]
    work = workload(random.Random(args.seed), tables, args.invoices)
    compute_lines, compute_time = measure(work, args.seconds, from_json=False)
    json_lines, json_time = measure(work, args.seconds, from_json=True)
    print(
        json.dumps(
            {
                "benchmark": "coverage engine",
                "lines_per_second": round(compute_lines / compute_time),
                "lines_per_second_from_json": round(json_lines / json_time),
                "lines_per_invoice": round(sum(len(w["lines"]) for w in work) / len(work), 2),
                "invoices_generated": len(work),
                "seconds_per_measure": args.seconds,
                "mix": {kind: share for kind, share, _ in MIX},
                "tables": [t.id for t in tables],
                "machine": {
                    "cores": os.cpu_count(),
                    "python": platform.python_version(),
                    "implementation": platform.python_implementation(),
                    "machine": platform.machine(),
                    "system": platform.system(),
                    "pydantic": pydantic.VERSION,
                },
                "threads": 1,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
