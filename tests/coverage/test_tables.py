"""Guarantee tables: validated when loaded, versioned by effective date."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.coverage.builders import ACTUAL_COST, fixed, pct, rule, table
from tierspayant.coverage import (
    GuaranteeTable,
    InvalidCase,
    InvalidGuaranteeTable,
    load_guarantee_table,
)
from tierspayant.coverage.tables import euros_fr

GOOD = table(
    [
        rule("consult", ["consultation"], pct("100")),
        rule(
            "lentilles",
            ["contact_lens"],
            fixed("100.00", "benefit_year"),
            ceilings=["optique-annuel"],
        ),
    ],
    ceilings=[{"id": "optique-annuel", "per": "benefit_year", "amount": "300"}],
)


def test_example_tables_load(tables: dict[str, GuaranteeTable]) -> None:
    assert sorted(tables) == ["equilibre", "essentiel", "excellence"]
    assert all(t.responsible for t in tables.values())
    assert [v.effective_from for v in tables["equilibre"].versions] == [
        dt.date(2024, 1, 1),
        dt.date(2025, 1, 1),
    ]


def test_version_in_force_on_the_care_date(tables: dict[str, GuaranteeTable]) -> None:
    equilibre = tables["equilibre"]
    assert equilibre.version_for(dt.date(2024, 12, 31)).effective_from == dt.date(2024, 1, 1)
    assert equilibre.version_for(dt.date(2025, 1, 1)).effective_from == dt.date(2025, 1, 1)
    with pytest.raises(InvalidCase, match="before the first version of guarantee table equilibre"):
        equilibre.version_for(dt.date(2023, 12, 31))


def test_fixed_per_year_is_its_own_ceiling_before_the_named_ones() -> None:
    version = load_guarantee_table(GOOD).versions[0]
    ceilings = version.ceilings_of(version.rules[1])
    assert [(c.id, c.per, c.amount) for c in ceilings] == [
        ("lentilles", "benefit_year", Decimal("100.00")),
        ("optique-annuel", "benefit_year", Decimal("300.00")),
    ]
    assert version.ceilings_of(version.rules[0]) == ()


@pytest.mark.parametrize(
    ("benefit", "wording"),
    [
        (pct("300"), "300 % de la BR, part AMO incluse"),
        (pct("62.50", included=False), "62,5 % de la BR, part AMO en sus"),
        (fixed("1400"), "Forfait 1\u202f400,00 € par acte"),
        (fixed("200", "equipment"), "Forfait 200,00 € par équipement"),
        (fixed("50", "benefit_year"), "Forfait 50,00 € par année"),
        (ACTUAL_COST, "Frais réels"),
    ],
    ids=[
        "percent-included",
        "percent-on-top",
        "per-act",
        "per-equipment",
        "per-year",
        "actual-cost",
    ],
)
def test_benefit_wording_in_french(benefit: dict[str, Any], wording: str) -> None:
    loaded = load_guarantee_table(table([rule("r", ["consultation"], benefit)]))
    assert loaded.versions[0].rules[0].benefit.describe() == wording


def test_euros_in_french() -> None:
    assert euros_fr(Decimal("0.5")) == "0,50 €"


def test_load_from_file(tmp_path: Path) -> None:
    path = tmp_path / "inline.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    assert load_guarantee_table(path) == load_guarantee_table(GOOD)
    assert load_guarantee_table(str(path)).id == "inline"


@pytest.mark.parametrize(
    ("content", "why"),
    [("{", "not valid JSON"), ("[1]", "must hold a JSON object")],
    ids=["broken-json", "not-an-object"],
)
def test_unreadable_table_file(tmp_path: Path, content: str, why: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidGuaranteeTable, match=why) as caught:
        load_guarantee_table(path)
    assert caught.value.source == str(path)


def test_missing_table_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidGuaranteeTable, match="cannot read the file"):
        load_guarantee_table(tmp_path / "absent.json")


def edit(path: str, value: Any) -> dict[str, Any]:
    """GOOD with one field replaced (``path`` like ``versions.0.rules.1.benefit.amount``);
    the value ``DELETE`` removes it."""
    data = copy.deepcopy(GOOD)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = data
    for part in parents:
        node = node[part]
    if value == "DELETE":
        del node[last]
    else:
        node[last] = value
    return data


BAD_TABLES: list[tuple[str, dict[str, Any], str, str]] = [
    ("missing-id", edit("id", "DELETE"), "id", "Field required"),
    ("id-with-spaces", edit("id", "my table"), "id", "should match pattern"),
    ("extra-key", edit("insurer", "x"), "insurer", "Extra inputs are not permitted"),
    ("no-versions", edit("versions", []), "versions", "at least 1 item"),
    ("responsible-not-bool", edit("responsible", "oui"), "responsible", "valid boolean"),
    (
        "bad-date",
        edit("versions.0.effective_from", "2024-02-30"),
        "versions[0].effective_from",
        "valid date",
    ),
    (
        "unknown-family",
        edit("versions.0.rules.0.match.families", ["astrology"]),
        "versions[0].rules[0].match.families[0]",
        "Input should be",
    ),
    (
        "no-family",
        edit("versions.0.rules.0.match.families", []),
        "versions[0].rules[0].match.families",
        "at least 1 item",
    ),
    (
        "unknown-benefit-kind",
        edit("versions.0.rules.0.benefit", {"kind": "magic"}),
        "versions[0].rules[0].benefit",
        "does not match any of the expected tags",
    ),
    (
        "negative-percent",
        edit("versions.0.rules.0.benefit.percent", "-10"),
        "versions[0].rules[0].benefit.percent_br.percent",
        "greater than or equal to 0",
    ),
    (
        "percent-not-number",
        edit("versions.0.rules.0.benefit.percent", "beaucoup"),
        "versions[0].rules[0].benefit.percent_br.percent",
        "valid decimal",
    ),
    (
        "amount-sub-cent",
        edit("versions.0.rules.1.benefit.amount", "100.001"),
        "versions[0].rules[1].benefit.fixed.amount",
        "2 decimal places",
    ),
    (
        "bad-per",
        edit("versions.0.rules.1.benefit.per", "month"),
        "versions[0].rules[1].benefit.fixed.per",
        "Input should be",
    ),
    (
        "class-of-other-family",
        edit("versions.0.rules.0.match.classes", ["B"]),
        "versions[0].rules[0].match",
        "class B does not apply",
    ),
    (
        "equipment-on-consultation",
        edit("versions.0.rules.0.match.equipment", ["simple+simple"]),
        "versions[0].rules[0].match",
        "equipment applies to optical",
    ),
    (
        "code-of-other-system",
        edit("versions.0.rules.0.match.codes", ["HBLD634"]),
        "versions[0].rules[0].match",
        "does not fit these families",
    ),
    (
        "ages-reversed",
        edit(
            "versions.0.rules.0.match", {"families": ["consultation"], "min_age": 30, "max_age": 12}
        ),
        "versions[0].rules[0].match",
        "min_age is above max_age",
    ),
    (
        "optam-on-contact-lens",
        edit("versions.0.rules.1.match.optam", True),
        "versions[0].rules[1].match",
        "optam applies to consultation",
    ),
    (
        "age-as-text",
        edit("versions.0.rules.0.match.max_age", "12"),
        "versions[0].rules[0].match.max_age",
        "valid integer",
    ),
    (
        "unknown-ceiling",
        edit("versions.0.rules.0.ceilings", ["dentaire"]),
        "versions[0]",
        "unknown ceiling 'dentaire'",
    ),
    (
        "duplicate-ids",
        edit("versions.0.ceilings.0.id", "consult"),
        "versions[0]",
        "ids must be unique",
    ),
    (
        "ceiling-without-limit",
        edit("versions.0.ceilings.0.amount", "DELETE"),
        "versions[0].ceilings[0]",
        "an amount, a count or both",
    ),
    (
        "ceiling-count-zero",
        edit("versions.0.ceilings.0.count", 0),
        "versions[0].ceilings[0].count",
        "greater than or equal to 1",
    ),
    (
        "renewal-zero",
        edit("versions.0.rules.0.renewal_months", 0),
        "versions[0].rules[0].renewal_months",
        "greater than or equal to 1",
    ),
    (
        "empty-label",
        edit("versions.0.rules.0.label", ""),
        "versions[0].rules[0].label",
        "at least 1 character",
    ),
]


@pytest.mark.parametrize(
    ("data", "field", "why"),
    [case[1:] for case in BAD_TABLES],
    ids=[case[0] for case in BAD_TABLES],
)
def test_bad_table_is_refused_when_loaded(data: dict[str, Any], field: str, why: str) -> None:
    with pytest.raises(InvalidGuaranteeTable) as caught:
        load_guarantee_table(data)
    assert caught.value.field == field
    assert why in caught.value.reason
    assert caught.value.source is None


def test_versions_must_be_in_order() -> None:
    data = copy.deepcopy(GOOD)
    data["versions"] = [GOOD["versions"][0] | {"effective_from": "2025-01-01"}, GOOD["versions"][0]]
    with pytest.raises(InvalidGuaranteeTable, match="increasing, distinct effective_from"):
        load_guarantee_table(data)


def test_several_errors_are_counted() -> None:
    data = edit("id", "DELETE") | {"name": ""}
    with pytest.raises(InvalidGuaranteeTable, match=r"1 more error\(s\)"):
        load_guarantee_table(data)


def test_json_schema_is_available() -> None:
    schema = GuaranteeTable.model_json_schema()
    assert schema["title"] == "GuaranteeTable"
    assert "versions" in schema["properties"]
