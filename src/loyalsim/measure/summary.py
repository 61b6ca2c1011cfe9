"""A simulation's summary (summary.json): headline figures with their mean and P5/P50/P95 across
replications, finance at months 12, 24, 36, the peak and the end, economics, cohorts.

Where: the measure stage, on the monthly table (:mod:`loyalsim.measure.monthly`); the report
stage writes and renders what it returns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from loyalsim import __version__
from loyalsim.compile.calendar import month_label
from loyalsim.compile.policy import Policy
from loyalsim.measure.stats import band
from loyalsim.population.scenario import Scenario
from loyalsim.simulate.results import Replication


def cohort_summary(replications: list[Replication]) -> list[dict[str, Any]]:
    """Per earn cohort at the end of the horizon, means across replications: points issued, the share
    redeemed and expired so far, and the projected ultimate redemption rate and breakage (chain-ladder)."""
    from loyalsim.finance.cohorts import ultimate_rates

    per: dict[int, list[tuple[float, float, float, float]]] = {}
    for r in replications:
        # (the run-off may begin in a running program's history, before the months forecast)
        months = sorted({m.month for m in r.months if m.arm == "program"} | {row[0] for row in r.cohorts})
        known = {(c, m): (i, red, exp) for m, c, i, red, exp in r.cohorts}
        for cohort, (issued, rate) in ultimate_rates(r.cohorts, months).items():
            _, red, exp = known[(cohort, months[-1])]
            per.setdefault(cohort, []).append((issued, red / issued, exp / issued, rate))
    return [
        {
            "cohort": month_label(cohort),
            "points_issued": float(np.mean([v[0] for v in values])),
            "redeemed_share": float(np.mean([v[1] for v in values])),
            "expired_share": float(np.mean([v[2] for v in values])),
            "ultimate_redemption_rate": float(np.mean([v[3] for v in values])),
            "breakage": 1 - float(np.mean([v[3] for v in values])),
        }
        for cohort, values in sorted(per.items())
    ]


def opening_summary(policy: Policy, replications: list[Replication]) -> dict[str, Any] | None:
    """A running program's book at the end of its history (the same in every replication: it
    is replayed, not drawn): its month, points outstanding and customers; None without one."""
    opening = next((r.opening for r in replications if r.opening), None)
    if opening is None:
        return None
    money: dict[str, Any] = {
        name: opening[name] / policy.money_unit
        for name in ("cashback_payable", "dividend_payable")
        if name in opening
    }
    return {
        "month": month_label(opening["month"]),
        "points_outstanding": opening["points_outstanding"] / policy.scale,
        "customers": opening["customers"],
        **money,
    }


def drawn_summary(scenario: Scenario) -> list[dict[str, Any]]:
    """Each response stated as a distribution: where, the distribution, and the values its
    replications drew (mean, P5, P50, P95). The draws are recomputed from the seed (they are a
    function of the scenario and the replication index), so no replication has to carry them."""
    stated = [
        (path, segment, name, uncertain)
        for path, segment in zip(scenario.response_paths(), scenario.segments, strict=True)
        for name, uncertain in segment.uncertain
    ]
    if not stated:
        return []
    drawn = [scenario.drawn(index).segments for index in range(scenario.replications)]
    position = {segment.id: i for i, segment in enumerate(scenario.segments)}
    return [
        {
            "path": f"{path}.response.{name}",
            **uncertain.describe(),
            "drawn": band([segments[position[segment.id]].responds(name) for segments in drawn]),
        }
        for path, segment, name, uncertain in stated
    ]


def stamp(policy: Policy, scenario: Scenario) -> dict[str, Any]:
    return {
        "loyalsim": __version__,
        "program": {"name": policy.name, "content_hash": policy.content_hash, "currency": policy.currency},
        "scenario": {"name": scenario.name, "content_hash": scenario.content_hash},
        "seed": scenario.seed,
        "replications": scenario.replications,
    }


# Figures summed over the horizon per replication, for each arm.
TOTALS = ("purchases", "revenue", "points_issued", "points_redeemed", "points_expired", "referrals")
AT_END = ("customers", "members", "points_outstanding")  # each arm's figures at the last month
# The program arm's finance at a month: the first four, then the other stocks.
LIABILITIES = ("liability_at_cost", "contract_liability", "breakage", "points_outstanding")
STOCKS = (
    "liability_at_cost",
    "contract_liability",
    "breakage",
    "points_outstanding",
    "cashback_payable",
    "dividend_payable",
    "deferred_fee_revenue",
    "subscribers",
    "expected_redemption_rate",
)
# The monthly flows summed over the horizon in summary.json's economics, each with its present value.
FLOWS = (
    "program_cost",
    "incremental_gross_margin",
    "net_benefit",
    "reward_cost",
    "fixed_costs",
    "cashback_accrued",
    "dividend_accrued",
    "allocated_to_points",
    "points_revenue",
    "fees_billed",
    "fee_revenue",
    "referral_cost",
    "donations",
    "perk_cost",
)


class _Rows:
    """The monthly table's columns, read by arm and month."""

    def __init__(self, table: pa.Table) -> None:
        self.data = table.to_pydict()

    def per_replication(self, metric: str, arm: str) -> list[float]:
        """``metric`` summed over the horizon, one value per replication (in replication order)."""
        data, totals = self.data, dict[int, float]()
        for rep, a, value in zip(data["replication"], data["arm"], data[metric], strict=True):
            if a == arm:
                totals[rep] = totals.get(rep, 0.0) + value
        return list(totals.values())

    def at(self, metric: str, arm: str, month: str | None) -> list[float]:
        """``metric`` of ``arm`` at ``month``, one value per replication."""
        data = self.data
        return [
            v
            for m, a, v in zip(data["month"], data["arm"], data[metric], strict=True)
            if a == arm and m == month
        ]

    def program_months(self) -> list[str]:
        return sorted(
            {m for m, a in zip(self.data["month"], self.data["arm"], strict=True) if a == "program"}
        )


def summary(policy: Policy, scenario: Scenario, table: pa.Table) -> dict[str, Any]:
    """Headline figures over the horizon, mean and P5/P50/P95 across replications."""
    rows = _Rows(table)
    arms = {
        arm: {metric: rows.per_replication(metric, arm) for metric in TOTALS}
        for arm in ("program", "control")
    }
    last = max(rows.data["month"]) if rows.data["month"] else None
    for arm, figures in arms.items():
        figures.update({f"{metric}_at_end": rows.at(metric, arm, last) for metric in AT_END})
    incremental = np.array(arms["program"]["revenue"]) - np.array(arms["control"]["revenue"])
    per_replication = _economics(rows.data)
    economics: dict[str, Any] = {name: band(values) for name, values in per_replication.items()}
    economics["per_replication"] = per_replication  # in replication order
    return {
        **stamp(policy, scenario),
        "horizon_days": scenario.days,
        "last_month": last,
        "finance": _finance(rows, last),
        "program_arm": {k: band(v) for k, v in arms["program"].items()},
        "control_arm": {k: band(v) for k, v in arms["control"].items() if not k.startswith("points")},
        "incremental_revenue": band(list(incremental)),
        "economics": economics,
    }


def _finance(rows: _Rows, last: str | None) -> dict[str, Any]:
    """The program arm's liabilities and stocks at months 12, 24 and 36, at the month of the
    highest mean liability at cost (``peak``), and at the end."""
    months = rows.program_months()
    finance: dict[str, Any] = {}
    for number in (12, 24, 36):
        if number <= len(months):
            label = months[number - 1]
            figures: dict[str, Any] = {
                metric: band(rows.at(metric, "program", label)) for metric in LIABILITIES
            }
            figures["month"] = label
            figures.update({metric: band(rows.at(metric, "program", label)) for metric in STOCKS})
            finance[f"month_{number}"] = figures
    if months:
        mean_liability = {m: float(np.mean(rows.at("liability_at_cost", "program", m))) for m in months}
        peak = max(months, key=lambda m: (mean_liability[m], -months.index(m)))
        finance["peak"] = {
            "month": peak,
            "month_number": months.index(peak) + 1,
            **{metric: band(rows.at(metric, "program", peak)) for metric in STOCKS},
        }
    if last is not None:
        finance["end"] = {metric: band(rows.at(metric, "program", last)) for metric in STOCKS}
    return finance


def _economics(data: dict[str, list[Any]]) -> dict[str, list[float]]:
    """Per replication, horizon totals: program cost, incremental gross margin, net benefit, ROI, NPV."""
    per: dict[int, dict[str, float]] = {}
    for i, rep in enumerate(data["replication"]):
        if data["arm"][i] != "program":
            continue
        row = per.setdefault(rep, {})
        factor = data["discount_factor"][i]
        for name in FLOWS:
            row[name] = row.get(name, 0.0) + data[name][i]
            row[f"{name}_pv"] = row.get(f"{name}_pv", 0.0) + data[name][i] * factor
    out: dict[str, list[float]] = {}
    for _, row in sorted(per.items()):
        if row["program_cost"] > 0:  # no ROI for a program that costs nothing
            row["roi"] = row["net_benefit"] / row["program_cost"]
        row["npv"] = row.pop("net_benefit_pv")
        for name, value in row.items():
            out.setdefault(name, []).append(value)
    return out
