"""Controlled vocabularies of the engine: families of acts, 100 % Santé classes, lens
complexity, sides, renewal reasons and code systems, plus what each family requires.

Values are the strings used in JSON (cases, guarantee tables, results).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Family(StrEnum):
    """Family of an act line: what kind of care or device is billed."""

    PHARMACY = "pharmacy"
    CONSULTATION = "consultation"
    TECHNICAL_ACT = "technical_act"
    LAB_TEST = "lab_test"
    PARAMEDICAL = "paramedical"
    TRANSPORT = "transport"
    OPTICAL_FRAME = "optical_frame"
    OPTICAL_LENS = "optical_lens"
    CONTACT_LENS = "contact_lens"
    HEARING_AID = "hearing_aid"
    DENTAL_CARE = "dental_care"
    DENTAL_PROSTHESIS = "dental_prosthesis"
    ORTHODONTICS = "orthodontics"
    HOSPITAL_STAY = "hospital_stay"
    HOSPITAL_DAILY_FEE = "hospital_daily_fee"
    HOSPITAL_ROOM = "hospital_room"
    MEDICAL_DEVICE = "medical_device"
    ALTERNATIVE_MEDICINE = "alternative_medicine"


class SanteClass(StrEnum):
    """100 % Santé class or basket (décret 2019-21): optical A/B, audio I/II, dental baskets."""

    OPTICAL_A = "A"
    OPTICAL_B = "B"
    AUDIO_I = "I"
    AUDIO_II = "II"
    DENTAL_100_SANTE = "100_sante"
    DENTAL_MAITRISE = "maitrise"
    DENTAL_LIBRE = "libre"

    @property
    def no_remaining_cost(self) -> bool:
        """True for the classes with no remaining cost within the price limit (A, I, 100_sante)."""
        return self in _FULL_COVER


_FULL_COVER = frozenset({SanteClass.OPTICAL_A, SanteClass.AUDIO_I, SanteClass.DENTAL_100_SANTE})


class LensComplexity(StrEnum):
    """Complexity of a spectacle lens, which sets the class B caps (article R871-2 CSS)."""

    SIMPLE = "simple"
    COMPLEX = "complex"
    VERY_COMPLEX = "very_complex"


class LensPair(StrEnum):
    """Complexity of the two lenses of one optical equipment, in the order of R871-2."""

    SIMPLE_SIMPLE = "simple+simple"
    SIMPLE_COMPLEX = "simple+complex"
    SIMPLE_VERY_COMPLEX = "simple+very_complex"
    COMPLEX_COMPLEX = "complex+complex"
    COMPLEX_VERY_COMPLEX = "complex+very_complex"
    VERY_COMPLEX_VERY_COMPLEX = "very_complex+very_complex"

    @classmethod
    def of(cls, first: LensComplexity, second: LensComplexity) -> LensPair:
        """Return the pair for two lenses, whatever their order (``of(COMPLEX, SIMPLE)``)."""
        order = list(LensComplexity)
        low, high = sorted((first, second), key=order.index)
        return cls(f"{low}+{high}")


class Side(StrEnum):
    """Right or left eye or ear."""

    RIGHT = "right"
    LEFT = "left"


class RenewalReason(StrEnum):
    """Documented reason for renewing optical equipment before the usual period.

    correction_change: change of correction (>= 0.5 dioptre on one eye or >= 0.25 on both);
    frame_unfit: the frame no longer fits a young child's face; medical_case: one of the
    listed medical situations with no minimum wait. Source: R871-2 CSS, REFERENCE.md
    "Optical renewal".
    """

    CORRECTION_CHANGE = "correction_change"
    FRAME_UNFIT = "frame_unfit"
    MEDICAL_CASE = "medical_case"


class CodeKind(StrEnum):
    """Code systems an act line may carry."""

    LPP = "LPP"  # 7 digits: devices (optics, hearing aids)
    CCAM = "CCAM"  # 4 letters + 3 digits: technical and dental acts
    NGAP = "NGAP"  # letter keys: C, G, APC, AMI, FJ...
    CIP13 = "CIP13"  # 13 digits: medicine boxes
    NABM = "NABM"  # 4 digits: lab tests


_CODE_PATTERNS = (
    (CodeKind.LPP, re.compile(r"\d{7}")),
    (CodeKind.CCAM, re.compile(r"[A-Z]{4}\d{3}")),
    (CodeKind.NGAP, re.compile(r"[A-Z][A-Z0-9]{0,4}")),
    (CodeKind.CIP13, re.compile(r"\d{13}")),
    (CodeKind.NABM, re.compile(r"\d{4}")),
)


def code_kind(code: str) -> CodeKind | None:
    """Return the code system a code belongs to by its shape, or None if it fits none."""
    for kind, pattern in _CODE_PATTERNS:
        if pattern.fullmatch(code):
            return kind
    return None


@dataclass(frozen=True, slots=True)
class FamilySpec:
    """What an act line of one family must or may carry.

    code_kinds: code systems accepted (empty: the line carries no code);
    classes: accepted 100 % Santé classes (non-empty: a class is required);
    sided: a side (eye or ear) is required, and refused otherwise;
    lens: a lens complexity is required; optam: the non-OPTAM excess cap may apply;
    renewal_item: the family is a device whose purchases are tracked for renewal.
    """

    code_kinds: frozenset[CodeKind]
    classes: frozenset[SanteClass] = frozenset()
    sided: bool = False
    lens: bool = False
    optam: bool = False
    renewal_item: bool = False


_OPTICAL = frozenset({SanteClass.OPTICAL_A, SanteClass.OPTICAL_B})
_AUDIO = frozenset({SanteClass.AUDIO_I, SanteClass.AUDIO_II})
_DENTAL = frozenset(
    {SanteClass.DENTAL_100_SANTE, SanteClass.DENTAL_MAITRISE, SanteClass.DENTAL_LIBRE}
)
_K = CodeKind

FAMILIES: dict[Family, FamilySpec] = {
    Family.PHARMACY: FamilySpec(frozenset({_K.CIP13, _K.LPP})),
    Family.CONSULTATION: FamilySpec(frozenset({_K.NGAP}), optam=True),
    Family.TECHNICAL_ACT: FamilySpec(frozenset({_K.CCAM, _K.NGAP}), optam=True),
    Family.LAB_TEST: FamilySpec(frozenset({_K.NABM, _K.NGAP})),
    Family.PARAMEDICAL: FamilySpec(frozenset({_K.NGAP})),
    Family.TRANSPORT: FamilySpec(frozenset({_K.NGAP})),
    Family.OPTICAL_FRAME: FamilySpec(frozenset({_K.LPP}), _OPTICAL, renewal_item=True),
    Family.OPTICAL_LENS: FamilySpec(
        frozenset({_K.LPP}), _OPTICAL, sided=True, lens=True, renewal_item=True
    ),
    Family.CONTACT_LENS: FamilySpec(frozenset({_K.LPP})),
    Family.HEARING_AID: FamilySpec(frozenset({_K.LPP}), _AUDIO, sided=True, renewal_item=True),
    Family.DENTAL_CARE: FamilySpec(frozenset({_K.CCAM, _K.NGAP})),
    Family.DENTAL_PROSTHESIS: FamilySpec(frozenset({_K.CCAM}), _DENTAL),
    Family.ORTHODONTICS: FamilySpec(frozenset({_K.CCAM, _K.NGAP})),
    Family.HOSPITAL_STAY: FamilySpec(frozenset({_K.NGAP})),
    Family.HOSPITAL_DAILY_FEE: FamilySpec(frozenset({_K.NGAP})),
    Family.HOSPITAL_ROOM: FamilySpec(frozenset({_K.NGAP})),
    Family.MEDICAL_DEVICE: FamilySpec(frozenset({_K.LPP})),
    Family.ALTERNATIVE_MEDICINE: FamilySpec(frozenset()),
}

OPTICAL_FAMILIES = frozenset({Family.OPTICAL_FRAME, Family.OPTICAL_LENS})
