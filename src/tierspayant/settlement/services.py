"""Each insurer's funding and settlement of a payment run (issue 16 part 6).

``set_funding`` records how an insurer funds its runs (``FundingMode``), its account (IBAN
encrypted) and the payment delay it commits to. ``run_with_settlement`` is the one payment
run (``tierspayant payment-run``): ``payments.services.run_payments`` with the insurers
paying from their own account as debtors (``insurer_debtors``) and ``write_settlement`` as
its ``on_staged`` hook, so paying and settling are one transaction and one staging
directory: a failure in the settlement (schema, disk) rolls back the whole run.

``write_settlement(run, staging)`` writes, for each insurer of the run, in the staging
directory:

* ``reglement-<AMC>.csv``: the settlement export, one row per ``paid`` event whose reference
  is the end-to-end id of a transfer of this run, per ``recovered`` event whose reference is
  the run, and per ``rejected`` or ``cancelled`` event of the insurer since its previous
  settlement's run (``created_at``, exclusive) up to this run's (inclusive): the contract of
  docs/money.md. Built from the events and invoices, never from ``TransferLine``.
* ``avis-reglement-<AMC>.pdf``: the notice (totals only).
* ``prelevement-<AMC>.xml`` for a ``direct_debit`` insurer whose net total is positive: the
  pain.008 collecting that total (the insurer's pain.001 control sum) under its mandate.

and one ``InsurerSettlement`` row. Every figure is in euros.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from django.db.models import Q

from tierspayant.claims.models import Claim
from tierspayant.crypto.fields import encrypt_field
from tierspayant.crypto.keys import KeySet
from tierspayant.eligibility.engagements import DOMAIN_FAMILIES
from tierspayant.invoices.choices import InvoiceEventKind
from tierspayant.invoices.models import InvoiceEvent, InvoiceLine
from tierspayant.payments import sepa
from tierspayant.payments.models import PaymentRun, SepaFile, Transfer
from tierspayant.payments.services import RunResult, run_payments
from tierspayant.providers.banking import (
    BankDetails,
    InvalidBankDetails,
    mask_iban,
    validate_bank_details,
)
from tierspayant.registry.choices import Domain
from tierspayant.registry.models import Insurer
from tierspayant.settlement import files
from tierspayant.settlement.choices import FundingMode, SettlementLineKind
from tierspayant.settlement.models import InsurerFunding, InsurerSettlement

ZERO = Decimal("0.00")
K = InvoiceEventKind
#: Label of the lines whose family belongs to no attestation domain.
OTHER_DOMAIN = "other"

_DOMAIN_OF_FAMILY: dict[str, str] = {
    str(family): str(domain) for domain, families in DOMAIN_FAMILIES.items() for family in families
}


class InvalidFunding(ValueError):
    """A funding the platform cannot use: ``field`` names it, ``message`` says why in French
    (never echoing an IBAN)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SettlementMismatch(Exception):
    """An insurer's export does not add up to what the run transfers on its behalf (paid
    lines minus recoveries != the control sum of its pain.001; 0 when it has none): the run
    is rolled back whole rather than settled wrongly."""

    def __init__(self, amc_number: str, net: Decimal, control_sum: Decimal) -> None:
        self.message = (
            f"Règlement de l'AMC {amc_number} incohérent : lignes payées nettes des indus "
            f"{net:.2f} EUR, virements {control_sum:.2f} EUR. Campagne annulée, rien n'est payé."
        )
        super().__init__(self.message)


def check_funding(
    keys: KeySet,
    *,
    insurer: Insurer,
    mode: str,
    account_name: str,
    iban: str,
    bic: str,
    mandate_id: str = "",
    mandate_date: datetime.date | None = None,
    payment_delay_days: int = 7,
) -> BankDetails:
    """The checked bank details of a funding (``iban`` empty: the IBAN on file). Bank
    details are checked like a professional's (``providers.banking.validate_bank_details``);
    ``direct_debit`` needs a mandate id and its signature date; the delay is 0 to 365 days.
    Raises InvalidFunding naming ``mode``, ``iban``, ``bic``, ``holder_name``,
    ``mandate_id``, ``mandate_date`` or ``payment_delay_days``."""
    if mode not in FundingMode.values:
        raise InvalidFunding("mode", "mode de financement inconnu")
    if not 0 <= int(payment_delay_days) <= 365:
        raise InvalidFunding("payment_delay_days", "délai de paiement : 0 à 365 jours")
    existing = InsurerFunding.objects.filter(insurer=insurer).first()
    if not iban and existing is None:
        raise InvalidFunding("iban", "IBAN obligatoire")
    try:
        details = validate_bank_details(
            iban=iban or existing.iban(keys),  # type: ignore[union-attr]
            bic=bic,
            holder_name=account_name,
        )
    except InvalidBankDetails as exc:
        raise InvalidFunding(exc.field, exc.message) from None
    if mode == FundingMode.DIRECT_DEBIT:
        if not mandate_id.strip():
            raise InvalidFunding("mandate_id", "référence du mandat obligatoire (prélèvement)")
        if mandate_date is None:
            raise InvalidFunding("mandate_date", "date du mandat obligatoire (prélèvement)")
    return details


def set_funding(
    keys: KeySet,
    *,
    insurer: Insurer,
    mode: str,
    account_name: str,
    iban: str,
    bic: str,
    mandate_id: str = "",
    mandate_date: datetime.date | None = None,
    payment_delay_days: int = 7,
    now: datetime.datetime,
) -> InsurerFunding:
    """Create or replace the insurer's funding (``iban`` empty keeps the IBAN on file),
    after :func:`check_funding` (raises InvalidFunding; nothing is written then). The IBAN
    is encrypted, bound to the insurer's row."""
    details = check_funding(
        keys,
        insurer=insurer,
        mode=mode,
        account_name=account_name,
        iban=iban,
        bic=bic,
        mandate_id=mandate_id,
        mandate_date=mandate_date,
        payment_delay_days=payment_delay_days,
    )
    funding = InsurerFunding.objects.filter(insurer=insurer).first() or InsurerFunding(
        insurer=insurer
    )
    funding.mode = mode
    funding.account_name = details.holder_name
    funding.iban_ciphertext = encrypt_field(
        keys, details.iban, table=InsurerFunding.TABLE, column="iban", row_id=str(insurer.pk)
    )
    funding.iban_masked = mask_iban(details.iban)
    funding.bic = details.bic
    funding.mandate_id = mandate_id.strip() if mode == FundingMode.DIRECT_DEBIT else ""
    funding.mandate_date = mandate_date if mode == FundingMode.DIRECT_DEBIT else None
    funding.payment_delay_days = int(payment_delay_days)
    funding.updated_at = now
    funding.save()
    return funding


def insurer_debtors(keys: KeySet) -> dict[int, sepa.Debtor]:
    """By insurer id, the account paying that insurer's transfers, for every ``own_account``
    insurer (``run_payments``' ``insurer_debtors``)."""
    return {
        funding.insurer_id: sepa.Debtor(
            name=funding.account_name, iban=funding.iban(keys), bic=funding.bic
        )
        for funding in InsurerFunding.objects.filter(mode=FundingMode.OWN_ACCOUNT)
    }


@dataclass(frozen=True)
class SettlementConfig:
    """What ``write_settlement`` needs beyond the run: field-encryption keys (the insurers'
    IBANs), the operator as direct-debit creditor, the pain.008 schema."""

    keys: KeySet
    creditor: files.Creditor
    debit_xsd: Path = files.DEFAULT_DEBIT_XSD


def run_with_settlement(
    *,
    config: SettlementConfig,
    debtor: sepa.Debtor,
    output_dir: Path,
    now: datetime.datetime,
    execution_date: datetime.date,
    xsd: Path = sepa.DEFAULT_XSD,
    progress: Callable[..., Iterable[Any]] | None = None,
) -> RunResult:
    """One payment run that pays and settles (module docstring): ``run_payments`` with the
    own-account insurers as debtors and ``write_settlement`` on the staged run. Raises what
    ``run_payments`` raises and SepaFileInvalid / OSError from the settlement; nothing is
    paid or left on disk then."""
    return run_payments(
        keys=config.keys,
        debtor=debtor,
        output_dir=output_dir,
        now=now,
        execution_date=execution_date,
        xsd=xsd,
        progress=progress,
        insurer_debtors=insurer_debtors(config.keys),
        on_staged=partial(write_settlement, config=config),
    )


@dataclass
class _Totals:
    """An export's figures: paid and recovered euros, count and euros per kind, paid euros
    per domain."""

    paid: Decimal = ZERO
    recovered: Decimal = ZERO
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(SettlementLineKind.values, 0)
    )
    amounts: dict[str, Decimal] = field(
        default_factory=lambda: dict.fromkeys(SettlementLineKind.values, ZERO)
    )
    by_domain: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _InvoiceLine:
    """What the export reads of an invoice line."""

    position: int
    code_system: str
    code: str
    family: str
    br: Decimal
    amc: Decimal
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class _Line:
    """One event of the export with what it reads of its invoice (plain values, not model
    objects: the hot path of a large run)."""

    kind: str
    amount: Decimal | None
    reference: str
    reason_codes: list[str]
    invoice_id: int
    professional_id: int
    national_id: str
    beneficiary_id: str
    invoice_number: str
    care_date: datetime.date
    total_amo: Decimal
    total_amc: Decimal
    total_rac: Decimal
    invoice_reasons: list[object]
    lines: list[_InvoiceLine]


def _domain_of(line: _Line) -> str:
    """The attestation domain of the invoice's line with the largest AMC (the whole invoice
    is counted in it), :data:`OTHER_DOMAIN` when its family belongs to none."""
    lines = sorted(line.lines, key=lambda item: (-item.amc, item.position))
    if not lines:
        return OTHER_DOMAIN
    return _DOMAIN_OF_FAMILY.get(lines[0].family, OTHER_DOMAIN)


def _reason_codes(line: _Line) -> str:
    codes: list[str] = [str(c) for c in line.reason_codes]
    if not codes:
        for reason in line.invoice_reasons:
            code = reason.get("code", "") if isinstance(reason, dict) else reason
            if code and str(code) not in codes:
                codes.append(str(code))
        for item in line.lines:
            codes.extend(str(c) for c in item.reasons if str(c) not in codes)
    return " ".join(codes)


#: Order of the export's lines: paid, recovered, rejected, cancelled (then event id).
KIND_ORDER: dict[str, int] = {K.PAID: 0, K.RECOVERED: 1, K.REJECTED: 2, K.CANCELLED: 3}


#: Events read (and approval numbers looked up) per query: bounded memory and parameters.
CHUNK = 2000
#: The columns the export reads, in ``_Line``'s order after the event id.
_EVENT_COLUMNS = (
    "id",
    "kind",
    "amount",
    "reference",
    "reason_codes",
    "invoice_id",
    "invoice__professional_id",
    "invoice__professional__rpps",
    "invoice__professional__adeli",
    "invoice__professional__finess",
    "invoice__beneficiary_id",
    "invoice__invoice_number",
    "invoice__care_date",
    "invoice__total_amo",
    "invoice__total_amc",
    "invoice__total_rac",
    "invoice__reasons",
)
_LINE_COLUMNS = ("invoice_id", "position", "code_system", "code", "family", "br", "amc", "reasons")


def _national_id(rpps: str, adeli: str, finess: str) -> str:
    """``Professional.national_id`` from its columns: "8" + RPPS, else "0" + ADELI, else
    FINESS."""
    if rpps:
        return f"8{rpps}"
    if adeli:
        return f"0{adeli}"
    return finess


def _chunk_lines(rows: list[tuple[Any, ...]]) -> list[_Line]:
    """The chunk's events with their invoices' lines (one query for the lines)."""
    lines: dict[int, list[_InvoiceLine]] = {row[5]: [] for row in rows}
    for invoice_id, *values in InvoiceLine.objects.filter(invoice_id__in=list(lines)).values_list(
        *_LINE_COLUMNS
    ):
        lines[invoice_id].append(_InvoiceLine(*values))
    return [
        _Line(
            kind=row[1],
            amount=row[2],
            reference=row[3],
            reason_codes=row[4],
            invoice_id=row[5],
            professional_id=row[6],
            national_id=_national_id(row[7], row[8], row[9]),
            beneficiary_id=str(row[10]),
            invoice_number=row[11],
            care_date=row[12],
            total_amo=row[13],
            total_amc=row[14],
            total_rac=row[15],
            invoice_reasons=row[16],
            lines=sorted(lines[row[5]], key=lambda item: item.position),
        )
        for row in rows
    ]


def settlement_events(run: PaymentRun, insurer_id: int) -> Iterator[list[_Line]]:
    """The events of the insurer's export for ``run`` (module docstring) in chunks of at
    most :data:`CHUNK`: paid lines first, then recovered, rejected and cancelled ones
    (:data:`KIND_ORDER`), each kind in event order."""
    previous = (
        InsurerSettlement.objects.filter(insurer_id=insurer_id, run__created_at__lt=run.created_at)
        .order_by("-run__created_at")
        .values_list("run__created_at", flat=True)
        .first()
    )
    window = Q(at__lte=run.created_at)
    if previous is not None:
        window &= Q(at__gt=previous)
    references = Transfer.objects.filter(run=run, insurer_id=insurer_id).values("end_to_end_id")
    by_kind = {
        # Paid by a transfer of this run, or wholly netted against an overpayment (no
        # transfer: the event names the run, payments.services).
        K.PAID: Q(reference__in=references) | Q(reference=run.reference),
        K.RECOVERED: Q(reference=run.reference),
        K.REJECTED: window,
        K.CANCELLED: window,
    }
    for kind in sorted(by_kind, key=KIND_ORDER.__getitem__):
        last = 0
        while True:
            rows = list(
                InvoiceEvent.objects.filter(by_kind[kind], insurer_id=insurer_id, kind=kind)
                .filter(pk__gt=last)
                .order_by("id")
                .values_list(*_EVENT_COLUMNS)[:CHUNK]
            )
            if not rows:
                break
            yield _chunk_lines(rows)
            last = rows[-1][0]


def _approvals(events: list[_Line]) -> dict[tuple[int, str], str]:
    """Approval numbers of the invoices paid through claims (same professional and invoice
    number), by (professional id, invoice number)."""
    keys = {(e.professional_id, e.invoice_number) for e in events}
    if not keys:
        return {}
    found = (
        Claim.objects.filter(
            professional_id__in={k[0] for k in keys},
            invoice_number__in={k[1] for k in keys},
        )
        .exclude(approval_number="")
        .values_list("professional_id", "invoice_number", "approval_number")
    )
    return {(pro, number): approval for pro, number, approval in found if (pro, number) in keys}


def _rows(
    run: PaymentRun, insurer: Insurer, chunks: Iterable[list[_Line]], totals: _Totals
) -> Iterator[files.ExportRow]:
    """The export's rows of ``chunks``, adding each event to ``totals`` as it goes."""
    for events in chunks:
        approvals = _approvals(events)
        for event in events:
            amount = event.amount if event.kind != K.REJECTED else None
            totals.counts[event.kind] += 1
            totals.amounts[event.kind] += amount or ZERO
            if event.kind == K.PAID:
                totals.paid += amount or ZERO
                domain = _domain_of(event)
                totals.by_domain[domain] = totals.by_domain.get(domain, ZERO) + (amount or ZERO)
            elif event.kind == K.RECOVERED:
                totals.recovered += amount or ZERO
            yield files.ExportRow(
                run=run.reference,
                amc_number=insurer.amc_number,
                invoice_id=event.invoice_id,
                invoice_number=event.invoice_number,
                professional=event.national_id,
                beneficiary=event.beneficiary_id,
                care_date=event.care_date,
                codes=" ".join(f"{line.code_system}:{line.code}" for line in event.lines),
                br=sum((line.br for line in event.lines), ZERO),
                amo=event.total_amo,
                amc=event.total_amc,
                rac=event.total_rac,
                reason_codes=_reason_codes(event),
                approvals=approvals.get((event.professional_id, event.invoice_number), ""),
                transfer=event.reference
                if event.kind == K.PAID and event.reference != run.reference
                else "",
                kind=event.kind,
                amount=amount,
            )


def _domain_label(value: str) -> str:
    return Domain(value).label if value in Domain.values else "Autres"


def write_settlement(run: PaymentRun, staging: Path, *, config: SettlementConfig) -> None:
    """Write every insurer's settlement of ``run`` into ``staging`` (module docstring). Runs
    inside the run's transaction (``run_payments``' ``on_staged``): raises SepaFileInvalid
    (a pain.008 failing its schema) or OSError (a file that cannot be written), and the whole
    run is rolled back."""
    sepa_files = {f.insurer_id: f for f in SepaFile.objects.filter(run=run)}
    insurer_ids = set(sepa_files) | set(
        InvoiceEvent.objects.filter(
            Q(kind=K.PAID, reference__in=Transfer.objects.filter(run=run).values("end_to_end_id"))
            | Q(kind__in=(K.PAID, K.RECOVERED), reference=run.reference)
        )
        .exclude(insurer__isnull=True)
        .values_list("insurer_id", flat=True)
    )
    fundings = {f.insurer_id: f for f in InsurerFunding.objects.filter(insurer_id__in=insurer_ids)}
    for insurer in Insurer.objects.filter(pk__in=insurer_ids).order_by("amc_number"):
        _settle(run, staging, insurer, sepa_files.get(insurer.pk), fundings.get(insurer.pk), config)


def _settle(
    run: PaymentRun,
    staging: Path,
    insurer: Insurer,
    sepa_file: SepaFile | None,
    funding: InsurerFunding | None,
    config: SettlementConfig,
) -> InsurerSettlement:
    totals = _Totals()
    control_sum = sepa_file.control_sum if sepa_file is not None else ZERO
    transfer_count = sepa_file.transaction_count if sepa_file is not None else 0
    amc = insurer.amc_number
    debit_name = debit_sha = debit_text = ""
    if funding is not None and funding.mode == FundingMode.DIRECT_DEBIT and control_sum > ZERO:
        assert funding.mandate_date is not None
        xml = files.build_pain008(
            creditor=config.creditor,
            debit=files.DirectDebit(
                name=funding.account_name,
                iban=funding.iban(config.keys),
                bic=funding.bic,
                amount=control_sum,
                mandate_id=funding.mandate_id,
                mandate_date=funding.mandate_date,
                end_to_end_id=f"{run.reference}-{amc}",
                remittance=f"Reglement tiers payant {run.reference} AMC {amc}",
            ),
            message_id=f"{run.reference}-{amc}",
            created_at=run.created_at,
            collection_date=run.execution_date,
            xsd=config.debit_xsd,
        )
        debit_name = f"prelevement-{amc}.xml"
        (staging / debit_name).write_bytes(xml)
        debit_sha = hashlib.sha256(xml).hexdigest()
        debit_text = (
            f"Prélèvement SEPA de {control_sum:.2f} EUR sur le compte {funding.iban_masked} "
            f"(mandat {funding.mandate_id}), échéance {run.execution_date:%d/%m/%Y}"
        )
    export_name = f"reglement-{amc}.csv"
    export_sha = files.write_export(
        staging / export_name, _rows(run, insurer, settlement_events(run, insurer.pk), totals)
    )
    net = totals.paid - totals.recovered  # the figures are complete once the rows are written
    if net != control_sum:
        raise SettlementMismatch(amc, net, control_sum)
    labels = SettlementLineKind
    notice = files.notice_pdf(
        files.NoticeFigures(
            run_reference=run.reference,
            execution_date=run.execution_date,
            insurer_name=insurer.name,
            amc_number=amc,
            funding=(
                f"{funding.get_mode_display()} ({funding.iban_masked})"
                if funding is not None
                else "Compte de l'opérateur (aucun financement enregistré)"
            ),
            by_kind={
                labels(kind).label: (totals.counts[kind], totals.amounts[kind])
                for kind in labels.values
            },
            by_domain={
                _domain_label(domain): amount for domain, amount in sorted(totals.by_domain.items())
            },
            transfer_count=transfer_count,
            control_sum=control_sum,
            paid_total=totals.paid,
            recovered_total=totals.recovered,
            net_total=net,
            created_at=run.created_at,
            debit=debit_text,
        )
    )
    notice_name = f"avis-reglement-{amc}.pdf"
    (staging / notice_name).write_bytes(notice)
    return InsurerSettlement.objects.create(
        run=run,
        insurer=insurer,
        created_at=run.created_at,
        funding_mode=funding.mode if funding is not None else "",
        export_name=export_name,
        export_sha256=export_sha,
        notice_name=notice_name,
        notice_sha256=hashlib.sha256(notice).hexdigest(),
        debit_name=debit_name,
        debit_sha256=debit_sha,
        paid_total=totals.paid,
        recovered_total=totals.recovered,
        net_total=net,
        control_sum=control_sum,
        transfer_count=transfer_count,
        paid_count=totals.counts[K.PAID],
        rejected_count=totals.counts[K.REJECTED],
        cancelled_count=totals.counts[K.CANCELLED],
        recovered_count=totals.counts[K.RECOVERED],
        totals_by_domain={d: f"{a:.2f}" for d, a in sorted(totals.by_domain.items())},
    )


def settlement_config(settings: Any) -> SettlementConfig:
    """The settlement's configuration from Django ``settings`` (keys, the operator's account
    and SEPA creditor identifier: ``TIERSPAYANT_SEPA_DEBTOR_*``,
    ``TIERSPAYANT_SEPA_CREDITOR_ID``)."""
    return SettlementConfig(
        keys=settings.TIERSPAYANT_KEYRING.encryption,
        creditor=files.Creditor(
            name=settings.TIERSPAYANT_SEPA_DEBTOR_NAME,
            iban=settings.TIERSPAYANT_SEPA_DEBTOR_IBAN,
            bic=settings.TIERSPAYANT_SEPA_DEBTOR_BIC,
            creditor_id=settings.TIERSPAYANT_SEPA_CREDITOR_ID,
        ),
    )
