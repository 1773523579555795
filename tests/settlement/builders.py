"""Builders of the settlement tests: professionals paid to a bank account, accepted invoices
with their events, and payment runs made of transfers, pain.001 files and ``paid`` events as
the payment run writes them (issue 16 contract: reference = the transfer's end-to-end id,
amount = the AMC paid). All data synthetic."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from tests.care.conftest import french_iban
from tests.factories import ContractFactory, make_beneficiary, make_professional
from tierspayant.invoices.choices import CodeSystem, InvoiceEventKind
from tierspayant.invoices.lifecycle import EventDetail, append_event
from tierspayant.invoices.models import Invoice, InvoiceEvent, InvoiceLine
from tierspayant.payments.models import PaymentRun, SepaFile, Transfer
from tierspayant.providers.banking import register_first_bank_account
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary, Insurer
from tierspayant.settlement.files import Creditor
from tierspayant.settlement.services import SettlementConfig, set_funding

D = Decimal
K = InvoiceEventKind
T0 = datetime.datetime(2025, 3, 3, 9, 0, tzinfo=datetime.UTC)
OPERATOR_IBAN = french_iban("20041", "01005", "0500013M026")

_accounts = iter(range(10_000_000_000, 10_000_100_000))


def creditor() -> Creditor:
    return Creditor(
        name="Operateur tierspayant",
        iban=OPERATOR_IBAN,
        bic="PSSTFRPP",
        creditor_id="FR72ZZZ123456",
    )


def cfg(**extra: object) -> SettlementConfig:
    return SettlementConfig(
        keys=settings.TIERSPAYANT_KEYRING.encryption,
        creditor=creditor(),
        **extra,  # type: ignore[arg-type]
    )


def paid_professional(name: str = "Pharmacie du Port") -> Professional:
    professional = make_professional()
    register_first_bank_account(
        settings.TIERSPAYANT_KEYRING.encryption,
        professional=professional,
        iban=french_iban("30004", "00003", str(next(_accounts))[-11:]),
        bic="BNPAFRPP",
        holder_name=name,
        now=T0 - datetime.timedelta(days=60),
    )
    return professional


def member(insurer: Insurer) -> Beneficiary:
    return make_beneficiary(contract=ContractFactory(insurer=insurer))


def accepted_invoice(
    professional: Professional,
    beneficiary: Beneficiary,
    number: str,
    amc: str,
    *,
    at: datetime.datetime = T0,
    family: str = "pharmacy",
    code: tuple[str, str] = ("CIP13", "3400936963504"),
    amo: str = "10.00",
    rac: str = "1.00",
) -> Invoice:
    """An invoice accepted at ``at`` for ``amc`` euros (one line), with its received and
    accepted events."""
    amc_d, amo_d, rac_d = D(amc), D(amo), D(rac)
    billed = amc_d + amo_d + rac_d
    invoice = Invoice.objects.create(
        professional=professional,
        beneficiary=beneficiary,
        insurer=beneficiary.contract.insurer,
        invoice_number=number,
        care_date=at.date() - datetime.timedelta(days=2),
        insurance_nature="10",
        exemption="0",
        amo_regime="1",
        local_regime="0",
        status="",
        reasons=[],
        total_billed=billed,
        total_amo=amo_d,
        total_amc=amc_d,
        total_rac=rac_d,
        received_at=at,
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        code_system=CodeSystem(code[0]),
        code=code[1],
        family=family,
        quantity=1,
        unit_price=billed,
        billed=billed,
        br=billed,
        amo_rate=D("65.00"),
        amo_paid=amo_d,
        participation_forfaitaire=D("0.00"),
        franchise=D("0.00"),
        amc=amc_d,
        rac=rac_d,
    )
    append_event(invoice, K.RECEIVED, at=at)
    append_event(invoice, K.ACCEPTED, at=at, detail=EventDetail(amount=amc_d))
    return invoice


def rejected_invoice(
    professional: Professional, beneficiary: Beneficiary, number: str, *, at: datetime.datetime
) -> Invoice:
    row = Invoice.objects.create(
        professional=professional,
        beneficiary=beneficiary,
        insurer=beneficiary.contract.insurer,
        invoice_number=number,
        care_date=at.date(),
        insurance_nature="10",
        exemption="0",
        amo_regime="1",
        local_regime="0",
        status="",
        reasons=[{"code": "RIGHTS_CLOSED"}],
        total_billed=D("30.00"),
        total_amo=D("19.50"),
        total_amc=D("0.00"),
        total_rac=D("10.50"),
        received_at=at,
    )
    append_event(row, K.RECEIVED, at=at)
    append_event(row, K.REJECTED, at=at, detail=EventDetail(reason_codes=["RIGHTS_CLOSED"]))
    return row


def pay_run(
    directory: Path,
    *,
    now: datetime.datetime,
    paid: list[tuple[Professional, list[Invoice]]],
    reference: str | None = None,
) -> PaymentRun:
    """A payment run as ``run_payments`` leaves it once the pay branch writes events: one
    transfer per professional and insurer for the AMC of its invoices, one pain.001 record per
    insurer (control sum), a ``paid`` event per invoice (reference: the transfer)."""
    reference = reference or f"RUN-{now:%Y%m%d-%H%M%S}-T{len(paid):03d}"
    run = PaymentRun.objects.create(
        reference=reference,
        created_at=now,
        execution_date=now.date(),
        directory=str(directory / reference),
        total=D("0.00"),
    )
    per_insurer: dict[int, list[Transfer]] = {}
    sequence = 0
    for professional, invoices in paid:
        groups: dict[int, list[Invoice]] = {}
        for invoice in invoices:
            groups.setdefault(invoice.insurer_id, []).append(invoice)  # type: ignore[arg-type]
        for insurer_id, group in groups.items():
            sequence += 1
            transfer = Transfer.objects.create(
                run=run,
                insurer_id=insurer_id,
                professional=professional,
                bank_account=professional.bank_accounts.get(),
                end_to_end_id=f"{reference}-{sequence}",
                amount=sum((i.total_amc for i in group), D("0.00")),
            )
            per_insurer.setdefault(insurer_id, []).append(transfer)
            for invoice in group:
                append_event(
                    invoice,
                    K.PAID,
                    at=now,
                    detail=EventDetail(
                        amount=invoice.total_amc,
                        reference=transfer.end_to_end_id,
                        value_date=now.date(),
                    ),
                )
    for insurer_id, transfers in per_insurer.items():
        insurer = Insurer.objects.get(pk=insurer_id)
        SepaFile.objects.create(
            run=run,
            insurer=insurer,
            file_name=f"virements-{insurer.amc_number}.xml",
            sha256="0" * 64,
            message_id=f"{reference}-{insurer.amc_number}"[:35],
            transaction_count=len(transfers),
            control_sum=sum((t.amount for t in transfers), D("0.00")),
        )
    run.transfer_count = sequence
    run.total = sum((t.amount for ts in per_insurer.values() for t in ts), D("0.00"))
    run.save()
    return run


def fund(insurer: Insurer, mode: str, account: str, **extra: object) -> None:
    defaults: dict[str, object] = {
        "mandate_id": f"MANDAT-{insurer.amc_number}" if mode == "direct_debit" else "",
        "mandate_date": datetime.date(2024, 12, 1) if mode == "direct_debit" else None,
    }
    defaults.update(extra)
    set_funding(
        settings.TIERSPAYANT_KEYRING.encryption,
        insurer=insurer,
        mode=mode,
        account_name=f"Mutuelle {insurer.amc_number}",
        iban=french_iban("10278", "06076", account),
        bic="CMCIFR2A",
        now=T0,
        **defaults,  # type: ignore[arg-type]
    )


def events_of(kind: str) -> list[InvoiceEvent]:
    return list(InvoiceEvent.objects.filter(kind=kind).order_by("id"))
