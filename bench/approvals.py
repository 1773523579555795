"""Server time of one prior-approval decision (``request_prior_approval`` end to end:
rights check through the guard and the disclosure log, LPP catalogue lookups, prescription
checks, coverage engine, commitments, rows written), median and p95, with the LPP list
loaded in the database (table NT_LPP, 19,717 codes) as in production.

Usage, from the project root:
    .venv/bin/python bench/approvals.py [--count 300]

Quotes alternate class A glasses for an adult (with a prescription), mixed A/B glasses and
class I hearing aids for a 17-year-old; one quote per professional and patient so no quota
or renewal period is reached; then the same decisions without the rights check and the
writes (prescription, catalogue, engine), and ``search_catalogue`` for four searches of the
picker. The first call (catalogue built from the loaded list) is
reported apart as ``first_call_ms``. SQLite under ``var/bench/`` with the test settings'
synthetic keys, rebuilt each run. Prints one JSON object; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "bench")]
WORK = ROOT / "var" / "bench" / "approvals"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA"] = "1000000000"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from _machine import emit, machine_facts
    from tests.care.conftest import context, make_patient
    from tests.factories import make_professional

    from tierspayant.invoices.services import load_nomenclatures
    from tierspayant.priorauth.config import CareConfig
    from tierspayant.priorauth.lpp import LineInput
    from tierspayant.priorauth.services import request_prior_approval

    now = datetime.datetime(2025, 3, 14, 9, 0, tzinfo=datetime.UTC)
    today = now.date()
    load_nomenclatures(
        Path(settings.TIERSPAYANT_NOMENCLATURES_DIR), now=now, names=frozenset({"NT_LPP"})
    )
    config = CareConfig.from_settings(settings)
    eye = {"sphere": "+2.00", "cylinder": "0.50", "axis": "90"}
    rx = {
        "prescriber_rpps": "10000000009",
        "prescribed_on": "2025-03-01",
        "right": eye,
        "left": eye,
    }
    quotes = [
        (
            [
                LineInput(code="2222124", billed="30.00"),
                LineInput(code="2254584", billed="60.00", side="right"),
                LineInput(code="2254584", billed="60.00", side="left"),
            ],
            rx,
            datetime.date(1980, 5, 4),
        ),
        (
            [
                LineInput(code="2222124", billed="30.00"),
                LineInput(code="2208756", billed="120.00", side="right"),
                LineInput(code="2208756", billed="120.00", side="left"),
            ],
            {  # a prescription is required for glasses (issue 15 "Bad input")
                "prescriber_rpps": "10000000009",
                "prescribed_on": "2025-03-01",
                "right": {"sphere": "-1.00", "cylinder": "0.50", "axis": "90"},
                "left": {"sphere": "-1.00", "cylinder": "0.50", "axis": "90"},
            },
            datetime.date(1975, 2, 1),
        ),
        (
            [
                LineInput(code="2325120", billed="1400.00"),
                LineInput(code="2337749", billed="1400.00"),
            ],
            {
                "prescriber_rpps": "10000000009",
                "prescribed_on": "2025-03-01",
                "audiogram_on": "2025-02-27",
            },
            datetime.date(2007, 9, 1),
        ),
    ]
    cases = []
    for index in range(args.count + 1):
        lines, prescription, born = quotes[index % len(quotes)]
        cases.append(
            (make_professional(with_totp=False), make_patient(born=born), lines, prescription)
        )
    timings = []
    for professional, patient, lines, prescription in cases:
        started = time.perf_counter()
        request_prior_approval(
            config,
            professional=professional,
            identity=patient.identity,
            planned_date=today,
            lines=lines,
            context=context(),
            now=now,
            today=today,
            prescription=prescription,
        )
        timings.append((time.perf_counter() - started) * 1000)
    first, rest = timings[0], sorted(timings[1:])
    # The decision's own part: prescription, catalogue lookups, engine (no rights check,
    # no writes), on the same quotes.
    from tierspayant.coverage import History
    from tierspayant.priorauth.adjudication import compute_lines, guarantee_table
    from tierspayant.priorauth.lpp import parse_lines
    from tierspayant.priorauth.prescription import parse_prescription

    table = guarantee_table(cases[0][1].beneficiary.contract, config.tables_dir)
    compute_ms = []
    for index in range(args.count):
        lines, prescription, born = quotes[index % len(quotes)]
        age = 17 if born.year == 2007 else 44
        started = time.perf_counter()
        checked = parse_prescription(
            prescription, care_date=today, glasses=age > 17, hearing=age == 17
        )
        parsed = parse_lines(lines, age=age, care_date=today, prescription=checked)
        compute_lines(parsed, table=table, age=age, care_date=today, history=History())
        compute_ms.append((time.perf_counter() - started) * 1000)
    from tierspayant.priorauth.selectors import search_catalogue

    search_ms = []
    for words in ("verre unifocal classe a", "monture enfant", "aide auditive classe ii", "2229"):
        for _ in range(10):
            started = time.perf_counter()
            search_catalogue(words, care_date=today, limit=20)
            search_ms.append((time.perf_counter() - started) * 1000)
    emit(
        {
            "bench": "approvals",
            "database": "sqlite",
            "decisions": len(rest),
            "first_call_ms": round(first, 1),
            "decision_median_ms": round(statistics.median(rest), 2),
            "decision_p95_ms": round(rest[int(len(rest) * 0.95) - 1], 2),
            "catalogue_and_engine_median_ms": round(statistics.median(compute_ms), 3),
            "search_catalogue_median_ms": round(statistics.median(search_ms), 2),
            "machine": machine_facts(),
        }
    )


if __name__ == "__main__":
    main()
