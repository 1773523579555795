"""Pure coverage engine (AMO/AMC split, guarantees, 100% Santé). No Django, no project imports.

Public API (docs/coverage.md, docs/adr/0004-coverage-engine.md):
    load_guarantee_table(path_or_dict) -> GuaranteeTable   raises InvalidGuaranteeTable
    compute(lines, *, table, beneficiary_age, care_date, history, reference=None)
        -> CoverageResult
    compute_case(case, tables_dir) -> dict                 the JSON entry point
    ActLine, History, PreviousEquipment                     inputs (frozen dataclasses)
    LineResult, CoverageResult, CapApplied, AppliedRule     results, with to_dict()
    ReasonCode                                              reason codes (French labels)
    InvalidActLine, InvalidGuaranteeTable, InvalidCase, InvalidReferenceTable
    load_reference() -> RegulatedReference                  the dated regulated figures
"""

from tierspayant.coverage.acts import ActLine, History, PreviousEquipment
from tierspayant.coverage.case import compute_case
from tierspayant.coverage.engine import compute
from tierspayant.coverage.errors import (
    CoverageError,
    InvalidActLine,
    InvalidCase,
    InvalidGuaranteeTable,
    InvalidReferenceTable,
)
from tierspayant.coverage.explain import (
    AppliedRule,
    CapApplied,
    CoverageResult,
    LineResult,
    Totals,
)
from tierspayant.coverage.reasons import ReasonCode
from tierspayant.coverage.reference import RegulatedReference, load_reference, read_reference
from tierspayant.coverage.tables import GuaranteeTable, load_guarantee_table
from tierspayant.coverage.vocab import (
    Family,
    LensComplexity,
    LensPair,
    RenewalReason,
    SanteClass,
    Side,
)

__all__ = [
    "ActLine",
    "AppliedRule",
    "CapApplied",
    "CoverageError",
    "CoverageResult",
    "Family",
    "GuaranteeTable",
    "History",
    "InvalidActLine",
    "InvalidCase",
    "InvalidGuaranteeTable",
    "InvalidReferenceTable",
    "LensComplexity",
    "LensPair",
    "LineResult",
    "PreviousEquipment",
    "ReasonCode",
    "RegulatedReference",
    "RenewalReason",
    "SanteClass",
    "Side",
    "Totals",
    "compute",
    "compute_case",
    "load_guarantee_table",
    "load_reference",
    "read_reference",
]
