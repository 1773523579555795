"""docs/coverage.md: every worked example is a real case whose result table was computed
by the engine, so an actuary can trust the numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.coverage.builders import PROJECT
from tierspayant.coverage import compute_case

DOC = PROJECT / "docs" / "coverage.md"
HEADER = "| line | family | billed | BR | AMO | AMC | RAC | rule | reasons |"


def result_rows(result: dict[str, Any]) -> list[str]:
    """The result table of an example, as docs/coverage.md shows it."""
    rows = [HEADER, "|---|---|--:|--:|--:|--:|--:|---|---|"]
    for line in result["lines"]:
        rule = line["rule"]["id"] if line["rule"] else "—"
        reasons = ", ".join(reason["code"] for reason in line["reasons"]) or "—"
        amounts = " | ".join(line[key] for key in ("billed", "br", "amo", "amc", "rac"))
        rows.append(f"| {line['id']} | {line['family']} | {amounts} | {rule} | {reasons} |")
    totals = result["totals"]
    rows.append(
        f"| **total** | | {totals['billed']} | | {totals['amo']} | {totals['amc']} "
        f"| {totals['rac']} | | |"
    )
    return rows


def examples(text: str) -> list[tuple[dict[str, Any], str]]:
    """(case, text up to the next heading) for each JSON block holding a case."""
    found = []
    for match in re.finditer(r"```json\n(.*?)```(.*?)(?=\n#|\Z)", text, flags=re.DOTALL):
        block = json.loads(match.group(1))
        if isinstance(block, dict) and "lines" in block:
            found.append((block, match.group(2)))
    return found


def test_worked_examples_match_the_engine(tables_dir: Path) -> None:
    cases = examples(DOC.read_text(encoding="utf-8"))
    assert len(cases) >= 8
    for case, after in cases:
        for row in result_rows(compute_case(case, tables_dir)):
            assert row in after, f"{case.get('id')}: {row}"
