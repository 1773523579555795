"""Each bad input gets its reason code naming the invoice, the line and the field; the
rest of the invoice is still checked (every problem is reported at once)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.coverage.builders import TABLES_DIR
from tests.invoices.builders import CARE_DATE, invoice, line, replace_line
from tierspayant.coverage import History, load_guarantee_table
from tierspayant.invoices.choices import InvoiceReason
from tierspayant.invoices.inputs import InvoiceInput
from tierspayant.invoices.services import InvoiceNotValid, price_invoice, validate_invoice

pytestmark = pytest.mark.usefixtures("nomenclatures")
R = InvoiceReason

BOX_65 = line("CIP13", "3400936963504", "12.81", rate="65", amo="7.33", franchise="1.00")
PHARMACY = invoice(BOX_65)
GP = invoice(
    line("NGAP", "G", "30.00", rate="70", amo="19.00", pf="2.00"),
    prescriber_rpps="",
    prescription_date=None,
)


def with_line(**changes: Any) -> InvoiceInput:
    """The pharmacy invoice with its line changed and its totals added up again."""
    return invoice(dataclasses.replace(BOX_65, **changes))


# name, specialty, invoice, expected problems (reason, line, field)
Problems = set[tuple[InvoiceReason, int | None, str]]
CASES: list[tuple[str, str, InvoiceInput, Problems]] = [
    ("unknown-cip13", "50", with_line(code="3400900000000"), {(R.UNKNOWN_CODE, 1, "code")}),
    (
        "unknown-ngap-key",
        "1",
        invoice(line("NGAP", "QQ", "30.00", rate="70", amo="21.00")),
        {(R.UNKNOWN_CODE, 1, "code")},
    ),
    (
        "cip13-marketing-ended-before-care",
        "50",
        dataclasses.replace(
            invoice(line("CIP13", "3400949444137", "10.00", rate="65", amo="6.50")),
            care_date=dt.date(2025, 9, 1),
        ),
        {(R.CODE_NOT_IN_FORCE, 1, "code")},
    ),
    (
        "lpp-ended-in-2005",
        "50",
        invoice(line("LPP", "1100070", "23.00", rate="60", amo="13.80")),
        {(R.CODE_NOT_IN_FORCE, 1, "code")},
    ),
    (
        "unknown-nature",
        "50",
        invoice(BOX_65, insurance_nature="77"),
        {(R.UNKNOWN_NATURE, None, "insurance_nature")},
    ),
    (
        "unknown-exemption",
        "50",
        invoice(BOX_65, exemption="48"),
        {(R.UNKNOWN_EXEMPTION, None, "exemption")},
    ),
    (
        "unknown-regime",
        "50",
        invoice(BOX_65, amo_regime="13"),
        {(R.UNKNOWN_REGIME, None, "amo_regime")},
    ),
    (
        "unknown-local-regime",
        "50",
        invoice(BOX_65, local_regime="7"),
        {(R.UNKNOWN_LOCAL_REGIME, None, "local_regime")},
    ),
    (
        "medicine-65-billed-at-30",
        "50",
        with_line(amo_rate=Decimal("30"), amo_paid=Decimal("2.84")),
        {(R.RATE_NOT_ALLOWED, 1, "amo_rate")},
    ),
    (
        "medicine-65-at-100-without-exemption",
        "50",
        with_line(amo_rate=Decimal("100"), amo_paid=Decimal("11.81")),
        {(R.RATE_NOT_ALLOWED, 1, "amo_rate")},
    ),
    (
        "rate-not-listed",
        "1",
        replace_line(GP, 0, amo_rate=Decimal("33")),
        {(R.RATE_NOT_ALLOWED, 1, "amo_rate")},
    ),
    (
        "amo-above-billed",
        "50",
        with_line(amo_paid=Decimal("13.00")),
        {(R.AMO_ABOVE_BILLED, 1, "amo_paid")},
    ),
    (
        "amo-and-franchise-above-br",
        "50",
        with_line(br=Decimal("8.00")),
        {(R.AMO_ABOVE_BR, 1, "amo_paid")},
    ),
    ("br-above-billed", "50", with_line(br=Decimal("13.00")), {(R.BR_ABOVE_BILLED, 1, "br")}),
    (
        "line-not-quantity-times-unit-price",
        "50",
        with_line(quantity=2),
        {(R.LINE_AMOUNT_MISMATCH, 1, "billed")},
    ),
    (
        "lines-do-not-add-up-to-the-total",
        "50",
        invoice(BOX_65, total_billed=Decimal("12.80")),
        {(R.TOTAL_MISMATCH, None, "total_billed")},
    ),
    (
        "amo-lines-do-not-add-up",
        "50",
        invoice(BOX_65, total_amo=Decimal("8.33")),
        {(R.TOTAL_MISMATCH, None, "total_amo")},
    ),
    ("nurse-billing-medicines", "24", PHARMACY, {(R.FAMILY_NOT_ALLOWED, 1, "code")}),
    (
        "physiotherapist-billing-biology",
        "26",
        invoice(line("NABM", "1104", "7.02", rate="60", amo="4.21")),
        {(R.FAMILY_NOT_ALLOWED, 1, "code")},
    ),
    ("pharmacist-billing-a-consultation", "50", GP, {(R.FAMILY_NOT_ALLOWED, 1, "code")}),
    ("unknown-specialty", "98", PHARMACY, {(R.UNKNOWN_SPECIALTY, None, "specialty")}),
    (
        "optical-frame-goes-through-approval",
        "64",
        invoice(line("LPP", "2222124", "30.00", rate="60", amo="0.03", br="0.05")),
        {(R.FAMILY_THROUGH_APPROVAL, 1, "code")},
    ),
    (
        "ccam-act-with-no-family",
        "7",
        invoice(line("CCAM", "BDLA003", "100.00", rate="70", amo="70.00")),
        {(R.CODE_NOT_ROUTED, 1, "code")},
    ),
    (
        "crown-without-basket",
        "19",
        invoice(line("CCAM", "HBLD634", "500.00", rate="60", amo="72.00", br="120.00")),
        {(R.CLASS_REQUIRED, 1, "sante_class")},
    ),
    (
        "medicine-without-prescriber",
        "50",
        invoice(BOX_65, prescriber_rpps=""),
        {(R.PRESCRIPTION_REQUIRED, None, "prescriber_rpps")},
    ),
    (
        "medicine-without-prescription-date",
        "50",
        invoice(BOX_65, prescription_date=None),
        {(R.PRESCRIPTION_REQUIRED, None, "prescription_date")},
    ),
    (
        "prescriber-rpps-bad-key",
        "50",
        invoice(BOX_65, prescriber_rpps="12345678901"),
        {(R.PRESCRIBER_INVALID, None, "prescriber_rpps")},
    ),
    (
        "prescribed-after-the-care",
        "50",
        invoice(BOX_65, prescription_date=CARE_DATE + dt.timedelta(days=1)),
        {(R.PRESCRIPTION_AFTER_CARE, None, "prescription_date")},
    ),
    (
        "care-period-ends-before-it-starts",
        "50",
        invoice(BOX_65, care_end_date=CARE_DATE - dt.timedelta(days=1)),
        {(R.CARE_PERIOD_INVALID, None, "care_end_date")},
    ),
    ("empty-invoice", "50", invoice(), {(R.EMPTY_INVOICE, None, "lines")}),
    (
        "zero-quantity-and-rate-above-100",
        "50",
        with_line(quantity=0, amo_rate=Decimal("150")),
        {(R.INVALID_VALUE, 1, "quantity"), (R.INVALID_VALUE, 1, "amo_rate")},
    ),
    (
        "negative-and-not-a-number",
        "50",
        invoice(
            BOX_65, lines=(dataclasses.replace(BOX_65, br=Decimal("-1"), amo_paid=Decimal("NaN")),)
        ),
        {(R.INVALID_VALUE, 1, "br"), (R.INVALID_VALUE, 1, "amo_paid")},
    ),
]


@pytest.mark.parametrize(
    ("name", "specialty", "bill", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_invoice(name: str, specialty: str, bill: InvoiceInput, expected: Problems) -> None:
    check = validate_invoice(bill, specialty=specialty)
    assert {(p.reason, p.line, p.field) for p in check.problems} == expected
    assert not check.valid
    table = load_guarantee_table(TABLES_DIR / "essentiel.json")
    with pytest.raises(InvoiceNotValid):
        price_invoice(bill, check, table=table, beneficiary_age=45, history=History())


@pytest.mark.parametrize(
    ("name", "changes"),
    [
        ("ald-exemption-at-100", {"exemption": "41"}),
        ("maternity-at-100", {"insurance_nature": "30"}),
        ("work-accident-at-100", {"insurance_nature": "40"}),
    ],
)
def test_full_rate_when_the_invoice_says_why(name: str, changes: dict[str, str]) -> None:
    bill = dataclasses.replace(
        invoice(line("CIP13", "3400936963504", "12.81", rate="100", amo="11.81", franchise="1.00")),
        **changes,
    )
    assert validate_invoice(bill, specialty="50").problems == ()


def test_alsace_moselle_allows_a_higher_rate_only() -> None:
    higher = invoice(
        line("CIP13", "3400933783310", "3.17", rate="80", amo="2.54"), local_regime="2"
    )
    lower = invoice(
        line("CIP13", "3400936963504", "12.81", rate="30", amo="3.84"), local_regime="2"
    )
    assert validate_invoice(higher, specialty="50").valid
    assert {p.reason for p in validate_invoice(lower, specialty="50").problems} == {
        R.RATE_NOT_ALLOWED
    }


def test_message_names_invoice_line_and_field_without_the_code() -> None:
    bill = invoice(dataclasses.replace(BOX_65, amo_paid=Decimal("13.00")), number="PH-2025-77")
    (problem,) = validate_invoice(bill, specialty="50").problems
    assert problem.message == (
        "Facture PH-2025-77, ligne 1, champ amo_paid : montant AMO supérieur au montant facturé."
    )
    assert problem.to_dict()["code"] == "AMO_ABOVE_BILLED"
    assert "3400936963504" not in problem.message


def test_every_problem_is_reported_at_once() -> None:
    bill = invoice(
        dataclasses.replace(BOX_65, code="3400900000000"),
        dataclasses.replace(BOX_65, amo_paid=Decimal("13.00")),
        exemption="48",
        total_billed=Decimal("1.00"),
    )
    problems = {
        (p.reason, p.line, p.field) for p in validate_invoice(bill, specialty="50").problems
    }
    assert problems == {
        (R.UNKNOWN_EXEMPTION, None, "exemption"),
        (R.UNKNOWN_CODE, 1, "code"),
        (R.AMO_ABOVE_BILLED, 2, "amo_paid"),
        (R.TOTAL_MISMATCH, None, "total_billed"),
    }
