"""Migrations claims 0003 and payments 0005 on data of before the money loop: an accepted
claim and a paid one get their invoice mirror (lines, events; the paid one's ``paid`` event
names its transfer), and the paid claim's transfer line then names the mirror."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import make_beneficiary, make_professional

BEFORE = [("claims", "0002_french_labels"), ("payments", "0004_bank_returns")]
AFTER = [("claims", "0003_claim_invoice"), ("payments", "0005_transfer_lines_pay_invoices")]
NOW = datetime.datetime(2025, 3, 14, 9, 30, tzinfo=datetime.UTC)
D = Decimal


@pytest.mark.django_db(transaction=True)
def test_claims_of_before_get_their_invoice_and_their_transfer_lines_follow() -> None:
    professional = make_professional()
    beneficiary = make_beneficiary()
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Claim = old.get_model("claims", "Claim")
    ClaimLine = old.get_model("claims", "ClaimLine")
    claims = {}
    for number, status in (("F-1", "accepted"), ("F-2", "paid")):
        claims[number] = Claim.objects.create(
            professional_id=professional.pk,
            invoice_number=number,
            beneficiary_id=beneficiary.pk,
            insurer_id=beneficiary.contract.insurer_id,
            care_date=NOW.date(),
            status=status,
            reasons=[],
            total_billed=D("390.00"),
            total_amo=D("0.09"),
            total_amc=D("200.00"),
            total_rac=D("189.91"),
            content_hash=number,
            duplicate_key=number,
            submitted_at=NOW,
            adjudicated_at=NOW,
            paid_at=NOW if status == "paid" else None,
        )
        ClaimLine.objects.create(
            claim=claims[number],
            position=1,
            code="2264861",
            family="optical_frame",
            billed=D("390.00"),
            br=D("0.15"),
            amo=D("0.09"),
            amc=D("200.00"),
            rac=D("189.91"),
        )
    run = old.get_model("payments", "PaymentRun").objects.create(
        reference="RUN-1", created_at=NOW, execution_date=NOW.date(), directory="/x", total=0
    )
    account = professional.bank_accounts.model.objects.create(
        professional_id=professional.pk,
        holder_name="Optique",
        iban_ciphertext="x",
        iban_masked="FR76 ****",
        bic="BNPAFRPP",
        status="active",
        created_at=NOW,
        active_from=NOW,
    )
    transfer = old.get_model("payments", "Transfer").objects.create(
        run=run,
        insurer_id=beneficiary.contract.insurer_id,
        professional_id=professional.pk,
        bank_account_id=account.pk,
        end_to_end_id="RUN-1-1",
        amount=D("200.00"),
    )
    old.get_model("payments", "TransferLine").objects.create(
        transfer=transfer, claim=claims["F-2"], amount=D("200.00")
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    mirrored = {
        c.invoice_number: c.invoice
        for c in new.get_model("claims", "Claim").objects.select_related("invoice")
    }
    assert {n: (i.status, i.total_amc) for n, i in mirrored.items()} == {
        "F-1": ("accepted", D("200.00")),
        "F-2": ("paid", D("200.00")),
    }
    events = new.get_model("invoices", "InvoiceEvent").objects.order_by("id")
    found = sorted((e.invoice.invoice_number, e.id, e.kind, e.reference) for e in events)
    assert [(number, kind, reference) for number, _, kind, reference in found] == [
        ("F-1", "received", ""),
        ("F-1", "accepted", ""),
        ("F-2", "received", ""),
        ("F-2", "accepted", ""),
        ("F-2", "paid", "RUN-1-1"),
    ]
    [line] = new.get_model("payments", "TransferLine").objects.all()
    assert (line.invoice_id, line.run_id, line.transfer_id) == (
        mirrored["F-2"].pk,
        run.pk,
        transfer.pk,
    )
    [invoice_line] = mirrored["F-1"].lines.all()
    assert (invoice_line.code_system, invoice_line.code, invoice_line.amc) == (
        "LPP",
        "2264861",
        D("200.00"),
    )
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
