"""The public nomenclatures as dated reference data: loaded from the shared fixtures in
place, with their source and validity, idempotently, through the command; and the
platform's routing tables agree with them."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.coverage.builders import TABLES_DIR
from tests.invoices.conftest import LOADED_AT, NOMENCLATURES
from tierspayant.coverage import ActLine, Family, History, compute, load_guarantee_table
from tierspayant.invoices.choices import ReferenceTableName as T
from tierspayant.invoices.models import ReferenceCode, ReferenceTable
from tierspayant.invoices.nomenclatures import SPECS_BY_NAME, NomenclatureError
from tierspayant.invoices.routing import CCAM_GROUPS, NGAP_KEYS, SPECIALTY_FAMILIES, families_for
from tierspayant.invoices.selectors import Nomenclatures
from tierspayant.invoices.services import load_nomenclature

pytestmark = pytest.mark.usefixtures("nomenclatures")
UNROUTED_GROUPS = {"NA"}


def code(table: T, value: str) -> ReferenceCode:
    return ReferenceCode.objects.get(table__name=table.value, code=value)


def test_tables_carry_their_source_and_date() -> None:
    bdpm = ReferenceTable.objects.get(name="BDPM_CIP")
    assert (bdpm.source_file, bdpm.published_on) == ("bdpm_CIS_CIP_bdpm.txt", dt.date(2026, 5, 28))
    assert bdpm.row_count == 20899 and len(bdpm.source_sha256) == 64
    ccam = ReferenceTable.objects.get(name="IR_CCAM_V63")
    assert "schema-snds" in ccam.source and ccam.published_on == dt.date(2020, 12, 15)
    assert ccam.row_count == ReferenceCode.objects.filter(table=ccam).count() > 8000


@pytest.mark.parametrize(
    ("table", "value", "label", "valid_from", "valid_to", "data"),
    [
        (T.BDPM_CIP, "3400936963504", None, dt.date(2006, 11, 30), None, {"rate": "65"}),
        (T.BDPM_CIP, "3400949444137", None, None, dt.date(2025, 7, 31), {"rate": "65"}),
        (T.IR_BIO_R, "1104", "HEMOGRAMME", dt.date(1996, 1, 1), None, {"coefficient": "26.00"}),
        (T.NT_LPP, "1100070", "PERFUSION", None, dt.date(2005, 3, 29), {"title": "1"}),
        (T.NT_LPP, "2222124", "OPTIQUE, MONTURE ADULTE", None, None, {"chapter": "2"}),
        (T.IR_CCAM_V63, "ZBQK002", "Radiographie du thorax", None, None, {"group": "ADI"}),
        (T.IR_NAT_V, "SCH", "SUPPLEMENT POUR  CHAMBRE CHAUDE", None, dt.date(2003, 4, 30), {}),
        (T.IR_NAT_V, "G", "CONSULTATION MEDECINE GENERALE", None, None, {"act_type": "C"}),
        (T.IR_EXO_V, "41", "BENEFICIAIRE ATTEINT", None, None, {}),
        (T.IR_SPE_V, "1", "MEDECINE GENERALE", None, None, {}),
        (T.IR_ACT_V, "50", "PHARMACIE D OFFICINE", None, None, {}),
    ],
)
def test_rows_as_published(
    table: T,
    value: str,
    label: str | None,
    valid_from: dt.date | None,
    valid_to: dt.date | None,
    data: dict[str, str],
) -> None:
    row = code(table, value)
    assert label is None or row.label.startswith(label)
    assert (row.valid_from, row.valid_to) == (valid_from, valid_to)
    assert data.items() <= row.data.items()


@pytest.mark.parametrize(
    ("table", "value"), [(T.IR_ASU_V, "0"), (T.IR_ASU_V, "99"), (T.IR_SPE_V, "99")]
)
def test_technical_rows_are_not_loaded(table: T, value: str) -> None:
    assert not ReferenceCode.objects.filter(table__name=table.value, code=value).exists()


def test_reloading_replaces_the_rows() -> None:
    before = ReferenceCode.objects.filter(table__name="IR_BIO_R").count()
    later = LOADED_AT + dt.timedelta(days=30)
    report = load_nomenclature(SPECS_BY_NAME[T.IR_BIO_R], NOMENCLATURES, now=later)
    assert report.rows == before == ReferenceCode.objects.filter(table__name="IR_BIO_R").count()
    assert ReferenceTable.objects.get(name="IR_BIO_R").loaded_at == later


def test_command_loads_a_table_and_names_a_missing_file(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command(
        "load_nomenclatures", "--dir", str(NOMENCLATURES), "--table", "IR_ASU_V", stdout=out
    )
    assert out.getvalue() == "IR_ASU_V: 10 codes (snds_IR_ASU_V.csv)\n"
    with pytest.raises(CommandError, match=r"snds_IR_ASU_V.csv: absent from") as caught:
        call_command("load_nomenclatures", "--dir", str(tmp_path), "--table", "IR_ASU_V")
    assert caught.value.returncode == 2


def test_unreadable_row_is_named_and_nothing_changes(tmp_path: Path) -> None:
    shutil.copy(NOMENCLATURES / "snds_IR_BIO_R.csv", tmp_path)
    with (tmp_path / "snds_IR_BIO_R.csv").open("a", encoding="utf-8") as handle:
        handle.write("9999;TRUNCATED\n")
    before = ReferenceTable.objects.get(name="IR_BIO_R").loaded_at
    with pytest.raises(NomenclatureError, match=r"snds_IR_BIO_R.csv:1078: unreadable row"):
        load_nomenclature(SPECS_BY_NAME[T.IR_BIO_R], tmp_path, now=LOADED_AT)
    assert ReferenceTable.objects.get(name="IR_BIO_R").loaded_at == before


def test_lookups_are_batched(django_assert_num_queries: object) -> None:
    nomenclatures = Nomenclatures()
    with django_assert_num_queries(1):  # type: ignore[operator]
        found = nomenclatures.find(T.IR_NAT_V, ["G", "AMI", "AMK", "B", "FJ", "QQ"])
    assert sorted(found) == ["AMI", "AMK", "B", "FJ", "G"]
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert nomenclatures.get(T.IR_NAT_V, "QQ") is None


def test_every_routed_key_and_group_exists_in_the_nomenclatures() -> None:
    keys = Nomenclatures()
    for key in NGAP_KEYS:
        assert keys.get(T.IR_NAT_V, key) or keys.get(T.IR_ACT_COD, key), key
    groups = set(
        ReferenceCode.objects.filter(table__name="IR_CCAM_V63").values_list(
            "data__group", flat=True
        )
    )
    assert set(CCAM_GROUPS) <= groups
    # The groups left unrouted get CODE_NOT_ROUTED (docs/invoices.md).
    assert groups - set(CCAM_GROUPS) == UNROUTED_GROUPS


def test_every_profession_of_the_register_has_its_families() -> None:
    doctors = ReferenceCode.objects.filter(table__name="IR_SPE_V").values_list("code", flat=True)
    others = ReferenceCode.objects.filter(table__name="IR_ACT_V").values_list("code", flat=True)
    assert set(SPECIALTY_FAMILIES) - {"ETAB"} <= set(doctors) | set(others)
    for specialty in doctors:
        assert families_for(specialty, doctor=True), specialty
    unlisted = {s for s in others if not families_for(s, doctor=False)}
    assert unlisted == {"25"}  # psychologists: no family of care billed in tiers payant yet


@pytest.mark.parametrize("table_id", ["essentiel", "equilibre", "excellence"])
def test_every_routed_family_has_a_rule_or_a_clear_refusal(table_id: str) -> None:
    table = load_guarantee_table(TABLES_DIR / f"{table_id}.json")
    families = set(CCAM_GROUPS.values()) | set(NGAP_KEYS.values())
    families |= {Family.PHARMACY, Family.MEDICAL_DEVICE, Family.LAB_TEST}
    families -= {Family.DENTAL_PROSTHESIS}  # needs a basket: covered by the engine's tests
    lines = [
        ActLine(family=f, billed="50.00", br="40.00", amo_rate="60", line_id=str(f))
        for f in sorted(families)
    ]
    result = compute(
        lines, table=table, beneficiary_age=45, care_date=dt.date(2025, 3, 14), history=History()
    )
    assert table.responsible
    for out in result.lines:  # a rule of the table, or the regulation's ticket modérateur
        assert out.rule is not None, out.line_id
        assert out.amc >= Decimal("16.00"), out.line_id  # BR 40 - AMO 24
