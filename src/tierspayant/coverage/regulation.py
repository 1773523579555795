"""Regulated rules of the contrat responsable and of 100 % Santé, over the figures of
the dated reference table (``reference.py``); no figure is written here.

Sources: article R871-2 of the Code de la sécurité sociale (CSS) as amended by décret
2019-21 of 11 January 2019; REFERENCE.md "100 % Santé and responsible contracts".
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from tierspayant.coverage.acts import ActLine
from tierspayant.coverage.reference import RegulatedVersion
from tierspayant.coverage.vocab import (
    OPTICAL_FAMILIES,
    Family,
    LensPair,
    RenewalReason,
    SanteClass,
)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, clamped to the month's end
    (31 Jan + 1 month = 28 or 29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def renewal_months(
    line: ActLine, age: int, ref: RegulatedVersion, *, frame_unfit: bool = False
) -> int | None:
    """Minimum months between two covered purchases of the same device, or None when
    the regulation sets none for this family.

    Optics (LPP title II chapter 2, arrêté of 3 December 2018; R871-2 CSS; REFERENCE.md
    "Optical renewal"), per frame and per lens (eye): 24 months from age 16, 12 under 16;
    6 months under 6 when the frame no longer fits, for the whole equipment (``frame_unfit``:
    any line of the equipment carries that reason); lenses only: 12 months for adults
    (none under 16) on a documented change of correction, none in the listed medical
    cases. Hearing aids: 48 months per ear.

    Ages are whole years at the care date: "à partir de 16 ans" is age >= 16; "moins de
    16 ans" is age <= 15; "jusqu'à 6 ans" is read as ameli's "moins de 6 ans", age <= 5
    (the 6th birthday closes it). Figures come from ``ref``.
    """
    if line.family is Family.HEARING_AID:
        return ref.audio.renewal_months.value
    if line.family not in OPTICAL_FAMILIES:
        return None
    optical = ref.optical
    adult = age >= optical.adult_from_age.value
    reason = line.renewal_reason
    unfit = frame_unfit or reason is RenewalReason.FRAME_UNFIT
    if unfit and age < optical.young_child_under_age.value:
        return optical.renewal_months_young_child_frame_unfit.value
    if line.family is Family.OPTICAL_LENS and reason is RenewalReason.MEDICAL_CASE:
        return optical.renewal_months_medical_case.value
    if line.family is Family.OPTICAL_LENS and reason is RenewalReason.CORRECTION_CHANGE:
        if adult:
            return optical.renewal_months_adult_correction_change.value
        return optical.renewal_months_child_correction_change.value
    return optical.renewal_months_adult.value if adult else optical.renewal_months_child.value


def renewal_due(last: dt.date | None, care_date: dt.date, months: int) -> dt.date | None:
    """Date from which a new purchase is covered, when ``care_date`` comes before it;
    None when the period has run (or there was no previous purchase). The period runs
    from the previous purchase (REFERENCE.md "Optical renewal")."""
    if last is None:
        return None
    due = add_months(last, months)
    return due if care_date < due else None


def full_cover_price_limit(line: ActLine, age: int, ref: RegulatedVersion) -> Decimal | None:
    """Price limit within which a 100 % Santé item leaves nothing to pay, in euros.

    The line's own ``price_limit`` wins (overseas limits differ, e.g. Réunion); else the
    reference gives: hearing aid class I, 950 EUR per ear over age 20, 1,400 EUR up to
    20; adult class A frame (age 16 and over), 30 EUR. Otherwise None (class A lenses,
    child frames and dental 100 % Santé caps were not gathered).
    """
    if line.price_limit is not None:
        return line.price_limit
    if line.sante_class is SanteClass.AUDIO_I:
        audio = ref.audio
        young = age <= audio.young_max_age.value
        return (audio.class_i_price_limit_young if young else audio.class_i_price_limit_adult).value
    adult = age >= ref.optical.adult_from_age.value
    if line.family is Family.OPTICAL_FRAME and adult:
        return ref.optical.class_a_adult_frame_price_limit.value
    return None


def lens_pair(lines: Iterable[ActLine]) -> LensPair | None:
    """Lens pair of the optical equipment formed by ``lines`` (one equipment per call).

    A single lens counts as a pair of its own complexity; no lens gives None.
    """
    complexities = [line.lens_complexity for line in lines if line.lens_complexity is not None]
    if not complexities:
        return None
    return LensPair.of(complexities[0], complexities[-1])


def class_b_bounds(pair: LensPair | None, ref: RegulatedVersion) -> tuple[Decimal, Decimal]:
    """(minimum, maximum) cover of a class B optical equipment in euros, by lens pair
    (R871-2 CSS: 50-420 two simple, 200-700 two complex, 200-800 two very complex;
    mixed pairs 125-560, 125-610, 200-750 unconfirmed). Without lenses (frame alone),
    the two-simple-lens bounds."""
    key = pair or LensPair.SIMPLE_SIMPLE
    return ref.optical.class_b_min[key].value, ref.optical.class_b_max[key].value


def responsible_floor(line: ActLine, amo: Decimal, ref: RegulatedVersion) -> Decimal:
    """Least AMC a responsible contract pays on ``line`` when the AMO share before
    participation forfaitaire and franchises is ``amo`` (euros, never negative).

    Forfait journalier hospitalier: in full, without limit of duration (R871-2 CSS 3°,
    L871-1). Otherwise the ticket modérateur, BR - AMO (R871-2 CSS 1°), except medicines
    whose stated AMO rate is one the reference exempts (30 %, 15 %): those give 0. A
    medicine line without a rate (AMO amount alone) cannot be told apart and gets the floor.
    Whatever the AMO left (billed - AMO) bounds the floor.
    """
    room = line.billed - amo
    if line.family is Family.HOSPITAL_DAILY_FEE:
        return max(room, Decimal(0))
    exempt = ref.responsible.ticket_moderateur_exempt_medicine_rates.value
    if line.family is Family.PHARMACY and line.amo_rate in exempt:
        return Decimal(0)
    return max(min(line.br - amo, room), Decimal(0))
