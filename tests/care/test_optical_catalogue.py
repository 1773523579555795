"""The optical and audio catalogue read from the loaded LPP list, quotes with real numbers
(class A at the limits, mixed A/B, hearing aids under 20), bad input and the prescription.

Figures (``priorauth/reference/lpp-prices.json``): class A frame PLV 30 EUR, BR 9 EUR
(AMO 60 % = 5.40 EUR); class A simple lens PLV 60 EUR, BR 18 EUR (AMO 10.80 EUR); class B
items BR 0.05 EUR (AMO 0.03 EUR); hearing aid class I up to 20: BR = PLV = 1,400 EUR
(AMO 840 EUR). Care date 14 March 2025, « équilibre » table (class B simple equipment
200 EUR).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from tests.care.conftest import TODAY, Patient, approve, context, invoice, make_patient
from tierspayant.coverage import History
from tierspayant.invoices.models import ReferenceTable
from tierspayant.invoices.services import load_nomenclatures
from tierspayant.priorauth.adjudication import compute_lines, guarantee_table
from tierspayant.priorauth.catalogue import Kind
from tierspayant.priorauth.config import CareConfig
from tierspayant.priorauth.lpp import InvalidCareRequest, LineInput, parse_lines
from tierspayant.priorauth.models import PriorApproval
from tierspayant.priorauth.selectors import catalogue, search_catalogue
from tierspayant.priorauth.services import request_prior_approval
from tierspayant.providers.models import Professional
from tierspayant.registry.choices import Domain

NOMENCLATURES = Path(settings.TIERSPAYANT_NOMENCLATURES_DIR)
LOADED_AT = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
RPPS = "10000000009"  # synthetic, valid Luhn key
ADULT_FRAME_A, CHILD_FRAME_A = "2222124", "2254242"
ADULT_FRAME_B = "2264861"
LENS_A_SIMPLE = "2229362"  # unifocal class A, sphere ]0 ; +2]
LENS_B_SIMPLE = "2208756"  # unifocal class B, sphere [-2 ; 0], cylinder [0.25 ; 4]
AID_I_YOUNG = ("2325120", "2337749")  # class I right / left, <= 20 ans


@pytest.fixture(scope="session")
def _lpp_loaded(django_db_setup: None, django_db_blocker: object) -> None:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        load_nomenclatures(NOMENCLATURES, now=LOADED_AT, names=frozenset({"NT_LPP"}))


@pytest.fixture
def lpp(_lpp_loaded: None, db: None) -> None:
    """The LPP list loaded (again, when a transactional test emptied the database)."""
    if not ReferenceTable.objects.filter(name="NT_LPP").exists():
        load_nomenclatures(NOMENCLATURES, now=LOADED_AT, names=frozenset({"NT_LPP"}))


def split(approval: PriorApproval) -> list[tuple[str, str, str, str]]:
    return [
        (line.code, str(line.amo), str(line.amc), str(line.rac))
        for line in approval.lines.order_by("position")
    ]


def glasses(frame: str, frame_price: str, lens: str, lens_price: str) -> list[LineInput]:
    return [
        LineInput(code=frame, billed=frame_price),
        LineInput(code=lens, billed=lens_price, side="right"),
        LineInput(code=lens, billed=lens_price, side="left"),
    ]


def test_every_optical_and_audio_code_valid_on_the_care_date_can_be_quoted(lpp: None) -> None:
    """Walk the catalogue: each code open on 14 March 2025 parses at an age it allows and
    goes through the engine; the counts are those of the published list."""
    table = guarantee_table(
        make_patient().beneficiary.contract, CareConfig.from_settings(settings).tables_dir
    )
    entries = [e for e in catalogue().values() if e.valid_on(TODAY)]
    kinds: Counter[tuple[str, str]] = Counter()
    for entry in entries:
        age = (
            entry.min_age
            if entry.min_age is not None
            else entry.max_age
            if entry.max_age is not None
            else 42
        )
        line = LineInput(
            code=entry.code,
            billed="25.00",
            side="right" if entry.kind == Kind.LENS else None,
        )
        parsed = parse_lines([line], age=age, care_date=TODAY)
        result = compute_lines(parsed, table=table, age=age, care_date=TODAY, history=History())
        assert result.totals.billed == Decimal("25.00"), entry.code
        kinds[(entry.kind, entry.sante_class)] += 1
    assert len(entries) == 5691
    assert kinds == {
        ("frame", "A"): 390,
        ("frame", "B"): 706,
        ("lens", "A"): 3037,
        ("lens", "B"): 1360,
        ("contact_lens", ""): 1,
        ("hearing_aid", "I"): 34,
        ("hearing_aid", "II"): 32,
        ("supplement", ""): 26,
        ("device", ""): 105,
    }


def test_search_the_catalogue_by_words(lpp: None) -> None:
    found = search_catalogue("monture enfant classe a", care_date=TODAY, limit=5)
    assert [e.code for e in found][:1] == [CHILD_FRAME_A]
    assert (found[0].price_limit, found[0].br, found[0].max_age) == (
        Decimal("30.00"),
        Decimal("9.00"),
        15,
    )
    audio = search_catalogue("aide auditive classe i <= 20", care_date=TODAY, domain=Domain.AUDIO)
    assert {e.code for e in audio} >= set(AID_I_YOUNG)
    assert all(e.domain == Domain.AUDIO for e in audio)
    lenses = search_catalogue("verre unifocal classe a", care_date=TODAY, limit=3)
    assert len(lenses) == 3 and all(e.kind == Kind.LENS and e.sante_class == "A" for e in lenses)
    assert search_catalogue("verre blanc simple foyer", care_date=TODAY) == []  # ended 2020
    assert search_catalogue("verre blanc simple foyer", care_date=dt.date(2019, 6, 1)) == []


@pytest.mark.parametrize(
    ("age", "frame", "expected"),
    [
        pytest.param(
            42,
            ADULT_FRAME_A,
            [
                (ADULT_FRAME_A, "5.40", "24.60", "0.00"),
                (LENS_A_SIMPLE, "10.80", "49.20", "0.00"),
                (LENS_A_SIMPLE, "10.80", "49.20", "0.00"),
            ],
            id="adult",
        ),
        pytest.param(
            16,
            ADULT_FRAME_A,
            [
                (ADULT_FRAME_A, "5.40", "24.60", "0.00"),
                (LENS_A_SIMPLE, "10.80", "49.20", "0.00"),
                (LENS_A_SIMPLE, "10.80", "49.20", "0.00"),
            ],
            id="adult-from-16",
        ),
        pytest.param(
            15,
            CHILD_FRAME_A,
            [
                (CHILD_FRAME_A, "5.40", "24.60", "0.00"),
                (LENS_A_SIMPLE, "10.80", "49.20", "0.00"),
                (LENS_A_SIMPLE, "10.80", "49.20", "0.00"),
            ],
            id="child-up-to-15",
        ),
    ],
)
def test_class_a_equipment_at_the_limits_leaves_nothing_to_pay(
    config: CareConfig, lpp: None, age: int, frame: str, expected: list[tuple[str, ...]]
) -> None:
    born = dt.date(TODAY.year - age, 1, 10)
    patient = make_patient(born=born)
    optician = Professional.objects.get(pk=_optician().pk)
    approval = approve(config, optician, patient, glasses(frame, "30.00", LENS_A_SIMPLE, "60.00"))
    assert split(approval) == expected
    assert (approval.total_billed, approval.total_rac) == (Decimal("150.00"), Decimal("0.00"))


def test_mixed_equipment_each_element_by_its_class(config: CareConfig, lpp: None) -> None:
    """Class A frame with class B lenses: the frame in full up to its limit (nothing to
    pay), the lenses under the contract (200 EUR class B simple equipment); and the reverse:
    class B frame under the contract, class A lenses in full."""
    patient = make_patient()
    optician = _optician()
    a_frame = approve(
        config, optician, patient, glasses(ADULT_FRAME_A, "30.00", LENS_B_SIMPLE, "120.00")
    )
    assert split(a_frame) == [
        (ADULT_FRAME_A, "5.40", "24.60", "0.00"),
        (LENS_B_SIMPLE, "0.03", "119.97", "0.00"),
        (LENS_B_SIMPLE, "0.03", "80.03", "39.94"),
    ]
    other = make_patient()
    b_frame = approve(
        config, optician, other, glasses(ADULT_FRAME_B, "150.00", LENS_A_SIMPLE, "60.00")
    )
    assert split(b_frame) == [
        (ADULT_FRAME_B, "0.03", "99.97", "50.00"),
        (LENS_A_SIMPLE, "10.80", "49.20", "0.00"),
        (LENS_A_SIMPLE, "10.80", "49.20", "0.00"),
    ]


def test_hearing_aids_for_a_patient_under_20(config: CareConfig, lpp: None) -> None:
    """17 years old, class I both ears at the 1,400 EUR limit: AMO 840 + AMC 560 per ear."""
    patient = make_patient(born=dt.date(2007, 9, 1))
    approval = approve(
        config,
        _optician(),
        patient,
        [
            LineInput(code=AID_I_YOUNG[0], billed="1400.00"),
            LineInput(code=AID_I_YOUNG[1], billed="1400.00"),
        ],
    )
    assert split(approval) == [
        (AID_I_YOUNG[0], "840.00", "560.00", "0.00"),
        (AID_I_YOUNG[1], "840.00", "560.00", "0.00"),
    ]
    assert approval.domain == Domain.AUDIO


def test_a_renewal_not_reached_is_refused_by_amo_and_amc(config: CareConfig, lpp: None) -> None:
    """The same adult comes back a year later: both scheme refuse; the price is hers."""
    patient = make_patient()
    optician = _optician()
    approve(config, optician, patient, glasses(ADULT_FRAME_A, "30.00", LENS_A_SIMPLE, "60.00"))
    later = TODAY + dt.timedelta(days=20)
    again = approve(
        config,
        optician,
        patient,
        glasses(ADULT_FRAME_A, "30.00", LENS_A_SIMPLE, "60.00"),
        planned=later,
        today=later,
        now=dt.datetime.combine(later, dt.time(9), tzinfo=dt.UTC),
    )
    assert split(again) == [
        (ADULT_FRAME_A, "0.00", "0.00", "30.00"),
        (LENS_A_SIMPLE, "0.00", "0.00", "60.00"),
        (LENS_A_SIMPLE, "0.00", "0.00", "60.00"),
    ]
    assert (again.decision, again.total_amo, again.total_rac) == (
        "refused",
        Decimal("0.00"),
        Decimal("150.00"),
    )


PRESCRIPTION = {
    "prescriber_rpps": RPPS,
    "prescribed_on": "2025-02-20",
    "right": {"sphere": "+1.50", "cylinder": "0", "axis": 0},
    "left": {"sphere": "+1.75", "cylinder": "0"},
}


@pytest.mark.parametrize(
    ("age", "lines", "prescription", "field", "words"),
    [
        pytest.param(
            42,
            [LineInput(code="2200393", billed="20.00", side="right")],
            None,
            "lines[0].code",
            "fermé le 01/01/2020",
            id="code-ended",
        ),
        pytest.param(
            42,
            [LineInput(code=CHILD_FRAME_A, billed="30.00")],
            None,
            "lines[0].code",
            "15 ans et moins",
            id="child-frame-for-an-adult",
        ),
        pytest.param(
            15,
            [LineInput(code=ADULT_FRAME_A, billed="30.00")],
            None,
            "lines[0].code",
            "16 ans et plus",
            id="adult-frame-for-a-child",
        ),
        pytest.param(
            21,
            [LineInput(code=AID_I_YOUNG[0], billed="1400.00")],
            None,
            "lines[0].code",
            "20 ans et moins",
            id="young-aid-at-21",
        ),
        pytest.param(
            42,
            glasses(ADULT_FRAME_A, "30", LENS_A_SIMPLE, "60"),
            {**PRESCRIPTION, "right": {"sphere": "-2.50", "cylinder": "0"}},
            "lines[1].code",
            "hors de sa bande",
            id="lens-outside-its-band",
        ),
        pytest.param(
            42,
            glasses(ADULT_FRAME_A, "30", LENS_A_SIMPLE, "60"),
            {**PRESCRIPTION, "right": None, "left": None},
            "prescription.right",
            "au moins un œil",
            id="no-correction",
        ),
        pytest.param(
            42,
            glasses(ADULT_FRAME_A, "30", LENS_A_SIMPLE, "60"),
            {**PRESCRIPTION, "prescriber_rpps": "10000000000"},
            "prescription.prescriber_rpps",
            "RPPS",
            id="bad-rpps",
        ),
        pytest.param(
            42,
            glasses(ADULT_FRAME_A, "30", LENS_A_SIMPLE, "60"),
            {**PRESCRIPTION, "right": {"sphere": "+1.60"}},
            "prescription.right.sphere",
            "0,25",
            id="sphere-not-a-quarter",
        ),
        pytest.param(
            42,
            glasses(ADULT_FRAME_A, "30", LENS_A_SIMPLE, "60"),
            {**PRESCRIPTION, "right": {"sphere": "+1.50", "cylinder": "0.75"}},
            "prescription.right.axis",
            "axe obligatoire",
            id="cylinder-without-axis",
        ),
        pytest.param(
            42,
            glasses(ADULT_FRAME_A, "30", LENS_A_SIMPLE, "60"),
            {**PRESCRIPTION, "prescribed_on": "2025-04-01"},
            "prescription.prescribed_on",
            "postérieure",
            id="prescribed-after-care",
        ),
        pytest.param(
            72,
            [LineInput(code="2351057", billed="950.00")],
            {"prescriber_rpps": RPPS, "prescribed_on": "2025-02-20"},
            "prescription.audiogram_on",
            "audiogramme",
            id="aid-without-audiogram",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    config: CareConfig,
    lpp: None,
    age: int,
    lines: list[LineInput],
    prescription: dict[str, object] | None,
    field: str,
    words: str,
) -> None:
    patient = make_patient(born=dt.date(TODAY.year - age, 1, 10))
    before = PriorApproval.objects.count()
    with pytest.raises(InvalidCareRequest) as caught:
        _request(config, patient, lines, prescription)
    assert caught.value.field == field
    assert words in caught.value.message
    assert PriorApproval.objects.count() == before  # nothing half-stored


def test_the_prescription_drives_the_bands_and_is_stored(config: CareConfig, lpp: None) -> None:
    patient = make_patient()
    approval = _request(
        config, patient, glasses(ADULT_FRAME_A, "30.00", LENS_A_SIMPLE, "60.00"), PRESCRIPTION
    )
    assert approval.total_rac == Decimal("0.00")
    assert approval.prescription == {
        "prescriber_rpps": RPPS,
        "prescribed_on": "2025-02-20",
        "right": {"sphere": "1.50", "cylinder": "0.00", "axis": 0, "addition": None},
        "left": {"sphere": "1.75", "cylinder": "0.00", "axis": 0, "addition": None},
    }


def test_a_correction_change_in_the_prescription_opens_early_renewal_of_the_lenses(
    config: CareConfig, lpp: None
) -> None:
    """An adult 13 months after her equipment: the lenses are covered with a change of
    correction, the frame is not (AMO and AMC nothing)."""
    patient = make_patient()
    first_day = TODAY - dt.timedelta(days=396)
    invoice(
        config,
        _optician(),
        patient,
        "F-2024-1",
        glasses(ADULT_FRAME_A, "30.00", LENS_A_SIMPLE, "60.00"),
        care_date=first_day,
        today=first_day,
        now=dt.datetime.combine(first_day, dt.time(9), tzinfo=dt.UTC),
    )
    approval = _request(
        config,
        patient,
        glasses(ADULT_FRAME_A, "30.00", LENS_A_SIMPLE, "60.00"),
        {**PRESCRIPTION, "renewal_reason": "correction_change"},
    )
    assert split(approval) == [
        (ADULT_FRAME_A, "0.00", "0.00", "30.00"),
        (LENS_A_SIMPLE, "10.80", "49.20", "0.00"),
        (LENS_A_SIMPLE, "10.80", "49.20", "0.00"),
    ]


def _optician() -> Professional:
    from tests.factories import make_professional

    return make_professional()


def _request(
    config: CareConfig,
    patient: Patient,
    lines: list[LineInput],
    prescription: dict[str, object] | None,
) -> PriorApproval:
    return request_prior_approval(
        config,
        professional=_optician(),
        identity=patient.identity,
        planned_date=TODAY,
        lines=lines,
        context=context(),
        now=dt.datetime.combine(TODAY, dt.time(9), tzinfo=dt.UTC),
        today=TODAY,
        prescription=prescription,
    )


def test_a_class_a_lens_above_its_price_limit_is_flagged_and_priced(
    config: CareConfig, lpp: None
) -> None:
    """70 EUR for a 60 EUR class A lens: the AMC stops at the limit, the 10 EUR above it
    stay with the patient (the regulation's price, not a refusal)."""
    approval = approve(
        config, _optician(), make_patient(), glasses(ADULT_FRAME_A, "30.00", LENS_A_SIMPLE, "70.00")
    )
    assert split(approval) == [
        (ADULT_FRAME_A, "5.40", "24.60", "0.00"),
        (LENS_A_SIMPLE, "10.80", "49.20", "10.00"),
        (LENS_A_SIMPLE, "10.80", "49.20", "10.00"),
    ]
    assert "PRICE_ABOVE_REGULATED_LIMIT" in approval.lines.get(position=2).reasons
