"""``sensitivity.html``: tornado charts of one-at-a-time sensitivity (self-contained, inline SVG).

Where: the report stage, written by ``loyalsim sensitivity``. One chart per metric: a bar
per assumption from the metric at the assumption's low value to its value at the high
value, around the base run's value; assumptions sorted by the size of their swing.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from loyalsim.report.page import page
from loyalsim.report.svg import axis_ticks, tick_text
from loyalsim.run.sensitivity import METRICS

# Width of a character of the labels' 11 px sans-serif, generously (labels are measured, not guessed
# short: a cut-off label was the report's worst fault).
_CHAR_PX = 6.6


def _label_lines(label: str, limit: int = 44) -> list[str]:
    """A label in lines of at most ``limit`` characters, broken after dots and spaces."""
    lines, current = [], ""
    for piece in re.split(r"(?<=[. ])", label):
        if current and len(current) + len(piece) > limit:
            lines.append(current.rstrip())
            current = ""
        current += piece
    return [*lines, current.rstrip()] if current else lines


def tornado(
    chart_id: str,
    title: str,
    base: float,
    bars: list[tuple[str, float, float]],
    *,
    percent: bool = False,
    width: int = 820,
) -> str:
    """An SVG tornado chart: ``bars`` are (label, value at low, value at high), drawn largest swing first,
    with every label whole (wrapped, and the margin sized to it) and a value axis below the bars."""
    bars = sorted(bars, key=lambda b: -abs(b[2] - b[1]))
    wrapped = [_label_lines(label) for label, _, _ in bars]
    left = int(
        min(max((len(line) for lines in wrapped for line in lines), default=10) * _CHAR_PX + 16, width / 2)
    )
    right, top = 30, 44
    row = 14 * max((len(lines) for lines in wrapped), default=1) + 12
    axis = top + row * len(bars) + 4
    height = axis + 64
    values = [base] + [v for _, low, high in bars for v in (low, high)]
    lo, hi = min(values), max(values)
    span = (hi - lo) or abs(base) or 1.0
    lo, hi = lo - span * 0.05, hi + span * 0.05
    unit = "share" if percent else "number"

    def px(value: float) -> float:
        return left + (value - lo) / (hi - lo) * (width - left - right)

    def show(value: float) -> str:
        return f"{value:+.1%}" if percent else f"{value:,.0f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart" '
        f'id="{chart_id}" aria-label="{escape(title)}">',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-weight="bold">{escape(title)}</text>',
    ]
    for i, ((label, low, high), lines) in enumerate(zip(bars, wrapped, strict=True)):
        y = top + i * row
        for value, colour, side in ((low, "#1f77b4", "low"), (high, "#d62728", "high")):
            x0, x1 = sorted((px(base), px(value)))
            parts.append(
                f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0, 0.5):.1f}" height="{row - 8}" '
                f'fill="{colour}" fill-opacity="0.75" data-side="{side}"><title>{escape(label)} at {side}: '
                f"{show(value)}</title></rect>"
            )
        first = y + (row - 8) / 2 + 4 - 7 * (len(lines) - 1)
        parts.append(
            f'<text x="{left - 8}" text-anchor="end" font-size="11" data-label="{escape(label)}">'
            + "".join(
                f'<tspan x="{left - 8}" y="{first + 14 * k:.1f}">{escape(line)}</tspan>'
                for k, line in enumerate(lines)
            )
            + "</text>"
        )
    ticks = axis_ticks(lo, hi, 6)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else span
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{axis}" y2="{axis}" stroke="#333"/>')
    for tick in ticks:
        parts.append(
            f'<line x1="{px(tick):.1f}" x2="{px(tick):.1f}" y1="{axis}" y2="{axis + 4}" stroke="#333"/>'
            f'<text x="{px(tick):.1f}" y="{axis + 16}" text-anchor="middle" font-size="11" data-tick="1">'
            f"{escape(tick_text(tick, step, unit))}</text>"
        )
    parts.append(
        f'<line x1="{px(base):.1f}" x2="{px(base):.1f}" y1="{top - 6}" y2="{axis}" stroke="#333"/>'
        f'<text x="{px(base):.1f}" y="{top - 10}" text-anchor="middle" font-size="11">base {show(base)}'
        "</text>"
        f'<rect x="{left}" y="{height - 22}" width="10" height="8" fill="#1f77b4"/>'
        f'<text x="{left + 14}" y="{height - 15}" font-size="11">at the low value</text>'
        f'<rect x="{left + 130}" y="{height - 22}" width="10" height="8" fill="#d62728"/>'
        f'<text x="{left + 144}" y="{height - 15}" font-size="11">at the high value</text></svg>'
    )
    return "".join(parts)


def render(document: dict[str, Any]) -> str:
    rows = document["assumptions"]
    sections = []
    for metric, (_, _, label) in METRICS.items():
        base = document["base"].get(metric)
        bars = [
            (
                f"{r['assumption']} ({r['low_value']:g} to {r['high_value']:g})",
                r[f"{metric}_at_low"],
                r[f"{metric}_at_high"],
            )
            for r in rows
            if r[f"{metric}_at_low"] is not None and r[f"{metric}_at_high"] is not None
        ]
        if base is None or not bars:
            sections.append(
                f'<section><p class="reading">{escape(label)}: not defined for this program '
                "(e.g. no cost, so no ROI).</p></section>"
            )
            continue
        top = max(rows, key=lambda r: abs(r[f"{metric}_swing"] or 0.0))
        percent = metric == "roi"
        swing = top[f"{metric}_swing"] or 0.0
        # A swing of a ratio is a difference of percentages: percentage points, not a percent change.
        reading = (
            f"{label} moves most with {top['assumption']}: "
            + (f"{swing * 100:+.1f} percentage points" if percent else f"{swing:+,.0f}")
            + f" from its low ({top['low_value']:g}) to its high ({top['high_value']:g}) value."
        )
        sections.append(
            f'<section><p class="reading">{escape(reading)}</p>'
            f"{tornado(f'tornado-{metric}', f'{label}: low and high values around the base run', base, bars, percent=percent)}"
            "</section>"
        )
    table = "".join(
        f"<tr><td>{escape(r['assumption'])}</td><td>{r['base_value']:g}</td><td>{r['low_value']:g}</td>"
        f"<td>{r['high_value']:g}</td><td>{escape(r['range_from'])}</td></tr>"
        for r in rows
    )
    return page(
        f"loyalsim sensitivity: {escape(document['program']['name'])}",
        f"""<h1>Sensitivity: {escape(document["program"]["name"])} on {escape(document["scenario"]["name"])}</h1>
<p>Each assumption is set to its low and then its high value, everything else at the scenario's values;
{document["replications"]} replication(s) per run, all on the same customers and random numbers (seed {document["seed"]}).
Means across replications.</p>
{"".join(sections)}
<table id="ranges"><tr><th>assumption</th><th>base</th><th>low</th><th>high</th><th>range from</th></tr>{table}</table>
<p class="meta">program {escape(document["program"]["content_hash"][:12])}, scenario
{escape(document["scenario"]["content_hash"][:12])}.</p>""",
        width=820,
        style="""table{border-collapse:collapse;margin-bottom:1.5em}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
.reading{margin:1.5em 0 .3em}.meta{color:#777;font-size:12px}""",
    )
