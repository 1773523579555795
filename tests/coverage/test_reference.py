"""The dated reference table of regulated figures and the rules over it."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.coverage.builders import act, frame, lens, prosthesis
from tierspayant.coverage import (
    InvalidCase,
    InvalidReferenceTable,
    LensComplexity,
    LensPair,
    load_reference,
    read_reference,
)
from tierspayant.coverage.acts import line_from_dict
from tierspayant.coverage.reference import DEFAULT_REFERENCE
from tierspayant.coverage.regulation import (
    add_months,
    class_b_bounds,
    full_cover_price_limit,
    lens_pair,
    renewal_due,
    renewal_months,
)

REF = load_reference().versions[0]


def raw_reference() -> dict[str, Any]:
    return load_reference().model_dump(mode="json")


def test_shipped_reference_figures() -> None:
    reference = load_reference()
    assert reference.id == DEFAULT_REFERENCE
    optical, audio = REF.optical, REF.audio
    assert [optical.class_b_max[pair].value for pair in LensPair] == [
        Decimal(v) for v in ("420", "560", "610", "700", "750", "800")
    ]
    assert [optical.class_b_min[pair].value for pair in LensPair] == [
        Decimal(v) for v in ("50", "125", "125", "200", "200", "200")
    ]
    assert optical.class_b_frame_max.value == Decimal("100.00")
    assert (audio.class_i_price_limit_adult.value, audio.class_i_price_limit_young.value) == (
        Decimal("950.00"),
        Decimal("1400.00"),
    )
    assert audio.class_ii_total_max.value == Decimal("1700.00")
    assert audio.renewal_months.value == 48


def test_unconfirmed_figures_are_flagged() -> None:
    optical = REF.optical
    confirmed = {
        LensPair.SIMPLE_SIMPLE,
        LensPair.COMPLEX_COMPLEX,
        LensPair.VERY_COMPLEX_VERY_COMPLEX,
    }
    for pair in LensPair:
        assert optical.class_b_max[pair].unconfirmed is (pair not in confirmed)
        assert optical.class_b_min[pair].unconfirmed is (pair is not LensPair.SIMPLE_SIMPLE)
    assert optical.cap_includes_amo.unconfirmed
    assert optical.young_child_under_age.unconfirmed


def test_every_figure_has_a_source() -> None:
    def figures(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict) and "value" in node:
            return [node]
        if isinstance(node, dict):
            node = list(node.values())
        return [f for value in node for f in figures(value)] if isinstance(node, list) else []

    found = figures(raw_reference()["versions"])
    assert len(found) == 30
    assert all(len(f["source"]) > 20 for f in found)


def test_version_for_refuses_dates_before_the_table() -> None:
    with pytest.raises(InvalidCase, match="before the first version of the regulated reference"):
        load_reference().version_for(dt.date(2020, 12, 31))


@pytest.mark.parametrize("name", ["../secret", "Regulated", "absent-2099"])
def test_unknown_reference_names(name: str) -> None:
    with pytest.raises(InvalidReferenceTable) as caught:
        load_reference(name)
    assert caught.value.field == "name"


def test_read_reference_from_file(tmp_path: Path) -> None:
    path = tmp_path / "ref.json"
    path.write_text(json.dumps(raw_reference()), encoding="utf-8")
    assert read_reference(path) == load_reference()


def broken(change: str) -> dict[str, Any]:
    data = raw_reference()
    optical = data["versions"][0]["optical"]
    if change == "missing-pair":
        del optical["class_b_max"]["simple+complex"]
    elif change == "min-above-max":
        optical["class_b_min"]["simple+simple"]["value"] = "500.00"
    elif change == "frame-above-max":
        optical["class_b_frame_max"]["value"] = "450.00"
    elif change == "no-source":
        optical["class_b_frame_max"]["source"] = ""
    else:
        later = copy.deepcopy(data["versions"][0])
        data["versions"] = [later | {"effective_from": "2024-01-01"}, data["versions"][0]]
    return data


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ("missing-pair", "lacks the lens pairs simple+complex"),
        ("min-above-max", "class_b_min simple+simple is above class_b_max"),
        ("frame-above-max", "class_b_frame_max is above class_b_max"),
        ("no-source", "at least 1 character"),
        ("versions-out-of-order", "increasing, distinct effective_from"),
    ],
    ids=["missing-pair", "min-above-max", "frame-above-max", "no-source", "versions-out-of-order"],
)
def test_bad_reference_is_refused(change: str, why: str) -> None:
    with pytest.raises(InvalidReferenceTable, match=re.escape(why)):
        read_reference(broken(change))


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2023-03-14", 24, "2025-03-14"),
        ("2024-01-31", 1, "2024-02-29"),
        ("2023-01-31", 1, "2023-02-28"),
        ("2024-12-15", 1, "2025-01-15"),
        ("2021-03-14", 48, "2025-03-14"),
        ("2024-09-01", 6, "2025-03-01"),
        ("2024-05-01", 0, "2024-05-01"),
    ],
)
def test_add_months(start: str, months: int, expected: str) -> None:
    assert add_months(dt.date.fromisoformat(start), months) == dt.date.fromisoformat(expected)


def test_renewal_due() -> None:
    care = dt.date(2025, 3, 14)
    assert renewal_due(None, care, 24) is None
    assert renewal_due(dt.date(2023, 3, 14), care, 24) is None
    assert renewal_due(dt.date(2023, 3, 15), care, 24) == dt.date(2025, 3, 15)


RENEWALS = [
    ("adult-frame", frame("B", "100"), 42, 24),
    ("age-16-is-adult", frame("B", "100"), 16, 24),
    ("age-15-is-child", frame("B", "100"), 15, 12),
    ("adult-lens", lens("B", "simple", "left", "100"), 42, 24),
    (
        "adult-lens-correction-change",
        lens("B", "simple", "left", "100", renewal_reason="correction_change"),
        42,
        12,
    ),
    (
        "child-lens-correction-change",
        lens("B", "simple", "left", "100", renewal_reason="correction_change"),
        15,
        0,
    ),
    (
        "adult-frame-correction-change-ignored",
        frame("B", "100", renewal_reason="correction_change"),
        42,
        24,
    ),
    ("lens-medical-case", lens("B", "simple", "left", "100", renewal_reason="medical_case"), 42, 0),
    ("frame-medical-case-ignored", frame("B", "100", renewal_reason="medical_case"), 42, 24),
    ("age-5-frame-unfit", frame("B", "100", renewal_reason="frame_unfit"), 5, 6),
    (
        "age-5-lens-frame-unfit",
        lens("B", "simple", "left", "100", renewal_reason="frame_unfit"),
        5,
        6,
    ),
    ("age-6-frame-unfit-child-period", frame("B", "100", renewal_reason="frame_unfit"), 6, 12),
    ("hearing-aid", act("hearing_aid", "950", "400", "60", side="left", **{"class": "I"}), 72, 48),
    ("consultation-none", act("consultation", "30", "30", "70"), 42, None),
]


@pytest.mark.parametrize(
    ("data", "age", "months"), [r[1:] for r in RENEWALS], ids=[r[0] for r in RENEWALS]
)
def test_regulated_renewal_months(data: dict[str, Any], age: int, months: int | None) -> None:
    assert renewal_months(line_from_dict(data), age, REF) == months


PRICE_LIMITS = [
    (
        "line-limit-wins",
        act("hearing_aid", "1140", "400", "60", side="left", price_limit="1140", **{"class": "I"}),
        72,
        "1140.00",
    ),
    (
        "audio-adult",
        act("hearing_aid", "950", "400", "60", side="left", **{"class": "I"}),
        21,
        "950.00",
    ),
    (
        "audio-age-20",
        act("hearing_aid", "950", "400", "60", side="left", **{"class": "I"}),
        20,
        "1400.00",
    ),
    ("adult-frame-a", frame("A", "30", br="9", code="2222124"), 16, "30.00"),
    ("child-frame-a-unknown", frame("A", "30", br="9", code="2254242"), 15, None),
    ("lens-a-unknown", lens("A", "simple", "left", "30", br="9"), 42, None),
    ("dental-100-sante-unknown", prosthesis("100_sante", "500"), 42, None),
]


@pytest.mark.parametrize(
    ("data", "age", "limit"), [r[1:] for r in PRICE_LIMITS], ids=[r[0] for r in PRICE_LIMITS]
)
def test_full_cover_price_limit(data: dict[str, Any], age: int, limit: str | None) -> None:
    expected = None if limit is None else Decimal(limit)
    assert full_cover_price_limit(line_from_dict(data), age, REF) == expected


def test_lens_pairs() -> None:
    simple, complex_, very = LensComplexity
    assert LensPair.of(very, simple) is LensPair.SIMPLE_VERY_COMPLEX
    assert LensPair.of(complex_, very) is LensPair.COMPLEX_VERY_COMPLEX
    lenses = [
        line_from_dict(lens("B", "very_complex", "right", "1")),
        line_from_dict(lens("B", "simple", "left", "1")),
    ]
    assert lens_pair(lenses) is LensPair.SIMPLE_VERY_COMPLEX
    assert lens_pair(lenses[:1]) is LensPair.VERY_COMPLEX_VERY_COMPLEX
    assert lens_pair([]) is None
    assert class_b_bounds(None, REF) == (Decimal("50.00"), Decimal("420.00"))
