"""The back-office's charts, drawn server-side by matplotlib's Agg renderer into PNG bytes
(each on a ``Figure`` of its own, never pyplot's global state: safe in any thread)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tierspayant.settlement.delays import DelayReport
from tierspayant.settlement.models import InsurerSettlement


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def amounts_over_time(settlements: Sequence[InsurerSettlement], *, title: str) -> bytes:
    """Paid, recovered and net euros per run (by execution date), one bar group per run, as
    a 900 x 360 PNG. An empty sequence draws empty axes saying so."""
    figure = Figure(figsize=(9, 3.6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    ordered = sorted(settlements, key=lambda s: (s.run.execution_date, s.run_id))
    labels = [f"{s.run.execution_date:%d/%m/%Y}" for s in ordered]
    positions = list(range(len(ordered)))
    series: list[tuple[str, list[Decimal]]] = [
        ("payé", [s.paid_total for s in ordered]),
        ("indus récupérés", [s.recovered_total for s in ordered]),
        ("net", [s.net_total for s in ordered]),
    ]
    width = 0.27
    for offset, (name, values) in enumerate(series):
        axes.bar(
            [p + (offset - 1) * width for p in positions],
            [float(v) for v in values],
            width=width,
            label=name,
        )
    axes.set_xticks(positions, labels, rotation=30, ha="right")
    axes.set_ylabel("euros")
    axes.set_title(title, loc="left", fontweight="bold")
    if ordered:
        axes.legend(loc="upper left")
    else:
        axes.text(0.5, 0.5, "aucun règlement", ha="center", va="center", transform=axes.transAxes)
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def delay_distribution(report: DelayReport) -> bytes:
    """Number of accepted invoices per delay in days (bars; late ones in red) with the
    committed delay as a dashed line, as an 900 x 320 PNG."""
    figure = Figure(figsize=(9, 3.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    distribution = report.distribution()
    days = list(distribution)
    axes.bar(
        days,
        list(distribution.values()),
        color=["#c0392b" if d > report.committed_days else "#2e86c1" for d in days],
    )
    axes.axvline(report.committed_days + 0.5, linestyle="--", color="black")
    axes.set_xlabel("jours entre acceptation et paiement (ou à ce jour)")
    axes.set_ylabel("factures")
    axes.set_title(
        f"{report.insurer.name} : délais de paiement, engagement {report.committed_days} jours",
        loc="left",
        fontweight="bold",
    )
    if not days:
        axes.text(0.5, 0.5, "aucune facture", ha="center", va="center", transform=axes.transAxes)
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)
