"""Payment runs on invoices (issue 16 parts 4 and 5): every channel's invoice is paid once
with a ``paid`` event naming its transfer; claims are paid through their invoice; a run nets
the professional's overpayments (oldest first, partial recoveries, carry-forward when they
exceed what is due); a returned transfer reopens exactly its invoices and gives the
recoveries back to the ledger."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from tests.care.bank_files import camt054
from tests.care.conftest import NOW, TODAY, approve, french_iban, invoice, make_patient
from tests.coverage.builders import SHARED, TABLES_DIR
from tests.factories import make_accepted_invoice, make_beneficiary, make_professional
from tests.invoices.builders import invoice as lot_invoice
from tests.invoices.builders import line
from tests.invoices.conftest import _loaded_nomenclatures, nomenclatures  # noqa: F401 - fixtures
from tierspayant.claims.choices import ClaimStatus
from tierspayant.corrections.choices import LedgerEntryKind
from tierspayant.corrections.models import LedgerEntry
from tierspayant.corrections.selectors import balance
from tierspayant.coverage import History, load_guarantee_table
from tierspayant.invoices.choices import InvoiceEventKind as K
from tierspayant.invoices.choices import InvoiceStatus, LotFormat, LotStatus
from tierspayant.invoices.lifecycle import EventDetail, append_event
from tierspayant.invoices.models import Invoice, InvoiceEvent, Lot
from tierspayant.invoices.services import record_invoice
from tierspayant.payments.bank_returns import import_bank_returns
from tierspayant.payments.models import (
    PaymentRun,
    SepaFile,
    Statement,
    Transfer,
    TransferLine,
)
from tierspayant.payments.sepa import Debtor, read_pain001
from tierspayant.payments.services import NothingToPay, RunResult, run_payments
from tierspayant.priorauth.lpp import LineInput
from tierspayant.providers.banking import (
    confirm_bank_account_change,
    register_first_bank_account,
    request_bank_account_change,
)
from tierspayant.providers.choices import Profession
from tierspayant.providers.models import Professional
from tierspayant.registry.models import Beneficiary

pytestmark = pytest.mark.django_db
KEYS = settings.TIERSPAYANT_KEYRING.encryption
XSD = SHARED / "fixtures" / "sepa" / "pain.001.001.09.xsd"
D = Decimal
EARLIER = NOW - datetime.timedelta(days=40)


def _run(tmp_path: Path, now: datetime.datetime = NOW) -> RunResult:
    return run_payments(
        keys=KEYS,
        debtor=Debtor("Operateur", french_iban("30002", "00550", "0000157841Z"), "CRLYFRPP"),
        output_dir=tmp_path,
        now=now,
        execution_date=TODAY,
        xsd=XSD,
    )


def _with_account(professional: Professional) -> Professional:
    register_first_bank_account(
        KEYS,
        professional=professional,
        iban=french_iban("30004", "00003", "12345678901"),
        bic="BNPAFRPP",
        holder_name="Pharmacie de la Gare",
        now=NOW - datetime.timedelta(days=60),
    )
    return professional


@pytest.fixture
def pharmacist(db: None) -> Professional:
    return _with_account(
        make_professional(profession=Profession.PHARMACIST, specialty_code="50", email="ph@e.org")
    )


@pytest.fixture
def beneficiary(db: None) -> Beneficiary:
    return make_beneficiary()


def _overpaid(
    professional: Professional,
    beneficiary: Beneficiary,
    amount: str,
    number: str,
    at: datetime.datetime = EARLIER,
) -> Invoice:
    """An invoice paid before, then cancelled: the professional owes its AMC back (the
    ledger entry the ``life`` branch's cancellation writes)."""
    row = make_accepted_invoice(
        professional, amc=amount, number=number, beneficiary=beneficiary, at=at
    )
    with transaction.atomic():
        append_event(
            row,
            K.PAID,
            at=at,
            detail=EventDetail(amount=D(amount), reference="OLD-1", value_date=at.date()),
        )
        append_event(row, K.CANCELLED, at=at + datetime.timedelta(days=1))
    LedgerEntry.objects.create(
        professional=professional,
        insurer_id=row.insurer_id,
        invoice=row,
        kind=LedgerEntryKind.OVERPAYMENT,
        amount=D(amount),
        reason="Facture annulée après paiement",
        at=at + datetime.timedelta(days=1),
    )
    return row


def _csv(result: RunResult, professional: Professional) -> list[dict[str, str]]:
    text = (Path(result.run.directory) / f"releve-{professional.pk}.csv").read_text("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def _kinds(row: Invoice) -> list[str]:
    return list(InvoiceEvent.objects.filter(invoice=row).values_list("kind", flat=True))


def _paid_events_name_this_runs_transfers(result: RunResult) -> None:
    """Every paid event of the run names one of its transfers (or the run itself when the
    invoice was paid wholly by netting), carries the execution date and the invoice's AMC."""
    transfers = set(Transfer.objects.filter(run=result.run).values_list("end_to_end_id", flat=True))
    lines = TransferLine.objects.filter(run=result.run).select_related("invoice", "transfer")
    assert lines.count() == result.run.claim_count
    for paid in lines:
        [event] = InvoiceEvent.objects.filter(
            invoice=paid.invoice, kind=K.PAID, at=result.run.created_at
        )
        expected = paid.transfer.end_to_end_id if paid.transfer else result.run.reference
        assert (event.reference, event.value_date, event.amount, event.actor_kind) == (
            expected,
            TODAY,
            paid.invoice.total_amc,
            "system",
        )
        assert event.reference in transfers | {result.run.reference}


@pytest.mark.usefixtures("nomenclatures")
def test_a_pharmacy_lot_invoice_is_paid_by_a_run_with_a_paid_event(pharmacist, tmp_path) -> None:
    lot = Lot.objects.create(
        professional=pharmacist,
        format=LotFormat.JSONL,
        channel="api",
        declared_count=1,
        declared_total=D("12.81"),
        status=LotStatus.DONE,
        total_amc=D("0.00"),
        received_at=NOW - datetime.timedelta(days=2),
    )
    row = record_invoice(
        lot_invoice(
            line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33", franchise="1.00")
        ),
        professional=pharmacist,
        beneficiary=make_beneficiary(),
        table=load_guarantee_table(TABLES_DIR / "essentiel.json"),
        beneficiary_age=45,
        history=History(),
        now=NOW - datetime.timedelta(days=2),
        lot=lot,
    )
    assert (row.status, row.total_amc) == (InvoiceStatus.ACCEPTED, D("4.48"))

    result = _run(tmp_path)

    row.refresh_from_db()
    assert row.status == InvoiceStatus.PAID
    assert _kinds(row) == ["received", "acknowledged", "accepted", "paid"]
    [transfer] = Transfer.objects.filter(run=result.run)
    assert (transfer.professional_id, transfer.amount) == (pharmacist.pk, D("4.48"))
    [paid] = InvoiceEvent.objects.filter(invoice=row, kind=K.PAID)
    assert (paid.reference, paid.value_date, paid.amount) == (
        transfer.end_to_end_id,
        TODAY,
        D("4.48"),
    )
    _paid_events_name_this_runs_transfers(result)
    [statement_row] = _csv(result, pharmacist)
    assert (statement_row["facture"], statement_row["part_amc"], statement_row["nature"]) == (
        "F-0001",
        "4.48",
        "paiement",
    )


def test_a_claim_is_mirrored_by_an_invoice_and_paid_through_it(
    config, paid_optician, tmp_path
) -> None:
    hearing = [LineInput(code="2351057", billed="950.00")]
    claim = invoice(config, paid_optician, make_patient(), "F-1", hearing).claim
    mirror = claim.invoice
    assert mirror is not None
    assert (mirror.invoice_number, mirror.insurer_id, mirror.status, mirror.total_amc) == (
        "F-1",
        claim.insurer_id,
        InvoiceStatus.ACCEPTED,
        D("710.00"),
    )
    [mirrored] = mirror.lines.all()
    [claimed] = claim.lines.all()
    assert (
        mirrored.code_system,
        mirrored.code,
        mirrored.billed,
        mirrored.br,
        mirrored.amo_paid,
        mirrored.amc,
        mirrored.rac,
    ) == ("LPP", "2351057", D("950.00"), claimed.br, D("240.00"), D("710.00"), D("0.00"))
    assert _kinds(mirror) == ["received", "accepted"]

    result = _run(tmp_path)

    claim.refresh_from_db()
    mirror.refresh_from_db()
    assert (claim.status, claim.paid_at, mirror.status) == (ClaimStatus.PAID, NOW, "paid")
    [line_paid] = TransferLine.objects.filter(run=result.run)
    assert (line_paid.invoice_id, line_paid.amount) == (mirror.pk, D("710.00"))
    _paid_events_name_this_runs_transfers(result)


def test_statements_name_the_patient_by_approval_number_never_by_identity(
    config, paid_optician, tmp_path
) -> None:
    patient = make_patient()
    approval = approve(config, paid_optician, patient)
    invoice(config, paid_optician, patient, "F-1", approval=approval.number)
    invoice(config, paid_optician, make_patient(), "F-2")

    result = _run(tmp_path)

    rows = _csv(result, paid_optician)
    assert [(r["facture"], r["reference_patient"]) for r in rows] == [
        ("F-1", approval.number),
        ("F-2", "F-2"),
    ]
    text = (Path(result.run.directory) / f"releve-{paid_optician.pk}.csv").read_text("utf-8-sig")
    assert patient.nir not in text and patient.beneficiary.last_name not in text


def test_a_rejected_claim_is_mirrored_rejected_and_never_paid(
    config, paid_optician, tmp_path
) -> None:
    patient = make_patient(domains=["audio"])  # optics not open: rejected
    claim = invoice(config, paid_optician, patient, "F-1").claim
    assert claim.status == ClaimStatus.REJECTED
    assert claim.invoice.status == InvoiceStatus.REJECTED
    [rejected] = InvoiceEvent.objects.filter(invoice=claim.invoice, kind=K.REJECTED)
    assert rejected.reason_codes == claim.reasons == ["DOMAIN_NOT_OPEN"]
    with pytest.raises(NothingToPay):
        _run(tmp_path)


def test_a_claim_reusing_a_lot_invoice_number_is_a_duplicate(config, paid_optician) -> None:
    make_accepted_invoice(paid_optician, amc="10.00", number="F-1")
    claim = invoice(config, paid_optician, make_patient(), "F-1").claim
    assert (claim.status, claim.reasons, claim.invoice) == (
        ClaimStatus.REJECTED,
        ["DUPLICATE_CLAIM"],
        None,
    )


def test_netting_an_overpayment_smaller_than_what_is_due(pharmacist, beneficiary, tmp_path) -> None:
    over = _overpaid(pharmacist, beneficiary, "30.00", "OLD-1")
    due = make_accepted_invoice(pharmacist, amc="100.00", number="F-100", beneficiary=beneficiary)

    result = _run(tmp_path)

    [transfer] = Transfer.objects.filter(run=result.run)
    assert transfer.amount == D("70.00")
    [sepa_file] = SepaFile.objects.filter(run=result.run)
    xml = (Path(result.run.directory) / sepa_file.file_name).read_bytes()
    assert [tx["amount"] for tx in read_pain001(xml)] == ["70.00"]
    assert sepa_file.control_sum == result.run.total == D("70.00")
    assert [(r["facture"], r["part_amc"], r["nature"]) for r in _csv(result, pharmacist)] == [
        ("F-100", "100.00", "paiement"),
        ("OLD-1", "-30.00", "indu récupéré"),
    ]
    statement = Statement.objects.get(run=result.run)
    assert (statement.total, statement.recovered, statement.claim_count) == (
        D("70.00"),
        D("30.00"),
        1,
    )
    assert balance(pharmacist.pk, beneficiary.contract.insurer_id) == D("0.00")
    [netted] = LedgerEntry.objects.filter(kind=LedgerEntryKind.NETTED)
    assert (netted.invoice_id, netted.amount, netted.run_reference) == (
        over.pk,
        D("-30.00"),
        result.run.reference,
    )
    [recovered] = InvoiceEvent.objects.filter(invoice=over, kind=K.RECOVERED)
    assert (recovered.amount, recovered.reference) == (D("30.00"), result.run.reference)
    assert Invoice.objects.get(pk=over.pk).status == InvoiceStatus.CANCELLED
    assert Invoice.objects.get(pk=due.pk).status == InvoiceStatus.PAID
    _paid_events_name_this_runs_transfers(result)


def test_an_overpayment_larger_than_what_is_due_is_carried_forward(
    pharmacist, beneficiary, tmp_path
) -> None:
    _overpaid(pharmacist, beneficiary, "150.00", "OLD-1")
    due = make_accepted_invoice(pharmacist, amc="100.00", number="F-100", beneficiary=beneficiary)
    insurer_id = beneficiary.contract.insurer_id

    first = _run(tmp_path)

    assert not Transfer.objects.exists() and not SepaFile.objects.exists()
    assert first.run.total == D("0.00") and first.run.claim_count == 1
    due.refresh_from_db()
    assert due.status == InvoiceStatus.PAID
    [paid] = InvoiceEvent.objects.filter(invoice=due, kind=K.PAID)
    assert paid.reference == first.run.reference  # paid wholly by netting, no transfer
    assert TransferLine.objects.get(invoice=due).transfer is None
    assert balance(pharmacist.pk, insurer_id) == D("50.00")
    assert [(r["facture"], r["part_amc"]) for r in _csv(first, pharmacist)] == [
        ("F-100", "100.00"),
        ("OLD-1", "-100.00"),
    ]
    statement = Statement.objects.get(run=first.run)
    assert (statement.total, statement.recovered) == (D("0.00"), D("100.00"))
    _paid_events_name_this_runs_transfers(first)

    # The next run nets the 50 euros carried forward.
    make_accepted_invoice(pharmacist, amc="80.00", number="F-101", beneficiary=beneficiary)
    second = _run(tmp_path, NOW + datetime.timedelta(days=7))
    [transfer] = Transfer.objects.filter(run=second.run)
    assert transfer.amount == D("30.00")
    assert balance(pharmacist.pk, insurer_id) == D("0.00")
    assert [(r["facture"], r["part_amc"]) for r in _csv(second, pharmacist)] == [
        ("F-101", "80.00"),
        ("OLD-1", "-50.00"),
    ]
    assert list(
        LedgerEntry.objects.filter(kind=LedgerEntryKind.NETTED).values_list(
            "amount", "run_reference"
        )
    ) == [(D("-100.00"), first.run.reference), (D("-50.00"), second.run.reference)]


def test_overpayments_are_recovered_oldest_first_and_in_part(
    pharmacist, beneficiary, tmp_path
) -> None:
    oldest = _overpaid(pharmacist, beneficiary, "50.00", "OLD-1")
    then = _overpaid(pharmacist, beneficiary, "40.00", "OLD-2")
    make_accepted_invoice(pharmacist, amc="60.00", number="F-100", beneficiary=beneficiary)

    result = _run(tmp_path)

    assert not Transfer.objects.filter(run=result.run).exists()
    assert list(
        LedgerEntry.objects.filter(kind=LedgerEntryKind.NETTED).values_list("invoice_id", "amount")
    ) == [(oldest.pk, D("-50.00")), (then.pk, D("-10.00"))]
    assert balance(pharmacist.pk, beneficiary.contract.insurer_id) == D("30.00")
    assert [(e.invoice_id, e.amount) for e in InvoiceEvent.objects.filter(kind=K.RECOVERED)] == [
        (oldest.pk, D("50.00")),
        (then.pk, D("10.00")),
    ]


def test_netting_is_per_insurer(pharmacist, beneficiary, tmp_path) -> None:
    _overpaid(pharmacist, beneficiary, "30.00", "OLD-1")
    other = make_beneficiary()  # another contract, another insurer
    make_accepted_invoice(pharmacist, amc="100.00", number="F-100", beneficiary=other)

    result = _run(tmp_path)

    [transfer] = Transfer.objects.filter(run=result.run)
    assert (transfer.insurer_id, transfer.amount) == (other.contract.insurer_id, D("100.00"))
    assert balance(pharmacist.pk, beneficiary.contract.insurer_id) == D("30.00")


def test_a_returned_transfer_reopens_exactly_its_invoices_and_restores_the_recovery(
    pharmacist, beneficiary, tmp_path
) -> None:
    _overpaid(pharmacist, beneficiary, "30.00", "OLD-1")
    first = make_accepted_invoice(pharmacist, amc="60.00", number="F-1", beneficiary=beneficiary)
    second = make_accepted_invoice(pharmacist, amc="40.00", number="F-2", beneficiary=beneficiary)
    other_pro = _with_account(make_professional(profession=Profession.PHARMACIST))
    untouched = make_accepted_invoice(other_pro, amc="25.00", number="G-1")
    paid = _run(tmp_path)
    [returned] = Transfer.objects.filter(run=paid.run, professional=pharmacist)
    assert returned.amount == D("70.00")
    insurer_id = beneficiary.contract.insurer_id
    assert balance(pharmacist.pk, insurer_id) == D("0.00")

    result = import_bank_returns(
        camt054([(returned.end_to_end_id, returned.amount, "AC04")]), name="r.xml", now=NOW
    )

    assert (result.reopened_claims, result.restored) == (2, D("30.00"))
    statuses = dict(Invoice.objects.values_list("invoice_number", "status"))
    assert statuses == {"OLD-1": "cancelled", "F-1": "accepted", "F-2": "accepted", "G-1": "paid"}
    for row, amc in ((first, D("60.00")), (second, D("40.00"))):
        assert _kinds(row) == ["received", "accepted", "paid", "payment_returned"]
        [event] = InvoiceEvent.objects.filter(invoice=row, kind=K.PAYMENT_RETURNED)
        assert (event.reference, event.amount, event.actor_kind, event.reason_codes) == (
            returned.end_to_end_id,
            amc,
            "bank",
            ["AC04"],
        )
    assert _kinds(untouched) == ["received", "accepted", "paid"]
    assert balance(pharmacist.pk, insurer_id) == D("30.00")  # owed again

    # Held on the account the money came back from, then paid once on new details.
    held = _run(tmp_path, NOW + datetime.timedelta(days=1))
    assert [(h.reason, h.claim_count, h.amount) for h in held.held] == [
        ("bank_returned", 2, D("100.00"))
    ]
    later = NOW + datetime.timedelta(days=2)
    requested = request_bank_account_change(
        KEYS,
        professional=pharmacist,
        user=pharmacist.user,
        second_factor_at=later,
        step_up_seconds=300,
        iban=french_iban("20041", "01005", "0500013M026"),
        bic="PSSTFRPP",
        holder_name="Pharmacie de la Gare",
        ip="192.0.2.44",
        user_agent="pytest",
        now=later,
        code_minutes=30,
        confirm_url=lambda pk: f"https://portail.example/banque/changement/{pk}/",
    )
    confirm_bank_account_change(
        professional=pharmacist,
        change_id=requested.change.pk,
        code=requested.code,
        ip="192.0.2.44",
        now=later,
        cooling_off_hours=72,
    )
    again = _run(tmp_path, later + datetime.timedelta(hours=73))
    [transfer] = Transfer.objects.filter(run=again.run)
    assert transfer.amount == D("70.00")
    for row in (first, second):
        assert TransferLine.objects.filter(invoice=row, returned=False).count() == 1
        assert _kinds(row) == ["received", "accepted", "paid", "payment_returned", "paid"]
    assert balance(pharmacist.pk, insurer_id) == D("0.00")
    with pytest.raises(NothingToPay):
        _run(tmp_path, later + datetime.timedelta(hours=74))
    assert PaymentRun.objects.count() == 3


def _queries_of_a_run(tmp_path: Path, per_professional: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    beneficiary = make_beneficiary()
    for n in range(2):
        professional = _with_account(make_professional(profession=Profession.PHARMACIST))
        for k in range(per_professional):
            make_accepted_invoice(
                professional, amc="10.00", number=f"F-{n}-{k}", beneficiary=beneficiary
            )
        _overpaid(professional, beneficiary, "5.00", f"OLD-{n}")
    with CaptureQueriesContext(connection) as queries:
        result = _run(tmp_path)
    assert result.run.claim_count == 2 * per_professional
    return len(queries)


@pytest.mark.parametrize("per_professional", [1, 6])
def test_a_runs_queries_do_not_grow_with_its_invoices(tmp_path, per_professional) -> None:
    """Bulk writes: the same statements whether a professional has 1 invoice or 6 (the
    figure pinned is that of one chunk of two professionals, one insurer, with debts)."""
    assert _queries_of_a_run(tmp_path, per_professional) == 23
