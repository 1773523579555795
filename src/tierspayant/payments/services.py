"""Payment runs: pay every accepted invoice once, by SEPA credit transfer, with statements,
net of the overpayments the professionals owe (issue 16 parts 4 and 5; docs/money.md).

``run_payments`` pays ``invoices.Invoice`` rows of every channel (lots, and claims through
the invoice that mirrors each one, ``Claim.invoice``): accepted, with an insurer, not on a
transfer line still standing (``selectors.payable_invoices``). It streams: the professionals
with something to pay are taken in chunks (``chunk_size``), and for each chunk their
invoices are read and locked (``SELECT ... FOR UPDATE``), transfers, lines, events and
ledger entries written in bulk, statements written to disk; nothing proportional to the
number of invoices is kept across chunks (the pain.001 transactions, one per professional
and insurer, are).

Per professional: one whose bank details are being changed (or who has none, or whose
account the bank returned a transfer from) is held, not paid; their invoices wait for a
later run. Per (professional, insurer) paid:

- due = the AMC of the invoices paid; debt = the professional's overpayment balance with
  that insurer (``corrections`` ledger, > 0: owed back);
- recovered = min(debt, due), taken from the invoices owed on, oldest overpayment first (a
  partial recovery leaves the rest of that invoice's overpayment for later);
- net = due - recovered. net > 0: one transfer of net. net = 0 (the debt covers all): no
  transfer, and what remains of the debt carries forward to the next runs.

Either way every invoice gets a ``paid`` event (reference: the end-to-end id of its
transfer, or the run reference when the run paid it wholly by netting; value date: the
execution date; amount: its AMC) and a ``TransferLine`` (its transfer, or none); each
invoice whose overpayment is recovered gets a ``netted`` ledger entry (negative) and a
``recovered`` event (reference: the run; amount: recovered). The statement shows the
recoveries as negative lines. Each insurer's pain.001.001.09 file (validated against the
XSD) holds the transfers; its control sum is their sum.

Atomic: the files are written to a hidden staging directory beside the output; every row
is written in one transaction whose last step renames the staging directory into place.
Any failure rolls the transaction back and removes the directory: nothing is paid and no
file is left behind. An invoice is never paid twice: unique standing transfer line, and
the invoices' status goes from accepted to paid in one conditional UPDATE per slice whose
count must match (else ``ConcurrentRun``).
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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any, TypeVar

from django.db import transaction

from tierspayant.claims.choices import ClaimStatus
from tierspayant.claims.models import Claim
from tierspayant.corrections.choices import LedgerEntryKind
from tierspayant.corrections.models import LedgerEntry
from tierspayant.crypto.fields import DecryptionError
from tierspayant.crypto.keys import KeySet
from tierspayant.invoices.choices import InvoiceEventKind, InvoiceStatus
from tierspayant.invoices.lifecycle import EventDetail, new_event
from tierspayant.invoices.models import Invoice, InvoiceEvent, InvoiceLine
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
from tierspayant.payments.selectors import Debt, debts, payable_invoices
from tierspayant.providers.banking import payment_holds
from tierspayant.providers.models import BankAccount, Professional
from tierspayant.registry.models import Insurer

logger = logging.getLogger(__name__)
T = TypeVar("T")
ZERO = Decimal("0.00")
#: Professionals per chunk (their invoices are read, locked and written together).
CHUNK_SIZE = 250
#: Ids per UPDATE ... WHERE id IN (...): under SQLite's bound on parameters.
SLICE = 5000
#: Where a recovered overpayment's statement line and ledger entry say it came from.
RECOVERED_REASON = "Indu récupéré sur la campagne {reference}"


class NothingToPay(Exception):
    """No accepted invoice is waiting for payment."""

    message = "Rien à payer : aucune facture acceptée en attente de paiement."


class ConcurrentRun(Exception):
    """Some invoices changed status while the run was being prepared (another run paid
    them, or they were cancelled); this run is rolled back whole."""

    message = "Une autre campagne de paiement a traité ces factures : campagne annulée."


@dataclass(frozen=True)
class RunResult:
    """The run written, and the professionals held with why."""

    run: PaymentRun
    held: list[HeldPayment]


def _identity(items: Iterable[T], **_: object) -> Iterable[T]:
    return items


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
    chunk_size: int = CHUNK_SIZE,
) -> RunResult:
    """Pay every accepted invoice not paid yet, net of overpayments (module docstring).

    Args:
        keys: field-encryption keys (to read the creditors' IBANs).
        debtor: the operator's paying account.
        output_dir: where the run's directory ``<reference>/`` is created (made if absent).
        now: the run's instant (aware UTC): bank-detail holds are judged at it.
        execution_date: the transfers' requested execution date.
        xsd: the pain.001.001.09 schema the files must validate against.
        progress: wraps the loop over chunks of professionals (``tqdm``); default: none.
        insurer_debtors: by insurer id, the account that pays that insurer's transfers
            when the insurer funds them from its own account (``settlement``); the others
            are paid from ``debtor``.
        on_staged: called with the run and its staging directory once every transfer,
            statement and pain.001 file is written, inside the run's transaction: what it
            writes there (the insurers' settlement files) is part of the run, and what it
            raises rolls the whole run back.
        chunk_size: professionals whose invoices are read and written together.

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
            professional_ids = list(
                payable_invoices()
                .order_by("professional_id")
                .values_list("professional_id", flat=True)
                .distinct()
            )
            if not professional_ids:
                raise NothingToPay
            run = PaymentRun.objects.create(
                reference=reference,
                created_at=now,
                execution_date=execution_date,
                directory=str(final),
                total=ZERO,
            )
            state = _Run(run=run, keys=keys, staging=staging, insurers=Insurer.objects.in_bulk())
            chunks = list(_chunks(professional_ids, chunk_size))
            for chunk in wrap(chunks, desc="Paiements", unit=" lot de pros"):
                _pay_chunk(state, chunk)
            if not state.invoice_count and not state.held:
                raise NothingToPay  # a concurrent run paid them between the two reads
            _write_sepa_files(state, debtor=debtor, insurer_debtors=insurer_debtors or {}, xsd=xsd)
            run.transfer_count = state.sequence
            run.claim_count = state.invoice_count
            run.total = state.total
            run.save(update_fields=["transfer_count", "claim_count", "total"])
            result = RunResult(run=run, held=state.held)
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


@dataclass
class _Run:
    """What a run carries from one chunk to the next: its row, the keys to read IBANs, the
    staging directory, the insurers, the transfers per insurer (for their pain.001 files),
    and running counts (transfers, invoices paid, total transferred, holds)."""

    run: PaymentRun
    keys: KeySet
    staging: Path
    insurers: dict[int, Insurer]
    sequence: int = 0
    invoice_count: int = 0
    total: Decimal = ZERO
    held: list[HeldPayment] = field(default_factory=list)
    per_insurer: dict[int, list[sepa.CreditTransfer]] = field(
        default_factory=lambda: defaultdict(list)
    )


@dataclass(frozen=True)
class _Plan:
    """One (professional, insurer) of a chunk: the invoices to pay, the overpayments to
    recover with how much each (euros), and the net to transfer (euros, >= 0)."""

    insurer_id: int
    invoices: list[Invoice]
    recoveries: list[tuple[Invoice, Decimal]]
    net: Decimal


@dataclass
class _Writes:
    """The rows a chunk writes in bulk at its end."""

    transfers: list[Transfer] = field(default_factory=list)
    lines: list[TransferLine] = field(default_factory=list)
    events: list[InvoiceEvent] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    held: list[HeldPayment] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    paid_ids: list[int] = field(default_factory=list)


def _recover(debt: Debt | None, due: Decimal) -> list[tuple[Invoice, Decimal]]:
    """What to recover out of ``due`` euros: min(balance, due), from the invoices owed on,
    oldest overpayment first; the last one taken may be recovered in part."""
    if debt is None or debt.balance <= 0 or due <= 0:
        return []
    remaining = min(debt.balance, due)
    taken: list[tuple[Invoice, Decimal]] = []
    for owed in debt.invoices:
        if remaining <= 0:
            break
        amount = min(owed.outstanding, remaining)
        taken.append((owed.invoice, amount))
        remaining -= amount
    return taken


def _pay_chunk(state: _Run, chunk: list[int]) -> None:
    """Pay the payable invoices of the professionals ``chunk`` (ids), in bulk."""
    run = state.run
    invoices = list(
        payable_invoices()
        .filter(professional_id__in=chunk)
        .select_for_update(of=("self",))
        .order_by("professional_id", "insurer_id", "care_date", "id")
        .only(
            "id",
            "professional_id",
            "insurer_id",
            "invoice_number",
            "care_date",
            "status",
            "total_billed",
            "total_amo",
            "total_amc",
            "total_rac",
        )
    )
    professionals = Professional.objects.in_bulk(chunk)
    holds, accounts = payment_holds(chunk, now=run.created_at)
    # Accounts a transfer came back from (bank returns): their holders are held until new
    # details take effect through the change workflow (payments.bank_returns).
    returned_accounts = set(
        Transfer.objects.filter(returned_at__isnull=False, professional_id__in=chunk).values_list(
            "bank_account_id", flat=True
        )
    )
    owed = debts(chunk)
    owed_by_professional: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (professional_id, _), debt in owed.items():
        owed_by_professional[professional_id] += debt.balance
    approvals = dict(
        Claim.objects.filter(professional_id__in=chunk, invoice__isnull=False)
        .exclude(approval_number="")
        .values_list("invoice_id", "approval_number")
    )
    reasons: dict[int, list[str]] = defaultdict(list)
    for invoice_id, codes in (
        InvoiceLine.objects.filter(
            invoice__professional_id__in=chunk, invoice__status=InvoiceStatus.ACCEPTED
        )
        .exclude(reasons=[])
        .values_list("invoice_id", "reasons")
    ):
        reasons[invoice_id].extend(c for c in codes if c not in reasons[invoice_id])
    writes = _Writes()
    for professional_id, group in groupby(invoices, key=lambda i: i.professional_id):
        own = list(group)
        professional = professionals[professional_id]
        hold = holds.get(professional_id)
        if hold is None and accounts[professional_id].pk in returned_accounts:
            hold = HoldReason.BANK_RETURNED
        if hold is not None:
            writes.held.append(_held(run, professional_id, HoldReason(hold), own))
            continue
        account = accounts[professional_id]
        plans = []
        for insurer_id, items in groupby(own, key=lambda i: i.insurer_id):
            paying = list(items)
            due = sum((i.total_amc for i in paying), ZERO)
            recoveries = _recover(owed.get((professional_id, insurer_id)), due)
            plans.append(
                _Plan(insurer_id, paying, recoveries, due - sum((a for _, a in recoveries), ZERO))
            )
        try:
            checked = _transfers(state, account, plans)
        except (DecryptionError, sepa.InvalidTransfer) as exc:
            name = exc.field if isinstance(exc, sepa.InvalidTransfer) else "iban"
            logger.warning(
                "payment held: professional=%s run=%s field=%s",
                professional_id,
                run.reference,
                name,
            )
            writes.held.append(_held(run, professional_id, HoldReason.INVALID_BANK_DETAILS, own))
            continue
        rows = _record(state, writes, professional_id, account, plans, checked, approvals, reasons)
        recovered = sum((a for plan in plans for _, a in plan.recoveries), ZERO)
        writes.statements.append(
            _statement(
                state,
                professional,
                account,
                rows,
                recovered=recovered,
                still_owed=max(owed_by_professional[professional_id] - recovered, ZERO),
            )
        )
    _flush(state, writes)


def _transfers(
    state: _Run, account: BankAccount, plans: list[_Plan]
) -> dict[int, sepa.CreditTransfer]:
    """The checked transfer of each plan with a net to pay, by insurer id; raises
    DecryptionError or sepa.InvalidTransfer (the professional is then held, whole)."""
    checked: dict[int, sepa.CreditTransfer] = {}
    to_pay = [plan for plan in plans if plan.net > 0]
    if not to_pay:
        return checked
    iban = account.iban(state.keys)
    reference = state.run.reference
    for position, plan in enumerate(to_pay, start=1):
        checked[plan.insurer_id] = sepa.check_transfer(
            sepa.CreditTransfer(
                name=account.holder_name,
                iban=iban,
                bic=account.bic,
                amount=plan.net,
                end_to_end_id=f"{reference}-{state.sequence + position}",
                remittance=f"Tiers payant {reference} {len(plan.invoices)} facture(s)",
            )
        )
    state.sequence += len(to_pay)
    return checked


def _record(
    state: _Run,
    writes: _Writes,
    professional_id: int,
    account: BankAccount,
    plans: list[_Plan],
    checked: dict[int, sepa.CreditTransfer],
    approvals: dict[int, str],
    reasons: dict[int, list[str]],
) -> list[statements.StatementRow]:
    """Queue the professional's transfers, lines, paid events, netted ledger entries and
    recovered events; return the statement's rows (invoices paid, then recoveries)."""
    run = state.run
    paid_rows: list[statements.StatementRow] = []
    recovered_rows: list[statements.StatementRow] = []
    why = RECOVERED_REASON.format(reference=run.reference)
    for plan in plans:
        amc_number = state.insurers[plan.insurer_id].amc_number
        item = checked.get(plan.insurer_id)
        transfer = None
        if item is not None:
            transfer = Transfer(
                run=run,
                insurer_id=plan.insurer_id,
                professional_id=professional_id,
                bank_account=account,
                end_to_end_id=item.end_to_end_id,
                amount=item.amount,
            )
            writes.transfers.append(transfer)
            state.per_insurer[plan.insurer_id].append(item)
            state.total += item.amount
        detail_reference = item.end_to_end_id if item is not None else run.reference
        for invoice in plan.invoices:
            writes.lines.append(
                TransferLine(run=run, transfer=transfer, invoice=invoice, amount=invoice.total_amc)
            )
            writes.events.append(
                new_event(
                    invoice,
                    InvoiceEventKind.PAID,
                    at=run.created_at,
                    detail=EventDetail(
                        amount=invoice.total_amc,
                        reference=detail_reference,
                        value_date=run.execution_date,
                    ),
                )
            )
            writes.paid_ids.append(invoice.pk)
            paid_rows.append(
                statements.StatementRow(
                    invoice_number=invoice.invoice_number,
                    patient_reference=approvals.get(invoice.pk) or invoice.invoice_number,
                    care_date=invoice.care_date,
                    amc_number=amc_number,
                    billed=invoice.total_billed,
                    amo=invoice.total_amo,
                    amc=invoice.total_amc,
                    rac=invoice.total_rac,
                    reasons=" ".join(reasons.get(invoice.pk, ())),
                )
            )
        for owed, amount in plan.recoveries:
            writes.ledger.append(
                LedgerEntry(
                    professional_id=professional_id,
                    insurer_id=plan.insurer_id,
                    invoice_id=owed.pk,
                    kind=LedgerEntryKind.NETTED,
                    amount=-amount,
                    run_reference=run.reference,
                    reason=why,
                    at=run.created_at,
                )
            )
            if owed.status in (InvoiceStatus.CANCELLED, InvoiceStatus.RECTIFIED):
                writes.events.append(
                    new_event(
                        owed,
                        InvoiceEventKind.RECOVERED,
                        at=run.created_at,
                        detail=EventDetail(amount=amount, reference=run.reference, reason=why),
                    )
                )
            recovered_rows.append(
                statements.StatementRow(
                    invoice_number=owed.invoice_number,
                    patient_reference=approvals.get(owed.pk) or owed.invoice_number,
                    care_date=owed.care_date,
                    amc_number=amc_number,
                    billed=None,
                    amo=None,
                    amc=-amount,
                    rac=None,
                    reasons=statements.RECOVERED,
                    nature=statements.RECOVERED,
                )
            )
    return paid_rows + recovered_rows


def _flush(state: _Run, writes: _Writes) -> None:
    """Write a chunk's rows in bulk and move its invoices (and their claims) to paid; raise
    ConcurrentRun when an invoice is no longer accepted."""
    Transfer.objects.bulk_create(writes.transfers)
    TransferLine.objects.bulk_create(writes.lines, batch_size=2000)
    InvoiceEvent.objects.bulk_create(writes.events, batch_size=2000)
    LedgerEntry.objects.bulk_create(writes.ledger)
    state.held.extend(HeldPayment.objects.bulk_create(writes.held))
    Statement.objects.bulk_create(writes.statements)
    for start in range(0, len(writes.paid_ids), SLICE):
        ids = writes.paid_ids[start : start + SLICE]
        updated = Invoice.objects.filter(pk__in=ids, status=InvoiceStatus.ACCEPTED).update(
            status=InvoiceStatus.PAID
        )
        if updated != len(ids):
            raise ConcurrentRun
        Claim.objects.filter(invoice_id__in=ids, status=ClaimStatus.ACCEPTED).update(
            status=ClaimStatus.PAID, paid_at=state.run.created_at
        )
    state.invoice_count += len(writes.paid_ids)


def _held(
    run: PaymentRun, professional_id: int, reason: HoldReason, own: list[Invoice]
) -> HeldPayment:
    return HeldPayment(
        run=run,
        professional_id=professional_id,
        reason=reason,
        claim_count=len(own),
        amount=sum((i.total_amc for i in own), ZERO),
    )


def _statement(
    state: _Run,
    professional: Professional,
    account: BankAccount,
    rows: list[statements.StatementRow],
    *,
    recovered: Decimal,
    still_owed: Decimal,
) -> Statement:
    """Write the professional's PDF and CSV to the staging directory; the unsaved row."""
    run = state.run
    paid = [row for row in rows if row.nature == statements.PAID]
    total = sum((row.amc for row in rows), ZERO)
    pdf = statements.statement_pdf(
        statements.StatementHeader(
            professional=professional.display_name,
            national_id=professional.national_id,
            run_reference=run.reference,
            execution_date=run.execution_date.strftime("%d/%m/%Y"),
            account=account.iban_masked,
            total=total,
            created_at=run.created_at,
            recovered=recovered,
            still_owed=still_owed,
        ),
        rows,
    )
    base = f"releve-{professional.pk}"
    (state.staging / f"{base}.pdf").write_bytes(pdf)
    (state.staging / f"{base}.csv").write_bytes(statements.statement_csv(rows))
    return Statement(
        run=run,
        professional=professional,
        pdf_name=f"{base}.pdf",
        csv_name=f"{base}.csv",
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        total=total,
        recovered=recovered,
        claim_count=len(paid),
    )


def _write_sepa_files(
    state: _Run,
    *,
    debtor: sepa.Debtor,
    insurer_debtors: Mapping[int, sepa.Debtor],
    xsd: Path,
) -> None:
    """One pain.001.001.09 file per insurer with transfers (validated against ``xsd``),
    control sum = the sum of its transfers."""
    run = state.run
    for insurer_id, items in state.per_insurer.items():
        insurer = state.insurers[insurer_id]
        message_id = f"{run.reference}-{insurer.amc_number}"
        xml = sepa.build_pain001(
            debtor=insurer_debtors.get(insurer_id, debtor),
            transfers=items,
            message_id=message_id,
            created_at=run.created_at,
            execution_date=run.execution_date,
            xsd=xsd,
        )
        name = f"virements-{insurer.amc_number}.xml"
        (state.staging / name).write_bytes(xml)
        SepaFile.objects.create(
            run=run,
            insurer=insurer,
            file_name=name,
            sha256=hashlib.sha256(xml).hexdigest(),
            message_id=message_id[:35],
            transaction_count=len(items),
            control_sum=sum((item.amount for item in items), ZERO),
        )
