"""The LPP codes a quote or an invoice may carry (and the dental CCAM codes of
:mod:`tierspayant.priorauth.dental`), and turning submitted lines into the coverage engine's
``ActLine``.

The catalogue (``catalogue.py``, ``selectors.catalogue_entry``) gives for each optical or
audio LPP code of the public list its family, 100 % Santé class, lens band and complexity
or side, age limits, end date, and the AMO base (BR), rate and price limit in force on
the care date. A code outside it is refused: the platform does not guess what it would
pay for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from tierspayant.coverage import ActLine, CoverageError, Family, SanteClass
from tierspayant.priorauth.catalogue import CatalogueEntry, Kind
from tierspayant.priorauth.dental import (
    TOOTH_KINDS,
    DentalCode,
    InvalidTooth,
    alternative_for,
    dental_codes,
    tooth_kind,
)
from tierspayant.priorauth.prescription import InvalidCareRequest, Prescription
from tierspayant.priorauth.selectors import catalogue, catalogue_entry
from tierspayant.registry.choices import Domain

CENT = Decimal("0.01")
MAX_LINES = 10
MAX_AMOUNT = Decimal("100000.00")

_SIDES = {
    "right": "right",
    "left": "left",
    "od": "right",
    "og": "left",
    "droit": "right",
    "gauche": "left",
    "droite": "right",
}

#: Which domain of the contract (tiers payant on the card) a family of acts belongs to.
DOMAIN_OF_FAMILY: dict[Family, Domain] = {
    Family.OPTICAL_FRAME: Domain.OPTICAL,
    Family.OPTICAL_LENS: Domain.OPTICAL,
    Family.HEARING_AID: Domain.AUDIO,
    Family.DENTAL_PROSTHESIS: Domain.DENTAL,
}


def lpp_codes(today: dt.date) -> dict[str, CatalogueEntry]:
    """The generic optical and audio LPP codes (not the per-product 7xxxxxx codes) valid
    on ``today``, by code, for a short list in the portal (the full list:
    ``selectors.search_catalogue``)."""
    return {
        code: entry
        for code, entry in catalogue().items()
        if code.startswith("2") and entry.valid_on(today)
    }


@dataclass(frozen=True)
class LineInput:
    """A submitted line: LPP or dental CCAM ``code``, ``billed`` euros, ``side`` (lenses:
    right/left eye, also OD/OG), optional ``sante_class`` (checked against the code),
    optional ``renewal_reason`` (optics: correction_change, frame_unfit, medical_case),
    ``tooth`` (dental: FDI number, ``"11"``...``"48"``)."""

    code: str
    billed: Any
    side: str | None = None
    sante_class: str | None = None
    renewal_reason: str | None = None
    tooth: str | None = None


@dataclass(frozen=True)
class ParsedLine:
    """A line ready for the engine, with its reference entry. Dental lines also carry the
    FDI ``tooth`` and the ``alternative`` without remaining cost (code, label, basket,
    price_limit/br/amo/amc in euros as text, rac "0.00"), or None."""

    act: ActLine
    ref: CatalogueEntry | DentalCode
    tooth: str = ""
    alternative: dict[str, str] | None = field(default=None, compare=False)


def parse_amount(value: object, field: str) -> Decimal:
    """Euros, non-negative, at most two decimals, below 100,000. Raises InvalidCareRequest."""
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidCareRequest(field, "montant obligatoire (euros, ex. 120.00)")
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise InvalidCareRequest(field, "montant illisible (euros, ex. 120.00)") from None
    if not amount.is_finite():
        raise InvalidCareRequest(field, "montant illisible (euros, ex. 120.00)")
    if amount < 0:
        raise InvalidCareRequest(field, "le montant ne peut pas être négatif")
    if amount != amount.quantize(CENT):
        raise InvalidCareRequest(field, "au plus deux décimales (centimes)")
    if amount > MAX_AMOUNT:
        raise InvalidCareRequest(field, "montant trop élevé")
    return amount.quantize(CENT)


def parse_lines(
    lines: list[LineInput],
    *,
    age: int,
    care_date: dt.date,
    prescription: Prescription | None = None,
) -> list[ParsedLine]:
    """Check each line against the LPP catalogue on ``care_date`` (dental CCAM codes
    against the dental table) and build the engine's act lines.

    ``age``: the beneficiary's whole years on the date of care (codes have age limits).
    ``prescription``: when given, each lens must fall in its code's band for that eye's
    correction, and its renewal reason applies to the equipment.
    Raises InvalidCareRequest naming ``lines`` or ``lines[i].<field>``: unknown code,
    code ended before the care date, outside the patient's age, lens outside its band,
    tooth not fitting a dental code, price above the fee cap of a 100 % Santé dental code.
    A price above the limit of a 100 % Santé optical or audio code (class A, class I) is
    not refused: the engine flags it (PRICE_ABOVE_REGULATED_LIMIT) and the excess is the
    patient's.
    """
    if not lines:
        raise InvalidCareRequest("lines", "au moins une ligne est nécessaire")
    if len(lines) > MAX_LINES:
        raise InvalidCareRequest("lines", f"au plus {MAX_LINES} lignes")
    dental = [str(line.code or "").strip().upper() in dental_codes() for line in lines]
    entries = {} if all(dental) else catalogue()  # the LPP list is read for LPP lines only
    parsed = [
        _parse_dental_line(index, line, care_date)
        if is_dental
        else _parse_line(index, line, age, care_date, prescription, entries)
        for index, (line, is_dental) in enumerate(zip(lines, dental, strict=True))
    ]
    domains = {_domain(p) for p in parsed}
    if len(domains) > 1:
        raise InvalidCareRequest(
            "lines", "une demande porte sur un seul domaine (optique, audio ou dentaire)"
        )
    return parsed


def _parse_line(
    index: int,
    line: LineInput,
    age: int,
    care_date: dt.date,
    prescription: Prescription | None,
    entries: dict[str, CatalogueEntry],
) -> ParsedLine:
    where = f"lines[{index}]"
    code = str(line.code or "").strip()
    if not code:
        raise InvalidCareRequest(f"{where}.code", "code LPP obligatoire")
    ref = catalogue_entry(code, care_date=care_date, age=age, entries=entries)
    if ref is None:
        raise InvalidCareRequest(
            f"{where}.code", "code LPP inconnu ou non accepté en tiers payant optique/audio"
        )
    if not ref.valid_on(care_date):
        ended = ref.valid_to.strftime("%d/%m/%Y") if ref.valid_to else ""
        raise InvalidCareRequest(
            f"{where}.code", f"code LPP fermé le {ended}, avant la date des soins"
        )
    if line.sante_class not in (None, "") and str(line.sante_class) != ref.sante_class:
        raise InvalidCareRequest(
            f"{where}.sante_class", f"ce code LPP est de classe {ref.sante_class or 'non définie'}"
        )
    if ref.min_age is not None and age < ref.min_age:
        raise InvalidCareRequest(f"{where}.code", f"code réservé aux {ref.min_age} ans et plus")
    if ref.max_age is not None and age > ref.max_age:
        raise InvalidCareRequest(f"{where}.code", f"code réservé aux {ref.max_age} ans et moins")
    billed = parse_amount(line.billed, f"{where}.billed")
    full_cover = ref.sante_class in ("A", "I")
    side = ref.side
    if ref.family is Family.OPTICAL_LENS:
        side = _SIDES.get(str(line.side or "").strip().lower())
        if side is None:
            raise InvalidCareRequest(
                f"{where}.side", "œil obligatoire pour un verre : droit ou gauche"
            )
        if prescription is not None:
            prescription.check_lens(ref, side, f"{where}.code")
    elif line.side not in (None, "") and _SIDES.get(str(line.side).strip().lower()) != side:
        raise InvalidCareRequest(f"{where}.side", "le côté ne correspond pas au code LPP")
    reason = line.renewal_reason or None
    if reason is None and prescription is not None and ref.kind in (Kind.FRAME, Kind.LENS):
        reason = prescription.renewal_reason_for(ref.kind)
    try:
        fields: dict[str, Any] = {  # text values are converted by ActLine itself
            "sante_class": ref.sante_class or None,
            "lens_complexity": ref.lens_complexity,
            "side": side if ref.family in (Family.OPTICAL_LENS, Family.HEARING_AID) else None,
            "renewal_reason": reason,
            "price_limit": ref.price_limit if full_cover else None,
        }
        act = ActLine(
            family=ref.family,
            code=code,
            billed=billed,
            br=min(ref.br, billed),
            amo_rate=ref.amo_rate,
            line_id=str(index + 1),
            **fields,
        )
    except CoverageError as exc:
        raise InvalidCareRequest(f"{where}.{exc.field}", exc.reason) from None
    return ParsedLine(act=act, ref=ref)


def _parse_dental_line(index: int, line: LineInput, day: dt.date) -> ParsedLine:
    """A dental CCAM line: code valid on ``day``, FDI tooth fitting the code, price within
    the fee cap on a 100 % Santé line (module docstring of :mod:`.dental`)."""
    where = f"lines[{index}]"
    code = str(line.code).strip().upper()
    ref = dental_codes()[code]
    if ref.valid_to is not None and day > ref.valid_to:
        ended = (ref.valid_to + dt.timedelta(days=1)).strftime("%d/%m/%Y")
        raise InvalidCareRequest(
            f"{where}.code", f"code CCAM fermé depuis le {ended} : inutilisable à cette date"
        )
    if day < ref.valid_from:
        raise InvalidCareRequest(
            f"{where}.code",
            f"code CCAM en vigueur à partir du {ref.valid_from:%d/%m/%Y} seulement",
        )
    if line.sante_class not in (None, "") and str(line.sante_class) != ref.sante_class:
        raise InvalidCareRequest(
            f"{where}.sante_class", f"ce code CCAM relève du panier « {ref.basket_label} »"
        )
    try:
        kind = tooth_kind(line.tooth)
    except InvalidTooth as exc:
        raise InvalidCareRequest(f"{where}.tooth", str(exc)) from None
    if kind not in ref.teeth:
        allowed = ", ".join(name for k, name in TOOTH_KINDS.items() if k in ref.teeth)
        raise InvalidCareRequest(
            f"{where}.tooth",
            f"ce code ne s'applique pas à une {TOOTH_KINDS[kind]} (seulement : {allowed})",
        )
    billed = parse_amount(line.billed, f"{where}.billed")
    full_cover = ref.basket is SanteClass.DENTAL_100_SANTE
    if full_cover and ref.price_limit is not None and billed > ref.price_limit:
        raise InvalidCareRequest(
            f"{where}.billed",
            f"prix supérieur à l'honoraire limite de facturation de ce soin 100 % Santé "
            f"({ref.price_limit} €)",
        )
    act = ActLine(
        family=Family.DENTAL_PROSTHESIS,
        code=code,
        billed=billed,
        br=min(ref.br, billed),
        amo_rate=ref.amo_rate,
        sante_class=ref.basket,
        price_limit=ref.price_limit,
        line_id=str(index + 1),
    )
    other = alternative_for(ref, kind, day)
    alternative = None
    if other is not None and other.price_limit is not None:
        amo = (other.br * other.amo_rate / 100).quantize(CENT)
        alternative = {
            "code": other.code,
            "label": other.label,
            "basket": other.sante_class,
            "price_limit": str(other.price_limit),
            "br": str(other.br),
            "amo": str(amo),
            "amc": str(other.price_limit - amo),
            "rac": "0.00",
        }
    return ParsedLine(act=act, ref=ref, tooth=str(line.tooth).strip(), alternative=alternative)


def domain_of(parsed: list[ParsedLine]) -> Domain:
    """The domain of a parsed request (all its lines share one, see :func:`parse_lines`)."""
    return _domain(parsed[0])


def _domain(line: ParsedLine) -> Domain:
    """The domain of one parsed line: its catalogue entry's, dental for a CCAM code."""
    return line.ref.domain if isinstance(line.ref, CatalogueEntry) else Domain.DENTAL
