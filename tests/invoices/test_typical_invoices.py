"""Each profession's typical invoice, checked against the public nomenclatures and priced
by the coverage engine under a contract's guarantee table: the AMO amount as stated, the
AMC share and the patient's remaining cost per line, in real numbers.

Codes are real (BDPM, IR_BIO_R, IR_NAT_V, NT_LPP, IR_CCAM_V63); key-letter values are
those of 2025 (AMI 3.15 EUR, AMK 2.15 EUR, B 0.27 EUR, G 30 EUR)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.coverage.builders import TABLES_DIR
from tests.invoices.builders import CARE_DATE, invoice, line
from tierspayant.coverage import History, load_guarantee_table
from tierspayant.invoices.inputs import InvoiceInput
from tierspayant.invoices.services import price_invoice, validate_invoice

pytestmark = pytest.mark.usefixtures("nomenclatures")

D = Decimal

# name, specialty (SESAM-Vitale; "" for an establishment), table, invoice,
# expected per line: (family, AMO as stated, AMC, remaining cost)
Expected = list[tuple[str, str, str, str]]
CASES: list[tuple[str, str, str, InvoiceInput, Expected]] = [
    (
        "pharmacist-cip13-65-30-15",
        "50",
        "essentiel",
        invoice(
            line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33", franchise="1.00"),
            line("CIP13", "3400933783310", "3.17", rate="30", amo="0.95"),
            line("CIP13", "3400935510259", "7.82", rate="15", amo="1.17"),
        ),
        [
            ("pharmacy", "7.33", "4.48", "1.00"),
            ("pharmacy", "0.95", "2.22", "0.00"),
            ("pharmacy", "1.17", "6.65", "0.00"),
        ],
    ),
    (
        "laboratory-nabm",
        "30",
        "essentiel",
        invoice(
            line("NABM", "1104", "7.02", rate="60", amo="2.21", pf="2.00", coefficient=D(26)),
            line("NABM", "1610", "5.94", rate="60", amo="3.56", coefficient=D(22)),
        ),
        [("lab_test", "2.21", "2.81", "2.00"), ("lab_test", "3.56", "2.38", "0.00")],
    ),
    (
        "nurse-ami",
        "24",
        "essentiel",
        invoice(line("NGAP", "AMI", "3.15", rate="60", amo="0.89", franchise="1.00")),
        [("paramedical", "0.89", "1.26", "1.00")],
    ),
    (
        "physiotherapist-amk-7-5",
        "26",
        "essentiel",
        invoice(
            line(
                "NGAP",
                "AMK",
                "16.13",
                rate="60",
                amo="8.68",
                franchise="1.00",
                coefficient=D("7.5"),
            )
        ),
        [("paramedical", "8.68", "6.45", "1.00")],
    ),
    (
        "gp-g",
        "01",
        "essentiel",
        invoice(line("NGAP", "G", "30.00", rate="70", amo="19.00", pf="2.00")),
        [("consultation", "19.00", "9.00", "2.00")],
    ),
    (
        "gp-gs-mid-range",
        "22",
        "equilibre",
        invoice(line("NGAP", "GS", "30.00", rate="70", amo="19.00", pf="2.00")),
        [("consultation", "19.00", "9.00", "2.00")],
    ),
    (
        "gp-alsace-moselle-amo-as-stated",
        "1",
        "essentiel",
        invoice(line("NGAP", "G", "30.00", rate="90", amo="25.00", pf="2.00"), local_regime="2"),
        [("consultation", "25.00", "3.00", "2.00")],
    ),
    (
        "hospital-stay-daily-fee-room",
        "",
        "equilibre",
        invoice(
            line("HOSPITAL", "PJ", "2000.00", rate="80", amo="960.00", br="1200.00"),
            line("HOSPITAL", "FJ", "20.00", rate="0", amo="0.00", quantity=3),
            line("HOSPITAL", "CPC", "80.00", rate="0", amo="0.00", br="0.00", quantity=3),
            care_end_date=CARE_DATE + dt.timedelta(days=3),
            prescriber_rpps="",
            prescription_date=None,
        ),
        [
            ("hospital_stay", "960.00", "840.00", "200.00"),
            ("hospital_daily_fee", "0.00", "60.00", "0.00"),
            ("hospital_room", "0.00", "120.00", "120.00"),
        ],
    ),
    (
        "hospital-room-not-in-entry-contract",
        "",
        "essentiel",
        invoice(
            line("HOSPITAL", "CPC", "80.00", rate="0", amo="0.00", br="0.00"),
            prescriber_rpps="",
            prescription_date=None,
        ),
        [("hospital_room", "0.00", "0.00", "80.00")],
    ),
    (
        "lpp-device-at-the-pharmacy",
        "50",
        "essentiel",
        invoice(line("LPP", "1100028", "20.00", rate="60", amo="10.80", br="18.00")),
        [("medical_device", "10.80", "7.20", "2.00")],
    ),
    (
        "radiologist-ccam",
        "6",
        "essentiel",
        invoice(line("CCAM", "ZBQK002", "21.28", rate="70", amo="12.90", pf="2.00")),
        [("technical_act", "12.90", "6.38", "2.00")],
    ),
    (
        "dentist-ccam-care",
        "19",
        "essentiel",
        invoice(line("CCAM", "HBMD038", "53.00", rate="60", amo="31.80")),
        [("dental_care", "31.80", "21.20", "0.00")],
    ),
]


@pytest.mark.parametrize(
    ("name", "specialty", "table_id", "bill", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_typical_invoice(
    name: str, specialty: str, table_id: str, bill: InvoiceInput, expected: Expected
) -> None:
    check = validate_invoice(bill, specialty=specialty, establishment=not specialty)
    assert [p.message for p in check.problems] == []
    table = load_guarantee_table(TABLES_DIR / f"{table_id}.json")
    result = price_invoice(bill, check, table=table, beneficiary_age=45, history=History())
    got = [(str(r.family), str(r.amo), str(r.amc), str(r.rac)) for r in result.lines]
    assert got == expected
    for out, given in zip(result.lines, bill.lines, strict=True):
        assert out.amo == given.amo_paid  # used as is, never recomputed
        assert out.amo + out.amc + out.rac == given.billed


def test_the_franchise_stays_with_the_patient() -> None:
    """The franchise withheld by the AMO is never covered by a responsible contract
    (L871-1 CSS): it is the remaining cost of the 65 % box."""
    bill: Any = CASES[0][3]
    check = validate_invoice(bill, specialty="50")
    table = load_guarantee_table(TABLES_DIR / "essentiel.json")
    first = price_invoice(bill, check, table=table, beneficiary_age=45, history=History()).lines[0]
    assert (first.franchise, first.rac) == (D("1.00"), D("1.00"))
    assert "NOT_COVERED_BY_RESPONSIBLE_CONTRACT" in {str(r) for r in first.reasons}
