"""Server-drawn SVG bar charts: no script, readable by screen readers (role="img", title, description).

The page also shows the same numbers as a table, so the chart is a help to the eye, never the only source.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 260
BAR_WIDTH = 380
VALUE_WIDTH = 60
COLOURS = ("#0066cc", "#008055", "#cc7a00", "#a61c3c")


@dataclass
class Series:
    name: str
    values: list[int]


def bar_chart(chart_id: str, title: str, labels: list[str], series: list[Series]) -> Markup:
    """Horizontal grouped bars: one group per label, one bar per series, each bar with its number."""
    per_group = len(series)
    group_height = per_group * BAR_HEIGHT + GAP * 2
    legend_height = 28
    height = legend_height + max(1, len(labels)) * group_height
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    top = max([v for s in series for v in s.values] or [0]) or 1
    description = "; ".join(
        f"{label}: " + ", ".join(f"{s.name} {s.values[i]}" for s in series) for i, label in enumerate(labels)
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    x = LABEL_WIDTH
    for n, s in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        parts.append(f'<rect x="{x}" y="6" width="14" height="14" fill="{colour}"/>')
        parts.append(f'<text x="{x + 20}" y="18" font-size="13">{escape(s.name)}</text>')
        x += 40 + 8 * len(s.name)
    for i, label in enumerate(labels):
        y0 = legend_height + i * group_height + GAP
        short = label if len(label) <= 38 else label[:37] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y0 + per_group * BAR_HEIGHT / 2 + 5:.0f}" font-size="13" '
            f'text-anchor="end">{escape(short)}</text>'
        )
        for n, s in enumerate(series):
            value = s.values[i]
            y = y0 + n * BAR_HEIGHT
            length = round(BAR_WIDTH * value / top)
            parts.append(f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{length}" height="{BAR_HEIGHT - 4}" '
                         f'fill="{COLOURS[n % len(COLOURS)]}"/>')
            parts.append(f'<text x="{LABEL_WIDTH + length + 4}" y="{y + BAR_HEIGHT - 7}" font-size="12">'
                         f'{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text part above is escaped)
