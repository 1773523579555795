"""Every dental CCAM code of the 100 % Santé baskets can be quoted (issue 15 target): a
table lists each code of CCAM V63 whose regroupement ends in 0 (crowns, inlay core,
transitional crown, bridges, removable dentures, their repairs and supplements) with the
tooth or area it goes on, its AMO base (BR) and its fee cap; each is quoted as an estimate at
its cap (the patient pays nothing) and refused one cent above it, naming the field, with
nothing stored. Removable dentures go on an area (ISO 3950: 01/02 arch, 00 whole mouth)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from tests.care.conftest import NOW, TODAY, context, make_patient
from tests.factories import make_professional
from tierspayant.priorauth.choices import ApprovalKind
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.dental import dental_codes
from tierspayant.priorauth.lpp import InvalidCareRequest, LineInput
from tierspayant.priorauth.models import Commitment, PriorApproval
from tierspayant.priorauth.services import request_prior_approval
from tierspayant.providers.choices import Profession

D = Decimal
CCAM = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "fixtures"
    / "nomenclatures"
    / "snds_IR_CCAM_V63.csv"
)

#: (code, tooth or area, BR euros, fee cap euros) of every 100 % Santé basket code.
BASKET = [
    ("HBLD038", "11", "120.00", "290.00"),
    ("HBLD634", "11", "120.00", "500.00"),
    ("HBLD680", "11", "120.00", "500.00"),
    ("HBLD350", "11", "120.00", "440.00"),
    ("HBLD090", "11", "90.00", "175.00"),
    ("HBLD490", "11", "10.00", "60.00"),
    ("HBLD033", "11", "279.50", "870.00"),
    ("HBLD785", "11", "279.50", "1465.00"),
    ("HBLD364", "01", "64.50", "388.00"),
    ("HBLD476", "01", "75.25", "453.00"),
    ("HBLD224", "01", "86.00", "518.00"),
    ("HBLD371", "02", "96.75", "582.00"),
    ("HBLD123", "02", "107.50", "647.00"),
    ("HBLD270", "01", "118.25", "712.00"),
    ("HBLD148", "01", "129.00", "776.00"),
    ("HBLD231", "02", "139.75", "841.00"),
    ("HBLD215", "02", "150.50", "906.00"),
    ("HBLD262", "01", "161.25", "971.00"),
    ("HBLD232", "01", "172.00", "1035.00"),
    ("HBLD032", "01", "182.75", "1100.00"),
    ("HBLD259", "00", "365.50", "2200.00"),
    ("HBLD101", "02", "129.00", "776.00"),
    ("HBLD138", "01", "139.75", "841.00"),
    ("HBLD083", "02", "150.50", "906.00"),
    ("HBLD370", "01", "161.25", "971.00"),
    ("HBLD349", "02", "172.00", "1035.00"),
    ("HBLD031", "02", "182.75", "1100.00"),
    ("HBLD035", "00", "365.50", "2200.00"),
    ("HBMD017", "02", "32.25", "32.25"),
    ("HBMD114", "01", "43.00", "43.00"),
    ("HBMD322", "01", "53.75", "53.75"),
    ("HBMD404", "01", "64.50", "64.50"),
    ("HBMD245", "02", "75.25", "75.25"),
    ("HBMD198", "01", "86.00", "86.00"),
    ("HBMD373", "02", "96.75", "96.75"),
    ("HBMD228", "01", "107.50", "107.50"),
    ("HBMD286", "01", "118.25", "118.25"),
    ("HBMD329", "02", "129.00", "129.00"),
    ("HBMD226", "01", "139.75", "139.75"),
    ("HBMD387", "02", "150.50", "150.50"),
    ("HBMD134", "01", "161.25", "161.25"),
    ("HBMD174", "01", "172.00", "172.00"),
    ("HBKD396", "01", "21.50", "21.50"),
    ("HBKD431", "02", "43.00", "43.00"),
    ("HBKD300", "01", "64.50", "64.50"),
    ("HBKD212", "01", "86.00", "86.00"),
    ("HBKD462", "01", "107.50", "107.50"),
    ("HBKD213", "02", "129.00", "129.00"),
    ("HBKD140", "01", "150.50", "150.50"),
    ("HBKD244", "01", "172.00", "172.00"),
    ("HBMD020", "01", "32.25", "32.25"),
    ("HBMD356", "01", "32.25", "32.25"),
    ("YYYY176", "01", "10.75", "10.75"),
    ("YYYY275", "02", "21.50", "21.50"),
    ("YYYY246", "01", "32.25", "32.25"),
    ("YYYY478", "01", "43.00", "43.00"),
    ("YYYY426", "01", "53.75", "53.75"),
    ("YYYY389", "02", "64.50", "64.50"),
]


def _estimate(config: CareConfig, code: str, tooth: str, billed: str) -> PriorApproval:
    patient = make_patient(domains=["dental"])
    return request_prior_approval(
        config,
        professional=make_professional(profession=Profession.DENTIST),
        identity=patient.identity,
        planned_date=TODAY,
        lines=[LineInput(code=code, billed=billed, tooth=tooth)],
        context=context(),
        now=NOW,
        today=TODAY,
        estimate=True,
    )


def test_the_table_is_the_whole_basket_of_ccam_v63() -> None:
    """The list above is exactly the CCAM V63 codes of the 100 % Santé regroupements."""
    if not CCAM.is_file():
        pytest.skip("shared CCAM fixture not present")
    with CCAM.open(encoding="utf-8") as handle:
        basket = {
            row["CAM_PRS_IDE_COD"]
            for row in csv.DictReader(handle, delimiter=";")
            if row["CAM_PRS_RGT"].endswith("0")
        }
    assert {code for code, *_ in BASKET} == basket
    assert len(basket) == 58


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "tooth", "br", "cap"), BASKET, ids=[row[0] for row in BASKET])
def test_each_basket_code_is_quoted_at_its_cap_with_nothing_left_to_pay(
    config: CareConfig, code: str, tooth: str, br: str, cap: str
) -> None:
    ref = dental_codes()[code]
    assert (ref.sante_class, ref.br, ref.price_limit) == ("100_sante", D(br), D(cap))
    estimate = _estimate(config, code, tooth, cap)
    amo = (D(br) * D("0.60")).quantize(D("0.01"))
    assert estimate.kind == ApprovalKind.ESTIMATE
    line = estimate.lines.get()
    assert (line.code, line.tooth, line.price_limit) == (code, tooth, D(cap))
    assert (line.billed, line.amo, line.amc, line.rac) == (D(cap), amo, D(cap) - amo, D("0.00"))
    assert "FULL_COVER_100_SANTE" in line.reasons
    assert not Commitment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "tooth", "br", "cap"), BASKET, ids=[row[0] for row in BASKET])
def test_each_basket_code_above_its_cap_is_refused_naming_the_price(
    config: CareConfig, code: str, tooth: str, br: str, cap: str
) -> None:
    with pytest.raises(InvalidCareRequest) as caught:
        _estimate(config, code, tooth, str(D(cap) + D("0.01")))
    assert caught.value.field == "lines[0].billed"
    assert f"honoraire limite de facturation de ce soin 100 % Santé ({cap} €)" in (
        caught.value.message
    )
    assert not PriorApproval.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "tooth", "message"),
    [
        pytest.param("HBLD031", "36", "molaire", id="denture-on-a-tooth"),
        pytest.param("HBLD031", "00", "bouche entière", id="unimaxillary-on-whole-mouth"),
        pytest.param("HBLD035", "01", "arcade", id="bimaxillary-on-one-arch"),
        pytest.param("HBLD634", "01", "arcade", id="crown-on-an-arch"),
        pytest.param("HBLD101", "03", "n'existe pas", id="area-03-does-not-exist"),
    ],
)
def test_a_denture_goes_on_an_arch_not_a_tooth(
    config: CareConfig, code: str, tooth: str, message: str
) -> None:
    with pytest.raises(InvalidCareRequest) as caught:
        _estimate(config, code, tooth, "100.00")
    assert caught.value.field == "lines[0].tooth"
    assert message in caught.value.message
    assert not PriorApproval.objects.exists()


@pytest.mark.parametrize(
    ("code", "replaced"),
    [("HBLD364", 3), ("HBLD101", 9), ("HBLD349", 13), ("HBLD031", 14), ("HBLD035", 28)],
)
def test_a_denture_says_how_many_teeth_it_replaces(code: str, replaced: int) -> None:
    assert dental_codes()[code].teeth_replaced == replaced
    assert dental_codes()["HBLD634"].teeth_replaced is None
