"""``compare.html``: two programs side by side on the same customers (self-contained, inline SVG).

Where: the report stage, written by ``loyalsim compare --out DIR``. The table gives each
headline figure for A and B and the paired difference B − A with its P5–P95 across
replications; the charts overlay A and B month by month (means), with the shared control
where it applies.
"""

from __future__ import annotations

from html import escape
from itertools import accumulate
from typing import Any

import pyarrow as pa

from loyalsim.report.page import page
from loyalsim.report.simulation_html import series
from loyalsim.report.svg import line_chart

LABELS = {
    "revenue": "Revenue",
    "purchases": "Purchases",
    "incremental_revenue": "Incremental revenue vs control",
    "points_issued": "Points issued",
    "points_redeemed": "Points redeemed",
    "points_expired": "Points expired",
    "liability_at_end": "Liability at cost, end",
    "deferred_revenue_at_end": "Deferred revenue, end",
    "breakage_at_end": "Breakage, end",
    "members_at_end": "Members, end",
    "customers_at_end": "Active customers, end",
    "retention_lift_at_end": "Active customers vs control, end",
    "program_cost": "Program cost",
    "incremental_gross_margin": "Incremental gross margin",
    "net_benefit": "Net benefit",
    "npv": "NPV of net benefit",
    "roi": "ROI",
}


def _show(name: str, value: float) -> str:
    if name in ("roi", "breakage_at_end"):
        return f"{value:+.1%}" if name == "roi" else f"{value:.1%}"
    return f"{value:,.0f}"


def render(a: pa.Table, b: pa.Table, result: dict[str, Any]) -> str:
    names = {"A": result["a"]["program"]["name"], "B": result["b"]["program"]["name"]}
    rows = []
    for key, figure in result["figures"].items():
        d = figure["b_minus_a"]
        rows.append(
            f"<tr><th>{escape(LABELS.get(key, key))}</th><td>{_show(key, figure['a']['mean'])}</td>"
            f"<td>{_show(key, figure['b']['mean'])}</td><td>{_show(key, d['mean'])}</td>"
            f"<td>{_show(key, d['p5'])} to {_show(key, d['p95'])}</td></tr>"
        )
    charts = []

    currency = result["a"].get("program", {}).get("currency", "currency")

    def chart(
        chart_id: str,
        title: str,
        y_label: str,
        lines: dict[str, list[float]],
        months: list[str],
        reading: str,
    ) -> None:
        x = [float(i) for i in range(len(months))]
        svg = line_chart(
            {label: (x, values) for label, values in lines.items()},
            title=title,
            x_label="month",
            y_label=currency if y_label == "currency" else y_label,
            x_labels=months,
            chart_id=chart_id,
        )
        charts.append(f'<section><p class="reading">{escape(reading)}</p>{svg}</section>')

    months, liability_a, _, _ = series(a, "liability_at_cost", "program")
    _, liability_b, _, _ = series(b, "liability_at_cost", "program")
    chart(
        "liability",
        "Liability at cost: A vs B",
        "currency",
        {f"A {names['A']}": liability_a, f"B {names['B']}": liability_b},
        months,
        f"At the end, B carries {liability_b[-1] - liability_a[-1]:+,.0f} of liability at cost against A.",
    )
    _, active_a, _, _ = series(a, "customers", "program")
    _, active_b, _, _ = series(b, "customers", "program")
    _, control, _, _ = series(a, "customers", "control")
    chart(
        "customers",
        "Active customers: A, B and the shared control",
        "customers",
        {f"A {names['A']}": active_a, f"B {names['B']}": active_b, "control": control},
        months,
        f"At the end, A keeps {active_a[-1] - control[-1]:+,.0f} and B {active_b[-1] - control[-1]:+,.0f} "
        "active customers against the control.",
    )
    _, net_a, _, _ = series(a, "net_benefit", "program")
    _, net_b, _, _ = series(b, "net_benefit", "program")
    cumulative_a, cumulative_b = list(accumulate(net_a)), list(accumulate(net_b))
    chart(
        "net-benefit",
        "Cumulative net benefit (incremental gross margin - program cost)",
        "currency",
        {f"A {names['A']}": cumulative_a, f"B {names['B']}": cumulative_b},
        months,
        f"Over the horizon, B's net benefit is {cumulative_b[-1] - cumulative_a[-1]:+,.0f} against A's.",
    )
    scenario = result["a"]["scenario"]
    return page(
        f"loyalsim compare: {escape(names['A'])} vs {escape(names['B'])}",
        f"""<h1>A: {escape(names["A"])} vs B: {escape(names["B"])}</h1>
<p>Both programs on {escape(scenario["name"])}: the same customers and random numbers, {result["a"]["replications"]}
replication(s), seed {result["a"]["seed"]}. Differences are paired per replication; the interval is P5 to P95.</p>
<table id="figures"><tr><th></th><th>A</th><th>B</th><th>B - A</th><th>B - A, P5 to P95</th></tr>{"".join(rows)}</table>
{"".join(charts)}
<p class="meta">loyalsim {escape(str(result["a"]["loyalsim"]))}; A {escape(result["a"]["program"]["content_hash"][:12])},
B {escape(result["b"]["program"]["content_hash"][:12])}, scenario {escape(scenario["content_hash"][:12])}.</p>""",
        width=860,
        style="""table{border-collapse:collapse;margin-bottom:1.5em}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}
th{text-align:left}.reading{margin:1.5em 0 .3em}.meta{color:#777;font-size:12px}""",
    )
