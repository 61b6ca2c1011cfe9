"""Outputs of ``loyalsim fit``: the scenario segment (YAML), per-customer expectations (CSV)
and the holdout validation report (self-contained HTML with an SVG tracking chart)."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

import numpy as np

from loyalsim import __version__
from loyalsim.compile.calendar import to_date
from loyalsim.population import models
from loyalsim.population.fitting import Fit
from loyalsim.population.summary import Summary
from loyalsim.report.page import page
from loyalsim.report.svg import line_chart

SCHEMA_MODEL = {"bgnbd": "bgnbd", "pareto-nbd": "pareto_nbd"}


def expected_curve(fit: Fit, t: Any) -> Any:
    return (models.bgnbd_expected if fit.model == "bgnbd" else models.pareto_expected)(fit.vector, t)


def conditional(fit: Fit, summary: Summary) -> Any:
    function = models.bgnbd_conditional if fit.model == "bgnbd" else models.pareto_conditional
    return function(fit.vector, summary.holdout_length, summary.x, summary.t_x, summary.T)


def segment_yaml(
    fit: Fit, spend: Fit | None, summary: Summary, *, source: str, segment_id: str, time_unit: str
) -> str:
    """A population segment in the scenario language, with its provenance in comments."""
    lines = [
        f"# Fitted by loyalsim {__version__} `fit purchases` on {dt.date.today().isoformat()} from {source}.",
        f"# Calibration to {to_date(summary.calibration_end)}: {summary.customers} customers, "
        f"{int((summary.x > 0).sum())} with repeat purchases; {fit.model} log-likelihood {fit.log_likelihood:.2f}.",
        "# Standard errors: "
        + ", ".join(f"{k} {v:.4g}" if v is not None else f"{k} n/a" for k, v in fit.standard_errors.items())
        + ".",
        f"id: {segment_id}",
        "share: 1.0",
        "purchase:",
        f"  model: {SCHEMA_MODEL[fit.model]}",
        f"  time_unit: {time_unit}",
        "  params: {" + ", ".join(f"{k}: {v:.6g}" for k, v in fit.params.items()) + "}",
    ]
    if spend is not None:
        lines += [
            "spend:",
            "  model: gamma_gamma",
            "  params: {" + ", ".join(f"{k}: {v:.6g}" for k, v in spend.params.items()) + "}",
        ]
    else:
        lines += [
            "# Spend was not fitted (too few repeat customers with positive spend); a lognormal placeholder:",
            "spend: {model: lognormal, params: {mean: 25, sigma: 0.8}}",
        ]
    return "\n".join(lines) + "\n"


def customers_csv(fit: Fit, summary: Summary) -> str:
    expected = conditional(fit, summary) if summary.holdout is not None else None
    rows = ["customer_id,x,t_x,T,holdout_actual,holdout_expected"]
    for i in range(summary.customers):
        actual = "" if summary.holdout is None else f"{int(summary.holdout[i])}"
        guess = "" if expected is None else f"{expected[i]:.6f}"
        rows.append(
            f"{summary.customer_ids[i]},{int(summary.x[i])},{summary.t_x[i]:.6g},{summary.T[i]:.6g},"
            f"{actual},{guess}"
        )
    return "\n".join(rows) + "\n"


def tracking(fit: Fit, summary: Summary, end_day: int) -> dict[str, tuple[list[float], list[float]]]:
    """Weekly cumulative repeat purchases: actual vs the model's expectation for the cohort."""
    start = int(summary.first_day.min())
    weeks = np.arange(0, (end_day - start) // 7 + 1)
    edges = start + 7 * weeks
    actual = np.searchsorted(np.sort(summary.repeat_days), edges, side="right")
    ages = np.maximum(edges[:, None] - summary.first_day[None, :], 0) / summary.unit
    expected = np.array([expected_curve(fit, row).sum() for row in ages])
    week_axis = [float(w) for w in weeks]
    return {
        "actual": (week_axis, [float(a) for a in actual]),
        f"{fit.model} expected": (week_axis, [float(e) for e in expected]),
    }


def html_report(
    fit: Fit,
    spend: Fit | None,
    summary: Summary,
    holdout: dict[str, float] | None,
    *,
    source: str,
    end_day: int,
) -> str:
    series = tracking(fit, summary, end_day)
    calibration_week = (summary.calibration_end - int(summary.first_day.min())) / 7
    chart = line_chart(
        series,
        title="Cumulative repeat purchases, actual vs expected",
        x_label="week",
        y_label="repeat purchases",
        marker=calibration_week,
        marker_label="end of calibration",
    )
    params = "".join(
        f"<tr><td>{escape(k)}</td><td>{v:.4f}</td><td>{(fit.standard_errors[k] or float('nan')):.4f}</td></tr>"
        for k, v in fit.params.items()
    )
    spend_rows = (
        ""
        if spend is None
        else "".join(
            f"<tr><td>{escape(k)}</td><td>{v:.4f}</td><td>{(spend.standard_errors[k] or float('nan')):.4f}</td></tr>"
            for k, v in spend.params.items()
        )
    )
    holdout_text = (
        ""
        if holdout is None
        else (
            f"<p>Holdout ({summary.holdout_length:g} {'weeks' if summary.unit == 7 else 'days'}): "
            f"<b>{holdout['actual']:,.0f}</b> actual repeat purchases, <b>{holdout['expected']:,.1f}</b> expected "
            f"({(holdout['expected'] / holdout['actual'] - 1) * 100 if holdout['actual'] else float('nan'):+.1f}%).</p>"
        )
    )
    return page(
        f"loyalsim fit: {escape(source)}",
        f"""<h1>Purchase model fit</h1>
<p>{escape(source)} — calibration to {to_date(summary.calibration_end)}; {summary.customers:,} customers,
{int((summary.x > 0).sum()):,} with repeat purchases. Model <b>{escape(fit.model)}</b>, log-likelihood
{fit.log_likelihood:.2f}{"" if fit.converged else " (<b>did not converge</b>)"}.</p>
<table><tr><th>parameter</th><th>estimate</th><th>std. error</th></tr>{params}</table>
{"<h2>Spend (Gamma-Gamma)</h2><table><tr><th>parameter</th><th>estimate</th><th>std. error</th></tr>" + spend_rows + "</table>" if spend else ""}
<h2>Validation</h2>{holdout_text}
<p>The chart tracks cumulative repeat purchases week by week: the model is fitted on the weeks left of the
dashed line and forecasts those to its right.</p>
{chart}
<p style="color:#777;font-size:12px">loyalsim {__version__}</p>""",
        width=780,
        style="""table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}""",
    )
