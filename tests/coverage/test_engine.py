"""compute(): arguments, one equipment per call, explanation, history after, settings."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from tests.coverage.builders import (
    ACTUAL_COST,
    aid,
    consult,
    fixed,
    frame,
    lens,
    pct,
    prosthesis,
    rule,
    table,
)
from tierspayant.coverage import (
    ActLine,
    CapApplied,
    CoverageResult,
    Family,
    GuaranteeTable,
    History,
    InvalidActLine,
    InvalidCase,
    PreviousEquipment,
    ReasonCode,
    Side,
    compute,
    load_guarantee_table,
    load_reference,
    read_reference,
)
from tierspayant.coverage.acts import line_from_dict

CARE = dt.date(2025, 3, 14)


def run(
    table: GuaranteeTable,
    lines: list[dict[str, Any]],
    *,
    age: int = 42,
    care_date: dt.date = CARE,
    history: History | None = None,
    **extra: Any,
) -> CoverageResult:
    return compute(
        [line_from_dict(data) for data in lines],
        table=table,
        beneficiary_age=age,
        care_date=care_date,
        history=history or History(),
        **extra,
    )


@pytest.mark.parametrize(
    ("age", "care_date", "history", "field"),
    [
        (-1, CARE, History(), "beneficiary_age"),
        (131, CARE, History(), "beneficiary_age"),
        (True, CARE, History(), "beneficiary_age"),
        ("42", CARE, History(), "beneficiary_age"),
        (42, dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC), History(), "care_date"),
        (42, "2025-03-14", History(), "care_date"),
        (42, CARE, {"ceilings_used": {}}, "history"),
        (
            42,
            CARE,
            History(
                previous_equipment=(PreviousEquipment(Family.OPTICAL_FRAME, dt.date(2025, 3, 15)),)
            ),
            "history.previous_equipment[0].date",
        ),
    ],
    ids=[
        "age-negative",
        "age-too-high",
        "age-bool",
        "age-text",
        "datetime",
        "date-text",
        "history-dict",
        "purchase-after-care",
    ],
)
def test_bad_request(
    tables: dict[str, GuaranteeTable], age: Any, care_date: Any, history: Any, field: str
) -> None:
    with pytest.raises(InvalidCase) as caught:
        compute(
            [], table=tables["essentiel"], beneficiary_age=age, care_date=care_date, history=history
        )
    assert caught.value.field == field


def test_lines_must_be_act_lines(tables: dict[str, GuaranteeTable]) -> None:
    with pytest.raises(InvalidActLine, match="must be an ActLine") as caught:
        compute(
            [consult("30")],  # type: ignore[list-item]
            table=tables["essentiel"],
            beneficiary_age=42,
            care_date=CARE,
            history=History(),
        )
    assert caught.value.field == "lines[0]"


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        ([frame("B", "100"), frame("B", "90")], "a second optical_frame in one computation"),
        (
            [lens("B", "simple", "left", "90"), lens("B", "complex", "left", "90")],
            "a second optical_lens (left)",
        ),
        ([aid("I", "right", "950"), aid("II", "right", "1500")], "a second hearing_aid (right)"),
    ],
    ids=["two-frames", "two-left-lenses", "two-right-hearing-aids"],
)
def test_one_equipment_per_call(
    tables: dict[str, GuaranteeTable], lines: list[dict[str, Any]], why: str
) -> None:
    with pytest.raises(InvalidActLine, match=why.replace("(", r"\(").replace(")", r"\)")) as caught:
        run(tables["essentiel"], lines)
    assert caught.value.field == "lines[1].family"


@pytest.mark.parametrize(
    ("line", "age"),
    [
        (lens("A", "simple", "right", "30", br="9"), 42),
        (frame("A", "30", br="9", code="2254242"), 10),
        (prosthesis("100_sante", "500"), 42),
    ],
    ids=["class-a-lens", "class-a-child-frame", "dental-100-sante"],
)
def test_full_cover_needs_a_price_limit(
    tables: dict[str, GuaranteeTable], line: dict[str, Any], age: int
) -> None:
    with pytest.raises(InvalidActLine, match="is required for this") as caught:
        run(tables["essentiel"], [consult("30"), line], age=age)
    assert caught.value.field == "lines[1].price_limit"


def test_no_version_in_force(tables: dict[str, GuaranteeTable]) -> None:
    with pytest.raises(InvalidCase, match="guarantee table essentiel"):
        run(tables["essentiel"], [consult("30")], care_date=dt.date(2023, 6, 1))
    with pytest.raises(InvalidCase, match="regulated reference"):
        run(tables["essentiel"], [consult("30")], care_date=dt.date(2020, 6, 1))


def test_empty_lines_give_zero_totals(tables: dict[str, GuaranteeTable]) -> None:
    result = run(tables["essentiel"], [])
    assert result.lines == ()
    assert result.totals.to_dict() == {
        "billed": "0.00",
        "amo": "0.00",
        "amc": "0.00",
        "rac": "0.00",
    }


def test_result_names_what_was_used(tables: dict[str, GuaranteeTable]) -> None:
    result = run(tables["equilibre"], [consult("50", code="CS")])
    assert (result.table_id, result.table_version) == ("equilibre", dt.date(2025, 1, 1))
    assert (result.reference_id, result.reference_version) == (
        "regulated-2024",
        dt.date(2021, 1, 1),
    )
    assert result.responsible and result.optical_cap_includes_amo
    line = result.lines[0]
    assert line.rule is not None
    assert (line.rule.source, line.rule.id, line.rule.formula) == (
        "table",
        "consultations-optam",
        "150 % de la BR, part AMO incluse",
    )
    assert (line.rule_amount, line.amc, line.participation_forfaitaire) == (
        Decimal("24.00"),
        Decimal("24.00"),
        Decimal("2.00"),
    )


def test_renewal_cap_names_the_date_it_becomes_covered(tables: dict[str, GuaranteeTable]) -> None:
    history = History(
        previous_equipment=(
            PreviousEquipment(Family.OPTICAL_LENS, dt.date(2024, 1, 10), Side.RIGHT),
        )
    )
    result = run(tables["essentiel"], [lens("B", "simple", "right", "120")], history=history)
    assert result.lines[0].caps == (
        CapApplied(ReasonCode.RENEWAL_PERIOD_NOT_REACHED, Decimal("0.00"), "2026-01-10"),
    )
    assert result.history_after.previous_equipment == history.previous_equipment


def test_history_after_chains_ceilings_counts_and_purchases(
    tables: dict[str, GuaranteeTable],
) -> None:
    history = History(
        ceilings_used={"other": Decimal("5")}, counts_used={"medecines-douces-annuel": 1}
    )
    result = run(
        tables["equilibre"],
        [
            {"family": "alternative_medicine", "billed": "60", "br": "0", "amo_rate": "0"},
            prosthesis("libre", "900"),
            frame("B", "120"),
            lens("B", "simple", "right", "100"),
            aid("II", "left", "1500"),
            consult("30"),
        ],
        history=history,
    )
    after = result.history_after
    assert after.ceilings_used == {
        "other": Decimal("5.00"),
        "medecines-douces-annuel": Decimal("40.00"),
        "dentaire-protheses-annuel": Decimal("228.00"),
    }
    assert after.counts_used == {"medecines-douces-annuel": 2}
    assert [(p.family, p.side, p.purchased_on) for p in after.previous_equipment] == [
        (Family.OPTICAL_FRAME, None, CARE),
        (Family.OPTICAL_LENS, Side.RIGHT, CARE),
        (Family.HEARING_AID, Side.LEFT, CARE),
    ]
    again = run(
        tables["equilibre"],
        [lens("B", "simple", "right", "100")],
        history=after,
        care_date=dt.date(2025, 6, 1),
    )
    assert again.lines[0].reasons == (ReasonCode.RENEWAL_PERIOD_NOT_REACHED,)


def test_per_equipment_ceiling_is_per_ear_for_hearing_aids() -> None:
    per_aid = load_guarantee_table(
        table([rule("audio", ["hearing_aid"], fixed("500.00", "equipment"), classes=["II"])])
    )
    result = run(per_aid, [aid("II", "right", "1500"), aid("II", "left", "1500")], age=72)
    assert [line.amc for line in result.lines] == [Decimal("500.00")] * 2


def test_per_equipment_count_ceiling() -> None:
    two_lenses = load_guarantee_table(
        table(
            [rule("lentilles", ["contact_lens"], pct("100"), ceilings=["boites"])],
            ceilings=[{"id": "boites", "per": "equipment", "count": 2}],
        )
    )
    result = run(
        two_lenses,
        [{"family": "contact_lens", "billed": "90", "br": "30", "amo_rate": "60", "quantity": 3}],
    )
    assert (result.lines[0].rule_amount, result.lines[0].amc) == (Decimal("12.00"), Decimal("8.00"))
    assert result.history_after.counts_used == {}


def test_rules_match_codes_and_ages_in_order() -> None:
    by_age = load_guarantee_table(
        table(
            [
                rule("gp-enfant", ["consultation"], pct("200"), codes=["G"], max_age=15),
                rule("gp-senior", ["consultation"], pct("150"), codes=["G"], min_age=65),
                rule("consult", ["consultation"], pct("100")),
            ]
        )
    )
    used = [run(by_age, [consult("60")], age=age).lines[0].rule for age in (10, 42, 70)]
    assert [r.id if r else None for r in used] == ["gp-enfant", "consult", "gp-senior"]
    other_code = run(by_age, [consult("60", code="CS")], age=10).lines[0].rule
    assert other_code is not None and other_code.id == "consult"


def test_non_responsible_table_skips_the_regulation() -> None:
    free = load_guarantee_table(
        table([rule("optique", ["optical_frame", "optical_lens"], ACTUAL_COST)], responsible=False)
    )
    history = History(
        previous_equipment=(PreviousEquipment(Family.OPTICAL_FRAME, dt.date(2025, 1, 1)),)
    )
    class_a_lens = lens("A", "simple", "right", "50", br="9")
    result = run(free, [frame("B", "300"), class_a_lens], history=history)
    # The frame's LPP renewal period has not run: the AMO refuses it (whatever the
    # contract), and this non-responsible table pays the whole price; the lens is new.
    assert [(line.amo, line.amc, line.rac) for line in result.lines] == [
        (Decimal("0.00"), Decimal("300.00"), Decimal("0.00")),
        (Decimal("5.40"), Decimal("44.60"), Decimal("0.00")),
    ]
    assert [line.reasons for line in result.lines] == [(ReasonCode.RENEWAL_PERIOD_NOT_REACHED,), ()]
    assert result.history_after.previous_equipment == (
        *history.previous_equipment,
        PreviousEquipment(Family.OPTICAL_LENS, CARE, "right"),
    )


def test_optical_setting_of_the_table_overrides_the_reference(
    tables: dict[str, GuaranteeTable],
) -> None:
    data = json.loads(json.dumps(tables["excellence"].model_dump(mode="json")))
    data["optical_cap_includes_amo"] = False
    amc_alone = load_guarantee_table(data)
    result = run(amc_alone, [frame("B", "180")])
    assert (result.optical_cap_includes_amo, result.lines[0].amc) == (False, Decimal("100.00"))


def test_reference_can_be_replaced(tables: dict[str, GuaranteeTable]) -> None:
    data = load_reference().model_dump(mode="json")
    data["versions"][0]["optical"]["cap_includes_amo"]["value"] = False
    data["versions"][0]["audio"]["class_i_price_limit_adult"]["value"] = "1000.00"
    reference = read_reference(data)
    result = run(
        tables["essentiel"],
        [frame("B", "180"), aid("I", "left", "1000")],
        age=72,
        reference=reference,
    )
    assert [line.amc for line in result.lines] == [Decimal("100.00"), Decimal("760.00")]


def test_same_input_same_output(tables: dict[str, GuaranteeTable]) -> None:
    lines = [
        frame("B", "200"),
        lens("B", "complex", "right", "300"),
        lens("B", "simple", "left", "150"),
        consult("60", code="CS"),
    ]
    first, second = run(tables["excellence"], lines), run(tables["excellence"], lines)
    assert first == second
    assert first.to_dict() == second.to_dict()


def test_act_line_amounts_sum_to_billed(tables: dict[str, GuaranteeTable]) -> None:
    line = ActLine(
        Family.CONSULTATION,
        Decimal("45"),
        Decimal("30"),
        amo_rate=Decimal("70"),
        participation_forfaitaire=Decimal("2"),
    )
    result = compute(
        [line], table=tables["excellence"], beneficiary_age=42, care_date=CARE, history=History()
    )
    only = result.lines[0]
    assert only.amo + only.amc + only.rac == only.billed == result.totals.billed
