"""Payment runs: pay every accepted claim once, by SEPA credit transfer, with statements.

``run_payments`` groups the accepted, unpaid claims per insurer and per professional; a
professional whose bank details are being changed (or who has none) is held, not paid, and
their claims wait for a later run. For each insurer it writes one pain.001.001.09 file
(validated against the XSD) with one transfer per professional to the account in force;
for each professional paid, a statement (PDF and CSV). Then it marks the claims paid.

Atomic: the files are written to a hidden staging directory beside the output; the database
rows (run, transfers, one ``TransferLine`` per claim, unique) and the claims' new status are
written in one transaction whose last step renames the staging directory into place. Any
failure rolls the transaction back and removes the directory: no claim is marked paid and
no file is left behind. A claim already paid cannot be paid again (unique transfer line;
only ``accepted`` claims are selected, under ``SELECT ... FOR UPDATE``).

A professional whose transfer the bank returned or rejected (``payments.bank_returns``) is
held (``bank_returned``) while the account in force is the one the money came back from.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import secrets
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from django.db import transaction

from tierspayant.claims.choices import ClaimStatus
from tierspayant.claims.models import Claim
from tierspayant.claims.selectors import payable_claims
from tierspayant.crypto.fields import DecryptionError
from tierspayant.crypto.keys import KeySet
from tierspayant.payments import sepa, statements
from tierspayant.payments.choices import HoldReason
from tierspayant.payments.models import (
    HeldPayment,
    PaymentRun,
    SepaFile,
    Statement,
    Transfer,
    TransferLine,
)
from tierspayant.providers.banking import current_bank_account, payment_hold
from tierspayant.providers.models import BankAccount, Professional
from tierspayant.registry.models import Insurer

logger = logging.getLogger(__name__)
T = TypeVar("T")
ZERO = Decimal("0.00")


class NothingToPay(Exception):
    """No accepted claim is waiting for payment."""

    message = "Rien à payer : aucune facture acceptée en attente de paiement."


class ConcurrentRun(Exception):
    """Some claims changed status while the run was being prepared (another run paid them);
    this run is rolled back whole."""

    message = "Une autre campagne de paiement a traité ces factures : campagne annulée."


@dataclass(frozen=True)
class RunResult:
    """The run written, and the professionals held with why."""

    run: PaymentRun
    held: list[HeldPayment]


def _identity(items: Iterable[T], **_: object) -> Iterable[T]:
    return items


def run_payments(
    *,
    keys: KeySet,
    debtor: sepa.Debtor,
    output_dir: Path,
    now: datetime.datetime,
    execution_date: datetime.date,
    xsd: Path = sepa.DEFAULT_XSD,
    progress: Callable[..., Iterable[Any]] | None = None,
    insurer_debtors: Mapping[int, sepa.Debtor] | None = None,
    on_staged: Callable[[PaymentRun, Path], None] | None = None,
) -> RunResult:
    """Pay every accepted claim not paid yet.

    Args:
        keys: field-encryption keys (to read the creditors' IBANs).
        debtor: the operator's paying account.
        output_dir: where the run's directory ``<reference>/`` is created (made if absent).
        now: the run's instant (aware UTC): bank-detail holds are judged at it.
        execution_date: the transfers' requested execution date.
        xsd: the pain.001.001.09 schema the files must validate against.
        progress: wraps the per-professional loop (``tqdm``); default: none.
        insurer_debtors: by insurer id, the account that pays that insurer's transfers
            when the insurer funds them from its own account (``settlement``); the others
            are paid from ``debtor``.
        on_staged: called with the run and its staging directory once every transfer,
            statement and pain.001 file is written, inside the run's transaction: what it
            writes there (the insurers' settlement files) is part of the run, and what it
            raises rolls the whole run back.

    Returns RunResult. Raises NothingToPay, ConcurrentRun, sepa.SepaFileInvalid; after any
    failure nothing is paid or left on disk. A professional whose transfer cannot be written
    is held (``invalid_bank_details``), the others are paid.
    """
    wrap = progress or _identity
    output_dir.mkdir(parents=True, exist_ok=True)
    reference = f"RUN-{now.astimezone(datetime.UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2).upper()}"
    final = output_dir / reference
    staging = Path(tempfile.mkdtemp(prefix=f".{reference}-", dir=output_dir))
    moved = False
    try:
        with transaction.atomic():
            claims = list(payable_claims().select_for_update(of=("self",)))
            if not claims:
                raise NothingToPay
            result = _pay(
                claims,
                keys=keys,
                debtor=debtor,
                staging=staging,
                final=final,
                reference=reference,
                now=now,
                execution_date=execution_date,
                xsd=xsd,
                wrap=wrap,
                insurer_debtors=insurer_debtors or {},
            )
            if on_staged is not None:
                on_staged(result.run, staging)
            os.rename(staging, final)
            moved = True
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if moved:
            shutil.rmtree(final, ignore_errors=True)
        raise
    return result


def _pay(
    claims: list[Claim],
    *,
    keys: KeySet,
    debtor: sepa.Debtor,
    staging: Path,
    final: Path,
    reference: str,
    now: datetime.datetime,
    execution_date: datetime.date,
    xsd: Path,
    wrap: Callable[..., Iterable[Any]],
    insurer_debtors: Mapping[int, sepa.Debtor],
) -> RunResult:
    by_professional: dict[int, list[Claim]] = defaultdict(list)
    for claim in claims:
        by_professional[claim.professional_id].append(claim)
    run = PaymentRun.objects.create(
        reference=reference,
        created_at=now,
        execution_date=execution_date,
        directory=str(final),
        total=ZERO,
    )
    held: list[HeldPayment] = []
    payable: dict[int, tuple[Professional, BankAccount, list[Claim]]] = {}
    # Accounts a transfer came back from (bank returns): their holders are held until new
    # details take effect through the change workflow (payments.bank_returns).
    returned_accounts = set(
        Transfer.objects.filter(
            returned_at__isnull=False, professional_id__in=by_professional
        ).values_list("bank_account_id", flat=True)
    )
    for professional_id, own in by_professional.items():
        professional = own[0].professional
        reason = payment_hold(professional, now=now)
        if reason is not None:
            held.append(_hold(run, professional, HoldReason(reason), own))
            continue
        account = current_bank_account(professional, now=now)
        assert account is not None
        if account.pk in returned_accounts:
            held.append(_hold(run, professional, HoldReason.BANK_RETURNED, own))
            continue
        payable[professional_id] = (professional, account, own)
    per_insurer: dict[int, list[sepa.CreditTransfer]] = defaultdict(list)
    insurers: dict[int, Insurer] = {}
    paid_ids: list[int] = []
    sequence = 0
    entries: list[tuple[Professional, BankAccount, list[Claim]]] = list(payable.values())
    for entry in wrap(entries, desc="Paiements", unit=" pro"):
        professional, account, own = entry
        groups: dict[int, list[Claim]] = defaultdict(list)
        for claim in own:
            groups[claim.insurer_id].append(claim)
        try:
            iban = account.iban(keys)
            checked = [
                sepa.check_transfer(
                    sepa.CreditTransfer(
                        name=account.holder_name,
                        iban=iban,
                        bic=account.bic,
                        amount=sum((c.total_amc for c in group), ZERO),
                        end_to_end_id=f"{reference}-{sequence + position}",
                        remittance=f"Tiers payant {reference} {len(group)} facture(s)",
                    )
                )
                for position, group in enumerate(groups.values(), start=1)
            ]
        except (DecryptionError, sepa.InvalidTransfer) as exc:
            field = exc.field if isinstance(exc, sepa.InvalidTransfer) else "iban"
            logger.warning(
                "payment held: professional=%s run=%s field=%s", professional.pk, reference, field
            )
            held.append(_hold(run, professional, HoldReason.INVALID_BANK_DETAILS, own))
            continue
        for (insurer_id, group), item in zip(groups.items(), checked, strict=True):
            sequence += 1
            insurers[insurer_id] = group[0].insurer
            transfer = Transfer.objects.create(
                run=run,
                insurer_id=insurer_id,
                professional=professional,
                bank_account=account,
                end_to_end_id=item.end_to_end_id,
                amount=item.amount,
            )
            TransferLine.objects.bulk_create(
                TransferLine(transfer=transfer, claim=c, amount=c.total_amc) for c in group
            )
            per_insurer[insurer_id].append(item)
            paid_ids.extend(c.pk for c in group)
        _statement(run, professional, account, own, staging, execution_date)
    for insurer_id, items in per_insurer.items():
        insurer = insurers[insurer_id]
        xml = sepa.build_pain001(
            debtor=insurer_debtors.get(insurer_id, debtor),
            transfers=items,
            message_id=f"{reference}-{insurer.amc_number}",
            created_at=now,
            execution_date=execution_date,
            xsd=xsd,
        )
        name = f"virements-{insurer.amc_number}.xml"
        (staging / name).write_bytes(xml)
        SepaFile.objects.create(
            run=run,
            insurer=insurer,
            file_name=name,
            sha256=hashlib.sha256(xml).hexdigest(),
            message_id=f"{reference}-{insurer.amc_number}"[:35],
            transaction_count=len(items),
            control_sum=sum((item.amount for item in items), ZERO),
        )
    updated = Claim.objects.filter(pk__in=paid_ids, status=ClaimStatus.ACCEPTED).update(
        status=ClaimStatus.PAID, paid_at=now
    )
    if updated != len(paid_ids):
        raise ConcurrentRun
    run.transfer_count = sequence
    run.claim_count = len(paid_ids)
    run.total = sum((t.amount for items in per_insurer.values() for t in items), ZERO)
    run.save(update_fields=["transfer_count", "claim_count", "total"])
    return RunResult(run=run, held=held)


def _hold(
    run: PaymentRun, professional: Professional, reason: HoldReason, own: list[Claim]
) -> HeldPayment:
    return HeldPayment.objects.create(
        run=run,
        professional=professional,
        reason=reason,
        claim_count=len(own),
        amount=sum((c.total_amc for c in own), ZERO),
    )


def _statement(
    run: PaymentRun,
    professional: Professional,
    account: BankAccount,
    own: list[Claim],
    staging: Path,
    execution_date: datetime.date,
) -> None:
    claims = list(
        Claim.objects.filter(pk__in=[c.pk for c in own])
        .select_related("insurer")
        .prefetch_related("lines")
        .order_by("care_date", "id")
    )
    total = sum((c.total_amc for c in claims), ZERO)
    pdf = statements.statement_pdf(
        statements.StatementHeader(
            professional=professional.display_name,
            national_id=professional.national_id,
            run_reference=run.reference,
            execution_date=execution_date.strftime("%d/%m/%Y"),
            account=account.iban_masked,
            total=total,
            created_at=run.created_at,
        ),
        claims,
    )
    base = f"releve-{professional.pk}"
    (staging / f"{base}.pdf").write_bytes(pdf)
    (staging / f"{base}.csv").write_bytes(statements.statement_csv(claims))
    Statement.objects.create(
        run=run,
        professional=professional,
        pdf_name=f"{base}.pdf",
        csv_name=f"{base}.csv",
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        total=total,
        claim_count=len(claims),
    )
