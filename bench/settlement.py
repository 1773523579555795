"""Time of writing the insurers' settlement of one payment run (export, notice, pain.008).

Usage, from the project root:
    .venv/bin/python bench/settlement.py [--invoices 100000] [--professionals 1000] [--insurers 4]

Builds a run as the payment run leaves it once it writes ``paid`` events (invoices inserted in
bulk, one transfer per professional and insurer, one pain.001 record per insurer, a ``paid``
event per invoice), half the insurers debited by the operator, then times
``settlement.services.write_settlement`` over it in one transaction. SQLite under
``var/bench/`` with the test settings' synthetic keys, rebuilt each run. Prints one JSON
object (seconds, lines per second, peak resident memory); nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "bench")]
WORK = ROOT / "var" / "bench" / "settlement"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--professionals", type=int, default=1000)
    parser.add_argument("--insurers", type=int, default=4)
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)

    from _machine import emit, machine_facts
    from tests.factories import InsurerFactory
    from tests.settlement.builders import cfg, fund, member, paid_professional

    from tierspayant.invoices.choices import InvoiceEventKind as K
    from tierspayant.invoices.lifecycle import EventDetail, new_event
    from tierspayant.invoices.models import Invoice, InvoiceEvent, InvoiceLine
    from tierspayant.payments.models import PaymentRun, SepaFile, Transfer
    from tierspayant.settlement.services import write_settlement

    now = datetime.datetime(2025, 3, 14, 9, 0, tzinfo=datetime.UTC)
    reference = "RUN-20250314-090000-BNCH"
    insurers = [InsurerFactory(amc_number=f"{85000000 + i}") for i in range(args.insurers)]
    for index, insurer in enumerate(insurers):
        fund(insurer, "direct_debit" if index % 2 == 0 else "own_account", f"{index + 1:011d}")
    members = [member(insurer) for insurer in insurers]
    professionals = [paid_professional(f"Pharmacie {i}") for i in range(args.professionals)]
    accounts = {p.pk: p.bank_accounts.get().pk for p in professionals}
    run = PaymentRun.objects.create(
        reference=reference,
        created_at=now,
        execution_date=now.date(),
        directory=str(WORK / reference),
        total=Decimal("0.00"),
    )
    amc = Decimal("12.34")
    invoices: list[Invoice] = []
    for index in range(args.invoices):
        professional = professionals[index % len(professionals)]
        beneficiary = members[(index // len(professionals)) % len(members)]
        invoices.append(
            Invoice(
                professional=professional,
                beneficiary=beneficiary,
                insurer_id=beneficiary.contract.insurer_id,
                invoice_number=f"B-{index}",
                care_date=now.date(),
                insurance_nature="10",
                exemption="0",
                amo_regime="1",
                local_regime="0",
                status="paid",
                total_billed=Decimal("30.00"),
                total_amo=Decimal("16.66"),
                total_amc=amc,
                total_rac=Decimal("1.00"),
                received_at=now - datetime.timedelta(days=3),
            )
        )
    Invoice.objects.bulk_create(invoices, batch_size=5000)
    invoices = list(Invoice.objects.order_by("id"))
    InvoiceLine.objects.bulk_create(
        (
            InvoiceLine(
                invoice=invoice,
                position=1,
                code_system="CIP13",
                code="3400936963504",
                family="pharmacy",
                quantity=1,
                unit_price=Decimal("30.00"),
                billed=Decimal("30.00"),
                br=Decimal("30.00"),
                amo_rate=Decimal("65.00"),
                amo_paid=Decimal("16.66"),
                participation_forfaitaire=Decimal("0.00"),
                franchise=Decimal("0.00"),
                amc=amc,
                rac=Decimal("1.00"),
            )
            for invoice in invoices
        ),
        batch_size=5000,
    )
    groups: dict[tuple[int, int], list[Invoice]] = {}
    for invoice in invoices:
        groups.setdefault((invoice.professional_id, invoice.insurer_id), []).append(invoice)  # type: ignore[arg-type]
    events: list[InvoiceEvent] = []
    per_insurer: dict[int, list[Decimal]] = {}
    for sequence, ((professional_id, insurer_id), group) in enumerate(groups.items(), start=1):
        total = amc * len(group)
        transfer = Transfer.objects.create(
            run=run,
            insurer_id=insurer_id,
            professional_id=professional_id,
            bank_account_id=accounts[professional_id],
            end_to_end_id=f"{reference}-{sequence}",
            amount=total,
        )
        per_insurer.setdefault(insurer_id, []).append(total)
        for invoice in group:
            events.append(new_event(invoice, K.ACCEPTED, at=invoice.received_at))
            events.append(
                new_event(
                    invoice,
                    K.PAID,
                    at=now,
                    detail=EventDetail(amount=amc, reference=transfer.end_to_end_id),
                )
            )
    InvoiceEvent.objects.bulk_create(events, batch_size=5000)
    for insurer in insurers:
        amounts = per_insurer.get(insurer.pk, [])
        SepaFile.objects.create(
            run=run,
            insurer=insurer,
            file_name=f"virements-{insurer.amc_number}.xml",
            sha256="0" * 64,
            message_id=f"{reference}-{insurer.amc_number}",
            transaction_count=len(amounts),
            control_sum=sum(amounts, Decimal("0.00")),
        )
    staging = WORK / "staging"
    staging.mkdir()
    started = time.perf_counter()
    with transaction.atomic():
        write_settlement(run, staging, config=cfg())
    seconds = time.perf_counter() - started
    emit(
        {
            "bench": "settlement",
            "database": "sqlite",
            "paid_lines": args.invoices,
            "professionals": args.professionals,
            "insurers": args.insurers,
            "transfers": len(groups),
            "write_settlement_seconds": round(seconds, 2),
            "lines_per_second": round(args.invoices / seconds, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "export_bytes": sum(p.stat().st_size for p in staging.glob("reglement-*.csv")),
            "machine": machine_facts(),
        }
    )


if __name__ == "__main__":
    main()
