"""Reading a large camt.054 of returned transfers: schema validation and extraction time,
and peak Python memory.

Usage, from the project root:
    .venv/bin/python bench/bank_returns.py [--returns 10000] [--repeat 3]

Builds a camt.054.001.08 notification with ``--returns`` returned transfers (the tests'
builder, ``tests/care/bank_files.py``), then times ``payments.bank_returns.parse_bank_returns``
(safe parse, validation against the official XSD, reading every return): the best of
``--repeat`` runs, and the peak memory of one (tracemalloc). The database is not touched
(the import's writes are one row per returned transfer and one update per transfer's claims).
Prints one JSON object; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "bench")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--returns", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from _machine import emit, machine_facts
    from tests.care.bank_files import camt054

    from tierspayant.payments.bank_returns import parse_bank_returns

    data = camt054(
        (f"RUN-20250314-093000-A1B2-{n}", Decimal("123.45"), "AC04")
        for n in range(1, args.returns + 1)
    )
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        parsed = parse_bank_returns(data, name="bench.xml")
        timings.append(time.perf_counter() - started)
    assert len(parsed.items) == args.returns
    tracemalloc.start()
    parse_bank_returns(data, name="bench.xml")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    emit(
        {
            "returns": args.returns,
            "file_mb": round(len(data) / 2**20, 2),
            "parse_and_validate_seconds_best": round(min(timings), 3),
            "returns_per_second": round(args.returns / min(timings)),
            "peak_python_memory_mb": round(peak / 2**20, 1),
            "machine": machine_facts(),
        }
    )


if __name__ == "__main__":
    main()
