"""Inputs of a computation: act lines and the beneficiary's consumption history.

Both are frozen dataclasses validated on construction: a malformed act line raises
``InvalidActLine``, a malformed history ``InvalidCase``, each naming the field and why.
Strings are accepted where an enum or an amount is expected (JSON input), and are
converted once, here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar, cast

from tierspayant.coverage.errors import CoverageError, InvalidActLine, InvalidCase
from tierspayant.coverage.money import HUNDRED, ZERO, fmt, parse_decimal, percent_of
from tierspayant.coverage.vocab import (
    FAMILIES,
    OPTICAL_FAMILIES,
    Family,
    LensComplexity,
    RenewalReason,
    SanteClass,
    Side,
    code_kind,
)

E = TypeVar("E", bound=StrEnum)

MAX_QUANTITY = 999


def parse_enum(
    cls: type[E], value: object, *, field: str, error: type[CoverageError] = InvalidActLine
) -> E:
    """Return ``value`` as a member of ``cls``; raise ``error(field, why)`` if unknown."""
    if isinstance(value, cls):
        return value
    if isinstance(value, str) and value in cls._value2member_map_:
        return cls(value)
    allowed = ", ".join(member.value for member in cls)
    raise error(field, f"unknown value {value!r} (expected one of: {allowed})")


def _optional_enum(cls: type[E], value: object, field: str) -> E | None:
    return None if value is None else parse_enum(cls, value, field=field)


def _optional_amount(value: object, field: str) -> Decimal | None:
    return None if value is None else parse_decimal(value, field=field, error=InvalidActLine)


def _set(line: object, name: str, value: object) -> None:
    object.__setattr__(line, name, value)


@dataclass(frozen=True, slots=True)
class ActLine:
    """One billed act or device, as the professional's invoice or quote states it.

    Amounts are euros (``Decimal``, or text/number converted on construction):
      billed: price charged; br: base de remboursement (AMO tariff base), never above
        ``billed`` (the AMO's base is capped by the price actually charged);
      amo_rate: AMO rate in percent (``60``); amo_paid: what the AMO actually paid, as
        the invoice states it (the professional's certified software computed it). At
        least one of the two. With amo_paid the AMO share is used as is and never
        recomputed; the rate, when given too, only tells which regulated rules apply
        (medicines at 15 % or 30 % need not have their ticket modérateur covered).
        With amo_rate alone the AMO share is rate x BR. Source: REFERENCE.md "AMO share".
      participation_forfaitaire, franchise: what the AMO withheld (2 EUR per doctor's act,
        1 EUR per box...); they lower the AMO share and, under a responsible contract, stay
        with the patient (article L871-1 CSS).
      price_limit: regulated price limit (prix limite de vente / honoraire limite de
        facturation) of a 100 % Santé or tarif maîtrisé item, when the reference table has
        none (class A lenses, dental baskets).
    Other fields: family; code (LPP 7 digits, CCAM 4 letters + 3 digits, NGAP key, CIP13,
    NABM, as the family allows); sante_class (optical A/B, audio I/II, dental
    100_sante/maitrise/libre; required for those families); lens_complexity (lenses);
    side (lenses and hearing aids); quantity (acts, boxes or days, >= 1); optam (False for
    a doctor outside OPTAM, consultations and technical acts); renewal_reason (optics);
    line_id (free reference echoed in the result).

    Derived: ``amo_gross`` (AMO share before deductions) and ``amo_net`` (paid).
    Raises InvalidActLine naming the field and why.
    """

    family: Family
    billed: Decimal
    br: Decimal
    amo_rate: Decimal | None = None
    amo_paid: Decimal | None = None
    code: str | None = None
    sante_class: SanteClass | None = None
    lens_complexity: LensComplexity | None = None
    side: Side | None = None
    participation_forfaitaire: Decimal = ZERO
    franchise: Decimal = ZERO
    price_limit: Decimal | None = None
    quantity: int = 1
    optam: bool = True
    renewal_reason: RenewalReason | None = None
    line_id: str = ""
    amo_gross: Decimal = field(init=False, repr=False, compare=False)
    amo_net: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        family = parse_enum(Family, self.family, field="family")
        _set(self, "family", family)
        for name in ("billed", "br", "participation_forfaitaire", "franchise"):
            _set(self, name, parse_decimal(getattr(self, name), field=name, error=InvalidActLine))
        for name in ("amo_paid", "price_limit", "amo_rate"):
            _set(self, name, _optional_amount(getattr(self, name), name))
        self._check_amo_inputs()
        self._check_descriptors(family)
        if not isinstance(self.line_id, str):
            raise InvalidActLine("id", "must be a string")
        self._derive_amo()

    def _check_amo_inputs(self) -> None:
        if self.br > self.billed:
            raise InvalidActLine(
                "br",
                f"BR {fmt(self.br)} is above the billed amount {fmt(self.billed)}: "
                "the AMO base never exceeds the price charged",
            )
        if self.amo_rate is None and self.amo_paid is None:
            raise InvalidActLine("amo_rate", "give amo_rate, amo_paid or both")
        if self.amo_rate is not None and self.amo_rate > HUNDRED:
            raise InvalidActLine("amo_rate", f"is a percentage, at most 100 (got {self.amo_rate})")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int):
            raise InvalidActLine("quantity", "must be a whole number")
        if not 1 <= self.quantity <= MAX_QUANTITY:
            raise InvalidActLine("quantity", f"must be between 1 and {MAX_QUANTITY}")
        if not isinstance(self.optam, bool):
            raise InvalidActLine("optam", "must be true or false")
        if not self.optam and not FAMILIES[self.family].optam:
            raise InvalidActLine("optam", "applies to consultation and technical_act only")

    def _check_descriptors(self, family: Family) -> None:
        spec = FAMILIES[family]
        self._check_code(family, spec.code_kinds)
        sante_class = _optional_enum(SanteClass, self.sante_class, "class")
        if spec.classes and sante_class is None:
            raise InvalidActLine("class", f"is required for {family}")
        if sante_class is not None and sante_class not in spec.classes:
            allowed = ", ".join(sorted(spec.classes)) or "none"
            raise InvalidActLine("class", f"{sante_class} does not apply to {family} ({allowed})")
        _set(self, "sante_class", sante_class)
        complexity = _optional_enum(LensComplexity, self.lens_complexity, "lens_complexity")
        if spec.lens != (complexity is not None):
            why = "is required for a lens" if spec.lens else f"does not apply to {family}"
            raise InvalidActLine("lens_complexity", why)
        _set(self, "lens_complexity", complexity)
        side = _optional_enum(Side, self.side, "side")
        if spec.sided != (side is not None):
            why = f"is required for {family}" if spec.sided else f"does not apply to {family}"
            raise InvalidActLine("side", why)
        _set(self, "side", side)
        reason = _optional_enum(RenewalReason, self.renewal_reason, "renewal_reason")
        if reason is not None and family not in OPTICAL_FAMILIES:
            raise InvalidActLine("renewal_reason", "applies to spectacle frames and lenses only")
        _set(self, "renewal_reason", reason)
        limited = sante_class is not None and (
            sante_class.no_remaining_cost or sante_class is SanteClass.DENTAL_MAITRISE
        )
        if self.price_limit is not None and not limited:
            raise InvalidActLine(
                "price_limit", "applies to 100 % Santé and tarif maîtrisé items only"
            )

    def _check_code(self, family: Family, kinds: frozenset[Any]) -> None:
        if self.code is None:
            return
        if not isinstance(self.code, str):
            raise InvalidActLine("code", "must be a string")
        kind = code_kind(self.code)
        if kind is None:
            raise InvalidActLine(
                "code",
                f"{self.code!r} is neither LPP (7 digits), CCAM (4 letters + 3 digits), "
                "NGAP (letter key), CIP13 (13 digits) nor NABM (4 digits)",
            )
        if kind not in kinds:
            allowed = ", ".join(sorted(kinds)) or "no code"
            raise InvalidActLine(
                "code", f"a {kind} code does not fit {family} (expected {allowed})"
            )

    def _derive_amo(self) -> None:
        deductions = self.participation_forfaitaire + self.franchise
        if self.amo_paid is not None:
            gross = self.amo_paid + deductions
            if gross > self.br:
                raise InvalidActLine(
                    "amo_paid",
                    f"AMO paid plus deductions ({fmt(gross)}) exceeds the BR {fmt(self.br)}",
                )
        else:
            gross = percent_of(self.br, cast(Decimal, self.amo_rate))
            if deductions > gross:
                raise InvalidActLine(
                    "franchise" if self.franchise else "participation_forfaitaire",
                    f"deductions {fmt(deductions)} exceed the AMO share {fmt(gross)}",
                )
        _set(self, "amo_gross", gross)
        _set(self, "amo_net", gross - deductions)

    @property
    def deductions(self) -> Decimal:
        """Participation forfaitaire plus franchises withheld by the AMO, in euros."""
        return self.participation_forfaitaire + self.franchise


_LINE_KEYS = {
    "id": "line_id",
    "family": "family",
    "code": "code",
    "class": "sante_class",
    "lens_complexity": "lens_complexity",
    "side": "side",
    "billed": "billed",
    "br": "br",
    "amo_rate": "amo_rate",
    "amo_paid": "amo_paid",
    "participation_forfaitaire": "participation_forfaitaire",
    "franchise": "franchise",
    "price_limit": "price_limit",
    "quantity": "quantity",
    "optam": "optam",
    "renewal_reason": "renewal_reason",
}
_LINE_REQUIRED = ("family", "billed", "br")


def line_from_dict(data: object) -> ActLine:
    """Build an ActLine from its JSON object (keys as in docs/coverage.md).

    Raises InvalidActLine for a non-object, an unknown or missing key, or a bad value.
    """
    if not isinstance(data, Mapping):
        raise InvalidActLine("", "an act line must be a JSON object")
    for key in data:
        if key not in _LINE_KEYS:
            raise InvalidActLine(str(key), f"unknown field (expected: {', '.join(_LINE_KEYS)})")
    for key in _LINE_REQUIRED:
        if key not in data:
            raise InvalidActLine(key, "is required")
    kwargs: dict[str, Any] = {_LINE_KEYS[key]: value for key, value in data.items()}
    for name in ("participation_forfaitaire", "franchise"):
        if kwargs.get(name) is None:
            kwargs[name] = ZERO
    return ActLine(**kwargs)


@dataclass(frozen=True, slots=True)
class PreviousEquipment:
    """A device bought before (a spectacle frame, a lens for one eye, a hearing aid for one
    ear...), whose date starts a renewal period. ``side`` is required for lenses and
    hearing aids and refused otherwise. JSON: ``{"family", "side", "date"}``."""

    family: Family
    purchased_on: dt.date
    side: Side | None = None

    def __post_init__(self) -> None:
        family = parse_enum(Family, self.family, field="family", error=InvalidCase)
        object.__setattr__(self, "family", family)
        side = (
            None
            if self.side is None
            else parse_enum(Side, self.side, field="side", error=InvalidCase)
        )
        if FAMILIES[family].sided != (side is not None):
            raise InvalidCase(
                "side", f"is {'required' if FAMILIES[family].sided else 'refused'} for {family}"
            )
        object.__setattr__(self, "side", side)
        if isinstance(self.purchased_on, dt.datetime) or not isinstance(self.purchased_on, dt.date):
            raise InvalidCase("date", "must be a date")


@dataclass(frozen=True)
class History:
    """What the beneficiary already consumed in the benefit year of the care date.

    ceilings_used: euros already paid against each ceiling id (benefit-year ceilings);
    counts_used: acts already counted against each ceiling id;
    previous_equipment: earlier device purchases, for renewal periods.
    The caller gives the figures of the benefit year that contains the care date.
    Raises InvalidCase (fields ``history.…``) for negative or malformed figures.
    """

    ceilings_used: Mapping[str, Decimal] = field(default_factory=dict)
    counts_used: Mapping[str, int] = field(default_factory=dict)
    previous_equipment: tuple[PreviousEquipment, ...] = ()

    def __post_init__(self) -> None:
        used: dict[str, Decimal] = {}
        for key, value in dict(self.ceilings_used).items():
            used[str(key)] = parse_decimal(
                value, field=f"history.ceilings_used.{key}", error=InvalidCase
            )
        counts: dict[str, int] = {}
        for key, count in dict(self.counts_used).items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise InvalidCase(f"history.counts_used.{key}", "must be a whole number >= 0")
            counts[str(key)] = count
        object.__setattr__(self, "ceilings_used", used)
        object.__setattr__(self, "counts_used", counts)
        object.__setattr__(self, "previous_equipment", tuple(self.previous_equipment))

    def last_purchase(self, family: Family, side: Side | None) -> dt.date | None:
        """Latest purchase date of that device (family and side), or None."""
        dates = [
            item.purchased_on
            for item in self.previous_equipment
            if item.family is family and item.side is side
        ]
        return max(dates, default=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (amounts ``"12.34"``, ISO dates), as ``history_from_dict`` reads it."""
        return {
            "ceilings_used": {key: fmt(value) for key, value in sorted(self.ceilings_used.items())},
            "counts_used": dict(sorted(self.counts_used.items())),
            "previous_equipment": [
                {
                    "family": str(item.family),
                    "side": item.side and str(item.side),
                    "date": item.purchased_on.isoformat(),
                }
                for item in self.previous_equipment
            ],
        }


def history_from_dict(data: object) -> History:
    """Build a History from its JSON object; raises InvalidCase (fields ``history.…``)."""
    if data is None:
        return History()
    if not isinstance(data, Mapping):
        raise InvalidCase("history", "must be a JSON object")
    known = ("ceilings_used", "counts_used", "previous_equipment")
    for key in data:
        if key not in known:
            raise InvalidCase(f"history.{key}", f"unknown field (expected: {', '.join(known)})")
    parts: dict[str, Any] = {}
    for name, kind, empty in (
        ("ceilings_used", Mapping, {}),
        ("counts_used", Mapping, {}),
        ("previous_equipment", list, []),
    ):
        value = data.get(name)
        parts[name] = empty if value is None else value
        if not isinstance(parts[name], kind):
            what = "object" if kind is Mapping else "array"
            raise InvalidCase(f"history.{name}", f"must be a JSON {what}")
    ceilings, counts, items = parts.values()
    return History(
        ceilings, counts, tuple(_equipment_from_dict(i, item) for i, item in enumerate(items))
    )


def _equipment_from_dict(index: int, item: object) -> PreviousEquipment:
    where = f"history.previous_equipment[{index}]"
    if (
        not isinstance(item, Mapping)
        or set(item) - {"family", "side", "date"}
        or "family" not in item
        or "date" not in item
    ):
        raise InvalidCase(where, 'must be an object {"family", "side", "date"}')
    try:
        purchased_on = dt.date.fromisoformat(str(item["date"]))
    except ValueError:
        raise InvalidCase(f"{where}.date", "must be a date YYYY-MM-DD") from None
    try:
        return PreviousEquipment(item["family"], purchased_on, item.get("side"))
    except CoverageError as exc:
        raise exc.within(where) from None
