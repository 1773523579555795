"""The attack replay's report: the PNG chart is drawn by matplotlib (no browser, no test
dependency at run time, issue 13 item 12 / issue 18 item 7), and ``simulate-attack`` works
with nothing but the platform's own dependencies."""

from __future__ import annotations

import datetime
import io
import json
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image

from tierspayant.guard.report import write_png
from tierspayant.guard.simulation import SimulationReport

pytestmark = pytest.mark.django_db
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _without_browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A fresh machine from the README's set-up: no Chromium on the PATH, and the test
    dependency that drove it (Playwright) not importable."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setitem(sys.modules, "playwright", None)  # import playwright -> ImportError


def test_chart_draws_each_series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hours = range(24)
    report = SimulationReport(
        day=datetime.date(2026, 3, 10),
        results=[],
        hourly={
            "compte normal (médiane)": [float(3 + (8 <= h < 19)) for h in hours],
            "(a) hameçonnage rapide": [float(120 if h == 10 else 0) for h in hours],
            "(b) goutte à goutte": [float(6 if 9 <= h < 18 else 0) for h in hours],
        },
        lookups=0,
    )
    _without_browser(monkeypatch, tmp_path)
    path = write_png(report, tmp_path / "nested" / "chart.png")
    assert path.read_bytes().startswith(PNG_MAGIC)
    with Image.open(path) as image:
        assert image.size == (1000, 460)
        colours = {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 20)}
    # matplotlib's default colour cycle: one line (and legend entry) per series was drawn.
    assert {(0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E), (0x2C, 0xA0, 0x2C)} <= colours


def test_simulate_attack_command_without_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_browser(monkeypatch, tmp_path)
    chart = tmp_path / "simulate-attack.png"
    out = io.StringIO()
    call_command(
        "simulate_attack",
        "--accounts=10",
        "--beneficiaries=2500",
        "--scenarios=a",
        f"--chart={chart}",
        "--json",
        stdout=out,
    )
    report = json.loads(out.getvalue())
    assert report["chart"] == str(chart)
    assert chart.read_bytes().startswith(PNG_MAGIC)
    assert [s["name"] for s in report["scenarios"]][:1] == ["a"]
