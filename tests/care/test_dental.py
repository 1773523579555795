"""Dental quotes (issue 15 part 4): CCAM codes with their basket, the FDI tooth, the fee
caps, the AMO base and rate, the insurer's share, the remaining cost and the alternative
without remaining cost; bad input refused naming the field, nothing stored."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from tests.care.conftest import TODAY, approve, make_patient
from tests.factories import make_professional
from tierspayant.priorauth.choices import Decision
from tierspayant.priorauth.dental import InvalidTooth, dental_codes, tooth_kind
from tierspayant.priorauth.lpp import InvalidCareRequest, LineInput
from tierspayant.priorauth.models import Commitment, PriorApproval
from tierspayant.providers.choices import Profession

D = Decimal


def _dental_patient():  # type: ignore[no-untyped-def]
    return make_patient(domains=["dental", "optical"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "tooth", "billed", "split", "reasons", "alternative"),
    [
        # 100 % Santé ceramo-metal crown on an upper central incisor, at its 500 EUR cap:
        # BR 120, AMO 60 % = 72, the insurer pays the rest, nothing left to pay.
        pytest.param(
            "HBLD634",
            "11",
            "500.00",
            ("72.00", "428.00", "0.00"),
            ["FULL_COVER_100_SANTE"],
            None,
            id="100-sante-crown-at-cap",
        ),
        pytest.param(
            "HBLD634",
            "23",
            "450.00",
            ("72.00", "378.00", "0.00"),
            ["FULL_COVER_100_SANTE"],
            None,
            id="100-sante-crown-below-cap",
        ),
        pytest.param(
            "HBLD038",
            "46",
            "290.00",
            ("72.00", "218.00", "0.00"),
            ["FULL_COVER_100_SANTE"],
            None,
            id="100-sante-metal-crown-on-molar",
        ),
        # Maîtrisé crown on a second premolar: « Équilibre » 250 % BR AMO included = 300,
        # so AMC 228 and RAC 250; the 100 % Santé alternative is the zircon crown (440 cap).
        pytest.param(
            "HBLD491",
            "15",
            "550.00",
            ("72.00", "228.00", "250.00"),
            [],
            ("HBLD350", "440.00", "72.00", "368.00"),
            id="maitrise-crown-at-cap",
        ),
        # Above its 550 EUR cap: priced by the engine and flagged.
        pytest.param(
            "HBLD491",
            "25",
            "600.00",
            ("72.00", "228.00", "300.00"),
            ["PRICE_ABOVE_REGULATED_LIMIT"],
            ("HBLD350", "440.00", "72.00", "368.00"),
            id="maitrise-crown-above-cap-flagged",
        ),
        # Libre ceramo-metal crown on a molar: BR 107.50, AMO 64.50, 250 % BR = 268.75;
        # the only 100 % Santé crown for a molar is the metal one (290 cap).
        pytest.param(
            "HBLD734",
            "36",
            "700.00",
            ("64.50", "204.25", "431.25"),
            [],
            ("HBLD038", "290.00", "72.00", "218.00"),
            id="libre-crown-on-molar",
        ),
    ],
)
def test_a_dental_quote_is_split_by_basket_with_its_alternative(
    config, code, tooth, billed, split, reasons, alternative
) -> None:
    dentist = make_professional(profession=Profession.DENTIST)
    patient = _dental_patient()
    approval = approve(config, dentist, patient, [LineInput(code=code, billed=billed, tooth=tooth)])

    assert approval.decision == Decision.ACCEPTED
    assert approval.domain == "dental"
    line = approval.lines.get()
    assert (line.code, line.tooth, line.family) == (code, tooth, "dental_prosthesis")
    assert (str(line.amo), str(line.amc), str(line.rac)) == split
    assert line.reasons == reasons
    assert line.br == min(dental_codes()[code].br, D(billed))
    if alternative is None:
        assert line.alternative is None
    else:
        alt = line.alternative
        assert (alt["code"], alt["price_limit"], alt["amo"], alt["amc"], alt["rac"]) == (
            *alternative,
            "0.00",
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        pytest.param(
            LineInput(code="HBLD634", billed="520.00", tooth="11"),
            "lines[0].billed",
            "honoraire limite de facturation",
            id="100-sante-price-above-cap",
        ),
        pytest.param(
            LineInput(code="HBLD634", billed="500.00", tooth="19"),
            "lines[0].tooth",
            "n'existe pas",
            id="tooth-19-does-not-exist",
        ),
        pytest.param(
            LineInput(code="HBLD634", billed="500.00", tooth="91"),
            "lines[0].tooth",
            "n'existe pas",
            id="quadrant-9-does-not-exist",
        ),
        pytest.param(
            LineInput(code="HBLD634", billed="500.00", tooth="54"),
            "lines[0].tooth",
            "dent temporaire",
            id="deciduous-tooth",
        ),
        pytest.param(
            LineInput(code="HBLD634", billed="500.00", tooth=""),
            "lines[0].tooth",
            "deux chiffres",
            id="tooth-missing",
        ),
        pytest.param(
            LineInput(code="HBLD634", billed="500.00", tooth="36"),
            "lines[0].tooth",
            "molaire",
            id="code-does-not-fit-a-molar",
        ),
        pytest.param(
            LineInput(code="HBLD036", billed="500.00", tooth="11"),
            "lines[0].code",
            "fermé depuis le 01/04/2019",
            id="code-ended",
        ),
        pytest.param(
            LineInput(code="HBLD634", billed="500.00", tooth="11", sante_class="libre"),
            "lines[0].sante_class",
            "100 % Santé",
            id="wrong-basket",
        ),
    ],
)
def test_bad_dental_lines_are_refused_naming_the_field(config, line, field, message) -> None:
    dentist = make_professional(profession=Profession.DENTIST)
    patient = _dental_patient()
    with pytest.raises(InvalidCareRequest) as caught:
        approve(config, dentist, patient, [line])
    assert caught.value.field == field
    assert message in caught.value.message
    assert not PriorApproval.objects.exists()
    assert not Commitment.objects.exists()


@pytest.mark.django_db
def test_dental_and_optical_lines_are_not_mixed(config) -> None:
    patient = _dental_patient()
    with pytest.raises(InvalidCareRequest) as caught:
        approve(
            config,
            make_professional(profession=Profession.DENTIST),
            patient,
            [
                LineInput(code="HBLD634", billed="500.00", tooth="11"),
                LineInput(code="2264861", billed="100.00"),
            ],
        )
    assert caught.value.field == "lines"


@pytest.mark.django_db
def test_a_crown_inlay_core_and_transitional_crown_share_nothing_left_to_pay(config) -> None:
    """A whole 100 % Santé treatment on tooth 21: inlay core 175, transitional crown 60,
    crown 500; the patient pays nothing and the commitment holds nothing of the prosthesis
    ceiling (100 % Santé lines are outside it)."""
    patient = _dental_patient()
    approval = approve(
        config,
        make_professional(profession=Profession.DENTIST),
        patient,
        [
            LineInput(code="HBLD090", billed="175.00", tooth="21"),
            LineInput(code="HBLD490", billed="60.00", tooth="21"),
            LineInput(code="HBLD634", billed="500.00", tooth="21"),
        ],
    )
    assert (approval.total_billed, approval.total_amo, approval.total_amc, approval.total_rac) == (
        D("735.00"),
        D("132.00"),  # 54 + 6 + 72
        D("603.00"),
        D("0.00"),
    )


@pytest.mark.parametrize(
    ("tooth", "kind"),
    [
        ("11", "incisor"),
        ("12", "incisor"),
        ("13", "canine"),
        ("24", "premolar1"),
        ("35", "premolar2"),
        ("46", "molar"),
        ("48", "molar"),
        (" 31 ", "incisor"),
    ],
)
def test_fdi_tooth_kinds(tooth: str, kind: str) -> None:
    assert tooth_kind(tooth) == kind


@pytest.mark.parametrize(
    "tooth", ["10", "09", "49", "50", "59", "86", "99", "1", "123", "x1", None]
)
def test_fdi_numbers_that_are_not_permanent_teeth(tooth) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidTooth):
        tooth_kind(tooth)


def test_every_dental_code_is_in_the_ccam_with_its_basket() -> None:
    """The table's codes exist in CCAM V63 (except the ended one) and their basket matches
    the CCAM regroupement (…0: 100 % Santé, …1: maîtrisé, other: libre)."""
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "nomenclatures"
    source = path / "snds_IR_CCAM_V63.csv"
    if not source.is_file():
        pytest.skip("shared CCAM fixture not present")
    with source.open(encoding="utf-8") as handle:
        groups = {
            row["CAM_PRS_IDE_COD"]: row["CAM_PRS_RGT"]
            for row in csv.DictReader(handle, delimiter=";")
        }
    for code, ref in dental_codes().items():
        if ref.valid_to is not None and ref.valid_to < datetime.date(2020, 1, 1):
            assert code not in groups
            continue
        group = groups[code]
        basket = {"0": "100_sante", "1": "maitrise"}.get(group[-1], "libre")
        assert (code, ref.sante_class) == (code, basket)
    assert datetime.date(2020, 1, 1) <= TODAY
