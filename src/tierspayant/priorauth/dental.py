"""Dental prosthesis codes (CCAM) a quote or an invoice may carry: basket, tooth, fee cap,
and the alternative without remaining cost.

The reference table ``reference/ccam-dentaire.json`` (dated, with its sources) gives for
each accepted CCAM code its basket (100 % Santé, maîtrisé, libre: décret 2019-21, convention
nationale des chirurgiens-dentistes 2018), the AMO base (BR, euros) and rate (percent), the
regulated fee cap (honoraire limite de facturation, euros; none for the libre basket), the
kinds of teeth it applies to, and its validity dates. A code outside it is refused.

Tooth numbers follow the FDI two-digit notation (ISO 3950): quadrant 1-4 with teeth 1-8
(permanent), quadrant 5-8 with teeth 1-5 (deciduous). Kinds of permanent teeth: 1-2
incisors, 3 canine, 4 first premolar, 5 second premolar, 6-8 molars; the prostheses of the
table apply to permanent teeth only.

Removable dentures (prothèses amovibles), their repairs and supplements are not placed on
one tooth: the number of teeth a denture replaces is part of its code (« comportant 9 dents »,
« complète unimaxillaire » = 14, « complète bimaxillaire » = 28: ``teeth_replaced``), and the
tooth field names the area of the mouth, as ISO 3950 does for such acts: ``01`` maxillary
arch, ``02`` mandibular arch (kind ``arch``), ``00`` whole mouth (kind ``mouth``, the
bimaxillary codes). A tooth number on a denture line, or an area on a crown line, is refused.

Rules (docs/care.md « Dentaire »):
  * a price above the fee cap on a 100 % Santé line is refused (the dentist may not bill it,
    and the quote would promise a remaining cost of zero it cannot keep); on a maîtrisé line
    it is priced by the coverage engine (cover capped at the fee cap, flagged);
  * the alternative without remaining cost of a maîtrisé or libre line is the 100 % Santé
    code of the same group (crown, inlay core, transitional crown, bridge) that fits the same
    tooth, with the highest fee cap (the closest material); none when no such code fits.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from tierspayant.coverage import SanteClass

REFERENCE = Path(__file__).resolve().parent / "reference" / "ccam-dentaire.json"

#: Labels of the baskets, as printed on quotes.
BASKET_LABELS = {
    SanteClass.DENTAL_100_SANTE: "100 % Santé (sans reste à charge)",
    SanteClass.DENTAL_MAITRISE: "Tarif maîtrisé (reste à charge modéré)",
    SanteClass.DENTAL_LIBRE: "Tarif libre",
}

TOOTH_KINDS = {
    "incisor": "incisive",
    "canine": "canine",
    "premolar1": "première prémolaire",
    "premolar2": "deuxième prémolaire",
    "molar": "molaire",
    "arch": "arcade (01 maxillaire, 02 mandibulaire)",
    "mouth": "bouche entière (00, prothèse bimaxillaire)",
}
#: ISO 3950 areas of the mouth, the "tooth" of a removable denture line.
_AREAS = {"00": "mouth", "01": "arch", "02": "arch"}
_PERMANENT_KIND = {
    1: "incisor",
    2: "incisor",
    3: "canine",
    4: "premolar1",
    5: "premolar2",
    6: "molar",
    7: "molar",
    8: "molar",
}


class InvalidTooth(ValueError):
    """A tooth number that does not exist in the FDI notation, or a deciduous tooth."""


@dataclass(frozen=True)
class DentalCode:
    """One accepted CCAM code: ``basket`` (SanteClass dental), ``br`` and ``price_limit``
    (euros; price_limit None for the libre basket), ``amo_rate`` (percent), ``teeth``
    (kinds), ``group``, validity (``valid_to`` None: open), ``confirmed`` (figures checked
    against their source), a French label and, for removable dentures, ``teeth_replaced``
    (number of teeth the denture replaces; None for other codes)."""

    code: str
    group: str
    basket: SanteClass
    br: Decimal
    amo_rate: Decimal
    price_limit: Decimal | None
    teeth: frozenset[str]
    valid_from: datetime.date
    valid_to: datetime.date | None
    confirmed: bool
    source: str
    label: str
    teeth_replaced: int | None = None

    @property
    def sante_class(self) -> str:
        """The basket's value (``100_sante``...), as the coverage engine spells it."""
        return str(self.basket.value)

    @property
    def basket_label(self) -> str:
        """The basket in French."""
        return BASKET_LABELS[self.basket]

    def valid_on(self, day: datetime.date) -> bool:
        """True when the code may be billed for care on ``day``."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@cache
def dental_codes() -> dict[str, DentalCode]:
    """The reference table, loaded once (package data, not configuration)."""
    data = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return {
        code: DentalCode(
            code=code,
            group=item["group"],
            basket=SanteClass(item["basket"]),
            br=Decimal(item["br"]),
            amo_rate=Decimal(item["amo_rate"]),
            price_limit=Decimal(item["price_limit"]) if item.get("price_limit") else None,
            teeth=frozenset(item["teeth"]),
            valid_from=datetime.date.fromisoformat(item["valid_from"]),
            valid_to=(
                datetime.date.fromisoformat(item["valid_to"]) if item.get("valid_to") else None
            ),
            confirmed=bool(item["confirmed"]),
            source=item["source"],
            label=item["label"],
            teeth_replaced=item.get("teeth_replaced"),
        )
        for code, item in data["codes"].items()
    }


def tooth_kind(number: object) -> str:
    """Kind of the permanent tooth ``number`` (FDI, ``"11"``...``"48"``): incisor, canine,
    premolar1, premolar2 or molar; or of the area ``"00"`` (mouth) or ``"01"``/``"02"``
    (arch) where a removable denture goes. Raises InvalidTooth (French message) for a
    number that does not exist or a deciduous tooth (quadrants 5-8)."""
    text = str(number or "").strip()
    if len(text) != 2 or not text.isdigit():
        raise InvalidTooth("numéro de dent à deux chiffres attendu (notation FDI, ex. 11, 36)")
    if text in _AREAS:
        return _AREAS[text]
    quadrant, position = int(text[0]), int(text[1])
    if 5 <= quadrant <= 8 and 1 <= position <= 5:
        raise InvalidTooth("dent temporaire : ces prothèses concernent les dents permanentes")
    if not 1 <= quadrant <= 4 or not 1 <= position <= 8:
        raise InvalidTooth(
            "cette dent n'existe pas (notation FDI : quadrant 1 à 4, dent 1 à 8, ex. 11, 36)"
        )
    return _PERMANENT_KIND[position]


def alternative_for(ref: DentalCode, kind: str, day: datetime.date) -> DentalCode | None:
    """The 100 % Santé code of the same group fitting a tooth of ``kind`` on ``day``, with
    the highest fee cap; None for a 100 % Santé line or when none fits."""
    if ref.basket is SanteClass.DENTAL_100_SANTE:
        return None
    fitting = [
        other
        for other in dental_codes().values()
        if other.group == ref.group
        and other.basket is SanteClass.DENTAL_100_SANTE
        and kind in other.teeth
        and other.valid_on(day)
        and other.price_limit is not None
    ]
    return max(fitting, key=lambda c: (c.price_limit, c.code), default=None)
