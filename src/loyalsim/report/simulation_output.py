"""Outputs of ``loyalsim simulate``: monthly results (CSV, Parquet) and summary.json.

Monthly columns: ``replication``, ``month`` (YYYY-MM), ``arm`` (program or control),
``customers`` (alive at month end), ``members``, ``purchases``, ``revenue`` (currency),
``points_issued``, ``points_redeemed``, ``points_expired``, ``points_outstanding``
(program arm; points); ``expected_redemption_rate``, ``breakage``, ``liability_at_cost``,
``contract_liability`` and ``points_revenue`` (program arm; currency; see
:mod:`loyalsim.finance.forecast`). Every output carries the program and scenario content hashes, the
seed and the loyalsim version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from loyalsim import __version__
from loyalsim.compile.calendar import month_label
from loyalsim.compile.policy import Policy
from loyalsim.fileio import atomic_path, atomic_write_text
from loyalsim.population.scenario import Scenario
from loyalsim.simulate import Replication


def monthly_table(policy: Policy, scenario: Scenario, replications: list[Replication]) -> pa.Table:
    from loyalsim.finance.forecast import forecast

    cost_ratio = scenario.economics.get("reward_cost_ratio", 1.0)
    rows = []
    for r in replications:
        finance = {f.month: f for f in forecast(policy, r.months, cost_ratio)}
        for m in r.months:
            f = finance.get(m.month) if m.arm == "program" else None
            rows.append((r.index, month_label(m.month), m.arm, m.customers, m.members, m.purchases,
                         m.revenue / policy.money_unit, m.points_issued / policy.scale,
                         m.points_redeemed / policy.scale, m.points_expired / policy.scale,
                         m.points_outstanding / policy.scale,
                         f.expected_redemption_rate if f else None, f.breakage if f else None,
                         f.liability_at_cost if f else None, f.contract_liability if f else None,
                         f.points_revenue if f else None))
    names = ["replication", "month", "arm", "customers", "members", "purchases", "revenue", "points_issued",
             "points_redeemed", "points_expired", "points_outstanding", "expected_redemption_rate", "breakage",
             "liability_at_cost", "contract_liability", "points_revenue"]
    return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})


def stamp(policy: Policy, scenario: Scenario) -> dict[str, Any]:
    return {"loyalsim": __version__, "program": {"name": policy.name, "content_hash": policy.content_hash},
            "scenario": {"name": scenario.name, "content_hash": scenario.content_hash}, "seed": scenario.seed,
            "replications": scenario.replications}


def summary(policy: Policy, scenario: Scenario, table: pa.Table) -> dict[str, Any]:
    """Headline figures over the horizon, mean and P5/P50/P95 across replications."""
    data = table.to_pydict()
    arms: dict[str, dict[str, list[float]]] = {}
    for metric in ("purchases", "revenue", "points_issued", "points_redeemed", "points_expired"):
        for arm in ("program", "control"):
            per_rep: dict[int, float] = {}
            for rep, a, value in zip(data["replication"], data["arm"], data[metric], strict=True):
                if a == arm:
                    per_rep[rep] = per_rep.get(rep, 0.0) + value
            arms.setdefault(arm, {})[metric] = list(per_rep.values())
    last = max(data["month"]) if data["month"] else None
    for arm in ("program", "control"):
        for metric in ("customers", "members", "points_outstanding"):
            arms[arm][f"{metric}_at_end"] = [v for m, a, v in zip(data["month"], data["arm"], data[metric], strict=True)
                                            if a == arm and m == last]

    def stats(values: list[float]) -> dict[str, float]:
        array = np.array(values, dtype=float)
        return {"mean": float(array.mean()), "p5": float(np.percentile(array, 5)),
                "p50": float(np.percentile(array, 50)), "p95": float(np.percentile(array, 95))}

    incremental = np.array(arms["program"]["revenue"]) - np.array(arms["control"]["revenue"])
    months = sorted({m for m, a in zip(data["month"], data["arm"], strict=True) if a == "program"})
    finance: dict[str, Any] = {}
    for number in (12, 24, 36):
        if number <= len(months):
            label = months[number - 1]
            finance[f"month_{number}"] = {
                metric: stats([v for m, a, v in zip(data["month"], data["arm"], data[metric], strict=True)
                               if a == "program" and m == label])
                for metric in ("liability_at_cost", "contract_liability", "breakage", "points_outstanding")}
            finance[f"month_{number}"]["month"] = label
    if last is not None:
        finance["end"] = {metric: stats([v for m, a, v in zip(data["month"], data["arm"], data[metric], strict=True)
                                         if a == "program" and m == last])
                          for metric in ("liability_at_cost", "contract_liability", "breakage")}
    return {**stamp(policy, scenario), "horizon_days": scenario.days, "last_month": last, "finance": finance,
            "program_arm": {k: stats(v) for k, v in arms["program"].items()},
            "control_arm": {k: stats(v) for k, v in arms["control"].items() if not k.startswith("points")},
            "incremental_revenue": stats(list(incremental))}


def write(out: Path, policy: Policy, scenario: Scenario, replications: list[Replication]) -> dict[str, Any]:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = monthly_table(policy, scenario, replications)
    metadata = {b"loyalsim": json.dumps(stamp(policy, scenario)).encode()}
    table = table.replace_schema_metadata(metadata)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "monthly.parquet") as temporary:
        pq.write_table(table, temporary)
    with atomic_path(out / "monthly.csv") as temporary:
        pacsv.write_csv(table, temporary)
    headline = summary(policy, scenario, table)
    atomic_write_text(out / "summary.json", json.dumps(headline, indent=2) + "\n")
    from loyalsim.report.simulation_html import render

    atomic_write_text(out / "report.html", render(table, headline))
    return headline


def rerender(folder: Path) -> Path:
    """Write ``report.html`` again from the saved ``monthly.parquet`` and ``summary.json``."""
    import pyarrow.parquet as pq

    from loyalsim.errors import InputError
    from loyalsim.report.simulation_html import render

    missing = [name for name in ("monthly.parquet", "summary.json") if not (folder / name).is_file()]
    if missing:
        raise InputError(f"{folder}: not a `loyalsim simulate --out` folder: no {' or '.join(missing)}")
    try:
        table = pq.read_table(folder / "monthly.parquet")
        headline = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{folder}: cannot read the saved results: {str(exc).splitlines()[0]}") from exc
    target = folder / "report.html"
    atomic_write_text(target, render(table, headline))
    return target
