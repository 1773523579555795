"""NIR and professional identifiers against the public test vectors (read in place)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tierspayant.providers.identifiers import (
    InvalidIdentifier,
    validate_finess,
    validate_rpps,
    validate_siret,
)
from tierspayant.registry.nir import InvalidNIR, mask_nir, normalize_nir

VECTORS = (
    Path(__file__).resolve().parents[1].parent
    / "shared/fixtures/identifiers/fr_identifier_vectors.csv"
)


def vectors(kind: str) -> list[tuple[str, str, str]]:
    with VECTORS.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["kind"] == kind]
    assert rows, f"no {kind} vectors in {VECTORS}"
    return [(r["input"], r["expected"], r["why (our words)"]) for r in rows]


@pytest.mark.parametrize(("value", "expected", "why"), vectors("NIR"))
def test_nir_vectors(value: str, expected: str, why: str) -> None:
    if expected == "valid":
        normalized = normalize_nir(value)
        assert len(normalized) == 15
        assert normalized == value.replace(" ", "").upper()
    else:  # "invalid", and 13-character forms a strict validator must reject
        with pytest.raises(InvalidNIR) as caught:
            normalize_nir(value)
        assert value.replace(" ", "") not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [("2530B2A07300470", "format"), ("", "obligatoire"), ("553072B07300417", "premier chiffre")],
    ids=["corsica-letters-elsewhere", "empty", "bad-sex-digit-valid-key"],
)
def test_nir_rules_beyond_the_vectors(value: str, message: str) -> None:
    with pytest.raises(InvalidNIR, match=message):
        normalize_nir(value)


def test_mask_shows_only_sex_digit_and_key() -> None:
    assert mask_nir("177025626004544") == "1 ** ** ** *** *** 44"


@pytest.mark.parametrize(("value", "expected", "why"), vectors("SIRET"))
def test_siret_vectors(value: str, expected: str, why: str) -> None:
    if expected == "valid":
        assert validate_siret(value) == value
    else:
        with pytest.raises(InvalidIdentifier):
            validate_siret(value)


@pytest.mark.parametrize(("value", "expected", "why"), vectors("FINESS"))
def test_finess_vectors(value: str, expected: str, why: str) -> None:
    assert validate_finess(value) == value


@pytest.mark.parametrize(
    ("value", "valid"),
    [("10003580148", True), ("10003580147", False), ("1000358014", False), ("1000358014a", False)],
    ids=["luhn-ok", "luhn-bad", "ten-digits", "letter"],
)
def test_rpps(value: str, valid: bool) -> None:
    if valid:
        assert validate_rpps(value) == value
    else:
        with pytest.raises(InvalidIdentifier, match="RPPS"):
            validate_rpps(value)
