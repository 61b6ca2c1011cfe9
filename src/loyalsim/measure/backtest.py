"""A forecast beside what really happened: each metric's band, the actual, and the errors.

Where: the measure stage, for ``loyalsim backtest`` (``api.backtest``): the forecast is a
simulation's monthly table (program arm), the actual is the same history replayed past
``as_of`` through the same program (``finance/book.py``).

Per metric and month: the forecast's mean, P5, P50 and P95 across replications, the actual,
and whether the actual lies inside P5–P95. Per metric over the months: the bias (mean
forecast − actual, summed over months, relative to the actual's sum), the MAPE (mean of
|mean forecast − actual| / |actual| over months whose actual is not 0), the coverage (share of
months inside the band), and a total: a flow's sum over the months, a stock's last month. A
flow also gets its running totals (``cumulative``), banded from each replication's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from loyalsim.measure.stats import band

# The metrics compared: name -> (the monthly table's column, flow or stock).
METRICS: dict[str, tuple[str, str]] = {
    "repeat_purchases": ("purchases", "flow"),
    "revenue": ("revenue", "flow"),
    "points_earned": ("points_issued", "flow"),
    "points_redeemed": ("points_redeemed", "flow"),
    "points_expired": ("points_expired", "flow"),
    "points_outstanding": ("points_outstanding", "stock"),
    "liability_at_cost": ("liability_at_cost", "stock"),
}


def compared(
    forecast: pa.Table, actual: Mapping[str, Sequence[float]], months: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Each metric of ``forecast`` (monthly table, program arm, the ``months`` given) beside its
    ``actual`` (one value per month)."""
    rows = [r for r in forecast.to_pylist() if r["arm"] == "program" and r["month"] in set(months)]
    replications = sorted({r["replication"] for r in rows})
    where = {month: i for i, month in enumerate(months)}
    out = {}
    for name, (column, kind) in METRICS.items():
        values = np.zeros((len(replications), len(months)))
        for r in rows:
            values[replications.index(r["replication"]), where[r["month"]]] = r[column]
        truth = np.asarray(actual[name], dtype=float)
        bands = [band(values[:, i]) for i in range(len(months))]
        mean = np.array([b["mean"] for b in bands])
        totals = values.sum(axis=1) if kind == "flow" else values[:, -1]
        true_total = float(truth.sum()) if kind == "flow" else float(truth[-1])
        nonzero = truth != 0
        inside = [bool(b["p5"] <= a <= b["p95"]) for b, a in zip(bands, truth, strict=True)]
        out[name] = {
            "kind": kind,
            "months": list(months),
            "actual": truth.tolist(),
            "mean": mean.tolist(),
            "p5": [b["p5"] for b in bands],
            "p50": [b["p50"] for b in bands],
            "p95": [b["p95"] for b in bands],
            "inside": inside,
            "total": {"actual": true_total, **band(totals)},
            "bias": float((mean - truth).sum() / truth.sum()) if truth.sum() else None,
            "mape": float(np.mean(np.abs(mean[nonzero] - truth[nonzero]) / np.abs(truth[nonzero])))
            if nonzero.any()
            else None,
            "coverage": float(np.mean(inside)) if inside else None,
        }
        if kind == "flow":  # running totals: percentiles of each replication's cumulative sums
            running = values.cumsum(axis=1)
            cumulative = [band(running[:, i]) for i in range(len(months))]
            out[name]["cumulative"] = {
                "actual": truth.cumsum().tolist(),
                **{k: [b[k] for b in cumulative] for k in ("mean", "p5", "p50", "p95")},
            }
    return out


def long_table(metrics: Mapping[str, Mapping[str, Any]]) -> pa.Table:
    """One row per metric and month: actual, mean, P5, P50, P95, inside (backtest.parquet)."""
    rows = [
        {
            "metric": name,
            "month": month,
            "actual": figures["actual"][i],
            "mean": figures["mean"][i],
            "p5": figures["p5"][i],
            "p50": figures["p50"][i],
            "p95": figures["p95"][i],
            "inside": figures["inside"][i],
        }
        for name, figures in metrics.items()
        for i, month in enumerate(figures["months"])
    ]
    return pa.Table.from_pylist(rows)
