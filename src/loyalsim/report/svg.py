"""Small, dependency-free SVG line charts for self-contained HTML reports."""

from __future__ import annotations

from html import escape

import numpy as np

# Ten distinguishable colours (matplotlib's tab10, colour-blind aware in order): a chart never
# repeats one while it has ten series or fewer.
COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _decimals(step: float) -> int:
    """The fewest decimals that write ``step`` (a tick spacing such as 0.25 or 2.5) exactly."""
    return next((d for d in range(7) if abs(round(step, d) - step) < 1e-9 * max(1.0, abs(step))), 6)


def tick_text(value: float, step: float, unit: str) -> str:
    """A tick's label: shares and ratios as percentages with the decimals the step needs, money and
    counts with thousands separators (and decimals only when the step needs them)."""
    if unit in ("share", "ratio"):
        if abs(value) < 1e-12:
            return "0%"
        text = f"{value * 100:.{_decimals(abs(step) * 100)}f}%"
        return ("+" if unit == "ratio" and value > 0 else "") + text
    if abs(value) < 1e-12:
        return "0"
    return f"{value:,.{_decimals(abs(step)) if step else 0}f}"


def title_size(title: str, width: int) -> float:
    """A bold title's font size (px): 16, or smaller so that the whole title fits the chart's width."""
    return round(min(16.0, (width - 24) / (0.62 * max(len(title), 1))), 1)


def axis_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) from ``low`` to ``high``."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** np.floor(np.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    start = np.ceil(low / step) * step
    return [float(v) for v in np.arange(start, high + step * 0.5, step) if v <= high + 1e-9]


def line_chart(
    series: dict[str, tuple[list[float], list[float]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    marker: float | None = None,
    marker_label: str = "",
    width: int = 720,
    height: int = 360,
    bands: dict[str, tuple[list[float], list[float]]] | None = None,
    x_labels: list[str] | None = None,
    chart_id: str | None = None,
    unit: str = "number",
) -> str:
    """An SVG chart of named (x, y) series, with axes, ticks, legend and an optional vertical marker.

    ``bands`` maps a series name to (low, high) values drawn as a shaded band behind it;
    ``x_labels`` replaces numeric x ticks by labels (e.g. months); ``chart_id`` becomes the SVG's id;
    ``unit`` ("number", "share", "ratio") sets how the value axis reads (shares as percentages,
    ratios as signed percentages). The legend stands in a row between the title and the plot,
    so it never covers a line.
    """
    rows = (len(series) + 3) // 4
    left, right, top, bottom = 80, 20, 40 + 18 * rows, 50
    bands = bands or {}
    xs = [v for x, _ in series.values() for v in x]
    ys = [v for _, y in series.values() for v in y] + [v for _, high in bands.values() for v in high]
    x0, x1 = min(xs), max(xs)
    lows = [v for low, _ in bands.values() for v in low]
    # Zero stays on the axis; negative values (a net benefit, a catch-up) get room below it.
    y0 = min([0.0, *ys, *lows]) * 1.05
    y1 = max(ys) * 1.05 if ys and max(ys) > 0 else (0.0 if y0 < 0 else 1.0)

    def px(x: float) -> float:
        return left + (x - x0) / ((x1 - x0) or 1) * (width - left - right)

    def py(y: float) -> float:
        return height - bottom - (y - y0) / ((y1 - y0) or 1) * (height - top - bottom)

    identity = f' id="{escape(chart_id)}"' if chart_id else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart"{identity}>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-weight="bold" '
        f'font-size="{title_size(title, width)}">{escape(title)}</text>',
    ]
    ticks = axis_ticks(y0, y1)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else (y1 - y0 or 1.0)
    for tick in ticks:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{py(tick) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{escape(tick_text(tick, step, unit))}</text>"
        )
    if x_labels:
        step = max(1, len(x_labels) // 8)
        for i in range(0, len(x_labels), step):
            parts.append(
                f'<text x="{px(x0 + i):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="11">{escape(x_labels[i])}</text>'
            )
    else:
        for tick in axis_ticks(x0, x1, 8):
            parts.append(
                f'<text x="{px(tick):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'font-size="11">{tick:g}</text>'
            )
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}" stroke="#333"/>'
        f'<line x1="{left}" x2="{width - right}" y1="{height - bottom}" y2="{height - bottom}" stroke="#333"/>'
    )
    parts.append(
        f'<text x="{width / 2}" y="{height - 10}" text-anchor="middle" font-size="12">{escape(x_label)}</text>'
        f'<text x="16" y="{height / 2}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 16 {height / 2})">{escape(y_label)}</text>'
    )
    if marker is not None:
        parts.append(
            f'<line x1="{px(marker):.1f}" x2="{px(marker):.1f}" y1="{top}" y2="{height - bottom}" '
            f'stroke="#888" stroke-dasharray="4 3"/><text x="{px(marker) + 4:.1f}" y="{top + 12}" '
            f'font-size="11" fill="#555">{escape(marker_label)}</text>'
        )
    for i, (name, (x, _)) in enumerate(series.items()):
        if name in bands:
            low, high = bands[name]
            outline = [f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, high, strict=True)]
            outline += [f"{px(a):.1f},{py(b):.1f}" for a, b in zip(reversed(x), reversed(low), strict=True)]
            parts.append(
                f'<polygon points="{" ".join(outline)}" fill="{COLOURS[i % len(COLOURS)]}" '
                f'fill-opacity="0.18" stroke="none" data-band="{escape(name)}"/>'
            )
    for i, (name, (x, y)) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, y, strict=True))
        dash = ' stroke-dasharray="6 3"' if i else ""
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{points}" '
            f'data-series="{escape(name)}"/>'
        )
        column, row = i % 4, i // 4
        lx, ly = left + column * (width - left - right) / 4, 34 + 18 * row
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly:.1f}" width="14" height="3" fill="{colour}" data-legend="{escape(name)}"/>'
            f'<text x="{lx + 20:.1f}" y="{ly + 5:.1f}" font-size="12">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
