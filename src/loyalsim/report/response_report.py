"""Outputs of ``loyalsim fit response``: the text summary, the scenario response fragment (YAML)
and a self-contained HTML report with the lift by quarter since enrolment.

Where: the report stage. The fragment states the frequency lift as a normal distribution
from the estimate and its 95% interval (sd = interval width / 3.92), so a forecast carries the
estimate's uncertainty; a negative estimate or a lower bound below zero is truncated at 0 by
the scenario language (lifts are non-negative), which the fragment's comments say.
"""

from __future__ import annotations

import datetime as dt
import math
from html import escape
from pathlib import Path

from loyalsim import __version__
from loyalsim.population.response_fit import Estimate, ResponseFit
from loyalsim.report.page import page
from loyalsim.report.svg import line_chart


def _percent(value: float) -> str:
    return f"{value * 100:+.1f}%" if math.isfinite(value) else "n/a"


def _interval(estimate: Estimate) -> str:
    return f"{_percent(estimate.estimate)} (95% interval {_percent(estimate.ci_low)} to {_percent(estimate.ci_high)})"


def text(result: ResponseFit) -> str:
    """The estimates in plain words, with the naive comparison beside them."""
    lines = [
        f"members: {result.members:,} ({result.measured:,} measured: they bought for more than the minimum "
        f"history before enrolling; {result.members - result.measured:,} left out); non-members: {result.non_members:,}",
        f"frequency_lift  {_interval(result.frequency_lift)}   naive {_percent(result.naive_frequency_lift)}",
        f"  over each member's first {result.quarters} quarter(s) after enrolment: {result.actual:,.0f} purchases, "
        f"{result.expected:,.1f} expected without the program",
    ]
    if result.spend_lift is not None:
        naive = _percent(result.naive_spend_lift) if result.naive_spend_lift is not None else "n/a"
        lines.append(f"spend_lift      {_interval(result.spend_lift)}   naive {naive}")
    else:
        lines.append("spend_lift      not estimated (see the note)")
    lines.append("churn_reduction not estimated: docs/fit.md says why")
    lines.append("by quarter since enrolment:")
    for row in result.by_quarter:
        lift = row["frequency_lift"]
        lines.append(
            f"  Q{row['quarter']:<3} {row['members']:>9,} members  {row['actual']:>10,.0f} actual  "
            f"{row['expected']:>10,.1f} expected  lift {_interval(Estimate(**lift))}"
        )
    return "\n".join(lines) + "\n"


def fragment(result: ResponseFit, *, source: str, members: str) -> str:
    """A scenario ``response`` fragment (paste under a segment), with provenance in comments."""
    lift = result.frequency_lift
    sd = (lift.ci_high - lift.ci_low) / 3.92 if math.isfinite(lift.ci_high - lift.ci_low) else 0.0
    mean = max(lift.estimate, 0.0) if math.isfinite(lift.estimate) else 0.0
    lines = [
        f"# Fitted by loyalsim {__version__} `fit response` on {dt.date.today().isoformat()} from {source}",
        f"# and {members}: {result.measured:,} measured members of {result.members:,}; {result.non_members:,} non-members.",
        f"# frequency_lift {_interval(lift)} over the first {result.quarters} quarter(s) after enrolment;",
        f"# the naive member-vs-non-member ratio says {_percent(result.naive_frequency_lift)}.",
        "# The interval is stated as a normal distribution (sd = its width / 3.92), truncated at 0.",
    ]
    if lift.estimate < 0:
        lines.append("# The estimate is negative; lifts are non-negative in scenarios, so the mean is 0.")
    if result.spend_lift is not None:
        lines.append(
            f"# spend_lift {_interval(result.spend_lift)} (the simulator draws spend from the segment's "
            "spend model: fold it into that model's scale if it matters)."
        )
    lines += [
        "response:",
        f"  frequency_lift: {{mean: {mean:.6g}, sd: {max(sd, 1e-9):.6g}}}",
        "",
    ]
    return "\n".join(lines)


def html(result: ResponseFit, *, source: str, members: str) -> str:
    """The report: estimates beside the naive comparison, and the lift by quarter since enrolment."""
    rows = result.by_quarter
    quarters = [float(row["quarter"]) for row in rows]
    chart = line_chart(
        {"frequency lift": (quarters, [row["frequency_lift"]["estimate"] for row in rows])},
        bands={
            "frequency lift": (
                [row["frequency_lift"]["ci_low"] for row in rows],
                [row["frequency_lift"]["ci_high"] for row in rows],
            )
        },
        title="Frequency lift by quarter since enrolment (95% interval)",
        x_label="quarter since enrolment",
        y_label="lift",
        unit="ratio",
        chart_id="lift-by-quarter",
    )
    table = "".join(
        f"<tr><td>Q{row['quarter']}</td><td>{row['members']:,}</td><td>{row['actual']:,.0f}</td>"
        f"<td>{row['expected']:,.1f}</td><td>{escape(_interval(Estimate(**row['frequency_lift'])))}</td></tr>"
        for row in rows
    )
    spend = _interval(result.spend_lift) if result.spend_lift is not None else "not estimated"
    notes = "".join(f"<li>{escape(note)}</li>" for note in result.notes)
    body = (
        "<h1>The program's effect on its members</h1>"
        f"<p>From {escape(source)} and {escape(members)}. {result.measured:,} members measured "
        f"(of {result.members:,}); {result.non_members:,} non-members.</p>"
        '<table id="estimates"><tr><th></th><th>estimate (95% interval)</th><th>naive</th></tr>'
        f"<tr><td>frequency_lift</td><td>{escape(_interval(result.frequency_lift))}</td>"
        f"<td>{escape(_percent(result.naive_frequency_lift))}</td></tr>"
        f"<tr><td>spend_lift</td><td>{escape(spend)}</td>"
        f"<td>{escape(_percent(result.naive_spend_lift) if result.naive_spend_lift is not None else 'n/a')}</td></tr>"
        "</table>"
        f"<p>The naive comparison sets members' purchase rate against non-members'; members chose to join, "
        f"so it mixes the program's effect with who they are. The estimate sets each member's purchases in "
        f"the first {result.quarters} quarter(s) after enrolling against what their own purchases before "
        "enrolling predict (BG/NBD fitted to the members' pre-enrolment histories).</p>"
        f"{chart}"
        '<table id="by-quarter"><tr><th>quarter</th><th>members</th><th>actual</th><th>expected</th>'
        f"<th>lift</th></tr>{table}</table>" + (f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "")
    )
    return page("loyalsim fit response", body, width=860, style="td,th{padding:2px 8px;text-align:right}")


def write(out: Path, result: ResponseFit, *, source: str, members: str) -> dict[str, Path]:
    """The fragment at ``out`` and the report beside it (OUT.report.html), written together."""
    from loyalsim.fileio import atomic_write_text, output_set

    report = out.with_suffix(".report.html")
    with output_set():
        atomic_write_text(out, fragment(result, source=source, members=members))
        atomic_write_text(report, html(result, source=source, members=members))
    return {"response": out, "report": report}
