"""``tierspayant coverage-compute``: the pure engine's command (``tierspayant.coverage.cli``).

It needs no Django settings, no platform key and no database: these tests run it without
any, in process (:func:`main`) and as the console script a user types (a subprocess whose
environment holds no key).
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.coverage.builders import PROJECT, TABLES_DIR, consult
from tierspayant.coverage.cli import main

CASE = {
    "table": "essentiel",
    "beneficiary_age": 42,
    "care_date": "2025-03-14",
    "lines": [consult("30.00")],
}
SCRIPT = Path(sys.executable).parent / "tierspayant"
DOC = PROJECT / "docs" / "coverage.md"


def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_file_in_json_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(CASE), encoding="utf-8")
    monkeypatch.chdir(PROJECT)  # default tables: ./fixtures/guarantee-tables
    code, out, err = run(str(path))
    result = json.loads(out)
    assert (code, err) == (0, "")
    assert (result["lines"][0]["amc"], result["totals"]["rac"]) == ("9.00", "2.00")


def test_stdin_and_tables_option(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("-", "--tables", str(TABLES_DIR), stdin=json.dumps(CASE))
    assert code == 0
    assert json.loads(out)["table"]["name"] == "Essentiel responsable"


BAD_INPUT = [
    (
        "{",
        "case.json: not valid JSON (Expecting property name enclosed in double quotes, "
        "line 1, column 2)",
    ),
    (
        json.dumps({**CASE, "lines": [consult("-30")]}),
        "case.json: lines[0].billed: must not be negative (got -30)",
    ),
    (
        json.dumps({**CASE, "lines": [consult("1e999")]}),
        "case.json: lines[0].billed: must be less than 1000000000000 (got 1e999)",
    ),
    (
        json.dumps({**CASE, "lines": [consult(10**40)]}),
        f"case.json: lines[0].billed: must be less than 1000000000000 (got {10**40})",
    ),
    ('{"table": NaN}', "case.json: not valid JSON (NaN is not a JSON number)"),
    ("[" * 100_000, "case.json: not valid JSON (nested too deep)"),
    (json.dumps({**CASE, "table": "platinum"}), "case.json: table: no table 'platinum'"),
    (json.dumps([CASE]), "case.json: a case must be a JSON object"),
    (b"\xff\xfe{}", "case.json: not UTF-8 text (byte 0)"),
]


@pytest.mark.parametrize(
    ("content", "message"),
    BAD_INPUT,
    ids=[
        "broken-json",
        "negative-amount",
        "amount-beyond-precision",
        "huge-integer",
        "nan",
        "nested-too-deep",
        "unknown-table",
        "not-an-object",
        "not-utf8",
    ],
)
def test_bad_input_exits_2_with_one_line_naming_file_field_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | bytes, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "case.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code, out, err = run("case.json", "--tables", str(TABLES_DIR))
    assert (code, out) == (2, "")
    assert err.startswith(f"tierspayant coverage-compute: error: {message}")
    assert err.count("\n") == 1 and err.endswith("\n")


def test_table_errors_name_the_table_file(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{}", encoding="utf-8")
    code, _, err = run(
        "-", "--tables", str(tmp_path), stdin=json.dumps({**CASE, "table": "broken"})
    )
    assert code == 2
    assert re.fullmatch(r"[^\n]*broken\.json: id: Field required[^\n]*\n", err)


def test_missing_file(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "absent.json"))
    assert code == 2
    assert err.endswith("absent.json: cannot read: No such file or directory\n")


def test_bad_arguments_print_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert run()[0] == 2
    assert "usage: tierspayant coverage-compute" in capsys.readouterr().err
    assert run("--help")[0] == 0
    assert "--tables" in capsys.readouterr().out


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["1e999", "-1e30", "1e-30", "2025-02-30", "B", "II", "right", "simple"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


FULL_CASE = {
    "table": json.loads((TABLES_DIR / "equilibre.json").read_text(encoding="utf-8")),
    "beneficiary_age": 42,
    "care_date": "2025-03-14",
    "history": {
        "ceilings_used": {"dentaire-protheses-annuel": "100.00"},
        "counts_used": {"medecines-douces-annuel": 1},
        "previous_equipment": [{"family": "optical_lens", "side": "right", "date": "2024-01-10"}],
    },
    "lines": [
        consult("30.00"),
        {"family": "optical_lens", "class": "B", "lens_complexity": "complex", "side": "right",
         "billed": "200.00", "br": "0.05", "amo_rate": "60"},
        {"family": "hearing_aid", "class": "II", "side": "left", "billed": "1800.00",
         "br": "400.00", "amo_paid": "240.00"},
    ],
}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(where=st.sampled_from(_paths(FULL_CASE)), value=JSON)
def test_any_json_anywhere_gets_a_result_or_one_error_line(where: tuple, value: object) -> None:
    """The class of fault: whatever a case holds, the command answers (0) or refuses in one
    line (2); no exception escapes it, hence no traceback."""
    case = json.loads(json.dumps(FULL_CASE))
    if where:
        parent = case
        for key in where[:-1]:
            parent = parent[key]
        parent[where[-1]] = value
    else:
        case = value
    code, out, err = run("-", "--tables", str(TABLES_DIR), stdin=json.dumps(case))
    if code == 0:
        assert json.loads(out)["totals"] and err == ""
    else:
        assert code == 2 and out == ""
        assert err.startswith("tierspayant coverage-compute: error: <stdin>: ")
        assert err.count("\n") == 1


def _without_keys(home: Path) -> dict[str, str]:
    """The environment of a user who never set the platform up: no key, no settings."""
    return {
        "PATH": f"{SCRIPT.parent}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }


def _documented(heading: str, fence: str) -> str:
    """The first ``fence`` block after ``heading`` in docs/coverage.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    return section.split(f"```{fence}\n", 1)[1].split("```", 1)[0]


def test_the_documented_command_lines_run_without_any_key(tmp_path: Path) -> None:
    """Each line of docs/coverage.md's "Running a case", typed as documented (``case.json``
    the doc's first worked example, ``DIR`` the example tables), from a directory holding
    ``fixtures/guarantee-tables``, in an environment with no key and no settings."""
    example = json.loads(_documented("### 1. ", "json"))
    (tmp_path / "case.json").write_text(json.dumps(example), encoding="utf-8")
    (tmp_path / "fixtures").symlink_to(PROJECT / "fixtures")
    lines = [
        line.split("#", 1)[0].strip()
        for line in _documented("## Running a case", "sh").splitlines()
        if line.strip()
    ]
    assert len(lines) == 3 and all(
        line.startswith("tierspayant coverage-compute ") for line in lines
    )
    for line in lines:
        command = line.replace(" DIR", " " + shlex.quote(str(TABLES_DIR)))
        done = subprocess.run(  # noqa: S603 - our own console script, the documented line
            ["/bin/sh", "-c", command],
            cwd=tmp_path,
            env=_without_keys(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (done.returncode, done.stderr) == (0, ""), line
        assert json.loads(done.stdout)["totals"]["amc"] == "9.00", line


def test_the_documented_error_line_is_what_the_command_prints(tmp_path: Path) -> None:
    (tmp_path / "case.json").write_text(
        json.dumps({**CASE, "lines": [consult("-30")]}), encoding="utf-8"
    )
    done = subprocess.run(  # noqa: S603 - our own console script
        [str(SCRIPT), "coverage-compute", "case.json", "--tables", str(TABLES_DIR)],
        cwd=tmp_path,
        env=_without_keys(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == _documented("On bad input", "text")
