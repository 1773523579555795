"""Responsible-contract floors (R871-2 CSS): the ticket modérateur is always covered
(except medicines at 30 % and 15 %), the forfait journalier in full and without limit of
duration; participation forfaitaire and franchises never. Real numbers, one case a row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.coverage.builders import ACTUAL_COST, act, fixed, lens, pct, rule, table
from tierspayant.coverage import (
    InvalidGuaranteeTable,
    ReasonCode,
    compute_case,
    load_guarantee_table,
)

R = ReasonCode
NO_RULE = table([rule("consultations", ["consultation"], pct("300"))])
NOT_RESPONSIBLE = table([rule("pharmacie", ["pharmacy"], pct("100"))], responsible=False)
DAILY_FEE_10 = table([rule("fj-10", ["hospital_daily_fee"], fixed("10.00"))])

# name, table, line, (AMO, AMC, RAC), rule id, reasons
CASES: list[tuple[str, Any, dict[str, Any], tuple[str, str, str], str | None, set[R]]] = [
    (
        "gp-no-rule-ticket-moderateur",
        table([rule("pharmacie", ["pharmacy"], pct("100"))]),
        act("consultation", "30.00", "30.00", "70", code="G", participation_forfaitaire="2.00"),
        ("19.00", "9.00", "2.00"),
        "ticket-moderateur",
        {R.NOT_COVERED_BY_RESPONSIBLE_CONTRACT, R.TICKET_MODERATEUR_COVERED},
    ),
    (
        "medicine-65-no-rule",
        NO_RULE,
        act("pharmacy", "10.00", "10.00", "65", code="3400930000001", franchise="1.00"),
        ("5.50", "3.50", "1.00"),
        "ticket-moderateur",
        {R.NOT_COVERED_BY_RESPONSIBLE_CONTRACT, R.TICKET_MODERATEUR_COVERED},
    ),
    (
        "medicine-30-exempt",
        NO_RULE,
        act("pharmacy", "10.00", "10.00", "30", code="3400930000001"),
        ("3.00", "0.00", "7.00"),
        None,
        {R.NO_MATCHING_GUARANTEE},
    ),
    (
        "medicine-15-exempt-amo-stated",
        NO_RULE,
        act("pharmacy", "10.00", "10.00", "15", amo_paid="1.50", code="3400930000001"),
        ("1.50", "0.00", "8.50"),
        None,
        {R.NO_MATCHING_GUARANTEE},
    ),
    (
        "medicine-amo-stated-without-rate",
        NO_RULE,
        act("pharmacy", "10.00", "10.00", amo_paid="3.00", code="3400930000001"),
        ("3.00", "7.00", "0.00"),
        "ticket-moderateur",
        {R.TICKET_MODERATEUR_COVERED},
    ),
    (
        "device-no-rule",
        NO_RULE,
        act("medical_device", "100.00", "80.00", "60", code="1100028"),
        ("48.00", "32.00", "20.00"),
        "ticket-moderateur",
        {R.TICKET_MODERATEUR_COVERED},
    ),
    (
        "daily-fee-no-rule",
        NO_RULE,
        act("hospital_daily_fee", "60.00", "0.00", "0", code="FJ", quantity=3),
        ("0.00", "60.00", "0.00"),
        "forfait-journalier",
        {R.DAILY_FEE_COVERED},
    ),
    (
        "daily-fee-forfait-below",
        DAILY_FEE_10,
        act("hospital_daily_fee", "60.00", "0.00", "0", code="FJ", quantity=3),
        ("0.00", "60.00", "0.00"),
        "fj-10",
        {R.DAILY_FEE_COVERED},
    ),
    (
        "private-room-no-rule-refused",
        NO_RULE,
        act("hospital_room", "80.00", "0.00", "0", code="CPC"),
        ("0.00", "0.00", "80.00"),
        None,
        {R.NO_MATCHING_GUARANTEE},
    ),
    (
        "rule-above-floor-unchanged",
        NO_RULE,
        act("consultation", "100.00", "30.00", "70", code="CS"),
        ("21.00", "69.00", "10.00"),
        "consultations",
        set(),
    ),
    (
        "not-responsible-no-floor",
        NOT_RESPONSIBLE,
        act("consultation", "30.00", "30.00", "70", code="G"),
        ("21.00", "0.00", "9.00"),
        None,
        {R.NO_MATCHING_GUARANTEE},
    ),
]


@pytest.mark.parametrize(
    ("name", "guarantee", "line", "split", "rule_id", "reasons"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_responsible_floor(
    name: str,
    guarantee: Any,
    line: dict[str, Any],
    split: tuple[str, str, str],
    rule_id: str | None,
    reasons: set[R],
    tables_dir: Path,
) -> None:
    case = {"table": guarantee, "beneficiary_age": 45, "care_date": "2025-03-14", "lines": [line]}
    out = compute_case(case, tables_dir)["lines"][0]
    assert (out["amo"], out["amc"], out["rac"]) == split
    assert (out["rule"]["id"] if out["rule"] else None) == rule_id
    assert {reason["code"] for reason in out["reasons"]} == {str(r) for r in reasons}


def test_no_floor_when_the_renewal_period_has_not_run(tables_dir: Path) -> None:
    case = {
        "table": NO_RULE,
        "beneficiary_age": 45,
        "care_date": "2025-03-14",
        "history": {
            "previous_equipment": [
                {"family": "optical_lens", "side": "right", "date": "2024-06-01"}
            ]
        },
        "lines": [lens("B", "simple", "right", "60.00")],
    }
    out = compute_case(case, tables_dir)["lines"][0]
    assert (out["amo"], out["amc"], out["rac"]) == ("0.00", "0.00", "60.00")
    assert {r["code"] for r in out["reasons"]} == {
        "RENEWAL_PERIOD_NOT_REACHED",
        "NO_MATCHING_GUARANTEE",
    }


@pytest.mark.parametrize(
    "benefit_and_ceilings",
    [
        ({"benefit": ACTUAL_COST, "ceilings": ["fj-an"]}),
        ({"benefit": fixed("600.00", "benefit_year")}),
    ],
)
def test_responsible_table_cannot_limit_the_daily_fee(benefit_and_ceilings: dict[str, Any]) -> None:
    extra = dict(benefit_and_ceilings)
    benefit = extra.pop("benefit")
    daily = rule("fj", ["hospital_daily_fee"], benefit, **extra)
    ceilings = [{"id": "fj-an", "per": "benefit_year", "count": 30}]
    with pytest.raises(InvalidGuaranteeTable, match="without limit of duration"):
        load_guarantee_table(table([daily], ceilings=ceilings))
    assert load_guarantee_table(table([daily], ceilings=ceilings, responsible=False)).id == "inline"
