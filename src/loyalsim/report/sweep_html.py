"""``sweep.html``: headline metrics across a sweep's grid (self-contained, inline SVG).

Where: the report stage, written by ``loyalsim sweep``. A table of every point (values of
the swept parameters, then each metric's mean with its P5–P95), and one chart per metric
against the first axis, one line per combination of the other axes.
"""

from __future__ import annotations

from html import escape
from typing import Any

from loyalsim.report.page import page
from loyalsim.report.svg import line_chart

METRICS = {
    "liability_at_cost_end": "Liability at cost, end",
    "incremental_revenue": "Incremental revenue vs control",
    "program_cost": "Program cost",
    "roi": "ROI",
    "npv": "NPV of net benefit",
    "breakage_end": "Breakage, end",
}


def _show(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    return (
        f"{value:+.1%}"
        if metric == "roi"
        else f"{value:.1%}"
        if metric == "breakage_end"
        else f"{value:,.0f}"
    )


def render(axes: list[Any], rows: list[dict[str, Any]], *, policy_name: str, scenario_name: str) -> str:
    present = [m for m in METRICS if f"{m}_mean" in rows[0]]
    head = "".join(f"<th>{escape(a.text)}</th>" for a in axes) + "".join(
        f"<th>{escape(METRICS[m])}</th>" for m in present
    )
    body = []
    for row in rows:
        cells = "".join(f"<td>{escape(str(row[a.text]))}</td>" for a in axes)
        cells += "".join(
            f"<td>{_show(m, row[f'{m}_mean'])}<br><small>{_show(m, row.get(f'{m}_p5'))} to "
            f"{_show(m, row.get(f'{m}_p95'))}</small></td>"
            for m in present
        )
        body.append(f"<tr>{cells}</tr>")
    first, others = axes[0], axes[1:]
    labels = [str(v) for v in first.values]
    charts = []
    for metric in present:
        lines: dict[str, tuple[list[float], list[float]]] = {}
        for row in rows:
            name = ", ".join(f"{a.text}={row[a.text]}" for a in others) or METRICS[metric]
            x = float(labels.index(str(row[first.text])))
            xs, ys = lines.setdefault(name, ([], []))
            xs.append(x)
            ys.append(float(row[f"{metric}_mean"]))
        svg = line_chart(
            lines,
            title=f"{METRICS[metric]} by {first.text} (means)",
            x_label=first.text,
            y_label=METRICS[metric],
            x_labels=labels,
            chart_id=f"sweep-{metric}",
            unit="ratio" if metric == "roi" else "share" if metric == "breakage_end" else "number",
        )
        best = max(rows, key=lambda r: r[f"{metric}_mean"])
        reading = (
            f"{METRICS[metric]} is highest ({_show(metric, best[f'{metric}_mean'])}) at "
            + ", ".join(f"{a.text}={best[a.text]}" for a in axes)
            + "."
        )
        charts.append(f'<section><p class="reading">{escape(reading)}</p>{svg}</section>')
    return page(
        f"loyalsim sweep: {escape(policy_name)}",
        f"""<h1>Sweep: {escape(policy_name)} on {escape(scenario_name)}</h1>
<p>{len(rows)} point(s), every one on the same customers and random numbers; mean across replications with P5 to P95
below it.</p>
<table id="grid"><tr>{head}</tr>{"".join(body)}</table>
{"".join(charts)}""",
        width=980,
        style="""table{border-collapse:collapse;margin-bottom:1.5em}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
small{color:#777}.reading{margin:1.5em 0 .3em}""",
    )
