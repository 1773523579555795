"""Renewal per equipment, at each age boundary, with real numbers (care date 14 March
2025, « essentiel » table: class B equipment 100 EUR forfait, class B items BR 0.05 EUR at
60 %, AMO 0.03 EUR each).

Reading of the texts (LPP title II chapter 2, arrêté of 3 December 2018; R871-2 CSS;
ameli « lunettes »): "à partir de 16 ans" is age >= 16 (24 months), "moins de 16 ans" age
<= 15 (12 months); "jusqu'à 6 ans" (frame no longer fits, 6 months) is read as ameli's
"moins de 6 ans": age <= 5. Hearing aids: "<= 20 ans" and "> 20 ans" as written in the
LPP labels, 48 months per ear at any age. A renewal not reached is refused by the AMO
too: AMO 0, AMC 0, RAC = price.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.coverage.builders import aid, frame, lens
from tierspayant.coverage import compute_case

R = "RENEWAL_PERIOD_NOT_REACHED"
NOT_REACHED = ("0.00", "0.00")


def eq(family: str, side: str | None, day: str) -> dict[str, Any]:
    return {"family": family, "side": side, "date": day}


def run(tables_dir: Path, lines: list[dict[str, Any]], age: int, history: list[Any]) -> Any:
    return compute_case(
        {
            "table": "essentiel",
            "beneficiary_age": age,
            "care_date": "2025-03-14",
            "history": {"previous_equipment": history},
            "lines": lines,
        },
        tables_dir,
    )["lines"]


# (name, age, previous purchase of the right lens, covered?)
AGE_BOUNDARIES = [
    ("15-after-12-months", 15, "2024-03-14", True),
    ("15-before-12-months", 15, "2024-03-15", False),
    ("16-after-12-months-not-yet-24", 16, "2024-03-14", False),
    ("16-after-24-months", 16, "2023-03-14", True),
    ("16-one-day-short-of-24-months", 16, "2023-03-15", False),
]


@pytest.mark.parametrize(
    ("age", "last", "covered"),
    [case[1:] for case in AGE_BOUNDARIES],
    ids=[case[0] for case in AGE_BOUNDARIES],
)
def test_lens_renewal_at_the_age_16_boundary(
    tables_dir: Path, age: int, last: str, covered: bool
) -> None:
    [line] = run(
        tables_dir,
        [lens("B", "simple", "right", "120.00")],
        age,
        [eq("optical_lens", "right", last)],
    )
    if covered:
        assert (line["amo"], line["amc"], line["rac"]) == ("0.03", "100.00", "19.97")
    else:
        assert (line["amo"], line["amc"], line["rac"]) == ("0.00", "0.00", "120.00")
        assert {r["code"] for r in line["reasons"]} == {R}


# A frame that no longer fits: the whole equipment renews after 6 months up to age 5;
# from age 6 the child's 12 months apply to the whole equipment.
FRAME_UNFIT = [
    ("5-after-6-months-equipment-renewed", 5, "2024-09-14", [("0.03", "79.97"), ("0.03", "20.03")]),
    ("5-before-6-months-refused", 5, "2024-09-15", [NOT_REACHED, NOT_REACHED]),
    ("6-after-6-months-refused", 6, "2024-09-14", [NOT_REACHED, NOT_REACHED]),
    ("6-after-12-months-renewed", 6, "2024-03-14", [("0.03", "79.97"), ("0.03", "20.03")]),
]


@pytest.mark.parametrize(
    ("age", "last", "expected"),
    [case[1:] for case in FRAME_UNFIT],
    ids=[case[0] for case in FRAME_UNFIT],
)
def test_unfit_frame_opens_renewal_of_the_whole_equipment(
    tables_dir: Path, age: int, last: str, expected: list[tuple[str, str]]
) -> None:
    """The reason sits on the frame line only; the lens follows it (same period)."""
    lines = run(
        tables_dir,
        [
            frame("B", "80.00", code="2276870", renewal_reason="frame_unfit"),
            lens("B", "simple", "right", "60.00"),
        ],
        age,
        [eq("optical_frame", None, last), eq("optical_lens", "right", last)],
    )
    assert [(line["amo"], line["amc"]) for line in lines] == expected
    for line, (amo, amc) in zip(lines, expected, strict=True):
        billed = {"optical_frame": "80.00", "optical_lens": "60.00"}[line["family"]]
        if (amo, amc) == NOT_REACHED:
            assert line["rac"] == billed


def test_correction_change_opens_early_renewal_of_the_lenses_only(tables_dir: Path) -> None:
    """An adult 13 months after the last equipment: the lens with a change of correction
    is covered, the frame bought the same day is not (AMO and AMC both nothing)."""
    lines = run(
        tables_dir,
        [
            frame("B", "80.00", renewal_reason="correction_change"),
            lens("B", "simple", "right", "60.00", renewal_reason="correction_change"),
        ],
        42,
        [eq("optical_frame", None, "2024-02-14"), eq("optical_lens", "right", "2024-02-14")],
    )
    assert [(line["amo"], line["amc"], line["rac"]) for line in lines] == [
        ("0.00", "0.00", "80.00"),
        ("0.03", "59.97", "0.00"),
    ]


HEARING = [
    ("20-after-48-months", 20, "2021-03-14", ("840.00", "560.00", "0.00")),
    ("20-before-48-months", 20, "2021-03-15", ("0.00", "0.00", "1400.00")),
    ("21-after-48-months", 21, "2021-03-14", ("240.00", "710.00", "0.00")),
    ("21-before-48-months", 21, "2021-03-15", ("0.00", "0.00", "950.00")),
]


@pytest.mark.parametrize(
    ("age", "last", "expected"),
    [case[1:] for case in HEARING],
    ids=[case[0] for case in HEARING],
)
def test_hearing_aid_renewal_per_ear_either_side_of_20(
    tables_dir: Path, age: int, last: str, expected: tuple[str, str, str]
) -> None:
    young = age <= 20
    billed = "1400.00" if young else "950.00"
    [line] = run(
        tables_dir,
        [aid("I", "right", billed, br="1400.00" if young else "400.00")],
        age,
        [eq("hearing_aid", "right", last)],
    )
    assert (line["amo"], line["amc"], line["rac"]) == expected
