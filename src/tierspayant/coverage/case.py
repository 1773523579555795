"""One JSON case in, one JSON-ready result out: the engine's entry point for the
command line, fixtures and actuaries' checks. The case format is documented in
docs/coverage.md.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tierspayant.coverage.acts import ActLine, history_from_dict, line_from_dict
from tierspayant.coverage.engine import compute
from tierspayant.coverage.errors import InvalidActLine, InvalidCase, InvalidGuaranteeTable
from tierspayant.coverage.reference import RegulatedReference
from tierspayant.coverage.tables import GuaranteeTable, load_guarantee_table

_CASE_KEYS = (
    "id",
    "description",
    "table",
    "beneficiary_age",
    "care_date",
    "as_of",
    "history",
    "lines",
)
_TABLE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def compute_case(
    case: object, tables_dir: Path, *, reference: RegulatedReference | None = None
) -> dict[str, Any]:
    """Compute one case and return the JSON-ready result.

    ``case`` is a JSON object: ``table`` (the id of a table stored as
    ``<tables_dir>/<id>.json``, or an inline table object), ``beneficiary_age`` (years
    at the care date), ``care_date`` (or ``as_of``, ``YYYY-MM-DD``), optional
    ``history`` and a non-empty ``lines`` array; optional ``id`` and ``description``
    (``id`` is echoed as ``case``). The result is ``CoverageResult.to_dict()`` plus the
    table's name.

    Raises InvalidCase, InvalidActLine or InvalidGuaranteeTable naming the field
    (``lines[1].billed``, ``table.versions[0]...``) and why.
    """
    if not isinstance(case, Mapping):
        raise InvalidCase("", "a case must be a JSON object")
    for key in case:
        if key not in _CASE_KEYS:
            raise InvalidCase(str(key), f"unknown field (expected: {', '.join(_CASE_KEYS)})")
    table = _table(case.get("table"), Path(tables_dir))
    if "beneficiary_age" not in case:
        raise InvalidCase("beneficiary_age", "is required (whole years at the care date)")
    result = compute(
        _lines(case.get("lines")),
        table=table,
        beneficiary_age=case["beneficiary_age"],
        care_date=_care_date(case),
        history=history_from_dict(case.get("history")),
        reference=reference,
    ).to_dict()
    result["table"]["name"] = table.name
    return {"case": case["id"], **result} if "id" in case else result


def _table(spec: object, tables_dir: Path) -> GuaranteeTable:
    if isinstance(spec, Mapping):
        try:
            return load_guarantee_table(spec)
        except InvalidGuaranteeTable as exc:
            raise exc.within("table") from None
    if not isinstance(spec, str) or not _TABLE_NAME.fullmatch(spec):
        raise InvalidCase(
            "table", "must be the id of a table in the tables directory, or a table object"
        )
    path = tables_dir / f"{spec}.json"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in tables_dir.glob("*.json"))) or "none"
        raise InvalidCase("table", f"no table {spec!r} in {tables_dir} (available: {available})")
    table = load_guarantee_table(path)
    if table.id != spec:
        raise InvalidGuaranteeTable(
            "id", f"is {table.id!r} but the file is named {spec}.json", source=str(path)
        )
    return table


def _care_date(case: Mapping[str, Any]) -> dt.date:
    keys = [key for key in ("care_date", "as_of") if key in case]
    if not keys:
        raise InvalidCase("care_date", "is required (YYYY-MM-DD)")
    if len(keys) > 1:
        raise InvalidCase("as_of", "give care_date or as_of, not both")
    value = case[keys[0]]
    try:
        return dt.date.fromisoformat(value if isinstance(value, str) else "")
    except ValueError:
        raise InvalidCase(keys[0], f"{value!r} is not a date YYYY-MM-DD") from None


def _lines(raw: object) -> list[ActLine]:
    if not isinstance(raw, list) or not raw:
        raise InvalidCase("lines", "must be a non-empty array of act lines")
    lines = []
    for index, item in enumerate(raw):
        try:
            lines.append(line_from_dict(item))
        except InvalidActLine as exc:
            raise exc.within(f"lines[{index}]") from None
    return lines
