"""The money loop end to end, with the real pieces (issue 16 "Done when"): a professional's
lot invoice and claim (through its invoice mirror) paid by a real run with its settlement
(``settlement.services.run_with_settlement``), the paid claim cancelled by the professional
(``corrections.services.cancel_invoice``: an overpayment of its AMC), a new invoice accepted,
and the next real run nets the overpayment: transfer, statement CSV, ledger, events and the
insurer's settlement export all agree. When the overpayment exceeds what the next run owes,
nothing is transferred, the rest is carried and a third run nets it."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.care.conftest import (  # noqa: F401 - fixtures
    NOW,
    config,
    french_iban,
    invoice,
    make_patient,
    paid_optician,
)
from tests.coverage.builders import SHARED
from tests.factories import make_accepted_invoice
from tierspayant.claims.models import Claim
from tierspayant.corrections.choices import LedgerEntryKind
from tierspayant.corrections.models import LedgerEntry
from tierspayant.corrections.selectors import balance
from tierspayant.corrections.services import cancel_invoice
from tierspayant.invoices.choices import InvoiceEventKind as K
from tierspayant.invoices.choices import InvoiceStatus
from tierspayant.invoices.models import Invoice, InvoiceEvent
from tierspayant.payments.models import PaymentRun, SepaFile, Statement, Transfer
from tierspayant.payments.sepa import Debtor, read_pain001
from tierspayant.payments.services import RunResult
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.models import Commitment
from tierspayant.providers.models import Professional
from tierspayant.settlement.models import InsurerSettlement
from tierspayant.settlement.services import run_with_settlement, settlement_config

pytestmark = pytest.mark.django_db
D = Decimal
XSD = SHARED / "fixtures" / "sepa" / "pain.001.001.09.xsd"
DAY = datetime.timedelta(days=1)


def _run(output: Path, now: datetime.datetime) -> RunResult:
    return run_with_settlement(
        config=settlement_config(settings),
        debtor=Debtor("Operateur", french_iban("30002", "00550", "0000157841Z"), "CRLYFRPP"),
        output_dir=output,
        now=now,
        execution_date=now.date(),
        xsd=XSD,
    )


def _csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def _statement_rows(run: PaymentRun, professional: Professional) -> list[tuple[str, str, str]]:
    statement = Statement.objects.get(run=run, professional=professional)
    rows = _csv(Path(run.directory) / statement.csv_name)
    return [(r["facture"], r["part_amc"], r["nature"]) for r in rows]


def _export(run: PaymentRun) -> tuple[InsurerSettlement, list[tuple[str, str, str]]]:
    settlement = InsurerSettlement.objects.get(run=run)
    rows = _csv(Path(run.directory) / settlement.export_name)
    return settlement, [(r["numero_facture"], r["evenement"], r["montant"]) for r in rows]


def _control_sum(run: PaymentRun) -> Decimal:
    """The insurer's pain.001 control sum as written in the file (0: no file, no transfer)."""
    sepa_file = SepaFile.objects.filter(run=run).first()
    if sepa_file is None:
        return D("0.00")
    amounts = read_pain001((Path(run.directory) / sepa_file.file_name).read_bytes())
    assert sum(D(a["amount"]) for a in amounts) == sepa_file.control_sum
    return sepa_file.control_sum


def _signed_in(professional: Professional) -> Client:
    """A portal client signed in as ``professional`` with its second factor."""
    client = Client()
    client.force_login(professional.user)
    session = client.session
    session["otp_device_id"] = TOTPDevice.objects.get(user=professional.user).persistent_id
    session.save()
    return client


@pytest.fixture
def paid_twice(config, paid_optician, tmp_path):  # noqa: F811  # type: ignore[no-untyped-def]
    """The optician's claim F-1 (through its invoice) and lot invoice L-1 (50.00), paid by
    a first real run; then F-1 cancelled by the optician."""
    patient = make_patient()
    invoice(config, paid_optician, patient, "F-1")
    claim = Claim.objects.get(invoice_number="F-1")
    assert claim.invoice is not None
    make_accepted_invoice(
        paid_optician, amc="50.00", number="L-1", beneficiary=patient.beneficiary, at=NOW
    )
    first = _run(tmp_path, NOW).run
    paid = Invoice.objects.get(invoice_number="F-1")
    amc = paid.total_amc
    assert paid.status == InvoiceStatus.PAID
    assert Transfer.objects.get(run=first).amount == amc + D("50.00")
    settlement, lines = _export(first)
    assert sorted(lines) == [("F-1", "paid", f"{amc:.2f}"), ("L-1", "paid", "50.00")]
    assert settlement.net_total == _control_sum(first) == amc + D("50.00")

    correction = cancel_invoice(
        paid_optician, "F-1", reason="Facture émise en double", now=NOW + DAY
    )
    assert correction.entry is not None and correction.entry.amount == amc
    assert balance(paid_optician.pk, paid.insurer_id) == amc  # type: ignore[arg-type]
    return {
        "professional": paid_optician,
        "patient": patient,
        "cancelled": paid,
        "overpayment": amc,
        "output": tmp_path,
    }


def test_the_next_run_nets_the_overpayment_of_a_cancelled_paid_invoice(paid_twice) -> None:
    professional, cancelled, owed = (
        paid_twice["professional"],
        paid_twice["cancelled"],
        paid_twice["overpayment"],
    )
    new_amc = owed + D("100.00")
    make_accepted_invoice(
        professional,
        amc=f"{new_amc:.2f}",
        number="L-2",
        beneficiary=paid_twice["patient"].beneficiary,
        at=NOW + 2 * DAY,
    )
    run = _run(paid_twice["output"], NOW + 3 * DAY).run

    assert Transfer.objects.get(run=run).amount == new_amc - owed == D("100.00")
    assert _statement_rows(run, professional) == [
        ("L-2", f"{new_amc:.2f}", "paiement"),
        ("F-1", f"{-owed:.2f}", "indu récupéré"),
    ]
    assert balance(professional.pk, cancelled.insurer_id) == D("0.00")
    netted = LedgerEntry.objects.get(kind=LedgerEntryKind.NETTED)
    assert (netted.invoice_id, netted.amount, netted.run_reference) == (
        cancelled.pk,
        -owed,
        run.reference,
    )
    # The claim's pages show its invoice's state, no longer "Payée".
    portal = _signed_in(professional)
    claim = Claim.objects.get(invoice_number="F-1")
    assert claim.status == "paid" and claim.state_label == "Annulée"
    assert "<h2>Annulée</h2>" in portal.get(f"/factures/{claim.pk}/").content.decode()
    recovered = InvoiceEvent.objects.get(invoice=cancelled, kind=K.RECOVERED)
    assert (recovered.amount, recovered.reference) == (owed, run.reference)
    cancelled.refresh_from_db()
    assert cancelled.status == InvoiceStatus.CANCELLED

    settlement, lines = _export(run)
    assert lines == [
        ("L-2", "paid", f"{new_amc:.2f}"),
        ("F-1", "recovered", f"{owed:.2f}"),
        ("F-1", "cancelled", f"{owed:.2f}"),
    ]
    assert (settlement.paid_total, settlement.recovered_total) == (new_amc, owed)
    assert settlement.net_total == _control_sum(run) == D("100.00")


def test_an_overpayment_larger_than_the_next_run_is_carried_to_the_one_after(paid_twice) -> None:
    professional, cancelled, owed = (
        paid_twice["professional"],
        paid_twice["cancelled"],
        paid_twice["overpayment"],
    )
    beneficiary = paid_twice["patient"].beneficiary
    small = D("30.00")
    assert owed > small
    make_accepted_invoice(
        professional, amc="30.00", number="L-2", beneficiary=beneficiary, at=NOW + 2 * DAY
    )
    second = _run(paid_twice["output"], NOW + 3 * DAY).run

    assert not Transfer.objects.filter(run=second).exists()
    assert _statement_rows(second, professional) == [
        ("L-2", "30.00", "paiement"),
        ("F-1", "-30.00", "indu récupéré"),
    ]
    assert balance(professional.pk, cancelled.insurer_id) == owed - small
    settlement, lines = _export(second)
    assert lines == [
        ("L-2", "paid", "30.00"),
        ("F-1", "recovered", "30.00"),
        ("F-1", "cancelled", f"{owed:.2f}"),
    ]
    assert settlement.net_total == _control_sum(second) == D("0.00")

    rest = owed - small
    third_amc = rest + D("25.00")
    make_accepted_invoice(
        professional,
        amc=f"{third_amc:.2f}",
        number="L-3",
        beneficiary=beneficiary,
        at=NOW + 4 * DAY,
    )
    third = _run(paid_twice["output"], NOW + 5 * DAY).run

    assert Transfer.objects.get(run=third).amount == D("25.00")
    assert _statement_rows(third, professional) == [
        ("L-3", f"{third_amc:.2f}", "paiement"),
        ("F-1", f"{-rest:.2f}", "indu récupéré"),
    ]
    assert balance(professional.pk, cancelled.insurer_id) == D("0.00")
    assert [
        (e.amount, e.reference)
        for e in InvoiceEvent.objects.filter(invoice=cancelled, kind=K.RECOVERED).order_by("id")
    ] == [(small, second.reference), (rest, third.reference)]
    settlement, lines = _export(third)
    assert lines == [("L-3", "paid", f"{third_amc:.2f}"), ("F-1", "recovered", f"{rest:.2f}")]
    assert settlement.net_total == _control_sum(third) == D("25.00")


def test_a_cancelled_claim_can_be_invoiced_again_and_the_next_run_nets_it(paid_twice) -> None:
    """The same care, invoiced again under a new number after the paid claim was cancelled
    (the cancellation frees it): accepted, not a duplicate of the cancelled claim, and the
    next run pays it net of the overpayment (here the same AMC: nothing moves)."""
    professional, owed = paid_twice["professional"], paid_twice["overpayment"]
    first = Claim.objects.get(invoice_number="F-1")
    released = Commitment.objects.get(reference=f"claim:{first.pk}").released_at
    assert released == NOW + DAY  # the glasses' renewal period and ceilings are freed
    again = invoice(
        CareConfig.from_settings(settings),
        professional,
        paid_twice["patient"],
        "F-2",
        now=NOW + 2 * DAY,
        today=(NOW + 2 * DAY).date(),
    )
    assert (again.claim.status, again.claim.reasons) == ("accepted", [])
    run = _run(paid_twice["output"], NOW + 3 * DAY).run
    assert not Transfer.objects.filter(run=run).exists()
    assert _statement_rows(run, professional) == [
        ("F-2", f"{owed:.2f}", "paiement"),
        ("F-1", f"{-owed:.2f}", "indu récupéré"),
    ]
    assert Claim.objects.get(invoice_number="F-2").status == "paid"
