"""Member-file lines and headers: every bad input gets its line, its column and a reason."""

from __future__ import annotations

import io

import pytest

from tests.registry.conftest import TODAY, member_row
from tierspayant.registry.member_file.columns import COLUMNS, HEADER
from tierspayant.registry.member_file.parsing import (
    LineError,
    MemberFileError,
    MemberLine,
    fast_normalize_nir,
    iter_member_lines,
    parse_header,
    parse_line,
)
from tierspayant.registry.nir import InvalidNIR, normalize_nir

COLUMNS_OF_HEADER = parse_header(HEADER)
GOOD = "284076912304595"  # synthetic, valid key
CORSICA_2A = "178052A12304610"
CORSICA_2B = "178052B12304538"
ABROAD = "199069912345616"


def parse(row: str) -> MemberLine | LineError:
    return parse_line(7, row, COLUMNS_OF_HEADER, today=TODAY)


@pytest.mark.parametrize(
    ("row", "field", "reason_part"),
    [
        pytest.param(member_row(GOOD, amc="7010"), "numero_amc", "8 à 10 chiffres", id="amc"),
        pytest.param(member_row(GOOD, contract=""), "numero_contrat", "obligatoire", id="contract"),
        pytest.param(
            member_row(GOOD, contract_type="famille"), "type_contrat", "individual", id="type"
        ),
        pytest.param(member_row("284076912304596"), "nir", "clé de contrôle", id="nir-key"),
        pytest.param(member_row("2840769123045"), "nir", "15 caractères", id="nir-13"),
        pytest.param(member_row("178052A12304611"), "nir", "clé de contrôle", id="nir-2A-key"),
        pytest.param(member_row("17805AB12304610"), "nir", "format", id="nir-letters"),
        pytest.param(member_row("384076912304545"), "nir", "1, 2, 7 ou 8", id="nir-sex"),
        pytest.param(member_row(GOOD, rang="0"), "rang", "1 à 9", id="rang-0"),
        pytest.param(member_row(GOOD, rang="12"), "rang", "1 à 9", id="rang-12"),
        pytest.param(member_row(GOOD, last_name=""), "nom", "obligatoire", id="no-name"),
        pytest.param(member_row(GOOD, first_name="x" * 101), "prenom", "100", id="long-name"),
        pytest.param(
            member_row(GOOD, birth="1984-02-30"), "date_naissance", "AAAA-MM-JJ", id="bad-date"
        ),
        pytest.param(
            member_row(GOOD, birth="02/07/1984"), "date_naissance", "AAAA-MM-JJ", id="fr-date"
        ),
        pytest.param(
            member_row(GOOD, birth="19840702"), "date_naissance", "AAAA-MM-JJ", id="basic-date"
        ),
        pytest.param(
            member_row(GOOD, birth="1984-W27-1"), "date_naissance", "AAAA-MM-JJ", id="week-date"
        ),
        pytest.param(
            member_row(GOOD, birth="1984-07-0\uff12"),
            "date_naissance",
            "AAAA-MM-JJ",
            id="wide-digit",
        ),
        pytest.param(
            member_row(GOOD, birth="2027-01-01", start="2027-01-01"),
            "date_naissance",
            "futur",
            id="future-birth",
        ),
        pytest.param(member_row(GOOD, quality="parent"), "qualite", "insured", id="quality"),
        pytest.param(
            member_row(GOOD, start="1980-01-01"), "debut_droits", "avant la naissance", id="start"
        ),
        pytest.param(
            member_row(GOOD, start="2024-06-01", end="2024-01-31"),
            "fin_droits",
            "précède leur début",
            id="end-before-start",
        ),
        pytest.param(member_row(GOOD, end="demain"), "fin_droits", "AAAA-MM-JJ", id="bad-end"),
        pytest.param(
            member_row(GOOD, domains="pharmacy|beauty"), "domaines", "beauty", id="domain"
        ),
        pytest.param(
            member_row(GOOD, domains="pharmacy|pharmacy"), "domaines", "double", id="domain-twice"
        ),
        pytest.param(
            member_row(GOOD).rsplit(";", 4)[0], "ligne", "8 champs au lieu de 12", id="truncated"
        ),
        pytest.param(member_row(GOOD) + ";extra", "ligne", "13 champs", id="extra-field"),
    ],
)
def test_bad_line_names_its_field(row: str, field: str, reason_part: str) -> None:
    result = parse(row)
    assert isinstance(result, LineError)
    assert (result.line, result.field) == (7, field)
    assert reason_part in result.reason
    assert GOOD not in result.reason and "Durand" not in result.reason


@pytest.mark.parametrize(
    ("nir", "expected"),
    [
        pytest.param(GOOD, GOOD, id="mainland"),
        pytest.param(CORSICA_2A, CORSICA_2A, id="2A"),
        pytest.param(CORSICA_2B, CORSICA_2B, id="2B"),
        pytest.param("178052a12304610", CORSICA_2A, id="2a-lower"),
        pytest.param(ABROAD, ABROAD, id="born-abroad"),
        pytest.param("2 84 07 69 123 045 95", GOOD, id="spaces"),
    ],
)
def test_valid_lines_are_normalised(nir: str, expected: str) -> None:
    result = parse(member_row(nir, end="2026-12-31", domains="optical|pharmacy"))
    assert isinstance(result, MemberLine)
    assert result.nir == expected
    assert result.domains == ("pharmacy", "optical")  # the order of Domain
    assert result.rights_end is not None and result.rights_end.isoformat() == "2026-12-31"


@pytest.mark.parametrize(
    "nir",
    [
        GOOD,
        CORSICA_2A,
        CORSICA_2B,
        ABROAD,
        "284076912304596",
        "178052A12304611",
        "2840769123045",
        "1780520A2304610",
        "784076912304521",
        "184076912304595 ",
    ],
)
def test_fast_nir_path_agrees_with_the_reference(nir: str) -> None:
    try:
        expected: str | None = normalize_nir(nir)
    except InvalidNIR:
        expected = None
    try:
        got: str | None = fast_normalize_nir(nir)
    except InvalidNIR:
        got = None
    assert got == expected


@pytest.mark.parametrize(
    ("header", "reason_part"),
    [
        pytest.param(HEADER.replace(";", ","), "« , » trouvé", id="comma"),
        pytest.param(HEADER.replace(";", "\t"), "séparateur", id="tab"),
        pytest.param(HEADER.replace(";nir", ""), "colonnes manquantes : nir", id="missing"),
        pytest.param(HEADER + ";iban", "colonnes inconnues : iban", id="unknown"),
        pytest.param(HEADER + ";nom", "colonnes en double : nom", id="repeated"),
    ],
)
def test_unusable_header_refuses_the_file(header: str, reason_part: str) -> None:
    with pytest.raises(MemberFileError) as caught:
        parse_header(header)
    assert caught.value.line == 1
    assert reason_part in caught.value.reason


def test_header_in_any_order_with_bom_and_optional_column() -> None:
    columns = parse_header("\ufeff" + ";".join(reversed(COLUMNS)) + ";responsable")
    row = ";".join(reversed(member_row(GOOD).split(";"))) + ";N"
    result = parse_line(2, row, columns, today=TODAY)
    assert isinstance(result, MemberLine)
    assert (result.nir, result.responsible) == (GOOD, False)


@pytest.mark.parametrize(
    ("content", "line", "reason_part"),
    [
        pytest.param(b"", 0, "vide", id="empty"),
        pytest.param(HEADER.replace("prenom", "prénom").encode("latin-1"), 1, "UTF-8", id="latin1"),
    ],
)
def test_unreadable_files(content: bytes, line: int, reason_part: str) -> None:
    with pytest.raises(MemberFileError) as caught:
        list(iter_member_lines(io.BytesIO(content), today=TODAY))
    assert (caught.value.line, reason_part in caught.value.reason) == (line, True)


def test_stream_numbers_lines_skips_blanks_and_flags_encoding() -> None:
    data = (
        (HEADER + "\r\n" + member_row(GOOD) + "\r\n\r\n").encode()
        + member_row(CORSICA_2A, last_name="Lefèvre").encode("latin-1")
        + b"\n"
    )
    items = list(iter_member_lines(io.BytesIO(data), today=TODAY))
    assert [type(i).__name__ for i in items] == ["MemberLine", "LineError"]
    assert isinstance(items[1], LineError)
    assert (items[1].line, items[1].field) == (4, "encodage")
