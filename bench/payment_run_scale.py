"""A payment run at scale on PostgreSQL: seconds, peak memory, files validated.

Usage, from the project root (PostgreSQL at BENCH_PG_URL, default the local server):
    .venv/bin/python bench/payment_run_scale.py [--invoices 100000] [--professionals 2000]
        [--insurers 4] [--debtors 0.05] [--chunk 250] [--without-settlement]

1. Builds a fresh database ``tierspayant_bench_payment_run``: ``--insurers`` insurers (one
   contract and beneficiary each), ``--professionals`` pharmacists with a bank account in
   force, and ``--invoices`` accepted ``invoices.Invoice`` rows spread evenly over the
   professionals and insurers (20.00 euros of AMC each), inserted in bulk; a share
   ``--debtors`` of the professionals owe an overpayment of 30.00 euros to their first
   insurer (a cancelled paid invoice and its ledger entry), so the run nets them.
2. Runs ``settlement.services.run_with_settlement`` (what ``tierspayant payment-run`` does;
   ``--without-settlement``: ``payments.services.run_payments`` alone) in a separate
   process (its peak RSS is the run's alone): per insurer one pain.001.001.09 file validated
   against the XSD (xmlschema), per professional a PDF and a CSV statement, one ``paid``
   event and one transfer line per invoice, ``netted`` ledger entries and ``recovered``
   events; then per insurer the settlement export, notice and (half the insurers, debited)
   a pain.008 validated against its XSD.

Prints one JSON object: seconds of the run, invoices per second, peak RSS of the run's
process (MB), files written and validated, transfers; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "bench")]
WORK = ROOT / "var" / "bench" / "payment_run_scale"
DATABASE = "tierspayant_bench_payment_run"
NOW = datetime.datetime(2025, 3, 14, 9, 0, tzinfo=datetime.UTC)
BATCH = 10_000
#: Django's mark of a password that never matches (the bench never signs in).
UNUSABLE = "!"


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()


def _build(args: argparse.Namespace) -> None:
    """Fill the database (module docstring, step 1)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from tests.care.conftest import french_iban
    from tests.factories import ContractFactory, InsurerFactory, make_beneficiary

    from tierspayant.corrections.choices import LedgerEntryKind
    from tierspayant.corrections.models import LedgerEntry
    from tierspayant.crypto.fields import encrypt_field
    from tierspayant.invoices.choices import InvoiceStatus
    from tierspayant.invoices.models import Invoice
    from tierspayant.providers.banking import mask_iban
    from tierspayant.providers.choices import BankAccountStatus, Profession
    from tierspayant.providers.models import BankAccount, Professional

    keys = settings.TIERSPAYANT_KEYRING.encryption
    beneficiaries = [
        make_beneficiary(contract=ContractFactory(insurer=InsurerFactory(amc_number=f"8800000{n}")))
        for n in range(args.insurers)
    ]
    # Half the insurers are debited by the operator (a pain.008 each), the others pay from
    # the operator's account: the settlement writes both kinds of file.
    from tierspayant.settlement.services import set_funding

    for n, beneficiary in enumerate(beneficiaries[: (args.insurers + 1) // 2]):
        set_funding(
            keys,
            insurer=beneficiary.contract.insurer,
            mode="direct_debit",
            account_name=f"Mutuelle {n}",
            iban=french_iban("10278", "06076", f"{n:011d}"),
            bic="CMCIFR2A",
            mandate_id=f"MANDAT-{n}",
            mandate_date=NOW.date(),
            now=NOW,
        )
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"bench{n}", password=UNUSABLE) for n in range(args.professionals)],
        batch_size=BATCH,
    )
    professionals = Professional.objects.bulk_create(
        [
            Professional(
                user=user,
                profession=Profession.PHARMACIST,
                specialty_code="50",
                display_name=f"Pharmacie {n}",
                rpps=f"{10_000_000_000 + n}",
            )
            for n, user in enumerate(users)
        ],
        batch_size=BATCH,
    )
    accounts = []
    for n, professional in enumerate(professionals):
        iban = french_iban("30004", f"{n % 100_000:05d}", f"{n:011d}")
        account = BankAccount(
            professional=professional,
            holder_name=f"Pharmacie {n}",
            iban_masked=mask_iban(iban),
            bic="BNPAFRPP",
            status=BankAccountStatus.ACTIVE,
            created_at=NOW - datetime.timedelta(days=60),
            active_from=NOW - datetime.timedelta(days=60),
        )
        account.iban_ciphertext = encrypt_field(
            keys, iban, table=BankAccount.TABLE, column="iban", row_id=str(account.id)
        )
        accounts.append(account)
    BankAccount.objects.bulk_create(accounts, batch_size=BATCH)

    def row(n: int, professional: Professional, beneficiary: object, status: str) -> Invoice:
        return Invoice(
            professional=professional,
            beneficiary=beneficiary,
            insurer_id=beneficiary.contract.insurer_id,  # type: ignore[attr-defined]
            invoice_number=f"B-{n}",
            care_date=NOW.date(),
            insurance_nature="10",
            exemption="0",
            amo_regime="1",
            local_regime="",
            status=status,
            total_billed=Decimal("32.00"),
            total_amo=Decimal("12.00"),
            total_amc=Decimal("20.00"),
            total_rac=Decimal("0.00"),
            received_at=NOW - datetime.timedelta(days=1),
        )

    batch: list[Invoice] = []
    for n in range(args.invoices):
        professional = professionals[n % len(professionals)]
        beneficiary = beneficiaries[(n // len(professionals)) % len(beneficiaries)]
        batch.append(row(n, professional, beneficiary, InvoiceStatus.ACCEPTED))
        if len(batch) == BATCH:
            Invoice.objects.bulk_create(batch)
            batch = []
    Invoice.objects.bulk_create(batch)
    debtors = professionals[: int(len(professionals) * args.debtors)]
    cancelled = Invoice.objects.bulk_create(
        [
            row(args.invoices + n, professional, beneficiaries[0], InvoiceStatus.CANCELLED)
            for n, professional in enumerate(debtors)
        ],
        batch_size=BATCH,
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                professional_id=invoice.professional_id,
                insurer_id=invoice.insurer_id,
                invoice=invoice,
                kind=LedgerEntryKind.OVERPAYMENT,
                amount=Decimal("30.00"),
                reason="bench",
                at=NOW - datetime.timedelta(days=2),
            )
            for invoice in cancelled
        ],
        batch_size=BATCH,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _run(args: argparse.Namespace) -> dict[str, object]:
    """The run alone (module docstring, step 2), in this process."""
    from django.conf import settings
    from tests.care.conftest import french_iban

    from tierspayant.invoices.models import InvoiceEvent
    from tierspayant.payments.models import SepaFile, Statement
    from tierspayant.payments.sepa import Debtor
    from tierspayant.payments.services import run_payments
    from tierspayant.settlement.models import InsurerSettlement
    from tierspayant.settlement.services import run_with_settlement, settlement_config

    debtor = Debtor("Operateur", french_iban("20041", "01005", "0500013M026"), "PSSTFRPP")
    started = time.perf_counter()
    if args.without_settlement:
        result = run_payments(
            keys=settings.TIERSPAYANT_KEYRING.encryption,
            debtor=debtor,
            output_dir=WORK / "runs",
            now=NOW,
            execution_date=NOW.date(),
            chunk_size=args.chunk,
        )
    else:  # what `tierspayant payment-run` does: pay, then settle with each insurer
        result = run_with_settlement(
            config=settlement_config(settings),
            debtor=debtor,
            output_dir=WORK / "runs",
            now=NOW,
            execution_date=NOW.date(),
        )
    seconds = time.perf_counter() - started
    run = result.run
    files = SepaFile.objects.filter(run=run)
    settlements = InsurerSettlement.objects.filter(run=run)
    return {
        "with_settlement": not args.without_settlement,
        "settlements": settlements.count(),
        "settlement_lines": sum(
            s.paid_count + s.recovered_count + s.cancelled_count + s.rejected_count
            for s in settlements
        ),
        "direct_debit_files_validated": settlements.exclude(debit_name="").count(),
        "run_seconds": round(seconds, 1),
        "invoices_paid": run.claim_count,
        "invoices_per_second": round(run.claim_count / seconds),
        "transfers": run.transfer_count,
        "total_euros": str(run.total),
        "sepa_files_validated": files.count(),
        "largest_sepa_file_transfers": max(f.transaction_count for f in files),
        "statements": Statement.objects.filter(run=run).count(),
        "recovered_events": InvoiceEvent.objects.filter(kind="recovered").count(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--professionals", type=int, default=2_000)
    parser.add_argument("--insurers", type=int, default=4)
    parser.add_argument("--debtors", type=float, default=0.05)
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument(
        "--without-settlement",
        action="store_true",
        help="run_payments alone (default: the whole run with each insurer's settlement)",
    )
    parser.add_argument("--run-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from _machine import emit, machine_facts, pg_url_for, recreate_pg_database

    if args.run_only:
        _setup_django(pg_url_for(DATABASE))
        print(json.dumps(_run(args)))
        return
    import shutil

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    url = recreate_pg_database(DATABASE)
    _setup_django(url)
    started = time.perf_counter()
    _build(args)
    build_seconds = time.perf_counter() - started
    child = subprocess.run(  # noqa: S603 - this script, its own arguments
        [sys.executable, __file__, "--run-only", *sys.argv[1:]],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    emit(
        {
            "bench": "payment_run_scale",
            "database": "postgresql",
            "invoices": args.invoices,
            "professionals": args.professionals,
            "insurers": args.insurers,
            "debtors": int(args.professionals * args.debtors),
            "chunk_professionals": args.chunk,
            "build_seconds": round(build_seconds, 1),
            **figures,
            "machine": machine_facts(url),
        }
    )


if __name__ == "__main__":
    main()
