"""Shared by approvals and claims: loading a contract's guarantee table and computing act
lines with the coverage engine, then saving the lines' split."""

from __future__ import annotations

import datetime
from functools import lru_cache
from pathlib import Path

from tierspayant.coverage import CoverageResult, GuaranteeTable, History, ReasonCode, compute
from tierspayant.coverage import load_guarantee_table as _load
from tierspayant.priorauth.lpp import ParsedLine
from tierspayant.registry.models import Contract

#: Line reasons that make a decision partial: the line gets less than its guarantee gives.
LIMITING_REASONS = frozenset(
    {ReasonCode.NO_MATCHING_GUARANTEE, ReasonCode.RENEWAL_PERIOD_NOT_REACHED}
)
#: Caps that make a decision partial when earlier care already used the ceiling they name.
SHARED_CEILINGS = frozenset({ReasonCode.CEILING_EXHAUSTED, ReasonCode.COUNT_EXHAUSTED})


class GuaranteeTableMissing(Exception):
    """The contract names no guarantee table, or the file is absent: an operator's set-up
    problem, answered as "service unavailable", never as a refusal of the patient."""

    message = "Les garanties de ce contrat ne sont pas disponibles : réessayez plus tard."


@lru_cache(maxsize=64)
def _table(path: str, mtime: float) -> GuaranteeTable:
    return _load(Path(path))


def guarantee_table(contract: Contract, tables_dir: Path) -> GuaranteeTable:
    """The table named by ``contract.guarantee_table`` in ``tables_dir`` (cached per file
    version). Raises GuaranteeTableMissing."""
    name = contract.guarantee_table
    path = tables_dir / f"{name}.json"
    if not name or "/" in name or not path.is_file():
        raise GuaranteeTableMissing
    return _table(str(path), path.stat().st_mtime)


def compute_lines(
    parsed: list[ParsedLine],
    *,
    table: GuaranteeTable,
    age: int,
    care_date: datetime.date,
    history: History,
) -> CoverageResult:
    """The engine's split of the lines, in order, under ``table``."""
    return compute(
        [p.act for p in parsed],
        table=table,
        beneficiary_age=age,
        care_date=care_date,
        history=history,
    )


def line_fields(parsed: ParsedLine, position: int) -> dict[str, object]:
    """Model fields describing a submitted line (before amounts)."""
    act = parsed.act
    return {
        "position": position,
        "code": act.code or "",
        "family": str(act.family),
        "sante_class": str(act.sante_class or ""),
        "lens_complexity": str(act.lens_complexity or ""),
        "side": str(act.side or ""),
        "label": parsed.ref.label,
        "billed": act.billed,
        "br": act.br,
    }
