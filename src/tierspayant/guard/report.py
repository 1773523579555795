"""The attack replay's report: a text table, JSON, and a PNG chart (drawn by matplotlib's
Agg renderer: no browser, no display, nothing but the pinned dependencies)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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
        if r.name in {"normal", "busy", "f"}:
            lines.append(
                f"\n{r.label} : {r.accounts} comptes, {r.suspended_accounts} suspendus, "
                f"{r.step_up_accounts} second facteur exigé, {r.slowed_accounts} ralentis "
                "ou arrêtés par un quota"
            )
        if r.name == "d":
            flagged = "oui" if r.campaign else "non"
            lines.append(f"\n(d) campagne signalée sur toute la plateforme : {flagged}")
    return "\n".join(lines)


def write_png(report: SimulationReport, path: Path) -> Path:
    """Draw the normal day versus the attacks (answered lookups per local hour, one line per
    series of ``report.hourly``, normal accounts dashed) as a 1000 x 460 PNG at ``path``,
    creating its directory; returns ``path``. Raises ``OSError`` when it cannot be written.

    Uses a ``Figure`` of its own on the Agg canvas, never pyplot's global figures, so it is
    safe in any thread and leaves nothing behind."""
    figure = Figure(figsize=(10, 4.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    hours = range(24)
    for name, values in report.hourly.items():
        axes.plot(
            hours,
            values,
            label=name,
            linewidth=2,
            linestyle="--" if name.startswith("compte normal") else "-",
        )
    axes.set_title(
        f"Réponses divulguées par heure, {report.day:%d/%m/%Y} : journée normale et attaques",
        loc="left",
        fontweight="bold",
    )
    axes.set_xlabel("heure locale")
    axes.set_ylabel("vérifications avec réponse")
    axes.set_xticks(list(hours)[::2], [f"{h}h" for h in hours][::2])
    axes.set_xlim(0, 23)
    axes.set_ylim(bottom=0)
    axes.grid(axis="y", color="#d0d7de")
    if report.hourly:
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=3, frameon=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
