"""The prescription behind an optical or hearing-aid quote, checked before anything is
decided.

Glasses: prescriber (RPPS), date, and per eye sphere, cylinder (positive-cylinder
notation, as the LPP bands are written), axis and addition; the correction drives the
lens-band check of each lens code and the renewal reason of the equipment. Hearing aids:
the prescribing doctor (RPPS) and the audiogram date.

Shapes (JSON or form)::

    {"prescriber_rpps": "10003456789", "prescribed_on": "2025-02-20",
     "right": {"sphere": "-2.25", "cylinder": "0.50", "axis": 90, "addition": "1.50"},
     "left": {"sphere": "-2.00", "cylinder": "0", "axis": 0},
     "renewal_reason": "correction_change"}
    {"prescriber_rpps": "10003456789", "prescribed_on": "2025-02-20",
     "audiogram_on": "2025-02-18"}

Required (issue 15 « Bad input »): a quote with optical codes (LPP title II chapter 2,
codes 22xxxxx: frames, lenses, contact lenses) needs the prescription with the prescriber's
RPPS, its date and, per eye that gets a lens, sphere and cylinder (``0`` when none), plus
the addition for a progressive or multifocal lens; one with hearing aids (chapter 3,
23xxxxx) needs the prescribing doctor's RPPS, the date and the audiogram date. Sources:
LPP title II chapter 2 (conditions of cover: « sur prescription médicale », the correction
determining the lens code) and chapter 3 (hearing aids: prescription by a doctor after an
audiometric test), Code de la sécurité sociale articles L165-1 and R165-1 (devices of the
LPP are covered when prescribed); the invoices' own rule is in ``invoices/services.py``.

Rules: dioptres in steps of 0.25, sphere -30 to +30, cylinder -10 to +10 (a negative
cylinder is transposed: sphere + cylinder, -cylinder, axis + 90 modulo 180), axis 0-180
degrees (whole), addition +0.50 to +4.00 (progressive and multifocal lenses); dates not
after the care date. Sources: LPP title II chapter 2 (bands of the lens codes, arrêté of
3 December 2018); RPPS 11 digits with a Luhn key (REFERENCE.md "Identifiers").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from tierspayant.coverage import RenewalReason
from tierspayant.providers.identifiers import InvalidIdentifier, validate_rpps

if TYPE_CHECKING:
    from tierspayant.priorauth.catalogue import CatalogueEntry

QUARTER = Decimal("0.25")
EYES = {"right": "droit", "left": "gauche"}
#: Lens types (``catalogue.py``) whose prescription must give the addition.
PROGRESSIVE = ("progressive", "multifocal")


class InvalidCareRequest(ValueError):
    """Bad input in a quote or an invoice. ``field`` names it (``lines[1].billed``,
    ``planned_date``, ``prescription.right.sphere``...), ``message`` says why in French,
    never echoing a personal value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class EyeCorrection:
    """One eye: sphere, cylinder (>= 0), addition (dioptres, None when none), axis (degrees)."""

    sphere: Decimal
    cylinder: Decimal
    axis: int
    addition: Decimal | None


@dataclass(frozen=True, slots=True)
class Prescription:
    """A checked prescription (see the module docstring)."""

    prescriber_rpps: str
    prescribed_on: dt.date
    eyes: dict[str, EyeCorrection]
    audiogram_on: dt.date | None = None
    renewal_reason: RenewalReason | None = None

    def check_lens(self, entry: CatalogueEntry, side: str, field: str) -> None:
        """Raise InvalidCareRequest(field) when the lens code's band does not hold this eye's
        correction, or the eye has no correction."""
        eye = self.eyes.get(side)
        if eye is None:
            raise InvalidCareRequest(
                f"prescription.{side}",
                f"correction de l'œil {EYES[side]} absente de la prescription",
            )
        if entry.lens_type in PROGRESSIVE and eye.addition is None:
            raise InvalidCareRequest(
                f"prescription.{side}.addition",
                f"addition de l'œil {EYES[side]} obligatoire pour un verre progressif "
                "ou multifocal",
            )
        if not entry.holds(eye.sphere, eye.cylinder):
            raise InvalidCareRequest(
                field,
                f"verre hors de sa bande : la correction de l'œil {EYES[side]} n'entre pas dans "
                f"« {entry.band_label} »",
            )

    def renewal_reason_for(self, kind: str) -> str | None:
        """The prescription's renewal reason for a frame or a lens line: a change of
        correction opens early renewal of the lenses only; a frame that no longer fits, or
        a medical case, the whole equipment (the engine applies it per equipment)."""
        reason = self.renewal_reason
        if reason is None or (reason is RenewalReason.CORRECTION_CHANGE and kind != "lens"):
            return None
        return str(reason)

    def as_json(self) -> dict[str, Any]:
        """Stored form (no patient data: dioptres, dates and the prescriber's RPPS)."""
        data: dict[str, Any] = {
            "prescriber_rpps": self.prescriber_rpps,
            "prescribed_on": self.prescribed_on.isoformat(),
        }
        for side, eye in self.eyes.items():
            data[side] = {
                "sphere": str(eye.sphere),
                "cylinder": str(eye.cylinder),
                "axis": eye.axis,
                "addition": str(eye.addition) if eye.addition is not None else None,
            }
        if self.audiogram_on is not None:
            data["audiogram_on"] = self.audiogram_on.isoformat()
        if self.renewal_reason is not None:
            data["renewal_reason"] = str(self.renewal_reason)
        return data


def _date(value: object, field: str, label: str, care_date: dt.date) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value or "").strip())
        except ValueError:
            raise InvalidCareRequest(
                field, f"{label} obligatoire (format AAAA-MM-JJ attendu)"
            ) from None
    if day > care_date:
        raise InvalidCareRequest(field, f"{label} postérieure à la date des soins")
    return day


def _dioptre(value: object, field: str, low: Decimal, high: Decimal) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise InvalidCareRequest(field, "valeur illisible (dioptries, ex. -2.25)") from None
    if not number.is_finite() or not low <= number <= high:
        raise InvalidCareRequest(field, f"doit être entre {low} et {high} dioptries")
    if number % QUARTER:
        raise InvalidCareRequest(field, "par pas de 0,25 dioptrie")
    return number.quantize(Decimal("0.01"))


def _eye(data: object, field: str) -> EyeCorrection:
    if not isinstance(data, Mapping):
        raise InvalidCareRequest(field, "correction attendue (sphère, cylindre, axe)")
    if data.get("sphere") in (None, ""):
        raise InvalidCareRequest(f"{field}.sphere", "sphère obligatoire")
    sphere = _dioptre(data["sphere"], f"{field}.sphere", Decimal(-30), Decimal(30))
    if data.get("cylinder") in (None, ""):
        raise InvalidCareRequest(
            f"{field}.cylinder", "cylindre obligatoire (0 quand il n'y en a pas)"
        )
    cylinder = _dioptre(data["cylinder"], f"{field}.cylinder", Decimal(-10), Decimal(10))
    raw_axis = data.get("axis")
    if raw_axis in (None, ""):
        if cylinder:
            raise InvalidCareRequest(f"{field}.axis", "axe obligatoire quand il y a un cylindre")
        raw_axis = 0
    try:
        axis = int(str(raw_axis).strip())
    except ValueError:
        raise InvalidCareRequest(f"{field}.axis", "axe en degrés entiers (0 à 180)") from None
    if not 0 <= axis <= 180:
        raise InvalidCareRequest(f"{field}.axis", "axe en degrés entiers (0 à 180)")
    if cylinder < 0:  # negative-cylinder notation: transpose (the LPP bands are positive)
        sphere, cylinder, axis = sphere + cylinder, -cylinder, (axis + 90) % 180
    addition = None
    if data.get("addition") not in (None, ""):
        addition = _dioptre(data["addition"], f"{field}.addition", Decimal("0.5"), Decimal(4))
    return EyeCorrection(sphere, cylinder, axis, addition)


def require_prescription(*, glasses: bool, hearing: bool) -> None:
    """Raise InvalidCareRequest("prescription") when a quote with optical (``glasses``) or
    hearing-aid (``hearing``) codes comes without its prescription (module docstring)."""
    if glasses or hearing:
        what = "des lunettes ou des lentilles" if glasses else "des aides auditives"
        detail = "correction par œil" if glasses else "date de l'audiogramme"
        raise InvalidCareRequest(
            "prescription",
            f"prescription obligatoire pour {what} (RPPS du prescripteur, date, {detail})",
        )


def parse_prescription(
    data: Mapping[str, Any] | None,
    *,
    care_date: dt.date,
    glasses: bool,
    hearing: bool,
    required: bool = True,
) -> Prescription | None:
    """Check a submitted prescription; None when none was given and none is required.

    ``glasses``: the quote has optical codes (at least one eye's correction is required;
    each lens's eye is checked by :meth:`Prescription.check_lens`); ``hearing``: it has
    hearing aids (the audiogram date is required). ``required``: refuse a missing
    prescription for glasses or hearing aids (module docstring); False only to recompute
    an approval stored before the rule.
    Raises InvalidCareRequest naming ``prescription`` or ``prescription.<field>``.
    """
    if data is None or data == {}:
        if required:
            require_prescription(glasses=glasses, hearing=hearing)
        return None
    if not isinstance(data, Mapping):
        raise InvalidCareRequest("prescription", "prescription attendue (objet)")
    if not str(data.get("prescriber_rpps") or "").strip():
        raise InvalidCareRequest(
            "prescription.prescriber_rpps", "numéro RPPS du prescripteur obligatoire"
        )
    try:
        rpps = validate_rpps(str(data.get("prescriber_rpps") or "").strip())
    except InvalidIdentifier:
        raise InvalidCareRequest(
            "prescription.prescriber_rpps", "numéro RPPS du prescripteur invalide (11 chiffres)"
        ) from None
    prescribed = _date(
        data.get("prescribed_on"), "prescription.prescribed_on", "date de prescription", care_date
    )
    eyes = {
        side: _eye(data[side], f"prescription.{side}")
        for side in EYES
        if data.get(side) not in (None, "", {})
    }
    if glasses and not eyes:
        raise InvalidCareRequest(
            "prescription.right", "correction d'au moins un œil obligatoire pour des verres"
        )
    audiogram = None
    if hearing or data.get("audiogram_on"):
        audiogram = _date(
            data.get("audiogram_on"),
            "prescription.audiogram_on",
            "date de l'audiogramme",
            care_date,
        )
    reason = None
    if data.get("renewal_reason") not in (None, ""):
        try:
            reason = RenewalReason(str(data["renewal_reason"]))
        except ValueError:
            raise InvalidCareRequest(
                "prescription.renewal_reason",
                "motif inconnu (correction_change, frame_unfit, medical_case)",
            ) from None
    return Prescription(rpps, prescribed, eyes, audiogram, reason)
