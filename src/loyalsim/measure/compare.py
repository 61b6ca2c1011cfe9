"""Comparing two programs on the same customers and random numbers.

Where: stage 7 (measure), behind ``loyalsim compare``. Replication i of each program uses
the same seed, hence the same customers, purchases before any program effect, and the same
control arm, so differences are paired: B - A is computed per replication and summarised
as mean and P5/P95 across replications.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

HEADLINES = {
    # name: (column, arm, kind) — flows are totalled over the horizon, stocks taken at the end
    "revenue": ("revenue", "program", "flow"),
    "purchases": ("purchases", "program", "flow"),
    "incremental_revenue": ("revenue", "difference", "flow"),
    "points_issued": ("points_issued", "program", "flow"),
    "points_redeemed": ("points_redeemed", "program", "flow"),
    "points_expired": ("points_expired", "program", "flow"),
    "liability_at_end": ("liability_at_cost", "program", "stock"),
    "deferred_revenue_at_end": ("contract_liability", "program", "stock"),
    "breakage_at_end": ("breakage", "program", "stock"),
    "members_at_end": ("members", "program", "stock"),
    "customers_at_end": ("customers", "program", "stock"),
    "retention_lift_at_end": ("customers", "difference", "stock"),  # active customers, program - control
    "program_cost": ("program_cost", "program", "flow"),
    "incremental_gross_margin": ("incremental_gross_margin", "program", "flow"),
    "net_benefit": ("net_benefit", "program", "flow"),
    "npv": ("net_benefit", "program", "discounted"),
}


def headline_values(table: pa.Table) -> dict[str, npt.NDArray[np.float64]]:
    """Per replication, each headline figure of one program's monthly table."""
    data = table.to_pydict()
    last = max(data["month"])
    out: dict[str, dict[int, float]] = {name: {} for name in HEADLINES}
    for i, rep in enumerate(data["replication"]):
        arm, month = data["arm"][i], data["month"][i]
        for name, (column, wanted, kind) in HEADLINES.items():
            value = data[column][i]
            if value is None:
                continue
            sign = 1.0
            if wanted == "difference":
                sign = 1.0 if arm == "program" else -1.0
            elif arm != wanted:
                continue
            if kind == "flow":
                out[name][rep] = out[name].get(rep, 0.0) + sign * float(value)
            elif kind == "discounted":
                out[name][rep] = out[name].get(rep, 0.0) + float(value) * data["discount_factor"][i]
            elif month == last:
                out[name][rep] = out[name].get(rep, 0.0) + sign * float(value)
    result = {name: np.array([values[k] for k in sorted(values)]) for name, values in out.items()}
    cost = result["program_cost"]
    if cost.size and (cost > 0).all():  # ROI only where every replication has a cost
        result["roi"] = result["net_benefit"] / cost
    return result


def summarise(a: pa.Table, b: pa.Table) -> dict[str, Any]:
    first, second = headline_values(a), headline_values(b)

    def stats(values: npt.NDArray[np.float64]) -> dict[str, float]:
        return {"mean": float(values.mean()), "p5": float(np.percentile(values, 5)),
                "p95": float(np.percentile(values, 95))}

    return {name: {"a": stats(first[name]), "b": stats(second[name]), "b_minus_a": stats(second[name] - first[name])}
            for name in first if name in second and first[name].size and first[name].size == second[name].size}
