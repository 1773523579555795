"""Claims adjudicated per second, and the time of a payment run of 100,000 claims.

Usage, from the project root:
    .venv/bin/python bench/payments.py [--adjudicate 300] [--claims 100000] [--professionals 500]

1. ``submit_claim`` end to end (rights check through the guard and the disclosure log, LPP
   checks, coverage engine, commitments, duplicate detection), one claim per professional so
   no quota is reached: claims per second.
2. ``run_payments`` over ``--claims`` accepted invoices (the claims adjudicated above through
   their invoice mirror, and invoices inserted in bulk, spread over ``--professionals``
   opticians and two insurers): seconds for the whole run (SEPA files validated against the
   XSD, PDF and CSV statements, invoices marked paid). At scale on PostgreSQL:
   ``bench/payment_run_scale.py``.

SQLite under ``var/bench/`` with the test settings' synthetic keys, rebuilt each run.
Prints one JSON object; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "bench")]
WORK = ROOT / "var" / "bench" / "payments"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--adjudicate", type=int, default=300)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--professionals", type=int, default=500)
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
    from tests.care.conftest import GLASSES, context, french_iban, make_patient
    from tests.factories import make_professional

    from tierspayant.claims.services import submit_claim
    from tierspayant.invoices.choices import InvoiceStatus
    from tierspayant.invoices.models import Invoice
    from tierspayant.payments.sepa import Debtor
    from tierspayant.payments.services import run_payments
    from tierspayant.priorauth.config import CareConfig
    from tierspayant.providers.banking import register_first_bank_account

    config = CareConfig.from_settings(settings)
    now = datetime.datetime(2025, 3, 14, 9, 0, tzinfo=datetime.UTC)
    today = now.date()
    pairs = [(make_professional(with_totp=False), make_patient()) for _ in range(args.adjudicate)]
    started = time.perf_counter()
    for index, (professional, patient) in enumerate(pairs):
        submit_claim(
            config,
            professional=professional,
            identity=patient.identity,
            invoice_number=f"B-{index}",
            care_date=today,
            lines=GLASSES,
            context=context(),
            now=now,
            today=today,
        )
    adjudication = time.perf_counter() - started

    professionals = [p for p, _ in pairs[: args.professionals]]
    while len(professionals) < args.professionals:
        professionals.append(make_professional(with_totp=False))
    for index, professional in enumerate(professionals):
        register_first_bank_account(
            settings.TIERSPAYANT_KEYRING.encryption,
            professional=professional,
            iban=french_iban("30004", f"{index:05d}", f"{index:011d}"),
            bic="BNPAFRPP",
            holder_name=f"Optique {index}",
            now=now - datetime.timedelta(days=30),
        )
    beneficiaries = [p.beneficiary for _, p in pairs[:2]]
    to_add = args.claims - Invoice.objects.filter(status=InvoiceStatus.ACCEPTED).count()
    batch: list[Invoice] = []
    for index in range(max(to_add, 0)):
        beneficiary = beneficiaries[index % len(beneficiaries)]
        batch.append(
            Invoice(
                professional=professionals[index % len(professionals)],
                invoice_number=f"BULK-{index}",
                beneficiary=beneficiary,
                insurer=beneficiary.contract.insurer,
                care_date=today,
                insurance_nature="",
                exemption="",
                amo_regime="",
                local_regime="",
                status=InvoiceStatus.ACCEPTED,
                total_billed=Decimal("390.00"),
                total_amo=Decimal("0.09"),
                total_amc=Decimal("200.00"),
                total_rac=Decimal("189.91"),
                received_at=now,
            )
        )
        if len(batch) == 5000:
            Invoice.objects.bulk_create(batch)
            batch = []
    Invoice.objects.bulk_create(batch)
    count = Invoice.objects.filter(status=InvoiceStatus.ACCEPTED).count()
    started = time.perf_counter()
    result = run_payments(
        keys=settings.TIERSPAYANT_KEYRING.encryption,
        debtor=Debtor("Operateur", french_iban("20041", "01005", "0500013M026"), "PSSTFRPP"),
        output_dir=WORK / "runs",
        now=now,
        execution_date=today,
    )
    run_seconds = time.perf_counter() - started
    emit(
        {
            "bench": "payments",
            "database": "sqlite",
            "claims_adjudicated": args.adjudicate,
            "claims_adjudicated_per_second": round(args.adjudicate / adjudication, 1),
            "payment_run_claims": count,
            "payment_run_professionals": len(professionals),
            "payment_run_transfers": result.run.transfer_count,
            "payment_run_seconds": round(run_seconds, 2),
            "payment_run_claims_per_second": round(count / run_seconds, 1),
            "machine": machine_facts(),
        }
    )


if __name__ == "__main__":
    main()
