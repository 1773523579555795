"""The attack replay's report: a text table, JSON, and a PNG chart (the SVG chart rendered
by Debian's Chromium through Playwright, which works offline)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tierspayant.guard.charts import line_chart
from tierspayant.guard.simulation import SimulationReport


def as_json(report: SimulationReport, *, chart: str | None = None) -> dict[str, Any]:
    """The report as a JSON-ready object: ``scenarios`` (one object per scenario and one
    for the normal population) and ``chart`` (the PNG path, if any)."""
    return {
        "day": report.day.isoformat(),
        "lookups": report.lookups,
        "scenarios": [r.as_dict() for r in report.results],
        "chart": chart,
    }


def table(report: SimulationReport) -> str:
    """A fixed-width French table: scenario, records disclosed before the stop, time to
    stop, alerts; then the normal population's wrongly slowed or suspended accounts."""
    lines = [
        f"Rejeu d'attaque du {report.day:%d/%m/%Y} ({report.lookups} vérifications)",
        "",
        f"{'scénario':<60} {'divulgués':>9} {'max/compte':>10} {'arrêt':>6} {'délai':>9}  alertes",
    ]
    for r in report.results:
        delay = (
            "-" if r.seconds_to_stop is None else f"{r.seconds_to_stop:,.0f} s".replace(",", " ")
        )
        alerts = ", ".join(f"{k}×{v}" for k, v in r.alerts.items()) or "-"
        lines.append(
            f"{r.label[:60]:<60} {r.disclosed_before_stop:>9} {r.max_per_account:>10} "
            f"{'oui' if r.stopped else 'non':>6} {delay:>9}  {alerts}"
        )
    for r in report.results:
        if r.name in {"normal", "f"}:
            lines.append(
                f"\n{r.label} : {r.accounts} comptes, {r.suspended_accounts} suspendus, "
                f"{r.step_up_accounts} second facteur exigé, {r.slowed_accounts} ralentis "
                "ou arrêtés par un quota"
            )
        if r.name == "d":
            flagged = "oui" if r.campaign else "non"
            lines.append(f"\n(d) campagne signalée sur toute la plateforme : {flagged}")
    return "\n".join(lines)


def chart_svg(report: SimulationReport) -> str:
    """The normal day versus the attacks: answered lookups per local hour."""
    return line_chart(
        report.hourly,
        x_labels=[f"{h}h" for h in range(24)],
        title=f"Réponses divulguées par heure, {report.day:%d/%m/%Y} : journée normale et attaques",
        y_label="vérifications avec réponse",
        width=1000,
        height=460,
        dashed=[k for k in report.hourly if k.startswith("compte normal")],
    )


def write_png(svg: str, path: Path, *, chromium: str | None = None) -> Path:
    """Render ``svg`` to a PNG at ``path`` with headless Chromium (Playwright). Raises
    ``RuntimeError`` when no Chromium is installed (``apt-get install chromium``)."""
    from playwright.sync_api import sync_playwright

    executable = chromium or shutil.which("chromium")
    if executable is None:
        raise RuntimeError("chromium is not installed: apt-get install chromium")
    path.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
            page.locator("svg").screenshot(path=str(path))
        finally:
            browser.close()
    return path
