"""Comparing two programs on the same customers and random numbers.

Where: the measure stage, behind ``loyalsim compare``. Replication i of each program uses
the same seed, hence the same customers, purchases before any program effect, and the same
control arm, so differences are paired: B - A is computed per replication and summarised
as mean and P5/P95 across replications.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from loyalsim.measure.guardrails import per_replication
from loyalsim.measure.stats import band

# Headline figure → the guardrail metric it is: measured the same way (flows totalled over the horizon,
# stocks taken at the end, npv discounted, roi = net benefit / program cost).
HEADLINES = {
    "revenue": "revenue",
    "purchases": "purchases",
    "incremental_revenue": "incremental_revenue",
    "points_issued": "points_issued",
    "points_redeemed": "points_redeemed",
    "points_expired": "points_expired",
    "liability_at_end": "liability",
    "deferred_revenue_at_end": "deferred_revenue",
    "breakage_at_end": "breakage",
    "members_at_end": "members",
    "customers_at_end": "active_customers",
    "retention_lift_at_end": "retention_lift",
    "program_cost": "program_cost",
    "incremental_gross_margin": "incremental_gross_margin",
    "net_benefit": "net_benefit",
    "npv": "npv",
    "roi": "roi",
}


def headline_values(table: pa.Table) -> dict[str, npt.NDArray[np.float64]]:
    """Per replication, each headline figure of one program's monthly table."""
    return {name: per_replication(table, metric, None) for name, metric in HEADLINES.items()}


def summarise(a: pa.Table, b: pa.Table) -> dict[str, Any]:
    first, second = headline_values(a), headline_values(b)

    return {
        name: {
            "a": band(first[name], (5, 95)),
            "b": band(second[name], (5, 95)),
            "b_minus_a": band(second[name] - first[name], (5, 95)),
        }
        for name in first
        if name in second and first[name].size and first[name].size == second[name].size
    }
