"""Guardrails: assertions on forecast metrics, evaluated on simulated replications.

Where: the measure stage, behind ``loyalsim check``. A guardrail names a metric, a
statistic across replications (``mean`` or ``pNN``), optionally a month (1 = the first
month of the horizon), and bounds (``min``/``max``, inclusive). Without a month, flows
(revenue, purchases, points issued/redeemed/expired, incremental revenue, program cost,
incremental gross margin, net benefit) are totalled over the horizon and stocks (liability,
deferred revenue, breakage, members, customers, points outstanding, cashback and dividends
payable) are taken at the end. ``roi`` and ``npv`` cover the horizon, or its first
``month`` months.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from loyalsim.measure.stats import band

# Guardrail metric → (monthly column, arm, kind)
METRICS: dict[str, tuple[str, str, str]] = {
    "liability": ("liability_at_cost", "program", "stock"),
    "deferred_revenue": ("contract_liability", "program", "stock"),
    "breakage": ("breakage", "program", "stock"),
    "members": ("members", "program", "stock"),
    "active_customers": ("customers", "program", "stock"),
    "points_outstanding": ("points_outstanding", "program", "stock"),
    "purchases": ("purchases", "program", "flow"),
    "revenue": ("revenue", "program", "flow"),
    "points_issued": ("points_issued", "program", "flow"),
    "points_redeemed": ("points_redeemed", "program", "flow"),
    "points_expired": ("points_expired", "program", "flow"),
    "incremental_revenue": ("revenue", "difference", "flow"),
    "program_cost": ("program_cost", "program", "flow"),
    "incremental_gross_margin": ("incremental_gross_margin", "program", "flow"),
    "incremental_margin": ("incremental_gross_margin", "program", "flow"),
    "reward_cost": ("reward_cost", "program", "flow"),
    "retention_lift": ("customers", "difference", "stock"),  # active customers, program - control
    "net_benefit": ("net_benefit", "program", "flow"),
    "cashback_payable": ("cashback_payable", "program", "stock"),
    "fee_revenue": ("fee_revenue", "program", "flow"),
    "referrals": ("referrals", "program", "flow"),
    "donations": ("donations", "program", "flow"),
    "perk_cost": ("perk_cost", "program", "flow"),
    "deferred_fee_revenue": ("deferred_fee_revenue", "program", "stock"),
    "subscribers": ("subscribers", "program", "stock"),
    "dividend_payable": ("dividend_payable", "program", "stock"),
    # Over the horizon, or from the first month to ``month`` when one is given:
    "roi": ("net_benefit", "program", "roi"),  # net benefit / program cost
    "npv": ("net_benefit", "program", "npv"),  # net benefit discounted at the scenario's rate
}


@dataclass(frozen=True)
class Outcome:
    guardrail: dict[str, Any]
    index: int
    passed: bool | None  # None: the metric is not available
    value: float | None
    low: float | None  # P5 across replications
    high: float | None  # P95 across replications
    replications: int
    message: str


def per_replication(table: pa.Table, metric: str, month: int | None) -> npt.NDArray[np.float64]:
    """One value of ``metric`` per replication, in replication order: at ``month`` (1 = first), or over the
    horizon (flows totalled, stocks at the end; roi and npv up to ``month`` when given)."""
    column, arm, kind = METRICS[metric]
    data = table.to_pydict()
    months = sorted(set(data["month"]))
    chosen = None if month is None else months[month - 1]
    values: dict[int, float] = {}

    if kind in ("roi", "npv"):
        net: dict[int, float] = {}
        cost: dict[int, float] = {}
        for i, (rep, m, a) in enumerate(zip(data["replication"], data["month"], data["arm"], strict=True)):
            if a == "program" and (chosen is None or m <= chosen):
                factor = data["discount_factor"][i] if kind == "npv" else 1.0
                net[rep] = net.get(rep, 0.0) + data["net_benefit"][i] * factor
                cost[rep] = cost.get(rep, 0.0) + data["program_cost"][i]
        if kind == "npv":
            return np.array([net[k] for k in sorted(net)], dtype=float)
        return np.array([net[k] / cost[k] for k in sorted(net) if cost[k] > 0], dtype=float)

    def pick(wanted_arm: str) -> dict[int, float]:
        picked: dict[int, float] = {}
        for rep, m, a, v in zip(data["replication"], data["month"], data["arm"], data[column], strict=True):
            if a != wanted_arm or v is None:
                continue
            if chosen is not None:
                if m == chosen:
                    picked[rep] = float(v)
            elif kind == "flow":
                picked[rep] = picked.get(rep, 0.0) + float(v)
            elif m == months[-1]:
                picked[rep] = float(v)
        return picked

    if arm == "difference":
        program, control = pick("program"), pick("control")
        values = {rep: program[rep] - control.get(rep, 0.0) for rep in program}
    else:
        values = pick(arm)
    return np.array([values[k] for k in sorted(values)], dtype=float)


def evaluate(guardrails: tuple[dict[str, Any], ...], table: pa.Table) -> list[Outcome]:
    """Each guardrail measured on the simulated monthly table."""
    months = len(set(table.column("month").to_pylist()))
    outcomes = []
    for index, guard in enumerate(guardrails):
        metric, stat, month = guard["metric"], guard["stat"], guard.get("month")
        if metric not in METRICS:
            outcomes.append(
                Outcome(
                    guard,
                    index,
                    None,
                    None,
                    None,
                    None,
                    0,
                    f"guardrail '{guard['id']}': the metric '{metric}' is not produced by this "
                    "version of the simulator yet",
                )
            )
            continue
        if month is not None and month > months:
            outcomes.append(
                Outcome(
                    guard,
                    index,
                    None,
                    None,
                    None,
                    None,
                    0,
                    f"guardrail '{guard['id']}': month {month} is beyond the {months} simulated months",
                )
            )
            continue
        values = per_replication(table, metric, month)
        if values.size == 0:
            outcomes.append(
                Outcome(
                    guard,
                    index,
                    None,
                    None,
                    None,
                    None,
                    0,
                    f"guardrail '{guard['id']}': {metric} is not defined here (a program that costs "
                    "nothing has no ROI)",
                )
            )
            continue
        value = float(values.mean()) if stat == "mean" else float(np.percentile(values, int(stat[1:])))
        spread = band(values, (5, 95))
        low, high = spread["p5"], spread["p95"]
        passed = ("min" not in guard or value >= guard["min"]) and (
            "max" not in guard or value <= guard["max"]
        )
        bounds = " and ".join(
            part
            for part in (
                f">= {guard['min']:,}" if "min" in guard else "",
                f"<= {guard['max']:,}" if "max" in guard else "",
            )
            if part
        )
        where = f" at month {month}" if month is not None else " over the horizon"
        outcomes.append(
            Outcome(
                guard,
                index,
                passed,
                value,
                low,
                high,
                int(values.size),
                f"guardrail '{guard['id']}' {'passed' if passed else 'FAILED'}: {stat} of {metric}{where} = "
                f"{value:,.4g} (required {bounds}); P5-P95 across {values.size} replications: {low:,.4g} to {high:,.4g}",
            )
        )
    return outcomes
