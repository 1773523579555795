"""A practice's poll of 10,000 return lines (issue 16 target: under 1 second).

Usage, from the project root:
    .venv/bin/python bench/returns_poll.py [--lines 10000] [--others 20000] [--repeat 5]
                                           [--backend both|sqlite|postgresql]

Builds one pharmacist with ``--lines`` return lines (half as many invoices, each accepted
then paid: its received event is not a return line, so the pharmacist has 1.5 × ``--lines``
events) and ``--others`` invoices of 20 other professionals (their events are in the same
table and index), inserted in bulk. Then times, best of ``--repeat``:

- the selector alone (``returns.selectors.return_lines``, one query) for every line at once;
- ``GET /api/v1/returns?_since=0&_count=10000`` through Django's test client (token auth,
  JSON rendering): the whole poll as practice software makes it;
- the same poll as CSV, and in pages of 1,000 following ``next_cursor``;
- ``GET /fhir/r4/ClaimResponse?_cursor=0&_count=1000``, FHIR's largest page (every
  resource validated with fhir.resources; no target, reported for scale).

SQLite under ``var/bench/returns``; PostgreSQL in the database ``tierspayant_bench_returns``
on ``BENCH_PG_URL`` when reachable. Prints one JSON object; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "bench")]
WORK = ROOT / "var" / "bench" / "returns"
PG_DATABASE = "tierspayant_bench_returns"


def _best(repeat: int, call: Callable[[], Any]) -> tuple[float, Any]:
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        timings.append(time.perf_counter() - started)
    return round(min(timings), 4), result


def _build(lines: int, others: int) -> Any:
    """The pharmacist (with ``lines`` return lines) and the other professionals' invoices."""
    import datetime as dt
    from decimal import Decimal

    from tests.factories import make_beneficiary, make_professional

    from tierspayant.invoices import lifecycle
    from tierspayant.invoices.choices import InvoiceEventKind as K
    from tierspayant.invoices.choices import InvoiceStatus
    from tierspayant.invoices.models import Invoice, InvoiceEvent
    from tierspayant.providers.choices import Profession

    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    patient = make_beneficiary()
    pharmacist = make_professional(profession=Profession.PHARMACIST, with_totp=False)
    crowd = [
        make_professional(profession=Profession.PHARMACIST, with_totp=False) for _ in range(20)
    ]

    def invoices_of(professional: Any, count: int, prefix: str) -> list[Invoice]:
        rows = [
            Invoice(
                professional=professional,
                beneficiary=patient,
                insurer=patient.contract.insurer,
                invoice_number=f"{prefix}-{n:07}",
                care_date=dt.date(2026, 2, 27),
                insurance_nature="10",
                exemption="0",
                amo_regime="01",
                local_regime="",
                status=InvoiceStatus.ACCEPTED,
                total_billed=Decimal("20.00"),
                total_amo=Decimal("12.00"),
                total_amc=Decimal("6.00"),
                total_rac=Decimal("2.00"),
                received_at=now,
            )
            for n in range(count)
        ]
        return Invoice.objects.bulk_create(rows, batch_size=2000)

    def paid_events(invoices: list[Invoice], run: str) -> None:
        events = []
        for n, invoice in enumerate(invoices):
            events += lifecycle.adjudication_events(invoice, received_at=now, acknowledged_at=None)
            detail = lifecycle.EventDetail(
                amount=Decimal("6.00"),
                reference=f"{run}-{n // 50}",  # 50 invoices per transfer
                value_date=dt.date(2026, 3, 6),
            )
            events.append(lifecycle.new_event(invoice, K.PAID, at=now, detail=detail))
        InvoiceEvent.objects.bulk_create(events, batch_size=5000)
        Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(status=InvoiceStatus.PAID)

    per_other = max(others // len(crowd), 1)
    # Interleave: the pharmacist's events are spread among the others', as in production.
    chunks = 10
    for chunk in range(chunks):
        mine = invoices_of(pharmacist, lines // 2 // chunks, f"PH{chunk}")
        paid_events(mine, f"RUN-{chunk}")
        for index, other in enumerate(crowd):
            theirs = invoices_of(other, per_other // chunks, f"O{index}-{chunk}")
            paid_events(theirs, f"RUN-O{index}-{chunk}")
    return pharmacist


def _measure(args: argparse.Namespace, backend: str) -> dict[str, Any]:
    from django.test import Client
    from django.utils import timezone

    from tierspayant.invoices.models import InvoiceEvent
    from tierspayant.providers.choices import Scope
    from tierspayant.providers.services import issue_api_token
    from tierspayant.returns.selectors import return_lines

    started = time.perf_counter()
    pharmacist = _build(args.lines, args.others)
    build_seconds = round(time.perf_counter() - started, 1)
    secret = issue_api_token(
        professional=pharmacist,
        name="bench",
        scopes=[Scope.CLAIMS_SUBMIT],
        now=timezone.now(),
        valid_days=1,
    ).secret
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    count = args.lines

    selector_s, lines = _best(args.repeat, lambda: return_lines(pharmacist, since=0, count=count))
    assert len(lines) == count, len(lines)

    def poll_json() -> Any:
        response = client.get(f"/api/v1/returns?_since=0&_count={count}")
        assert response.status_code == 200, response.content[:300]
        return response

    json_s, response = _best(args.repeat, poll_json)
    body = json.loads(response.content)
    assert len(body["lines"]) == count
    assert body["more"] is True

    def poll_csv() -> Any:
        return client.get(f"/api/v1/returns.csv?_since=0&_count={count}")

    csv_s, csv_response = _best(args.repeat, poll_csv)
    assert csv_response.content.count(b"\n") == count + 1

    def poll_pages() -> int:
        cursor, seen = 0, 0
        while seen < count:
            page = json.loads(client.get(f"/api/v1/returns?_since={cursor}&_count=1000").content)
            seen += len(page["lines"])
            cursor = page["next_cursor"]
        return seen

    pages_s, _ = _best(args.repeat, poll_pages)

    def poll_fhir() -> Any:
        response = client.get("/fhir/r4/ClaimResponse?_cursor=0&_count=1000")
        assert response.status_code == 200, response.content[:300]
        return response

    fhir_s, fhir_response = _best(max(args.repeat // 2, 1), poll_fhir)
    return {
        "backend": backend,
        "return_lines": count,
        "events_in_table": InvoiceEvent.objects.count(),
        "build_seconds": build_seconds,
        "selector_seconds_best": selector_s,
        "json_poll_seconds_best": json_s,
        "json_poll_mb": round(len(response.content) / 2**20, 2),
        "csv_poll_seconds_best": csv_s,
        "json_pages_of_1000_seconds_best": pages_s,
        "fhir_page_of_1000_seconds_best": fhir_s,
        "fhir_page_of_1000_mb": round(len(fhir_response.content) / 2**20, 2),
    }


def _child(args: argparse.Namespace) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(json.dumps(_measure(args, args.backend)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--others", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", default="both", choices=["both", "sqlite", "postgresql"])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    from _machine import emit, machine_facts, recreate_pg_database

    results: list[dict[str, Any]] = []
    pg_url = None
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        env = dict(os.environ)
        if backend == "sqlite":
            shutil.rmtree(WORK, ignore_errors=True)
            WORK.mkdir(parents=True)
            env["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
        else:
            try:
                pg_url = env["DATABASE_URL"] = recreate_pg_database(PG_DATABASE)
            except Exception as exc:  # an unreachable server: say so, go on
                results.append({"backend": backend, "skipped": f"PostgreSQL unreachable: {exc}"})
                continue
        command = [sys.executable, __file__, "--child", "--backend", backend]
        command += ["--lines", str(args.lines), "--others", str(args.others)]
        command += ["--repeat", str(args.repeat)]
        out = subprocess.run(  # noqa: S603 - this script, our own arguments
            command,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    emit({"target_seconds": 1.0, "results": results, "machine": machine_facts(pg_url)})


if __name__ == "__main__":
    main()
