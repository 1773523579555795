"""compute_case(): the JSON entry point and its errors (file, field, why)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.coverage.builders import consult, pct, rule, table
from tierspayant.coverage import (
    CoverageError,
    InvalidActLine,
    InvalidCase,
    InvalidGuaranteeTable,
    compute_case,
)

BASE: dict[str, Any] = {
    "table": "essentiel",
    "beneficiary_age": 42,
    "care_date": "2025-03-14",
    "lines": [consult("30.00")],
}


def test_case_by_table_name(tables_dir: Path) -> None:
    result = compute_case({"id": "gp-1", "description": "GP visit", **BASE}, tables_dir)
    assert result["case"] == "gp-1"
    assert result["lines"][0]["amc"] == "9.00"


def test_case_with_inline_table_and_as_of(tables_dir: Path) -> None:
    case = {
        **BASE,
        "table": table([rule("c", ["consultation"], pct("200"))]),
        "lines": [consult("80")],
    }
    del case["care_date"]
    case["as_of"] = "2025-03-14"
    result = compute_case(case, tables_dir)
    assert "case" not in result
    assert (result["table"]["name"], result["lines"][0]["amc"]) == ("Inline", "39.00")


def case_with(**changes: Any) -> dict[str, Any]:
    case = dict(BASE)
    for key, value in changes.items():
        if value == "DELETE":
            del case[key]
        else:
            case[key] = value
    return case


BAD_CASES: list[tuple[str, Any, type[CoverageError], str, str]] = [
    ("not-an-object", [BASE], InvalidCase, "", "JSON object"),
    ("unknown-key", case_with(patient="x"), InvalidCase, "patient", "unknown field"),
    ("no-table", case_with(table="DELETE"), InvalidCase, "table", "must be the id"),
    ("table-path", case_with(table="../secrets"), InvalidCase, "table", "must be the id"),
    ("table-unknown", case_with(table="platinum"), InvalidCase, "table", "no table 'platinum'"),
    (
        "inline-table-invalid",
        case_with(table={"id": "x"}),
        InvalidGuaranteeTable,
        "table.name",
        "Field required",
    ),
    ("no-age", case_with(beneficiary_age="DELETE"), InvalidCase, "beneficiary_age", "required"),
    ("age-text", case_with(beneficiary_age="42"), InvalidCase, "beneficiary_age", "whole years"),
    ("no-date", case_with(care_date="DELETE"), InvalidCase, "care_date", "required"),
    ("both-dates", case_with(as_of="2025-03-14"), InvalidCase, "as_of", "not both"),
    ("bad-date", case_with(care_date="14/03/2025"), InvalidCase, "care_date", "not a date"),
    ("date-number", case_with(care_date=20250314), InvalidCase, "care_date", "not a date"),
    ("no-lines", case_with(lines=[]), InvalidCase, "lines", "non-empty array"),
    (
        "lines-object",
        case_with(lines={"family": "consultation"}),
        InvalidCase,
        "lines",
        "non-empty array",
    ),
    (
        "bad-line",
        case_with(lines=[consult("30.00"), consult("-1")]),
        InvalidActLine,
        "lines[1].billed",
        "must not be negative",
    ),
    ("line-not-object", case_with(lines=["G"]), InvalidActLine, "lines[0]", "JSON object"),
    (
        "bad-history",
        case_with(history={"counts_used": {"x": -1}}),
        InvalidCase,
        "history.counts_used.x",
        "whole number",
    ),
]


@pytest.mark.parametrize(
    ("case", "error", "field", "why"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES]
)
def test_bad_case_names_the_field(
    tables_dir: Path, case: Any, error: type[CoverageError], field: str, why: str
) -> None:
    with pytest.raises(error) as caught:
        compute_case(case, tables_dir)
    assert caught.value.field == field
    assert why in caught.value.reason


def test_unknown_table_lists_the_available_ones(tables_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidCase, match="available: equilibre, essentiel, excellence"):
        compute_case(case_with(table="platinum"), tables_dir)
    with pytest.raises(InvalidCase, match="available: none"):
        compute_case(case_with(table="platinum"), tmp_path)


def test_table_file_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(InvalidGuaranteeTable) as caught:
        compute_case(case_with(table="broken"), tmp_path)
    assert caught.value.source == str(tmp_path / "broken.json")
    (tmp_path / "renamed.json").write_text(
        json.dumps(table([rule("c", ["consultation"], pct("100"))]))
    )
    with pytest.raises(InvalidGuaranteeTable, match=r"file is named renamed\.json") as caught:
        compute_case(case_with(table="renamed"), tmp_path)
    assert caught.value.field == "id"
