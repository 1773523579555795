"""Each insurer's settlement of a payment run (issue 16 part 6): the export, notice and
pain.008 agree with the run's transfers; every paid line appears once, in exactly one
insurer's export; a failure in the settlement rolls the whole run back."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import xml.etree.ElementTree as ET
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from pypdf import PdfReader

from tests.care.conftest import NOW, TODAY, french_iban, invoice, make_patient
from tests.coverage.builders import SHARED
from tests.factories import InsurerFactory, make_accepted_invoice
from tests.settlement.builders import (
    OPERATOR_IBAN,
    T0,
    accepted_invoice,
    cfg,
    fund,
    member,
    paid_professional,
    pay_run,
    rejected_invoice,
)
from tierspayant.claims.choices import ClaimStatus
from tierspayant.claims.models import Claim
from tierspayant.corrections.models import LedgerEntry
from tierspayant.invoices.choices import InvoiceEventKind
from tierspayant.invoices.lifecycle import EventDetail, append_event
from tierspayant.invoices.models import Invoice, InvoiceEvent
from tierspayant.payments.models import PaymentRun, SepaFile, Transfer
from tierspayant.payments.sepa import Debtor, SepaFileInvalid, read_pain001
from tierspayant.payments.services import run_payments
from tierspayant.settlement.files import EXPORT_HEADER, export_csv, validate_debit, write_export
from tierspayant.settlement.models import InsurerFunding, InsurerSettlement
from tierspayant.settlement.services import (
    InvalidFunding,
    SettlementConfig,
    SettlementMismatch,
    insurer_debtors,
    run_with_settlement,
    set_funding,
    write_settlement,
)

pytestmark = pytest.mark.django_db
D = Decimal
K = InvoiceEventKind
SEPA = SHARED / "fixtures" / "sepa"
PAIN001_XSD = SEPA / "pain.001.001.09.xsd"
PAIN008_XSD = SEPA / "pain.008.001.08.xsd"


def rows_of(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes()
    assert text.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))


def notice_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def settle(run: PaymentRun, directory: Path, **extra: object) -> Path:
    staging = directory / "staging"
    staging.mkdir(parents=True)
    with transaction.atomic():
        write_settlement(run, staging, config=cfg(**extra))
    return staging


@pytest.fixture
def two_insurers(tmp_path: Path) -> dict:
    """Insurer A debited by the operator, insurer B paying from its own account; three
    professionals; in the run: A 3 invoices over 2 transfers, B 2 invoices over 2 transfers
    (one professional is paid by both); before it, a rejection (A) and a cancellation (B)."""
    alpha = InsurerFactory(amc_number="81000001", name="Mutuelle Alpha")
    beta = InsurerFactory(amc_number="82000002", name="Mutuelle Bêta")
    fund(alpha, "direct_debit", "00000000001")
    fund(beta, "own_account", "00000000002")
    first, second, third = paid_professional(), paid_professional(), paid_professional()
    a_member, b_member = member(alpha), member(beta)
    a1 = accepted_invoice(first, a_member, "A-1", "12.34")
    a2 = accepted_invoice(first, a_member, "A-2", "100.00", family="optical_frame")
    a3 = accepted_invoice(second, a_member, "A-3", "7.05")
    b1 = accepted_invoice(first, b_member, "B-1", "40.00", family="dental_care")
    b2 = accepted_invoice(third, b_member, "B-2", "0.51")
    rejected_invoice(second, a_member, "A-R", at=T0 + datetime.timedelta(hours=1))
    voided = accepted_invoice(third, b_member, "B-X", "9.99")
    append_event(voided, K.CANCELLED, at=T0 + datetime.timedelta(hours=2))
    run = pay_run(
        tmp_path,
        now=T0 + datetime.timedelta(days=1),
        paid=[(first, [a1, a2, b1]), (second, [a3]), (third, [b2])],
    )
    return {
        "alpha": alpha,
        "beta": beta,
        "run": run,
        "members": [a_member, b_member],
        "directory": tmp_path,
    }


def test_each_insurers_export_notice_and_debit_agree_with_its_transfers(two_insurers) -> None:
    world = two_insurers
    run = world["run"]
    staging = settle(run, world["directory"])

    assert sorted(p.name for p in staging.iterdir()) == [
        "avis-reglement-81000001.pdf",
        "avis-reglement-82000002.pdf",
        "prelevement-81000001.xml",  # the direct-debit insurer only
        "reglement-81000001.csv",
        "reglement-82000002.csv",
    ]
    exported: list[str] = []
    for insurer, expected in ((world["alpha"], D("119.39")), (world["beta"], D("40.51"))):
        amc = insurer.amc_number
        rows = rows_of(staging / f"reglement-{amc}.csv")
        assert list(rows[0]) == EXPORT_HEADER
        paid = [r for r in rows if r["evenement"] == "paid"]
        paid_total = sum((D(r["montant"]) for r in paid), D("0.00"))
        control_sum = SepaFile.objects.get(run=run, insurer=insurer).control_sum
        settlement = InsurerSettlement.objects.get(run=run, insurer=insurer)
        # The invariant: export paid total == control sum == notice total == row's total.
        assert paid_total == control_sum == settlement.paid_total == expected
        assert settlement.net_total == expected and settlement.recovered_total == D("0.00")
        text = notice_text(staging / f"avis-reglement-{amc}.pdf")
        assert f"Total payé {expected:.2f}" in text
        assert f"Virements émis (somme de contrôle) {settlement.transfer_count} {expected:.2f}" in (
            text
        )
        # Each paid row names a transfer of this run of that insurer, for that amount.
        for row in paid:
            transfer = Transfer.objects.get(end_to_end_id=row["reference_virement"])
            assert transfer.run_id == run.pk and transfer.insurer_id == insurer.pk
            assert all(r["numero_amc"] == amc for r in rows)
        exported += [r["facture_id"] for r in paid]
    # Every paid line once, in exactly one insurer's export.
    paid_ids = sorted(str(e.invoice_id) for e in InvoiceEvent.objects.filter(kind=K.PAID))
    assert sorted(exported) == paid_ids and len(set(exported)) == len(exported) == 5


def test_the_export_rows_carry_the_contract_and_no_personal_data(two_insurers) -> None:
    world = two_insurers
    staging = settle(world["run"], world["directory"])
    rows = rows_of(staging / "reglement-81000001.csv")
    a_member = world["members"][0]
    assert [(r["numero_facture"], r["evenement"], r["montant"]) for r in rows] == [
        ("A-1", "paid", "12.34"),
        ("A-2", "paid", "100.00"),
        ("A-3", "paid", "7.05"),
        ("A-R", "rejected", ""),
    ]
    first = rows[0]
    assert first["campagne"] == world["run"].reference
    assert first["beneficiaire"] == str(a_member.pk)  # the internal id (UUID)
    assert first["codes"] == "CIP13:3400936963504"
    assert (first["br"], first["amo"], first["amc"], first["reste_a_charge"]) == (
        "23.34",
        "10.00",
        "12.34",
        "1.00",
    )
    assert rows[3]["codes_motifs"] == "RIGHTS_CLOSED"
    beta_rows = rows_of(staging / "reglement-82000002.csv")
    assert [(r["numero_facture"], r["evenement"]) for r in beta_rows] == [
        ("B-1", "paid"),
        ("B-2", "paid"),
        ("B-X", "cancelled"),
    ]
    settlement = InsurerSettlement.objects.get(insurer=world["alpha"])
    assert settlement.totals_by_domain == {"optical": "100.00", "pharmacy": "19.39"}
    assert (settlement.paid_count, settlement.rejected_count, settlement.cancelled_count) == (
        3,
        1,
        0,
    )
    keys = settings.TIERSPAYANT_KEYRING.encryption
    text = (staging / "reglement-81000001.csv").read_text("utf-8-sig") + notice_text(
        staging / "avis-reglement-81000001.pdf"
    )
    assert a_member.nir(keys) not in text and a_member.last_name not in text
    assert a_member.birth_date(keys).isoformat() not in text


def test_the_direct_debit_collects_the_insurers_run_total_under_its_mandate(
    two_insurers,
) -> None:
    world = two_insurers
    staging = settle(world["run"], world["directory"])
    xml = (staging / "prelevement-81000001.xml").read_bytes()
    validate_debit(xml, PAIN008_XSD)  # the official schema of ../shared, read in place
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}
    root = ET.fromstring(xml)  # noqa: S314 - our own file
    funding = InsurerFunding.objects.get(insurer=world["alpha"])
    assert root.findtext(".//p:GrpHdr/p:CtrlSum", None, ns) == "119.39"
    assert root.findtext(".//p:DrctDbtTxInf/p:InstdAmt", None, ns) == "119.39"
    assert root.findtext(".//p:MndtRltdInf/p:MndtId", None, ns) == "MANDAT-81000001"
    assert root.findtext(".//p:DbtrAcct/p:Id/p:IBAN", None, ns) == funding.iban(
        settings.TIERSPAYANT_KEYRING.encryption
    )
    assert root.findtext(".//p:CdtrAcct/p:Id/p:IBAN", None, ns) == OPERATOR_IBAN
    assert root.findtext(".//p:CdtrSchmeId//p:Othr/p:Id", None, ns) == "FR72ZZZ123456"
    settlement = InsurerSettlement.objects.get(insurer=world["alpha"])
    assert settlement.debit_name == "prelevement-81000001.xml"
    assert "Prélèvement SEPA de 119.39 EUR" in notice_text(staging / "avis-reglement-81000001.pdf")


def test_an_overpayment_netted_in_the_run_is_a_recovered_line_and_the_net_is_funded(
    tmp_path,
) -> None:
    alpha = InsurerFactory(amc_number="81000001", name="Mutuelle Alpha")
    pro = paid_professional()
    someone = member(alpha)
    old = accepted_invoice(pro, someone, "OLD-1", "30.00")
    append_event(old, K.CANCELLED, at=T0, detail=EventDetail(amount=D("30.00")))
    new = accepted_invoice(pro, someone, "NEW-1", "50.00", at=T0 + datetime.timedelta(hours=1))
    now = T0 + datetime.timedelta(days=1)
    run = pay_run(tmp_path, now=now, paid=[(pro, [new])])
    # The pay branch nets 30.00: the transfer carries 20.00 and OLD-1 gets a recovered event.
    transfer = Transfer.objects.get(run=run)
    Transfer.objects.filter(pk=transfer.pk).update(amount=D("20.00"))
    SepaFile.objects.filter(run=run).update(control_sum=D("20.00"))
    append_event(
        old, K.RECOVERED, at=now, detail=EventDetail(amount=D("30.00"), reference=run.reference)
    )
    staging = settle(run, tmp_path)
    rows = rows_of(staging / "reglement-81000001.csv")
    assert [(r["numero_facture"], r["evenement"], r["montant"]) for r in rows] == [
        ("NEW-1", "paid", "50.00"),
        ("OLD-1", "recovered", "30.00"),
        ("OLD-1", "cancelled", "30.00"),
    ]
    settlement = InsurerSettlement.objects.get()
    assert (settlement.paid_total, settlement.recovered_total, settlement.net_total) == (
        D("50.00"),
        D("30.00"),
        D("20.00"),
    )
    assert settlement.net_total == settlement.control_sum


def test_rejections_and_cancellations_appear_in_one_settlement_only(tmp_path) -> None:
    alpha = InsurerFactory(amc_number="81000001", name="Mutuelle Alpha")
    pro = paid_professional()
    someone = member(alpha)
    first_paid = accepted_invoice(pro, someone, "P-1", "10.00")
    rejected_invoice(pro, someone, "R-1", at=T0 + datetime.timedelta(hours=1))
    first = pay_run(tmp_path, now=T0 + datetime.timedelta(days=1), paid=[(pro, [first_paid])])
    settle(first, tmp_path / "1")
    later = T0 + datetime.timedelta(days=2)
    second_paid = accepted_invoice(pro, someone, "P-2", "20.00", at=later)
    rejected_invoice(pro, someone, "R-2", at=later)
    second = pay_run(tmp_path, now=T0 + datetime.timedelta(days=3), paid=[(pro, [second_paid])])
    staging = settle(second, tmp_path / "2")
    rows = rows_of(staging / "reglement-81000001.csv")
    assert [(r["numero_facture"], r["evenement"]) for r in rows] == [
        ("P-2", "paid"),
        ("R-2", "rejected"),
    ]
    first_rows = rows_of(tmp_path / "1" / "staging" / "reglement-81000001.csv")
    assert [r["numero_facture"] for r in first_rows] == ["P-1", "R-1"]


# --- the run itself: pay and settle in one transaction ------------------------------------


def debtor() -> Debtor:
    return Debtor(name="Operateur tierspayant", iban=OPERATOR_IBAN, bic="PSSTFRPP")


def _nothing_left(output: Path) -> None:
    assert PaymentRun.objects.count() == 0
    assert InsurerSettlement.objects.count() == 0
    assert set(Claim.objects.values_list("status", flat=True)) == {ClaimStatus.ACCEPTED}
    assert list(output.iterdir()) == []


@pytest.fixture
def debited_claim(config, paid_optician) -> Claim:
    """An accepted claim of an insurer the operator debits."""
    patient = make_patient()
    invoice(config, paid_optician, patient, "F-1")
    fund(patient.beneficiary.contract.insurer, "direct_debit", "00000000007")
    return Claim.objects.get()


def test_a_pain008_failing_its_schema_rolls_the_whole_run_back(debited_claim, tmp_path) -> None:
    output = tmp_path / "out"
    with pytest.raises(SepaFileInvalid):
        run_payments(
            keys=settings.TIERSPAYANT_KEYRING.encryption,
            debtor=debtor(),
            output_dir=output,
            now=NOW,
            execution_date=TODAY,
            xsd=PAIN001_XSD,
            on_staged=partial(_paid_then_settle, cfg=cfg(debit_xsd=PAIN001_XSD)),
        )
    _nothing_left(output)


def test_an_unwritable_settlement_file_rolls_the_whole_run_back(debited_claim, tmp_path) -> None:
    """Disk full, simulated: the export's path is taken by a directory, so writing it fails
    (an OSError, as ENOSPC would be)."""
    output = tmp_path / "out"
    amc = debited_claim.insurer.amc_number

    def blocked(run: PaymentRun, staging: Path) -> None:
        (staging / f"reglement-{amc}.csv").mkdir()
        _paid_then_settle(run, staging, cfg=cfg())

    with pytest.raises(IsADirectoryError):
        run_payments(
            keys=settings.TIERSPAYANT_KEYRING.encryption,
            debtor=debtor(),
            output_dir=output,
            now=NOW,
            execution_date=TODAY,
            xsd=PAIN001_XSD,
            on_staged=blocked,
        )
    _nothing_left(output)


def test_an_export_that_does_not_add_up_rolls_the_whole_run_back(
    debited_claim, paid_optician, tmp_path
) -> None:
    """A paid line the transfers do not carry (here a stray ``paid`` event naming the run,
    as an inconsistent write would leave) makes the export differ from the control sum: the
    run is refused whole."""
    output = tmp_path / "out"
    stray = make_accepted_invoice(paid_optician, amc="10.00", number="F-STRAY")

    def inconsistent(run: PaymentRun, staging: Path) -> None:
        append_event(
            stray,
            InvoiceEventKind.PAID,
            at=NOW,
            detail=EventDetail(amount=D("10.00"), reference=run.reference),
        )
        _paid_then_settle(run, staging, cfg=cfg())

    with pytest.raises(SettlementMismatch) as caught:
        run_payments(
            keys=settings.TIERSPAYANT_KEYRING.encryption,
            debtor=debtor(),
            output_dir=output,
            now=NOW,
            execution_date=TODAY,
            xsd=PAIN001_XSD,
            on_staged=inconsistent,
        )
    assert "incohérent" in caught.value.message
    _nothing_left(output)


def _paid_then_settle(run: PaymentRun, staging: Path, *, cfg: SettlementConfig) -> None:
    write_settlement(run, staging, config=cfg)


def test_an_own_account_insurer_pays_its_transfers_from_its_account(
    config, paid_optician, tmp_path
) -> None:
    patient = make_patient()
    invoice(config, paid_optician, patient, "F-1")
    insurer = patient.beneficiary.contract.insurer
    fund(insurer, "own_account", "00000000009")
    result = run_with_settlement(
        config=_settlement_config(),
        debtor=debtor(),
        output_dir=tmp_path,
        now=NOW,
        execution_date=TODAY,
        xsd=PAIN001_XSD,
    )
    directory = Path(result.run.directory)
    xml = (directory / f"virements-{insurer.amc_number}.xml").read_bytes()
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    debtor_iban = ET.fromstring(xml).findtext(".//p:DbtrAcct/p:Id/p:IBAN", None, ns)  # noqa: S314
    assert debtor_iban == french_iban("10278", "06076", "00000000009")
    assert read_pain001(xml)[0]["amount"] == "200.00"
    settlement = InsurerSettlement.objects.get()
    assert settlement.funding_mode == "own_account" and settlement.debit_name == ""
    assert (directory / settlement.export_name).is_file()
    assert (directory / settlement.notice_name).is_file()


def _settlement_config():  # type: ignore[no-untyped-def]
    from tierspayant.settlement.services import settlement_config

    return settlement_config(settings)


def test_the_command_pays_and_settles(config, paid_optician, tmp_path, capsys) -> None:
    patient = make_patient()
    invoice(config, paid_optician, patient, "F-1")
    call_command("payment_run", "--output", str(tmp_path))
    out = capsys.readouterr().out
    amc = patient.beneficiary.contract.insurer.amc_number
    assert f"Règlement AMC {amc} :" in out
    settlement = InsurerSettlement.objects.get()
    assert (Path(settlement.run.directory) / f"reglement-{amc}.csv").is_file()


def test_a_real_run_pays_invoices_and_settles(config, paid_optician, tmp_path) -> None:
    """End to end: an accepted claim, paid by the real run with the settlement hook: the
    export's paid total equals the insurer's control sum and every paid event is exported
    once."""
    patient = make_patient()
    invoice(config, paid_optician, patient, "F-1")
    fund(patient.beneficiary.contract.insurer, "direct_debit", "00000000008")
    result = run_with_settlement(
        config=_settlement_config(),
        debtor=debtor(),
        output_dir=tmp_path,
        now=NOW,
        execution_date=TODAY,
        xsd=PAIN001_XSD,
    )
    settlement = InsurerSettlement.objects.get(run=result.run)
    sepa_file = SepaFile.objects.get(run=result.run)
    assert settlement.paid_count == InvoiceEvent.objects.filter(kind=K.PAID).count() >= 1
    assert settlement.net_total == sepa_file.control_sum == settlement.paid_total
    rows = rows_of(Path(result.run.directory) / settlement.export_name)
    assert sum(D(r["montant"]) for r in rows if r["evenement"] == "paid") == sepa_file.control_sum


def test_an_invoice_wholly_netted_is_in_the_export_without_a_transfer(
    config, paid_optician, tmp_path
) -> None:
    """The professional owes more than the run owes them: no transfer, but the invoice the
    run paid by netting (its ``paid`` event names the run) and the recovery are both lines
    of the insurer's export, and the net is zero."""
    patient = make_patient()
    invoice(config, paid_optician, patient, "F-1")
    due = Invoice.objects.get(invoice_number="F-1")
    old = make_accepted_invoice(
        paid_optician, amc="900.00", number="F-0", beneficiary=patient.beneficiary
    )
    for kind in (InvoiceEventKind.PAID, InvoiceEventKind.CANCELLED):
        append_event(old, kind, at=NOW - datetime.timedelta(days=3))
    LedgerEntry.objects.create(
        professional=paid_optician,
        insurer_id=old.insurer_id,
        invoice=old,
        kind="overpayment",
        amount=D("900.00"),
        at=NOW - datetime.timedelta(days=3),
    )
    result = run_with_settlement(
        config=_settlement_config(),
        debtor=debtor(),
        output_dir=tmp_path,
        now=NOW,
        execution_date=TODAY,
        xsd=PAIN001_XSD,
    )
    assert not Transfer.objects.filter(run=result.run).exists()
    settlement = InsurerSettlement.objects.get(run=result.run)
    assert (settlement.paid_total, settlement.recovered_total, settlement.net_total) == (
        due.total_amc,
        due.total_amc,
        D("0.00"),
    )
    rows = rows_of(Path(result.run.directory) / settlement.export_name)
    assert [
        (r["numero_facture"], r["evenement"], r["reference_virement"], r["montant"]) for r in rows
    ] == [
        ("F-1", "paid", "", f"{due.total_amc:.2f}"),
        ("F-0", "recovered", "", f"{due.total_amc:.2f}"),
        ("F-0", "cancelled", "", ""),  # cancelled since the insurer's last settlement
    ]


# --- funding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"iban": "FR7630004000031234567890144"}, "iban"),  # wrong check digits
        ({"bic": "XYZ"}, "bic"),
        ({"account_name": "\x00"}, "holder_name"),
        ({"mode": "cash"}, "mode"),
        ({"mandate_id": ""}, "mandate_id"),
        ({"mandate_date": None}, "mandate_date"),
        ({"payment_delay_days": 400}, "payment_delay_days"),
    ],
)
def test_a_funding_the_platform_cannot_use_is_refused_naming_the_field(changes, field) -> None:
    insurer = InsurerFactory()
    values: dict[str, object] = {
        "mode": "direct_debit",
        "account_name": "Mutuelle Alpha",
        "iban": french_iban("10278", "06076", "00000000001"),
        "bic": "CMCIFR2A",
        "mandate_id": "MANDAT-1",
        "mandate_date": datetime.date(2024, 12, 1),
        "payment_delay_days": 7,
    }
    values.update(changes)
    with pytest.raises(InvalidFunding) as caught:
        set_funding(settings.TIERSPAYANT_KEYRING.encryption, insurer=insurer, now=T0, **values)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert InsurerFunding.objects.count() == 0


def test_the_insurers_iban_is_stored_encrypted_and_shown_masked() -> None:
    insurer = InsurerFactory()
    iban = french_iban("10278", "06076", "00000000001")
    fund(insurer, "own_account", "00000000001")
    funding = InsurerFunding.objects.get()
    assert iban not in funding.iban_ciphertext
    assert funding.iban_masked == f"{iban[:4]} … {iban[-4:]}"
    assert funding.payment_delay_days == 7
    keys = settings.TIERSPAYANT_KEYRING.encryption
    assert insurer_debtors(keys) == {
        insurer.pk: Debtor(name=f"Mutuelle {insurer.amc_number}", iban=iban, bic="CMCIFR2A")
    }
    # An update without IBAN keeps the one on file.
    set_funding(
        keys,
        insurer=insurer,
        mode="own_account",
        account_name="Mutuelle renommée",
        iban="",
        bic="CMCIFR2A",
        payment_delay_days=10,
        now=T0,
    )
    funding.refresh_from_db()
    assert funding.iban(keys) == iban and funding.payment_delay_days == 10


def test_the_export_is_written_in_batches_and_its_hash_recorded(two_insurers, tmp_path) -> None:
    from tierspayant.settlement import services

    world = two_insurers
    staging = settle(world["run"], world["directory"])
    settlement = InsurerSettlement.objects.get(insurer=world["alpha"])
    data = (staging / settlement.export_name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == settlement.export_sha256
    # The same rows, batch by batch, give the same bytes as in one piece.
    rows = [
        row
        for chunk in services.settlement_events(world["run"], world["alpha"].pk)
        for row in services._rows(world["run"], world["alpha"], [chunk], services._Totals())
    ]
    assert len(rows) == 4
    assert (
        write_export(tmp_path / "x.csv", rows, batch=3)
        == hashlib.sha256(export_csv(rows)).hexdigest()
    )
    assert (tmp_path / "x.csv").read_bytes() == export_csv(rows) == data


def test_the_settlements_queries_do_not_grow_with_its_lines(tmp_path) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for number, size in ((1, 2), (2, 7)):
        insurer = InsurerFactory(amc_number=f"8{number}000000")
        fund(insurer, "direct_debit", f"0000000000{number}")
        pro, someone = paid_professional(), member(insurer)
        paid = [accepted_invoice(pro, someone, f"{number}-{i}", "1.00") for i in range(size)]
        run = pay_run(tmp_path, now=T0 + datetime.timedelta(days=number), paid=[(pro, paid)])
        staging = tmp_path / str(number)
        staging.mkdir()
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            write_settlement(run, staging, config=cfg())
        counts.append(len(queries))
        assert InsurerSettlement.objects.get(run=run).paid_count == size
    assert counts[0] == counts[1]
