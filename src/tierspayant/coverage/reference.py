"""The dated table of regulated figures (contrat responsable, 100 % Santé).

The figures are data, not code: ``reference/regulated-2024.json`` ships inside the
package and is read through ``importlib.resources``; a new decree is a new version in
that file (or a new file). Each figure carries its source and an ``unconfirmed`` flag
where the public sources disagree or were not gathered (see REFERENCE.md).

Sources: Code de la sécurité sociale (CSS) articles L871-1 and R871-2 as amended by
décret 2019-21 of 11 January 2019 (100 % Santé); LPP labels of the fixture
``nomenclatures/nt_lpp_extract_optique_audio.csv``; REFERENCE.md "100 % Santé and
responsible contracts".
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from tierspayant.coverage.errors import InvalidCase, InvalidReferenceTable
from tierspayant.coverage.jsonio import JsonSource, read_json_object, schema_error
from tierspayant.coverage.money import cents
from tierspayant.coverage.vocab import LensPair

DEFAULT_REFERENCE = "regulated-2024"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")

T = TypeVar("T")
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2), AfterValidator(cents)]
Age = Annotated[int, Field(ge=0, le=130, strict=True)]
Months = Annotated[int, Field(ge=0, le=240, strict=True)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Figure(_Frozen, Generic[T]):
    """One regulated figure: its value, where it comes from, and whether it is confirmed."""

    value: T
    source: str = Field(min_length=1)
    unconfirmed: bool = False
    note: str = ""


class OpticalFigures(_Frozen):
    """Optics (R871-2 CSS II 3°): class B caps and minimums per lens pair, frame cap,
    class A frame limit, renewal periods in months and the age thresholds."""

    class_b_max: dict[LensPair, Figure[Money]]
    class_b_min: dict[LensPair, Figure[Money]]
    class_b_frame_max: Figure[Money]
    cap_includes_amo: Figure[bool]
    class_a_adult_frame_price_limit: Figure[Money]
    adult_from_age: Figure[Age]
    young_child_under_age: Figure[Age]
    renewal_months_adult: Figure[Months]
    renewal_months_child: Figure[Months]
    renewal_months_adult_correction_change: Figure[Months]
    renewal_months_child_correction_change: Figure[Months]
    renewal_months_young_child_frame_unfit: Figure[Months]
    renewal_months_medical_case: Figure[Months]

    @model_validator(mode="after")
    def _consistent(self) -> OpticalFigures:
        for name in ("class_b_max", "class_b_min"):
            missing = [pair.value for pair in LensPair if pair not in getattr(self, name)]
            if missing:
                raise ValueError(f"{name} lacks the lens pairs {', '.join(missing)}")
        for pair in LensPair:
            if self.class_b_min[pair].value > self.class_b_max[pair].value:
                raise ValueError(f"class_b_min {pair} is above class_b_max")
            if self.class_b_frame_max.value > self.class_b_max[pair].value:
                raise ValueError(f"class_b_frame_max is above class_b_max {pair}")
        return self


class AudioFigures(_Frozen):
    """Hearing aids (R871-2 CSS II 4°, LPP title II chapter 3): class I price limits per
    ear by age, class II cap of AMO + AMC per ear, renewal period per ear."""

    young_max_age: Figure[Age]
    class_i_price_limit_adult: Figure[Money]
    class_i_price_limit_young: Figure[Money]
    class_ii_total_max: Figure[Money]
    renewal_months: Figure[Months]


class DoctorFigures(_Frozen):
    """Doctors' excess fees (R871-2 CSS): cover for doctors outside OPTAM capped at this
    percentage of the BR."""

    non_optam_excess_max_percent: Figure[Money]


Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]


class ResponsibleFigures(_Frozen):
    """Ticket modérateur (R871-2 CSS 1°): a responsible contract covers it for all care
    except medicines at these AMO rates (medical benefit moderate or low: 30 %, 15 %)."""

    ticket_moderateur_exempt_medicine_rates: Figure[tuple[Percent, ...]]


class RegulatedVersion(_Frozen):
    """The regulated figures in force from ``effective_from`` until the next version."""

    effective_from: dt.date
    optical: OpticalFigures
    audio: AudioFigures
    doctors: DoctorFigures
    responsible: ResponsibleFigures


class RegulatedReference(_Frozen):
    """A dated reference table: id, title, notes and versions by effective date."""

    id: str = Field(pattern=_NAME.pattern)
    title: str = Field(min_length=1)
    notes: tuple[str, ...] = ()
    versions: tuple[RegulatedVersion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> RegulatedReference:
        dates = [version.effective_from for version in self.versions]
        if dates != sorted(set(dates)):
            raise ValueError("versions must be in increasing, distinct effective_from order")
        return self

    def version_for(self, care_date: dt.date) -> RegulatedVersion:
        """Version in force on ``care_date``; raises InvalidCase when the date is older."""
        for version in reversed(self.versions):
            if version.effective_from <= care_date:
                return version
        raise InvalidCase(
            "care_date",
            f"{care_date.isoformat()} is before the first version of the regulated "
            f"reference {self.id} ({self.versions[0].effective_from.isoformat()})",
        )


def read_reference(source: JsonSource) -> RegulatedReference:
    """Validate a reference table from a JSON file path or a parsed mapping.

    Raises InvalidReferenceTable naming the field and why.
    """
    data, origin = read_json_object(source, InvalidReferenceTable)
    try:
        return RegulatedReference.model_validate(data)
    except ValidationError as exc:
        raise schema_error(exc, InvalidReferenceTable, origin) from None


@lru_cache(maxsize=8)
def load_reference(name: str = DEFAULT_REFERENCE) -> RegulatedReference:
    """Load a reference table shipped in ``tierspayant/coverage/reference/<name>.json``.

    Cached: the files are part of the package. Raises InvalidReferenceTable for an
    unknown name or a malformed file.
    """
    if not _NAME.fullmatch(name):
        raise InvalidReferenceTable("name", f"{name!r} is not a reference table name")
    resource = resources.files("tierspayant.coverage") / "reference" / f"{name}.json"
    if not resource.is_file():
        raise InvalidReferenceTable("name", f"no reference table named {name!r}")
    with resources.as_file(resource) as path:
        return read_reference(path)
