"""``tierspayant coverage-compute``: the thin management command over compute_case.

The only test of tests/coverage that needs Django; skipped when Django is not
configured (``-p no:django``).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from tests.coverage.builders import PROJECT, consult

pytestmark = pytest.mark.skipif(
    not os.environ.get("DJANGO_SETTINGS_MODULE"), reason="needs the Django test settings"
)

CASE = {
    "table": "essentiel",
    "beneficiary_age": 42,
    "care_date": "2025-03-14",
    "lines": [consult("30.00")],
}


def run(*args: str) -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("coverage_compute", *args, stdout=out)
    return out.getvalue()


def test_file_in_json_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(CASE), encoding="utf-8")
    monkeypatch.chdir(PROJECT)
    result = json.loads(run(str(path)))
    assert (result["lines"][0]["amc"], result["totals"]["rac"]) == ("9.00", "2.00")


def test_stdin_and_tables_option(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(CASE)))
    monkeypatch.chdir(tmp_path)
    result = json.loads(run("-", "--tables", str(PROJECT / "fixtures" / "guarantee-tables")))
    assert result["table"]["name"] == "Essentiel responsable"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "{",
            "case.json: not valid JSON (Expecting property name enclosed in double quotes, "
            "line 1, column 2)",
        ),
        (
            json.dumps({**CASE, "lines": [consult("-30")]}),
            "case.json: lines[0].billed: must not be negative (got -30)",
        ),
        (json.dumps({**CASE, "table": "platinum"}), "case.json: table: no table 'platinum'"),
        (json.dumps([CASE]), "case.json: a case must be a JSON object"),
    ],
    ids=["broken-json", "negative-amount", "unknown-table", "not-an-object"],
)
def test_bad_input_exits_2_naming_file_field_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, message: str
) -> None:
    from django.core.management.base import CommandError

    monkeypatch.chdir(PROJECT)
    path = tmp_path / "case.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run(str(path))
    assert caught.value.returncode == 2
    assert str(caught.value).replace(str(tmp_path) + os.sep, "").startswith(message)


def test_table_errors_name_the_table_file(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    (tmp_path / "broken.json").write_text("{}", encoding="utf-8")
    path = tmp_path / "case.json"
    path.write_text(json.dumps({**CASE, "table": "broken"}), encoding="utf-8")
    with pytest.raises(CommandError, match=r"broken\.json: id: Field required") as caught:
        run(str(path), "--tables", str(tmp_path))
    assert caught.value.returncode == 2


def test_missing_file(tmp_path: Path) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"absent\.json: cannot read: No such file or directory"):
        run(str(tmp_path / "absent.json"))
