"""``report.html`` for a simulation: one self-contained file (inline SVG, no scripts, no network).

Key figures up top; then charts with their P5-P95 bands across replications, each with a
one-line reading computed from the results: liability at cost, deferred revenue, active
customers program vs control, members, points flows, breakage, revenue program vs control.
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np
import pyarrow as pa

from loyalsim import __version__
from loyalsim.report.page import page
from loyalsim.report.svg import line_chart


def series(table: pa.Table, column: str, arm: str) -> tuple[list[str], list[float], list[float], list[float]]:
    data = table.to_pydict()
    months = sorted(set(data["month"]))
    by_month: dict[str, list[float]] = {m: [] for m in months}
    for m, a, v in zip(data["month"], data["arm"], data[column], strict=True):
        if a == arm and v is not None:
            by_month[m].append(float(v))
    mean = [float(np.mean(by_month[m])) if by_month[m] else 0.0 for m in months]
    low = [float(np.percentile(by_month[m], 5)) if by_month[m] else 0.0 for m in months]
    high = [float(np.percentile(by_month[m], 95)) if by_month[m] else 0.0 for m in months]
    return months, mean, low, high


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _cohort_curves(
    cohorts: pa.Table | None, every: int = 6
) -> tuple[dict[str, tuple[list[float], list[float]]], str]:
    """Mean cumulative redemption share by age for every ``every``-th cohort, and a reading."""
    if cohorts is not None and "kind" in cohorts.column_names:
        import pyarrow.compute as pc

        cohorts = cohorts.filter(pc.equal(cohorts["kind"], "points"))
    if cohorts is None or cohorts.num_rows == 0:
        return {}, "No points were issued, so there is no redemption curve."
    data = cohorts.to_pydict()
    final: dict[tuple[int, str], float] = {}
    for rep, cohort, issued in zip(data["replication"], data["cohort"], data["issued"], strict=True):
        final[(rep, cohort)] = issued  # rows run in month order: the last one is the cohort's total
    share: dict[str, dict[int, list[float]]] = {}
    for rep, cohort, age, redeemed in zip(
        data["replication"], data["cohort"], data["age_months"], data["redeemed"], strict=True
    ):
        if final[(rep, cohort)] > 0:
            share.setdefault(cohort, {}).setdefault(age, []).append(redeemed / final[(rep, cohort)])
    names = sorted(share)[::every]
    curves = {
        name: (
            [float(a) for a in sorted(share[name])],
            [float(np.mean(share[name][a])) for a in sorted(share[name])],
        )
        for name in names
    }
    first = names[0]
    ages, values = curves[first]
    at = min(6, int(ages[-1]))
    reading = (
        f"The {first} cohort had redeemed {values[at]:.0%} of its points {at} months after earning them "
        f"and {values[-1]:.0%} by the end of the horizon."
    )
    return curves, reading


class _Charts:
    """The report's charts in order, each with its reading; those with nothing to show are named
    in ``left_out`` (a mechanic the program lacks)."""

    def __init__(self, table: pa.Table, currency: str) -> None:
        self.table, self.currency = table, currency
        self.charts: list[tuple[str, str, str]] = []  # (id, svg, reading)
        self.left_out: list[str] = []

    def add(
        self,
        chart_id: str,
        title: str,
        y_label: str,
        lines: dict[str, tuple[str, str]],
        reading: str,
        banded: tuple[str, ...] = (),
    ) -> None:
        drawn, bands = {}, {}
        months: list[str] = []
        for label, (column, arm) in lines.items():
            months, mean, low, high = series(self.table, column, arm)
            x = [float(i) for i in range(len(months))]
            drawn[label] = (x, mean)
            if label in banded:
                bands[label] = (low, high)
        if not any(value for _, values in drawn.values() for value in values):
            self.left_out.append(title.split(":", maxsplit=1)[0].split(" (", maxsplit=1)[0])
            return
        # Within a chart, a line that is zero throughout (cashback in a fee program) is left out too.
        drawn = {label: line for label, line in drawn.items() if any(line[1])}
        bands = {label: band for label, band in bands.items() if label in drawn}
        unit = "share" if y_label == "share" else "number"
        svg = line_chart(
            drawn,
            title=title,
            x_label="month",
            y_label=self.currency if y_label == "currency" else y_label,
            bands=bands,
            x_labels=months,
            chart_id=chart_id,
            unit=unit,
        )
        self.charts.append((chart_id, svg, reading))


def _stock_charts(charts: _Charts, table: pa.Table, summary: dict[str, Any]) -> None:
    """Liability, deferred revenue, customers, members, tiers, points and breakage."""
    months, liability, liability_low, liability_high = series(table, "liability_at_cost", "program")
    _, deferred, _, _ = series(table, "contract_liability", "program")
    _, breakage, _, _ = series(table, "breakage", "program")
    _, active_p, _, _ = series(table, "customers", "program")
    _, active_c, _, _ = series(table, "customers", "control")
    _, issued, _, _ = series(table, "points_issued", "program")
    _, redeemed, _, _ = series(table, "points_redeemed", "program")
    _, expired, _, _ = series(table, "points_expired", "program")
    last = months[-1] if months else "-"
    peak = summary.get("finance", {}).get("peak")
    falls = ""
    if peak and peak["liability_at_cost"]["mean"] > liability[-1] * 1.05:
        falls = (
            f" It peaks at {_money(peak['liability_at_cost']['mean'])} in {peak['month']} (month "
            f"{peak['month_number']}) and falls after it as the first points reach their expiry or are redeemed: "
            "until then every point earned is still outstanding."
        )
    charts.add(
        "liability",
        "Liability at cost (P5-P95 band)",
        "currency",
        {"liability at cost": ("liability_at_cost", "program")},
        f"The liability at cost reaches {_money(liability[-1])} by {last} "
        f"(P5-P95 {_money(liability_low[-1])} to {_money(liability_high[-1])}).{falls}",
        ("liability at cost",),
    )
    charts.add(
        "deferred",
        "Deferred revenue: IFRS 15 contract liability (P5-P95 band)",
        "currency",
        {"contract liability": ("contract_liability", "program")},
        f"Revenue deferred for unredeemed points stands at {_money(deferred[-1])} at the end of {last}.",
        ("contract liability",),
    )
    charts.add(
        "customers",
        "Active customers: program vs control",
        "customers",
        {"program": ("customers", "program"), "control": ("customers", "control")},
        f"At the end, {active_p[-1]:,.0f} customers are active with the program and {active_c[-1]:,.0f} without it "
        f"({active_p[-1] - active_c[-1]:+,.0f}).",
        ("program",),
    )
    charts.add(
        "members",
        "Program members",
        "members",
        {"members": ("members", "program")},
        f"{series(table, 'members', 'program')[1][-1]:,.0f} active members at the end.",
        ("members",),
    )
    tier_columns = [name for name in table.column_names if name.startswith("tier_")]
    if tier_columns:
        ends = {name: series(table, name, "program")[1][-1] for name in tier_columns}
        total = sum(ends.values()) or 1.0
        charts.add(
            "tiers",
            "Tier mix: active members by tier at month end",
            "members",
            {name.removeprefix("tier_"): (name, "program") for name in tier_columns},
            "At the end: "
            + ", ".join(f"{name.removeprefix('tier_')} {value / total:.0%}" for name, value in ends.items())
            + " of active members.",
        )
    charts.add(
        "points",
        "Points issued, redeemed and expired per month",
        "points",
        {
            "issued": ("points_issued", "program"),
            "redeemed": ("points_redeemed", "program"),
            "expired": ("points_expired", "program"),
        },
        f"Over the horizon, {sum(redeemed) / max(sum(issued), 1):.0%} of the points issued were redeemed and "
        f"{sum(expired) / max(sum(issued), 1):.0%} expired.",
    )
    charts.add(
        "breakage",
        "Expected breakage (share of resolved points that expired)",
        "share",
        {"breakage": ("breakage", "program")},
        f"Breakage settles at {breakage[-1]:.1%} of the points whose fate is known.",
        ("breakage",),
    )


def _money_charts(charts: _Charts, table: pa.Table, summary: dict[str, Any]) -> None:
    """Revenue, cost and margin, fees, cashback and dividends, paid subscribers."""
    _, revenue_p, _, _ = series(table, "revenue", "program")
    _, revenue_c, _, _ = series(table, "revenue", "control")
    charts.add(
        "revenue",
        "Revenue per month: program vs control",
        "currency",
        {"program": ("revenue", "program"), "control": ("revenue", "control")},
        f"The program adds {_money(sum(revenue_p) - sum(revenue_c))} of revenue over the horizon "
        f"({(sum(revenue_p) / max(sum(revenue_c), 1) - 1):+.2%}).",
        ("program",),
    )
    _, cost, _, _ = series(table, "program_cost", "program")
    _, margin, _, _ = series(table, "incremental_gross_margin", "program")
    economics = summary.get("economics", {})
    roi = economics.get("roi", {})
    charts.add(
        "economics",
        "Program cost vs incremental gross margin per month (P5-P95 band)",
        "currency",
        {
            "program cost": ("program_cost", "program"),
            "incremental gross margin": ("incremental_gross_margin", "program"),
        },
        f"Over the horizon the program costs {_money(sum(cost))} and adds {_money(sum(margin))} of gross margin "
        f"against the control"
        + (f"; ROI {roi['mean']:+.0%} (P5-P95 {roi['p5']:+.0%} to {roi['p95']:+.0%})." if roi else "."),
        ("program cost", "incremental gross margin"),
    )
    _, cashback, _, _ = series(table, "cashback_accrued", "program")
    _, dividend, _, _ = series(table, "dividend_accrued", "program")
    _, payable, _, _ = series(table, "cashback_payable", "program")
    _, fees, _, _ = series(table, "fee_revenue", "program")
    _, deferred_fees, _, _ = series(table, "deferred_fee_revenue", "program")
    readings = []
    if sum(fees) > 0:
        readings.append(
            f"Membership fees earn {_money(sum(fees))} of revenue over the horizon; "
            f"{_money(deferred_fees[-1])} is billed but deferred at the end."
        )
    if sum(cashback) + sum(dividend) > 0:
        readings.append(
            f"Members earn {_money(sum(cashback))} of cashback and {_money(sum(dividend))} of dividends; "
            f"{_money(payable[-1])} of cashback is payable at the end."
        )
    charts.add(
        "flows",
        "Fees, cashback and dividends per month",
        "currency",
        {
            "fee revenue": ("fee_revenue", "program"),
            "deferred fees": ("deferred_fee_revenue", "program"),
            "cashback accrued": ("cashback_accrued", "program"),
            "cashback payable": ("cashback_payable", "program"),
            "dividend accrued": ("dividend_accrued", "program"),
            "dividend payable": ("dividend_payable", "program"),
        },
        " ".join(readings) or "This program has no membership fees, cashback or dividends.",
    )
    _, subscribers, _, _ = series(table, "subscribers", "program")
    _, started, _, _ = series(table, "memberships_started", "program")
    _, cancelled, _, _ = series(table, "memberships_cancelled", "program")
    charts.add(
        "subscribers",
        "Paid subscribers, memberships started and cancelled",
        "members",
        {
            "subscribers": ("subscribers", "program"),
            "started": ("memberships_started", "program"),
            "cancelled": ("memberships_cancelled", "program"),
        },
        f"{subscribers[-1]:,.0f} paid subscribers at the end; over the horizon {sum(started):,.0f} memberships "
        f"started and {sum(cancelled):,.0f} were cancelled."
        if subscribers
        else "",
        ("subscribers",),
    )


def _figures(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The headline table: liability at months 12, 24, 36 and its peak, the end, economics."""
    economics = summary.get("economics", {})
    finance = summary.get("finance", {})
    figures = []
    for key in ("month_12", "month_24", "month_36"):
        if key in finance:
            block = finance[key]
            figures.append(
                (
                    f"Liability at cost, {block['month']}",
                    f"{_money(block['liability_at_cost']['mean'])} (P5-P95 "
                    f"{_money(block['liability_at_cost']['p5'])} to {_money(block['liability_at_cost']['p95'])})",
                )
            )
    peak = finance.get("peak")
    if peak and peak["liability_at_cost"]["mean"] > 0:
        figures.append(
            (
                f"Peak liability at cost, {peak['month']} (month {peak['month_number']})",
                f"{_money(peak['liability_at_cost']['mean'])} (P5-P95 {_money(peak['liability_at_cost']['p5'])} "
                f"to {_money(peak['liability_at_cost']['p95'])})",
            )
        )
    end = finance.get("end", {})
    if end:
        figures.append(("Deferred revenue at the end", _money(end["contract_liability"]["mean"])))
        figures.append(("Breakage at the end", f"{end['breakage']['mean']:.1%}"))
    for key, label in (
        ("program_cost", "Program cost (accrual)"),
        ("incremental_gross_margin", "Incremental gross margin vs control"),
        ("roi", "ROI"),
        ("npv", "NPV of the net benefit"),
    ):
        if key in economics:
            block = economics[key]
            show = (lambda v: f"{v:+.1%}") if key == "roi" else _money
            figures.append(
                (label, f"{show(block['mean'])} (P5-P95 {show(block['p5'])} to {show(block['p95'])})")
            )
    incremental = summary.get("incremental_revenue", {})
    if incremental:
        figures.append(
            (
                "Incremental revenue vs control",
                f"{_money(incremental['mean'])} (P5-P95 "
                f"{_money(incremental['p5'])} to {_money(incremental['p95'])})",
            )
        )
    return figures


def render(table: pa.Table, summary: dict[str, Any], cohorts: pa.Table | None = None) -> str:
    charts = _Charts(table, summary.get("program", {}).get("currency", "currency"))
    _stock_charts(charts, table, summary)
    _money_charts(charts, table, summary)
    curves, curve_reading = _cohort_curves(cohorts)
    if curves:
        svg = line_chart(
            curves,
            title="Redemption curves: cumulative share of a cohort's points redeemed",
            x_label="months since earning",
            y_label="share redeemed",
            chart_id="cohorts",
            unit="share",
        )
        charts.charts.append(("cohorts", svg, curve_reading))
    figures = _figures(summary)
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in figures)
    body = "".join(
        f'<section><p class="reading">{escape(reading)}</p>{svg}</section>'
        for _, svg, reading in charts.charts
    )
    if charts.left_out:
        body += (
            f'<p class="meta" id="left-out">Not drawn, being zero throughout for this program: '
            f"{escape(', '.join(charts.left_out))}.</p>"
        )
    program, scenario = summary.get("program", {}), summary.get("scenario", {})
    return page(
        f"loyalsim forecast: {escape(program.get('name', ''))}",
        f"""<h1>Forecast: {escape(program.get("name", ""))} on {escape(scenario.get("name", ""))}</h1>
<p>{summary.get("replications", "?")} replication(s), seed {summary.get("seed", "?")}; a no-program control on the same
customers and random numbers. Bands show P5 to P95 across replications.</p>
<table>{rows}</table>
{body}
<p class="meta">loyalsim {escape(str(summary.get("loyalsim", __version__)))}; program {escape(program.get("content_hash", "")[:12])},
scenario {escape(scenario.get("content_hash", "")[:12])}. What is modelled, and what is not: docs/simulate.md.</p>""",
        width=780,
        style="""table{border-collapse:collapse;margin-bottom:1.5em}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
.reading{margin:1.5em 0 .3em}.meta{color:#777;font-size:12px}""",
    )
