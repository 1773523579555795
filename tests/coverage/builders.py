"""Small builders for the coverage tests: JSON act lines and inline guarantee tables.

Amounts are strings of euros, as in the JSON cases of docs/coverage.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
TABLES_DIR = PROJECT / "fixtures" / "guarantee-tables"
SHARED = PROJECT.parent / "shared"

Json = dict[str, Any]


def act(family: Any, billed: Any, br: Any, rate: str | None = None, **extra: Any) -> Json:
    """One act line; ``rate`` is the AMO rate in percent (omit it when giving amo_paid).
    Values are ``Any`` so that tests can pass wrong types on purpose."""
    line: Json = {"family": family, "billed": billed, "br": br}
    if rate is not None:
        line["amo_rate"] = rate
    line.update(extra)
    return line


def consult(
    billed: Any, *, br: str = "30.00", pf: str = "2.00", code: Any = "G", **extra: Any
) -> Json:
    """A doctor's consultation at 70 %, with the 2 EUR participation forfaitaire by default."""
    return act("consultation", billed, br, "70", code=code, participation_forfaitaire=pf, **extra)


def frame(cls: str, billed: str, *, br: str = "0.05", code: str = "2264861", **extra: Any) -> Json:
    """A spectacle frame at 60 % (class B BR 0.05 EUR by default)."""
    return act("optical_frame", billed, br, "60", code=code, **{"class": cls}, **extra)


def lens(
    cls: str, complexity: str, side: str, billed: str, *, br: str = "0.05", **extra: Any
) -> Json:
    """A spectacle lens at 60 %."""
    return act(
        "optical_lens",
        billed,
        br,
        "60",
        lens_complexity=complexity,
        side=side,
        **{"class": cls},
        **extra,
    )


def aid(cls: str, side: str, billed: str, *, br: str = "400.00", **extra: Any) -> Json:
    """A hearing aid for one ear at 60 % (adult BR 400 EUR by default)."""
    return act("hearing_aid", billed, br, "60", side=side, **{"class": cls}, **extra)


def prosthesis(
    basket: str, billed: str, *, br: str = "120.00", code: str = "HBLD634", **extra: Any
) -> Json:
    """A dental crown at 60 %."""
    return act("dental_prosthesis", billed, br, "60", code=code, **{"class": basket}, **extra)


def rule(rule_id: str, families: list[str], benefit: Json, **extra: Any) -> Json:
    """A table rule; match criteria (classes, equipment, codes, ages, optam) go in ``extra``."""
    match: Json = {"families": families}
    for key in ("classes", "equipment", "codes", "min_age", "max_age", "optam"):
        if key in extra:
            match[key] = extra.pop(key)
    return {"id": rule_id, "label": rule_id, "match": match, "benefit": benefit, **extra}


def pct(percent: str, *, included: bool = True) -> Json:
    """A percent-of-BR benefit."""
    return {"kind": "percent_br", "percent": percent, "amo_included": included}


def fixed(amount: str, per: str = "act") -> Json:
    """A fixed-amount benefit."""
    return {"kind": "fixed", "amount": amount, "per": per}


ACTUAL_COST: Json = {"kind": "actual_cost"}


def table(
    rules: list[Json],
    *,
    ceilings: list[Json] | None = None,
    responsible: bool = True,
    effective_from: str = "2024-01-01",
    **extra: Any,
) -> Json:
    """An inline guarantee table with one version."""
    version: Json = {"effective_from": effective_from, "rules": rules}
    if ceilings:
        version["ceilings"] = ceilings
    return {
        "id": "inline",
        "name": "Inline",
        "responsible": responsible,
        "versions": [version],
        **extra,
    }
