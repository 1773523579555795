"""``tierspayant payment-run [--output DIR] [--execution-date YYYY-MM-DD]``: pay every
accepted invoice once, net of overpayments (SEPA pain.001.001.09 per insurer, statements
per professional) and settle with each insurer in the same run (export, notice, pain.008 for
direct-debit insurers): ``settlement.services.run_with_settlement``; docs/money.md."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from tierspayant.payments.sepa import Debtor, SepaFileInvalid
from tierspayant.payments.services import ConcurrentRun, NothingToPay
from tierspayant.settlement.services import (
    SettlementMismatch,
    run_with_settlement,
    settlement_config,
)


class Command(BaseCommand):
    help = (
        "Pay accepted invoices (lots and claims), net of overpayments: SEPA files per "
        "insurer, statements per professional; then write each insurer's settlement."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", default=None, help="output directory (default: settings)")
        parser.add_argument(
            "--execution-date", default=None, help="requested execution date (default: today)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"] or settings.TIERSPAYANT_PAYMENTS_DIR)
        raw = options["execution_date"]
        try:
            execution = datetime.date.fromisoformat(raw) if raw else timezone.localdate()
        except ValueError:
            raise CommandError("--execution-date: expected YYYY-MM-DD") from None
        try:
            result = run_with_settlement(
                config=settlement_config(settings),
                debtor=Debtor(
                    name=settings.TIERSPAYANT_SEPA_DEBTOR_NAME,
                    iban=settings.TIERSPAYANT_SEPA_DEBTOR_IBAN,
                    bic=settings.TIERSPAYANT_SEPA_DEBTOR_BIC,
                ),
                output_dir=output,
                now=timezone.now(),
                execution_date=execution,
                progress=lambda items, **kw: tqdm(items, **kw),
            )
        except (NothingToPay, ConcurrentRun, SettlementMismatch) as exc:
            raise CommandError(exc.message) from None
        except SepaFileInvalid as exc:
            raise CommandError(f"SEPA file invalid, nothing paid: {exc}") from None
        except OSError as exc:
            raise CommandError(
                f"Fichiers de la campagne impossibles à écrire, rien n'est payé : "
                f"{exc.strerror or type(exc).__name__}"
            ) from None
        run = result.run
        self.stdout.write(
            f"{run.reference}: {run.claim_count} factures payées, {run.transfer_count} virements, "
            f"{run.total:.2f} EUR; fichiers dans {run.directory}"
        )
        for settlement in run.settlements.select_related("insurer").order_by("insurer__amc_number"):
            self.stdout.write(
                f"Règlement AMC {settlement.insurer.amc_number} : {settlement.paid_count} "
                f"ligne(s) payée(s), net {settlement.net_total:.2f} EUR"
                + (f", prélèvement {settlement.debit_name}" if settlement.debit_name else "")
            )
        for held in result.held:
            self.stdout.write(
                f"Retenu : professionnel {held.professional_id}, {held.claim_count} factures "
                f"({held.amount:.2f} EUR) : {held.get_reason_display()}"
            )
