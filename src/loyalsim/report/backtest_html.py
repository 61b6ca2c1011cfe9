"""backtest.html: each metric's forecast band with the actual line over it, month by month and
cumulative, and a table of the errors (self-contained: inline SVG, no script).

Where: the report stage, for ``loyalsim backtest`` (``api.BacktestResult.write``).
"""

from __future__ import annotations

from html import escape
from typing import Any

from loyalsim.report.page import page
from loyalsim.report.svg import line_chart

TITLES = {
    "repeat_purchases": "Repeat purchases",
    "revenue": "Revenue",
    "points_earned": "Points earned",
    "points_redeemed": "Points redeemed",
    "points_expired": "Points expired",
    "points_outstanding": "Points outstanding",
    "liability_at_cost": "Liability at cost",
}
STYLE = (
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
    "text-align:right}th:first-child{text-align:left}.chart{width:100%;height:auto}"
    ".reading{color:#444}"
)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def render(document: dict[str, Any]) -> str:
    """The whole page for a backtest's document (``BacktestResult.document``)."""
    metrics = document["metrics"]
    sections = []
    for name, figures in metrics.items():
        months = figures["months"]
        x = [float(i + 1) for i in range(len(months))]
        charts = [("per month", figures["actual"], figures["mean"], figures["p5"], figures["p95"])]
        if "cumulative" in figures:  # a flow's running totals, banded from each replication's own
            running = figures["cumulative"]
            charts.append(("cumulative", running["actual"], running["mean"], running["p5"], running["p95"]))
        for label, actual, mean, low, high in charts:
            svg = line_chart(
                {"forecast (mean)": (x, mean), "actual": (x, actual)},
                title=f"{TITLES[name]}, {label}: forecast P5-P95 and actual",
                x_label="month",
                y_label=name.replace("_", " "),
                bands={"forecast (mean)": (low, high)},
                x_labels=months,
                chart_id=f"{name}-{label.replace(' ', '-')}",
            )
            sections.append(f"<section>{svg}</section>")
    rows = ""
    for name, f in metrics.items():
        total, mape = f["total"], "-" if f["mape"] is None else f"{f['mape']:.1%}"
        rows += (
            f"<tr><th>{escape(TITLES[name])}</th><td>{total['actual']:,.2f}</td>"
            f"<td>{total['mean']:,.2f}</td><td>{total['p5']:,.2f} to {total['p95']:,.2f}</td>"
            f"<td>{_share(f['bias'])}</td><td>{mape}</td>"
            f"<td>{sum(f['inside'])} of {len(f['inside'])}</td></tr>"
        )
    inside = sum(sum(f["inside"]) for f in metrics.values())
    months_all = sum(len(f["inside"]) for f in metrics.values())
    reading = (
        f"Forecast from {document['as_of']} to {document['until']} ({document['replications']} "
        f"replication(s), seed {document['seed']}) against the same history replayed past "
        f"{document['as_of']} through the same program: the actual month lies inside the "
        f"forecast's P5-P95 band in {inside} of {months_all} metric-months."
    )
    body = (
        f"<h1>Backtest: {escape(document['program']['name'])} on {escape(document['scenario']['name'])}</h1>"
        f'<p class="reading">{escape(reading)}</p>'
        "<table><tr><th>metric</th><th>actual</th><th>forecast mean</th><th>forecast P5 to P95</th>"
        f"<th>bias</th><th>MAPE</th><th>months inside</th></tr>{rows}</table>" + "".join(sections)
    )
    return page(f"Backtest: {escape(document['scenario']['name'])}", body, width=900, style=STYLE)
