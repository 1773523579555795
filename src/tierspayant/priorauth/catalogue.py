"""The optical and audio catalogue: every code of the public LPP list in title II,
chapters 2 (optics) and 3 (hearing aids), read from the loaded nomenclature (table NT_LPP,
``tierspayant load-nomenclatures``) and classified from its published label, with the
regulated figures of ``reference/lpp-prices.json`` (dated, sourced, flagged unconfirmed).

Nothing of the list is copied here. What a label says is read as published:

* family: ``MONTURE`` frame, ``VERRE`` lens, ``LENTILLE`` contact lens, ``AIDE AUDITIVE,
  CLASSE I/II`` hearing aid, supplements and services (``SUPPLEMENT``, ``PRISME``,
  ``FILTRE``, ``APPAIRAGE``, ``ADAPTATION``), other devices (amblyopia, batteries...);
* 100 % Santé class: ``CLASSE A``/``B`` (also ``UNIFOC. A``, ``PROG B``, ``MF A``) and
  ``CLASSE I``/``II``;
* lens type (unifocal, multifocal, progressive, neutral) and its band: sphere interval
  (``SPHERE] -4,00 A -6,00]``: above -6 up to -4, brackets as written), sphere + cylinder
  for positive spheres (``SPH POSITIVE ET S ENTRE] +6,00 A +8,00]``), cylinder interval
  (``CYL (+) [0,25 A 4,00]``, ``CYLINDRE (+) >4``; no cylinder named: spherical lens,
  cylinder below 0.25);
* age limits: the list's ``LPP_MAX_AGE`` (inclusive), ``ENFANT`` (under 16), ``ADULTE``
  (16 and over, REFERENCE.md "Optical renewal"), ``> 20 ANS`` (21 and over), ``<= 20 ANS``
  (20 and under).

Lens complexity (article R871-2 CSS as amended by décret 2019-21): unifocal lenses whose
band stays within sphere -6/+6 and cylinder 4 are simple, other unifocal lenses complex;
multifocal and progressive lenses within sphere -4/+4 (spherical) or -8/+8 with cylinder
up to 4 are complex, beyond very complex; neutral lenses simple.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from tierspayant.coverage import Family
from tierspayant.priorauth.dental import BASKET_LABELS
from tierspayant.registry.choices import Domain

PRICES = Path(__file__).resolve().parent / "reference" / "lpp-prices.json"
CODE_SYSTEM = "LPP"
ADULT_FROM_AGE = 16  # frames and lenses (REFERENCE.md "Optical renewal")
HEARING_YOUNG_MAX_AGE = 20  # "<= 20 ANS" (REFERENCE.md "Hearing aids")


class Kind:
    """What an entry is (drives the engine family and the figures looked up)."""

    FRAME = "frame"
    LENS = "lens"
    CONTACT_LENS = "contact_lens"
    HEARING_AID = "hearing_aid"
    SUPPLEMENT = "supplement"
    DEVICE = "device"


KIND_LABELS = {
    Kind.FRAME: "Monture",
    Kind.LENS: "Verre",
    Kind.CONTACT_LENS: "Lentille de contact",
    Kind.HEARING_AID: "Aide auditive",
    Kind.SUPPLEMENT: "Supplément ou prestation",
    Kind.DEVICE: "Autre dispositif",
}
_FAMILY = {
    Kind.FRAME: Family.OPTICAL_FRAME,
    Kind.LENS: Family.OPTICAL_LENS,
    Kind.CONTACT_LENS: Family.CONTACT_LENS,
    Kind.HEARING_AID: Family.HEARING_AID,
    Kind.SUPPLEMENT: Family.MEDICAL_DEVICE,
    Kind.DEVICE: Family.MEDICAL_DEVICE,
}


@dataclass(frozen=True, slots=True)
class Band:
    """An interval of dioptres: bounds (None when open) and whether each is included."""

    low: Decimal | None
    high: Decimal | None
    low_closed: bool = True
    high_closed: bool = True

    def holds(self, value: Decimal) -> bool:
        if self.low is not None and (
            value < self.low or (value == self.low and not self.low_closed)
        ):
            return False
        return not (
            self.high is not None
            and (value > self.high or (value == self.high and not self.high_closed))
        )

    def within(self, low: Decimal, high: Decimal) -> bool:
        """True when the whole band lies in [low, high]."""
        return (
            self.low is not None and self.high is not None and low <= self.low and self.high <= high
        )

    def describe(self) -> str:
        def fmt(value: Decimal) -> str:
            return f"{value:+.2f}".replace(".", ",")

        if self.low is None and self.high is not None:
            return ("≤ " if self.high_closed else "< ") + fmt(self.high)
        if self.high is None and self.low is not None:
            return ("≥ " if self.low_closed else "> ") + fmt(self.low)
        if self.low is None or self.high is None:
            return "toutes"
        left = "[" if self.low_closed else "]"
        right = "]" if self.high_closed else "["
        return f"{left}{fmt(self.low)} ; {fmt(self.high)}{right}"


#: French labels of the classes and baskets (dental: :data:`.dental.BASKET_LABELS`).
CLASS_LABELS = {
    "A": "classe A 100 % Santé",
    "B": "classe B tarif libre",
    "I": "classe I 100 % Santé",
    "II": "classe II tarif libre",
    **{str(basket.value): label for basket, label in BASKET_LABELS.items()},
}


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One quotable code: an LPP optical or audio code, or (in the code picker's results,
    ``selectors.search_catalogue``) a dental CCAM code.

    code, code_system ("LPP"), label (as published), domain (optical/audio), kind
    (:class:`Kind`), family (coverage engine), sante_class ("A", "B", "I", "II" or ""),
    lens_type and lens_complexity (lenses), sphere band (on the sphere, or on sphere +
    cylinder when ``sphere_is_sum``) and cylinder band (lenses, when the label gives them),
    side (hearing aids: right/left), min_age/max_age (inclusive whole years, None when
    none), valid_to (last day, None when open), price_limit (PLV, euros, None when prices
    are free), br (euros), amo_rate (percent), unconfirmed (names of the figures not
    checked), source (of the figures); valid_from (first day, None when not given) and
    teeth (dental codes: the kinds of teeth in French, '' otherwise).
    """

    code: str
    code_system: str
    label: str
    domain: Domain
    kind: str
    family: Family
    sante_class: str
    lens_type: str | None
    lens_complexity: str | None
    sphere: Band | None
    sphere_is_sum: bool
    cylinder: Band | None
    side: str | None
    min_age: int | None
    max_age: int | None
    valid_to: dt.date | None
    price_limit: Decimal | None
    br: Decimal
    amo_rate: Decimal
    unconfirmed: tuple[str, ...]
    source: str
    valid_from: dt.date | None = None
    teeth: str = ""

    @property
    def class_label(self) -> str:
        """The 100 % Santé class or the dental basket in French, as the code picker shows
        it (``classe A 100 % Santé``, ``Tarif maîtrisé (reste à charge modéré)``...)."""
        return CLASS_LABELS.get(self.sante_class, self.sante_class)

    @property
    def band_label(self) -> str:
        """French description of the lens band, '' for other items."""
        parts = []
        if self.sphere is not None:
            name = "sphère + cylindre" if self.sphere_is_sum else "sphère"
            parts.append(f"{name} {self.sphere.describe()}")
        if self.cylinder is not None:
            parts.append(f"cylindre {self.cylinder.describe()}")
        return ", ".join(parts)

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    def fits_age(self, age: int) -> bool:
        return (self.min_age is None or age >= self.min_age) and (
            self.max_age is None or age <= self.max_age
        )

    def holds(self, sphere: Decimal, cylinder: Decimal) -> bool:
        """True when a correction (sphere, cylinder in positive-cylinder notation, dioptres)
        falls in this lens's band; True when the label gives no band."""
        value = sphere + cylinder if self.sphere_is_sum and sphere > 0 else sphere
        if self.sphere is not None and not self.sphere.holds(value):
            return False
        return self.cylinder is None or self.cylinder.holds(cylinder)


# --- label reading ----------------------------------------------------------------------

_NUMBER = r"([+-]?\s*\d+(?:,\d+)?)"
_INTERVAL = re.compile(r"([\[\]])\s*" + _NUMBER + r"\s*A\s*" + _NUMBER + r"\s*([\[\]])?")
_COMPARE = re.compile(r"(<\s*=|>\s*=|<|>)\s*" + _NUMBER)
_CLASS_LENS = re.compile(
    r"VERRE\b.*?\b(?:CLASSE|UNIFOC\.?|UNIFOCAL|PROG|MF|NEUTRE DE CLASSE)\s+([AB])\b"
)
_CLASS_OPTIC = re.compile(r"CLASSE\s+([AB])\b|\(DE CLASSE ([AB])\)|\(([AB])\)")
_SUPPLEMENT = r"SUPPL|PRISME|FILTRE|APPAIRAGE|ADAPTATION|PRESTATION|TEINT|ANTIPTOSIS|ISEICONIQUE"
_CLASS_AUDIO = re.compile(r"CLASSE\s+(II|I)\b")


def _number(text: str) -> Decimal:
    return Decimal(text.replace(" ", "").replace(",", "."))


def _band(text: str) -> Band | None:
    """Read one band from its text (``] -4,00 A -6,00]``, ``> +12,00``, ``<= 2``)."""
    interval = _INTERVAL.search(text)
    if interval:
        left, first, second, right = interval.groups()
        a, b = _number(first), _number(second)
        # "] -4 A -6]": the first bound is excluded, the second included, whatever their order
        first_closed, second_closed = left == "[", right != "["
        if a <= b:
            return Band(a, b, first_closed, second_closed)
        return Band(b, a, second_closed, first_closed)
    compare = _COMPARE.search(text)
    if compare:
        op, value = compare.group(1).replace(" ", ""), _number(compare.group(2))
        if op.startswith("<"):
            return Band(None, value, high_closed=op == "<=")
        return Band(value, None, low_closed=op == ">=")
    return None


def _lens_bands(label: str) -> tuple[Band | None, bool, Band | None]:
    """(sphere band, sphere_is_sum, cylinder band) of a lens label."""
    text = label.split(",", 1)[1] if "," in label else label
    cyl_at = re.search(r"\bCYL(?:INDRE)?\b", text)
    sph_text = text[: cyl_at.start()] if cyl_at else text
    cylinder = (
        _band(text[cyl_at.end() :]) if cyl_at else Band(Decimal(0), Decimal("0.25"), True, False)
    )
    is_sum = bool(re.search(r"\bS\s*(ENTRE|<|>)", sph_text))
    if is_sum:
        sph_text = sph_text[re.search(r"\bS\s*(ENTRE|<|>)", sph_text).start() + 1 :]  # type: ignore[union-attr]
        cylinder = None  # sum of sphere and cylinder: the cylinder is in it
    sph_at = re.search(r"\bSPH(?:ERE)?\b", sph_text)
    sphere = _band(sph_text[sph_at.end() :] if sph_at else sph_text) if (sph_at or is_sum) else None
    if is_sum and sphere is not None and sphere.low is None:
        sphere = Band(Decimal(0), sphere.high, False, sphere.high_closed)  # positive sphere
    return sphere, is_sum, cylinder


def _lens_type(label: str) -> str:
    if "NEUTRE" in label:
        return "neutral"
    if re.search(r"\bPROG", label):
        return "progressive"
    if re.search(r"\bMULTI ?FOCAL|\bMF\b", label):
        return "multifocal"
    return "unifocal"


def _complexity(lens_type: str, sphere: Band | None, is_sum: bool, cylinder: Band | None) -> str:
    """Lens complexity of R871-2 CSS from the band (see the module docstring)."""
    if lens_type == "neutral":
        return "simple"
    spherical = (
        cylinder is not None and cylinder.high == Decimal("0.25") and not cylinder.high_closed
    )
    cyl_ok = cylinder is None or (cylinder.high is not None and cylinder.high <= 4)
    if lens_type == "unifocal":
        limit = Decimal(6)
        ok = sphere is None or sphere.within(-limit, limit)
        return "simple" if ok and cyl_ok else "complex"
    limit = Decimal(4) if spherical and not is_sum else Decimal(8)
    ok = sphere is None or sphere.within(-limit, limit)
    return "complex" if ok and cyl_ok else "very_complex"


def _ages(label: str, max_age_column: str) -> tuple[int | None, int | None]:
    min_age: int | None = None
    max_age: int | None = int(max_age_column) if max_age_column.strip() not in ("", "0") else None
    if re.search(r"<\s*=\s*(A\s*)?20 ANS", label):
        max_age = HEARING_YOUNG_MAX_AGE
    elif re.search(r">\s*20 ANS", label):
        min_age = HEARING_YOUNG_MAX_AGE + 1
    elif re.search(r">\s*(OU\s*)?=\s*18 ANS", label):
        min_age = 18
    if "ENFANT" in label and max_age is None:
        max_age = ADULT_FROM_AGE - 1
    if "ADULTE" in label:
        min_age = ADULT_FROM_AGE
    return min_age, max_age


def classify(
    code: str, label: str, chapter: str, max_age: str = "", valid_to: dt.date | None = None
) -> CatalogueEntry:
    """The catalogue entry of one LPP row of title II chapter 2 or 3 (figures unset)."""
    text = " ".join(label.upper().split())
    domain = Domain.OPTICAL if chapter == "2" else Domain.AUDIO
    sante_class, lens_type, complexity, side = "", None, None, None
    sphere: Band | None = None
    cylinder: Band | None = None
    is_sum = False
    audio_class = _CLASS_AUDIO.search(text)
    if domain is Domain.AUDIO and text.startswith("AIDE AUDITIVE") and audio_class:
        kind, sante_class = Kind.HEARING_AID, audio_class.group(1)
        side = "right" if "DROIT" in text else "left" if "GAUCHE" in text else None
    elif domain is Domain.OPTICAL and re.search(_SUPPLEMENT, text):
        kind = Kind.SUPPLEMENT
    elif domain is Domain.OPTICAL and re.search(r"\bMONTURE\b", text):
        kind = Kind.FRAME
    elif domain is Domain.OPTICAL and re.search(r"\bVERRES?\b", text):
        kind = Kind.LENS
        lens_type = _lens_type(text)
        sphere, is_sum, cylinder = (
            _lens_bands(text) if lens_type != "neutral" else (None, False, None)
        )
        complexity = _complexity(lens_type, sphere, is_sum, cylinder)
    elif "LENTILLE" in text:
        kind = Kind.CONTACT_LENS
    else:
        kind = Kind.DEVICE
    if kind in (Kind.FRAME, Kind.LENS):
        found = _CLASS_LENS.search(text) or _CLASS_OPTIC.search(text)
        sante_class = next((g for g in found.groups() if g), "") if found else ""
        if not sante_class:  # pre-2020 codes (no class): priced as free-price items
            sante_class = "B"
    if side is None and kind is Kind.HEARING_AID:
        kind = Kind.DEVICE  # a hearing aid without its ear cannot be quoted per ear
        sante_class = ""
    min_age, max_age_value = _ages(text, max_age)
    return CatalogueEntry(
        code=code,
        code_system=CODE_SYSTEM,
        label=label.strip(),
        domain=domain,
        kind=kind,
        family=_FAMILY[kind],
        sante_class=sante_class,
        lens_type=lens_type,
        lens_complexity=complexity,
        sphere=sphere,
        sphere_is_sum=is_sum,
        cylinder=cylinder,
        side=side,
        min_age=min_age,
        max_age=max_age_value,
        valid_to=valid_to,
        price_limit=None,
        br=Decimal("0.00"),
        amo_rate=Decimal(60),
        unconfirmed=(),
        source="",
    )


# --- regulated figures ------------------------------------------------------------------


@cache
def _price_versions() -> list[tuple[dt.date, dict[str, dict[str, Any]]]]:
    data = json.loads(PRICES.read_text(encoding="utf-8"))
    versions = [(dt.date.fromisoformat(v["effective_from"]), v["prices"]) for v in data["versions"]]
    return sorted(versions, key=lambda item: item[0])


def figures_key(entry: CatalogueEntry, age: int) -> list[str]:
    """Keys of ``lpp-prices.json`` tried for ``entry`` at ``age``, most precise first."""
    if entry.kind == Kind.FRAME:
        group = (
            "adult"
            if (entry.min_age or 0) >= ADULT_FROM_AGE
            or (entry.max_age is None and age >= ADULT_FROM_AGE)
            else "child"
        )
    elif entry.kind == Kind.HEARING_AID:
        group = "child" if age <= HEARING_YOUNG_MAX_AGE else "adult"
    else:
        group = entry.lens_complexity or "*"
    klass = entry.sante_class or "*"
    return [f"{entry.kind}:{klass}:{group}", f"{entry.kind}:{klass}:*", f"{entry.kind}:*:*"]


def priced(entry: CatalogueEntry, *, care_date: dt.date, age: int) -> CatalogueEntry | None:
    """``entry`` with the BR, AMO rate, price limit, source and unconfirmed flags in force
    on ``care_date`` for a patient of ``age``; None when no version covers the date."""
    versions = [prices for start, prices in _price_versions() if start <= care_date]
    if not versions:
        return None
    prices = versions[-1]
    item = next((prices[k] for k in figures_key(entry, age) if k in prices), None)
    if item is None:
        return None
    limit = item.get("price_limit")
    return replace(
        entry,
        br=Decimal(item["br"]),
        amo_rate=Decimal(item["amo_rate"]),
        price_limit=Decimal(limit) if limit else None,
        unconfirmed=tuple(item.get("unconfirmed", ())),
        source=item["source"],
    )
