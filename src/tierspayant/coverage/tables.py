"""Guarantee tables: an insurer's cover rules, as validated data.

A table is JSON checked against a pydantic v2 schema when it is loaded (never at first
use): ``load_guarantee_table`` raises ``InvalidGuaranteeTable`` naming the field and why.
It holds versions by effective date; the engine uses the version in force on the care
date. Each version has rules, tried in order (the first rule whose ``match`` fits the
line applies), and ceilings that rules draw on.

Rule benefits (REFERENCE.md "Guarantees"):
  percent_br: ``percent`` % of the BR, the AMO share included (AMC = percent x BR - AMO)
    or on top of it (AMC = percent x BR);
  fixed: a euro amount per act (times the quantity), per equipment, or per benefit year;
  actual_cost: frais réels (what is left after the AMO).
Ceilings: per benefit year or per equipment, in euros and/or a count of acts. A
``fixed`` benefit per equipment or per benefit year is a ceiling of that amount named
after the rule. ``renewal_months`` adds a renewal period to a rule.

The JSON Schema is ``GuaranteeTable.model_json_schema()``; docs/coverage.md describes
the format for actuaries.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from tierspayant.coverage.acts import ActLine
from tierspayant.coverage.errors import InvalidCase, InvalidGuaranteeTable
from tierspayant.coverage.jsonio import JsonSource, read_json_object, schema_error
from tierspayant.coverage.money import ZERO, cents, percent_of
from tierspayant.coverage.vocab import (
    FAMILIES,
    OPTICAL_FAMILIES,
    Family,
    LensPair,
    SanteClass,
    code_kind,
)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2), AfterValidator(cents)]
Percent = Annotated[Decimal, Field(ge=0, le=10000, decimal_places=2)]
Age = Annotated[int, Field(ge=0, le=130, strict=True)]
Count = Annotated[int, Field(ge=1, le=9999, strict=True)]
Months = Annotated[int, Field(ge=1, le=240, strict=True)]
Per = Literal["act", "equipment", "benefit_year"]

_PER_FR = {"act": "par acte", "equipment": "par équipement", "benefit_year": "par année"}


def euros_fr(amount: Decimal) -> str:
    """French display of euros: ``Decimal("1400")`` -> ``"1 400,00 €"``."""
    return f"{cents(amount):,.2f}".replace(",", "\u202f").replace(".", ",") + " €"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Match(_Frozen):
    """Which lines a rule applies to; every criterion given must hold.

    families (required); classes (100 % Santé classes); equipment (lens pairs of the
    optical equipment: ``simple+simple``...); codes (exact act codes); min_age/max_age
    (years, inclusive, at the care date); optam (the doctor's OPTAM membership).
    """

    families: tuple[Family, ...] = Field(min_length=1)
    classes: tuple[SanteClass, ...] | None = None
    equipment: tuple[LensPair, ...] | None = None
    codes: tuple[str, ...] | None = None
    min_age: Age | None = None
    max_age: Age | None = None
    optam: bool | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Match:
        specs = [FAMILIES[family] for family in self.families]
        for sante_class in self.classes or ():
            if not any(sante_class in spec.classes for spec in specs):
                raise ValueError(f"class {sante_class} does not apply to these families")
        if self.equipment is not None and not set(self.families) <= OPTICAL_FAMILIES:
            raise ValueError("equipment applies to optical_frame and optical_lens only")
        kinds = {kind for spec in specs for kind in spec.code_kinds}
        for code in self.codes or ():
            if code_kind(code) not in kinds:
                raise ValueError(f"code {code!r} does not fit these families")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age is above max_age")
        if self.optam is not None and not any(spec.optam for spec in specs):
            raise ValueError("optam applies to consultation and technical_act only")
        return self

    def fits(self, line: ActLine, age: int, pair: LensPair | None) -> bool:
        """True when ``line`` (of a beneficiary aged ``age``, in an optical equipment of
        lens pair ``pair``) meets every criterion."""
        return (
            line.family in self.families
            and (self.classes is None or line.sante_class in self.classes)
            and (self.equipment is None or pair in self.equipment)
            and (self.codes is None or line.code in self.codes)
            and (self.min_age is None or age >= self.min_age)
            and (self.max_age is None or age <= self.max_age)
            and (self.optam is None or line.optam is self.optam)
        )


class PercentOfBr(_Frozen):
    """``percent`` % of the BR; with ``amo_included`` the AMO share is deducted from it."""

    kind: Literal["percent_br"]
    percent: Percent
    amo_included: bool

    def amount(self, line: ActLine, amo: Decimal) -> Decimal:
        """Euros the rule gives for ``line`` when the AMO share is ``amo`` (may be < 0)."""
        base = percent_of(line.br, self.percent)
        return base - amo if self.amo_included else base

    def describe(self) -> str:
        """French wording, e.g. ``300 % de la BR, part AMO incluse``."""
        percent = f"{self.percent.normalize():f}".replace(".", ",")
        amo = "incluse" if self.amo_included else "en sus"
        return f"{percent} % de la BR, part AMO {amo}"


class Fixed(_Frozen):
    """A fixed amount in euros per act (times the quantity), per equipment or per year."""

    kind: Literal["fixed"]
    amount: Money
    per: Per = "act"

    def amount_for(self, line: ActLine, amo: Decimal) -> Decimal:
        """Euros before ceilings: per act, amount x quantity; otherwise what the AMO left,
        the forfait being the rule's own ceiling."""
        if self.per == "act":
            return self.amount * line.quantity
        return line.billed - amo

    def describe(self) -> str:
        """French wording, e.g. ``Forfait 200,00 € par équipement``."""
        return f"Forfait {euros_fr(self.amount)} {_PER_FR[self.per]}"


class ActualCost(_Frozen):
    """Frais réels: whatever the AMO left, within ceilings and legal caps."""

    kind: Literal["actual_cost"]

    def describe(self) -> str:
        """French wording."""
        return "Frais réels"


Benefit = Annotated[PercentOfBr | Fixed | ActualCost, Field(discriminator="kind")]


class Ceiling(_Frozen):
    """A limit shared by the rules that name it: ``amount`` euros and/or ``count`` acts,
    per benefit year (consumption carried in the history) or per equipment."""

    id: Slug
    label: str = ""
    per: Literal["benefit_year", "equipment"]
    amount: Money | None = None
    count: Count | None = None

    @model_validator(mode="after")
    def _some_limit(self) -> Ceiling:
        if self.amount is None and self.count is None:
            raise ValueError("a ceiling needs an amount, a count or both")
        return self


class Rule(_Frozen):
    """One guarantee: which lines (match), how much (benefit), within which ceilings and
    renewal period (months since the previous purchase of the same device)."""

    id: Slug
    label: str = Field(min_length=1)
    match: Match
    benefit: Benefit
    ceilings: tuple[Slug, ...] = ()
    renewal_months: Months | None = None

    def rule_amount(self, line: ActLine, amo: Decimal) -> Decimal:
        """Euros the benefit gives before caps and ceilings (never below zero)."""
        benefit = self.benefit
        if isinstance(benefit, PercentOfBr):
            amount = benefit.amount(line, amo)
        elif isinstance(benefit, Fixed):
            amount = benefit.amount_for(line, amo)
        else:
            amount = line.billed - amo
        return max(cents(amount), ZERO)


class TableVersion(_Frozen):
    """The rules and ceilings in force from ``effective_from`` until the next version."""

    effective_from: dt.date
    ceilings: tuple[Ceiling, ...] = ()
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> TableVersion:
        ids = [rule.id for rule in self.rules] + [ceiling.id for ceiling in self.ceilings]
        duplicates = sorted({item for item in ids if ids.count(item) > 1})
        if duplicates:
            raise ValueError(f"ids must be unique among rules and ceilings: {duplicates}")
        known = {ceiling.id for ceiling in self.ceilings}
        for rule in self.rules:
            for name in rule.ceilings:
                if name not in known:
                    raise ValueError(f"rule {rule.id} names an unknown ceiling {name!r}")
        return self

    @cached_property
    def _rule_ceilings(self) -> dict[str, tuple[Ceiling, ...]]:
        by_id = {ceiling.id: ceiling for ceiling in self.ceilings}
        result = {}
        for rule in self.rules:
            own: tuple[Ceiling, ...] = ()
            if isinstance(rule.benefit, Fixed) and rule.benefit.per != "act":
                own = (
                    Ceiling(
                        id=rule.id,
                        label=rule.label,
                        per=rule.benefit.per,
                        amount=rule.benefit.amount,
                    ),
                )
            result[rule.id] = own + tuple(by_id[name] for name in rule.ceilings)
        return result

    def rule_for(self, line: ActLine, age: int, pair: LensPair | None) -> Rule | None:
        """First rule whose match fits the line, or None."""
        for rule in self.rules:
            if rule.match.fits(line, age, pair):
                return rule
        return None

    def ceilings_of(self, rule: Rule) -> tuple[Ceiling, ...]:
        """Ceilings a rule draws on: its own forfait ceiling first, then those it names."""
        return self._rule_ceilings[rule.id]


class GuaranteeTable(_Frozen):
    """An insurer's guarantee table: id (the name cases use), name, whether the contract
    is responsible (contrat responsable: the engine then applies the regulation), an
    optional override of the reference's AMO-in-optical-cap setting, and versions in
    increasing effective-date order."""

    id: Slug
    name: str = Field(min_length=1)
    description: str = ""
    responsible: bool
    optical_cap_includes_amo: bool | None = None
    versions: tuple[TableVersion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> GuaranteeTable:
        dates = [version.effective_from for version in self.versions]
        if dates != sorted(set(dates)):
            raise ValueError("versions must be in increasing, distinct effective_from order")
        if self.responsible:
            for version in self.versions:
                for rule in version.rules:
                    if Family.HOSPITAL_DAILY_FEE in rule.match.families and version.ceilings_of(
                        rule
                    ):
                        raise ValueError(
                            f"rule {rule.id}: a responsible contract covers the forfait "
                            "journalier without limit of duration (R871-2 CSS), so no ceiling"
                        )
        return self

    def version_for(self, care_date: dt.date) -> TableVersion:
        """Version in force on ``care_date``; raises InvalidCase when the date is older."""
        for version in reversed(self.versions):
            if version.effective_from <= care_date:
                return version
        raise InvalidCase(
            "care_date",
            f"{care_date.isoformat()} is before the first version of guarantee table "
            f"{self.id} ({self.versions[0].effective_from.isoformat()})",
        )


def load_guarantee_table(source: JsonSource) -> GuaranteeTable:
    """Load and validate a guarantee table from a JSON file path or a parsed mapping.

    Raises InvalidGuaranteeTable naming the field (``versions[0].rules[2].benefit...``)
    and why; ``source`` on the error is the file, when there is one.
    """
    data, origin = read_json_object(source, InvalidGuaranteeTable)
    try:
        return GuaranteeTable.model_validate(data)
    except ValidationError as exc:
        raise schema_error(exc, InvalidGuaranteeTable, origin) from None
