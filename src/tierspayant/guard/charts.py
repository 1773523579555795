"""Server-rendered SVG line charts (no JavaScript): the security dashboard's lookups per hour
with their baseline. (The attack replay's PNG is drawn by matplotlib: guard/report.py.)"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ["#1f6feb", "#8b949e", "#2da44e", "#cf222e", "#bf8700", "#8250df", "#e16f24", "#0a7e8c"]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def line_chart(
    series: Mapping[str, Sequence[float]],
    *,
    x_labels: Sequence[str],
    title: str,
    y_label: str,
    width: int = 900,
    height: int = 380,
    dashed: Sequence[str] = (),
) -> str:
    """An SVG document drawing each series (name -> one value per x label) as a line, with
    axes, a legend and ``title``. Series named in ``dashed`` are drawn dashed (baselines).
    Text is escaped; values must be finite numbers."""
    left, right, top, bottom = 56, 16, 40, 48
    legend_h = 18 * math.ceil(len(series) / 3)
    plot_w, plot_h = width - left - right, height - top - bottom - legend_h
    n = max(len(x_labels), 2)
    peak = _nice_max(max((max(v) for v in series.values() if len(v)), default=0.0))

    def x(i: int) -> float:
        return left + plot_w * i / (n - 1)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    for k in range(5):
        value = peak * k / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#d0d7de" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    step = max(1, len(x_labels) // 12)
    for i, label in enumerate(x_labels):
        if i % step == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.0f}" transform="rotate(-90 14 {top + plot_h / 2:.0f})"'
        f' text-anchor="middle">{escape(y_label)}</text>'
    )
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(float(v)):.1f}" for i, v in enumerate(values))
        dash = ' stroke-dasharray="6 4"' if name in dashed else ""
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{points}"/>'
        )
        lx = left + (index % 3) * (plot_w / 3)
        ly = top + plot_h + 34 + 18 * (index // 3)
        parts.append(
            f'<line x1="{lx:.0f}" x2="{lx + 18:.0f}" y1="{ly - 4}" y2="{ly - 4}" '
            f'stroke="{colour}" stroke-width="3"{dash}/>'
            f'<text x="{lx + 24:.0f}" y="{ly}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
