"""The codes used by the named cases are real: they exist in the public code lists of
../shared/fixtures/nomenclatures (read in place), with the class and side they claim."""

from __future__ import annotations

import csv
from functools import cache

import pytest

from tests.coverage.builders import SHARED
from tests.coverage.test_named_cases import CASES
from tierspayant.coverage.vocab import CodeKind, code_kind

NOMENCLATURES = SHARED / "fixtures" / "nomenclatures"
pytestmark = pytest.mark.skipif(
    not NOMENCLATURES.is_dir(), reason="../shared/fixtures/nomenclatures is not beside the project"
)


@cache
def column(name: str, key: str) -> dict[str, dict[str, str]]:
    """Rows of a ';'-separated code list by their ``key`` column."""
    with (NOMENCLATURES / name).open(encoding="utf-8", newline="") as handle:
        return {row[key]: row for row in csv.DictReader(handle, delimiter=";")}


def used_lines() -> list[dict[str, object]]:
    return [line for case in CASES for line in case.lines if line.get("code")]


def test_named_cases_use_codes() -> None:
    kinds = {code_kind(str(line["code"])) for line in used_lines()}
    assert {CodeKind.LPP, CodeKind.CCAM, CodeKind.NGAP, CodeKind.CIP13} <= kinds


@pytest.mark.parametrize("kind", [CodeKind.LPP, CodeKind.CCAM, CodeKind.NGAP])
def test_codes_exist_in_the_public_lists(kind: CodeKind) -> None:
    listing = {
        CodeKind.LPP: lambda: column("snds_NT_LPP.csv", "LPP_PRS_IDE"),
        CodeKind.CCAM: lambda: column("snds_IR_CCAM_V63.csv", "CAM_PRS_IDE_COD"),
        CodeKind.NGAP: lambda: column("snds_IR_NAT_V.csv", "PRS_NAT_CB2"),
    }[kind]()
    codes = {str(line["code"]) for line in used_lines() if code_kind(str(line["code"])) is kind}
    assert codes
    assert codes <= set(listing), sorted(codes - set(listing))


def test_lpp_labels_agree_with_class_and_side() -> None:
    lpp = column("snds_NT_LPP.csv", "LPP_PRS_IDE")
    sides = {"right": "DROITE", "left": "GAUCHE"}
    for line in used_lines():
        label = lpp.get(str(line["code"]), {}).get("LPP_RED_LIB", "")
        if line["family"] == "hearing_aid":
            assert f"CLASSE {line['class']}," in label
            assert sides[str(line["side"])] in label
        if line["family"] == "optical_frame":
            assert label.endswith(f"DE CLASSE {line['class']}")
