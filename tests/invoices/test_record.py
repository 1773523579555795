"""An invoice stored with its lines: accepted with each line's AMC share, or rejected with
its reason codes; one invoice number per professional."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError

from tests.coverage.builders import TABLES_DIR
from tests.factories import make_beneficiary, make_professional
from tests.invoices.builders import invoice, line
from tierspayant.coverage import History, load_guarantee_table
from tierspayant.invoices.models import Invoice
from tierspayant.invoices.services import record_invoice
from tierspayant.providers.choices import Profession
from tierspayant.providers.models import Professional

pytestmark = pytest.mark.usefixtures("nomenclatures")
NOW = dt.datetime(2025, 3, 14, 18, 30, tzinfo=dt.UTC)
TABLE = load_guarantee_table(TABLES_DIR / "essentiel.json")


@pytest.fixture
def pharmacist(db: None) -> Professional:
    professional = make_professional(profession=Profession.PHARMACIST, specialty_code="50")
    assert professional.specialty_code == "50"
    return professional


def record(professional: Professional, bill: object) -> Invoice:
    return record_invoice(
        bill,  # type: ignore[arg-type]
        professional=professional,
        beneficiary=make_beneficiary(),
        table=TABLE,
        beneficiary_age=45,
        history=History(),
        now=NOW,
    )


def test_accepted_invoice_is_stored_with_its_split(pharmacist: Professional) -> None:
    bill = invoice(
        line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33", franchise="1.00"),
        line("LPP", "1100028", "20.00", rate="60", amo="10.80", br="18.00"),
    )
    stored = record(pharmacist, bill)
    stored.refresh_from_db()
    assert (stored.status, stored.reasons, stored.table_id) == ("accepted", [], "essentiel")
    assert (stored.total_billed, stored.total_amo, stored.total_amc, stored.total_rac) == (
        Decimal("32.81"),
        Decimal("18.13"),
        Decimal("11.68"),
        Decimal("3.00"),
    )
    rows = [
        (r.code_system, r.family, r.amo_paid, r.amc, r.rac, r.reasons) for r in stored.lines.all()
    ]
    assert rows == [
        ("CIP13", "pharmacy", Decimal("7.33"), Decimal("4.48"), Decimal("1.00"),
         ["NOT_COVERED_BY_RESPONSIBLE_CONTRACT"]),
        ("LPP", "medical_device", Decimal("10.80"), Decimal("7.20"), Decimal("2.00"), []),
    ]  # fmt: skip


def test_rejected_invoice_is_stored_with_its_reasons(pharmacist: Professional) -> None:
    bill = invoice(line("CIP13", "3400936963504", "12.81", rate="65", amo="13.00"), number="F-0002")
    stored = record(pharmacist, bill)
    assert stored.status == "rejected" and stored.total_amc == Decimal("0.00")
    assert stored.reasons == [
        {
            "code": "AMO_ABOVE_BILLED",
            "line": 1,
            "field": "amo_paid",
            "message": "Facture F-0002, ligne 1, champ amo_paid : "
            "montant AMO supérieur au montant facturé.",
        }
    ]
    assert [line.amc for line in stored.lines.all()] == [Decimal("0.00")]


def test_an_engine_refusal_rejects_the_invoice(pharmacist: Professional) -> None:
    """A care date before the guarantee table's first version: rejected, named field."""
    bill = invoice(
        line("CIP13", "3400936963504", "12.81", rate="65", amo="8.33"),
        care_date=dt.date(2023, 6, 1),
        prescription_date=dt.date(2023, 5, 30),
    )
    stored = record(pharmacist, bill)
    assert stored.status == "rejected"
    assert [(r["code"], r["field"]) for r in stored.reasons] == [("INVALID_VALUE", "care_date")]


def test_one_invoice_number_per_professional(pharmacist: Professional) -> None:
    bill = invoice(line("CIP13", "3400936963504", "12.81", rate="65", amo="8.33"))
    record(pharmacist, bill)
    with pytest.raises(IntegrityError):
        record(pharmacist, bill)
