"""Benchmark: lots of invoices on PostgreSQL, every control on.

    .venv/bin/python bench/invoice_lots.py [--ack-invoices 10000] [--adjudicate-lines 8000]
        [--memory-lines 100000,300000] [--adjudicate-memory-lines 8000,40000]

A database ``tierspayant_bench_lots`` (``$BENCH_LOTS_DATABASE``) is made afresh: migrated,
the public nomenclatures loaded, 2,000 synthetic beneficiaries (« essentiel » contract) and
a pharmacist (specialty 50). Each phase runs in a child process (its own peak RSS):

1. ``ack``: ``receive_lot`` of a flat-file lot of ``--ack-invoices`` invoices (4 CIP13
   lines each): seconds to acknowledge (parse, count and total checks, identities
   encrypted, stored).
2. ``adjudicate``: a lot of ``--adjudicate-lines`` lines received then adjudicated by
   ``adjudicate_lot`` (chunks of 500): lines/s with every control on: identification of each
   invoice through ``check_rights`` (guard counters on Redis db ``$BENCH_REDIS_DB``, default
   1, detectors, one disclosure-log row per invoice), duplicate register, nomenclature
   checks, coverage engine, storage. The guard's quotas and floors are raised for the
   pharmacist and findings only alert (else the detectors rightly stop a professional doing
   thousands of checks a minute); every control still runs.
3. memory: peak RSS of receiving lots of growing size (``--memory-lines``) and of receiving
   and adjudicating lots of growing size (``--adjudicate-memory-lines``): flat when parsing
   streams and adjudication works in chunks.

Prints one JSON object (figures and ``machine``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _machine import (
    TIERSPAYANT,
    VAR,
    bench_env,
    emit,
    machine_facts,
    pg_url_for,
    recreate_pg_database,
    run,
)

DATABASE = os.environ.get("BENCH_LOTS_DATABASE", "tierspayant_bench_lots")
PATIENTS = 2000
LINES_PER_INVOICE = 4
RAISED = 1_000_000_000


def _child(env: dict[str, str], *args: str) -> dict[str, object]:
    done = run([sys.executable, __file__, "--child", *args], env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ack-invoices", type=int, default=10_000)
    parser.add_argument("--adjudicate-lines", type=int, default=8_000)
    parser.add_argument("--memory-lines", default="100000,300000")
    parser.add_argument("--adjudicate-memory-lines", default="8000,40000")
    parser.add_argument("--child", nargs="*")
    options = parser.parse_args()
    if options.child is not None:
        child(options.child)
        return
    VAR.mkdir(parents=True, exist_ok=True)
    url = recreate_pg_database(DATABASE)
    redis_db = os.environ.get("BENCH_REDIS_DB", "1")
    env = bench_env(
        VAR / "lots.env",
        url,
        REDIS_URL=f"redis://127.0.0.1:6379/{redis_db}",
        TIERSPAYANT_CELERY_EAGER="1",
        TIERSPAYANT_RIGHTS_CHECK_DAILY_QUOTA=str(RAISED),
    )
    run([TIERSPAYANT, "migrate", "--no-input", "-v", "0"], env)
    setup = _child(env, "setup")
    ack = _child(env, "lot", str(options.ack_invoices), "ack")
    lines = options.adjudicate_lines
    adjudication = _child(env, "lot", str(lines // LINES_PER_INVOICE), "adjudicate")
    memory_ack = [
        _child(env, "lot", str(int(n) // LINES_PER_INVOICE), "ack")
        for n in options.memory_lines.split(",")
        if n
    ]
    memory_adjudicate = [
        _child(env, "lot", str(int(n) // LINES_PER_INVOICE), "adjudicate")
        for n in options.adjudicate_memory_lines.split(",")
        if n
    ]
    emit(
        {
            "benchmark": "invoice_lots",
            "setup": setup,
            "ack_10k": ack,
            "ack_seconds": ack["ack_s"],
            "ack_target_seconds": 2,
            "adjudication": adjudication,
            "lines_per_second": adjudication["lines_per_s"],
            "lines_per_second_target": 1000,
            "peak_rss_ack_by_lines": {str(m["lines"]): m["peak_rss_mb"] for m in memory_ack},
            "peak_rss_adjudicate_by_lines": {
                str(m["lines"]): m["peak_rss_mb"] for m in memory_adjudicate
            },
            "machine": machine_facts(pg_url_for(DATABASE)),
        }
    )


# --- child processes (Django set up with the bench environment) --------------------------


def _policy():  # type: ignore[no-untyped-def]
    import dataclasses

    from tierspayant.guard.policy import (
        DEFAULT_POLICY,
        Action,
        ProfessionFloors,
        ProfessionQuota,
        Severity,
    )

    return dataclasses.replace(
        DEFAULT_POLICY,
        quotas={
            **DEFAULT_POLICY.quotas,
            "pharmacist": ProfessionQuota(RAISED, RAISED, RAISED, RAISED),
        },
        floors={
            **DEFAULT_POLICY.floors,
            "pharmacist": ProfessionFloors(RAISED, RAISED, RAISED, True),
        },
        actions={severity: Action.ALERT for severity in Severity},
    )


def _setup() -> dict[str, object]:
    import datetime as dt
    import random
    import time

    from django.conf import settings
    from django.utils import timezone
    from faker import Faker

    from tierspayant.invoices.services import load_nomenclatures
    from tierspayant.providers.choices import Profession
    from tierspayant.providers.services import create_professional
    from tierspayant.providers.synthetic import synthetic_rpps
    from tierspayant.registry.choices import ContractType, Domain
    from tierspayant.registry.models import Beneficiary
    from tierspayant.registry.services import build_beneficiary, create_contract, create_insurer
    from tierspayant.registry.synthetic import synthetic_family

    started = time.perf_counter()
    load_nomenclatures(settings.TIERSPAYANT_NOMENCLATURES_DIR, now=timezone.now())
    rng, faker = random.Random(14), Faker("fr_FR")
    faker.seed_instance(14)
    insurer = create_insurer(amc_number="99140001", name="Mutuelle du banc d'essai")
    contract = create_contract(
        insurer=insurer, number="BENCH-1", contract_type=ContractType.INDIVIDUAL,
        responsible=True, valid_from=dt.date(2020, 1, 1), valid_to=None,
        domains=[Domain.PHARMACY], guarantee_table="essentiel",
    )  # fmt: skip
    patients, rows = [], []
    while len(rows) < PATIENTS:
        for person in synthetic_family(rng, faker, as_of=dt.date(2025, 1, 1)):
            rows.append(
                build_beneficiary(
                    settings.TIERSPAYANT_KEYRING,
                    contract=contract,
                    nir=person.nir,
                    rang=person.rang,
                    birth_date=person.birth_date,
                    last_name=person.last_name,
                    first_name=person.first_name,
                    quality=person.quality,
                    rights_start=dt.date(2020, 1, 1),
                    rights_end=None,
                )
            )
            patients.append(
                {
                    "nir": person.nir,
                    "birth_date": person.birth_date.isoformat(),
                    "rang": person.rang,
                    "amc_number": None,
                }
            )
    Beneficiary.objects.bulk_create(rows)
    create_professional(
        username="pharmacie.bench", password="bench-password-not-used-42",  # noqa: S106 - synthetic
        profession=Profession.PHARMACIST, display_name="Pharmacie du banc d'essai",
        rpps=synthetic_rpps(rng), specialty_code="50",
    )  # fmt: skip
    (VAR / "lots-patients.json").write_text(json.dumps(patients))
    return {"beneficiaries": len(rows), "seconds": round(time.perf_counter() - started, 1)}


_LINE = {
    "code_system": "CIP13", "quantity": 1, "participation_forfaitaire": "0.00",
    "coefficient": None, "sante_class": None, "price_limit": None,
}  # fmt: skip
_BOXES = [
    ("3400936963504", "12.81", "65", "7.33", "1.00"),
    ("3400933783310", "3.17", "30", "0.95", "0.00"),
    ("3400935510259", "7.82", "15", "1.17", "0.00"),
    ("3400936963504", "12.81", "65", "7.33", "1.00"),
]


def _write_lot(path: Path, invoices: int, run_id: str) -> None:
    """A flat-file lot of ``invoices`` invoices of 4 lines, written line by line."""
    import datetime as dt
    from decimal import Decimal

    from tierspayant.providers.identifiers import luhn_complete

    patients = json.loads((VAR / "lots-patients.json").read_text())
    lines = [
        {
            **_LINE,
            "code": c,
            "unit_price": u,
            "billed": u,
            "br": u,
            "amo_rate": r,
            "amo_paid": a,
            "franchise": f,
        }
        for c, u, r, a, f in _BOXES
    ]
    billed = sum(Decimal(line["billed"]) for line in lines)
    amo = sum(Decimal(line["amo_paid"]) for line in lines)
    prescriber = luhn_complete("1000123456")
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"lot": run_id, "count": invoices,
                              "total_billed": str(billed * invoices)}) + "\n")  # fmt: skip
        for n in range(invoices):
            care = dt.date(2025, 3, 14) - dt.timedelta(days=n // len(patients))
            out.write(json.dumps({
                "invoice_number": f"{run_id}-{n:07d}", "care_date": care.isoformat(),
                "insurance_nature": "10", "exemption": "0", "amo_regime": "1",
                "local_regime": "0", "prescriber_rpps": prescriber,
                "prescription_date": (care - dt.timedelta(days=2)).isoformat(),
                "total_billed": str(billed), "total_amo": str(amo), "lines": lines,
                "patient": patients[n % len(patients)],
            }) + "\n")  # fmt: skip


def _lot(invoices: int, mode: str) -> dict[str, object]:
    import dataclasses
    import resource
    import time
    import uuid

    from django.conf import settings
    from django.utils import timezone

    from tierspayant.audit.choices import Channel
    from tierspayant.invoices.choices import LotFormat
    from tierspayant.invoices.lots import LotConfig, adjudicate_lot, receive_lot
    from tierspayant.invoices.models import BilledInvoice
    from tierspayant.providers.models import Professional

    # Each phase bills the same patients, dates and boxes: start from an empty duplicate
    # register so no phase is measured on duplicates of an earlier one.
    BilledInvoice.objects.all().delete()
    run_id = f"B{uuid.uuid4().hex[:8]}"
    path = VAR / f"lot-{invoices}.jsonl"
    _write_lot(path, invoices, run_id)
    config = dataclasses.replace(LotConfig.from_settings(settings), policy=_policy())
    professional = Professional.objects.get(user__username="pharmacie.bench")
    started = time.perf_counter()
    with path.open("rb") as stream:
        lot = receive_lot(config, professional=professional, lot_format=LotFormat.JSONL,
                          stream=stream, channel=Channel.API, now=timezone.now())  # fmt: skip
    ack = time.perf_counter() - started
    result: dict[str, object] = {
        "invoices": invoices, "lines": invoices * LINES_PER_INVOICE, "ack_s": round(ack, 3),
        "file_mb": round(path.stat().st_size / 2**20, 1),
    }  # fmt: skip
    if mode == "adjudicate":
        started = time.perf_counter()
        done = adjudicate_lot(config, lot.pk, clock=timezone.now)
        seconds = time.perf_counter() - started
        result.update(
            adjudication_s=round(seconds, 2),
            lines_per_s=round(invoices * LINES_PER_INVOICE / seconds),
            accepted=done.accepted_count,
            rejected=done.rejected_count,
            total_amc=str(done.total_amc),
        )
    path.unlink()
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def child(args: list[str]) -> None:
    import django

    django.setup()
    if args[0] == "setup":
        print(json.dumps(_setup()))
    else:
        print(json.dumps(_lot(int(args[1]), args[2])))


if __name__ == "__main__":
    main()
