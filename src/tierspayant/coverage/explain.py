"""Results of a computation, with their explanation.

Plain frozen dataclasses; ``to_dict()`` gives the JSON-ready form (amounts as strings
such as ``"12.34"``, dates ISO) that the portal, the FHIR ClaimResponse adjudication and
remittance statements all read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from tierspayant.coverage.acts import History
from tierspayant.coverage.money import fmt
from tierspayant.coverage.reasons import ReasonCode
from tierspayant.coverage.vocab import Family, SanteClass


@dataclass(frozen=True, slots=True)
class AppliedRule:
    """The rule that set the complementary share: a table rule (``source="table"``, its
    id and label) or the regulation itself (``"regulation"``, e.g. 100 % Santé), with a
    French wording of its formula."""

    source: Literal["table", "regulation"]
    id: str
    label: str
    formula: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"source": self.source, "id": self.id, "label": self.label, "formula": self.formula}


@dataclass(frozen=True, slots=True)
class CapApplied:
    """A cap, ceiling, renewal period or floor that changed the AMC of a line.

    reason: what it is; limit: the AMC it allowed, in euros (0 for a renewal period not
    reached; the equipment minimum for RESPONSIBLE_MINIMUM_APPLIED); ref: what set it:
    a ceiling id, ``price_limit``, a regulated figure (``optical.class_b_frame_max``...),
    the lens pair of an equipment cap or minimum, or the date from which renewal is
    covered; None for the billed-minus-AMO limit.
    """

    reason: ReasonCode
    limit: Decimal
    ref: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready form, with the French label of the reason."""
        return {
            "reason": str(self.reason),
            "label": self.reason.label,
            "limit": fmt(self.limit),
            "ref": self.ref,
        }


@dataclass(frozen=True, slots=True)
class LineResult:
    """The split of one act line, in euros: ``amo + amc + rac == billed``.

    amo: what the AMO pays (after participation forfaitaire and franchises);
    amc: what the complementary insurer pays; rac: reste à charge of the patient;
    rule_amount: what the rule gave before caps; caps: what bit, in order; reasons: every
    reason code, in order of appearance.
    """

    line_id: str
    family: Family
    code: str | None
    sante_class: SanteClass | None
    billed: Decimal
    br: Decimal
    amo: Decimal
    amc: Decimal
    rac: Decimal
    participation_forfaitaire: Decimal
    franchise: Decimal
    rule: AppliedRule | None
    rule_amount: Decimal
    caps: tuple[CapApplied, ...]
    reasons: tuple[ReasonCode, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.line_id,
            "family": str(self.family),
            "code": self.code,
            "class": self.sante_class and str(self.sante_class),
            "billed": fmt(self.billed),
            "br": fmt(self.br),
            "amo": fmt(self.amo),
            "amc": fmt(self.amc),
            "rac": fmt(self.rac),
            "participation_forfaitaire": fmt(self.participation_forfaitaire),
            "franchise": fmt(self.franchise),
            "rule": self.rule and self.rule.to_dict(),
            "rule_amount": fmt(self.rule_amount),
            "caps": [cap.to_dict() for cap in self.caps],
            "reasons": [{"code": str(code), "label": code.label} for code in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over the lines, in euros."""

    billed: Decimal
    amo: Decimal
    amc: Decimal
    rac: Decimal

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {name: fmt(getattr(self, name)) for name in ("billed", "amo", "amc", "rac")}


@dataclass(frozen=True)
class CoverageResult:
    """Per-line results and totals of one computation, with what was used to compute
    them (table and reference versions in force, the AMO-in-optical-cap setting) and the
    history after these lines, to chain the next computation of the benefit year."""

    lines: tuple[LineResult, ...]
    totals: Totals
    table_id: str
    table_version: dt.date
    responsible: bool
    reference_id: str
    reference_version: dt.date
    optical_cap_includes_amo: bool
    care_date: dt.date
    beneficiary_age: int
    history_after: History

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "table": {
                "id": self.table_id,
                "version": self.table_version.isoformat(),
                "responsible": self.responsible,
            },
            "reference": {
                "id": self.reference_id,
                "version": self.reference_version.isoformat(),
                "optical_cap_includes_amo": self.optical_cap_includes_amo,
            },
            "care_date": self.care_date.isoformat(),
            "beneficiary_age": self.beneficiary_age,
            "lines": [line.to_dict() for line in self.lines],
            "totals": self.totals.to_dict(),
            "history_after": self.history_after.to_dict(),
        }
