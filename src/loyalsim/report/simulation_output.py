"""Outputs of ``loyalsim simulate``: monthly results (CSV, Parquet) and summary.json.

Monthly columns (docs/finance.md documents each with its unit): ``replication``, ``month``
(YYYY-MM), ``arm`` (program or control), ``customers`` (alive at month end), ``members``,
``purchases``, ``revenue`` (currency), ``points_*`` (program arm; points), then the finance
columns of the program arm (:data:`FINANCE_COLUMNS`, :mod:`loyalsim.finance.forecast`).
``cohorts.{csv,parquet}`` hold the points run-off by earn cohort. Every output carries the
program and scenario content hashes, the seed and the loyalsim version.
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

FINANCE_COLUMNS = (
    "expected_redemption_rate",
    "breakage",
    "liability_at_cost",
    "contract_liability",
    "points_revenue",
    "allocated_to_points",
    "cashback_accrued",
    "cashback_expired",
    "cashback_paid",
    "cashback_payable",
    "dividend_accrued",
    "dividend_paid",
    "dividend_payable",
    "fees_billed",
    "fee_revenue",
    "deferred_fee_revenue",
    "reward_cost",
    "referral_cost",
    "reminder_cost",
    "donations",
    "donations_matched",
    "perk_cost",
    "fixed_costs",
    "program_cost",
    "incremental_revenue",
    "incremental_gross_margin",
    "net_benefit",
    "discount_factor",
)


def monthly_table(policy: Policy, scenario: Scenario, replications: list[Replication]) -> pa.Table:
    from loyalsim.finance.forecast import forecast

    levels = policy.tiers.levels if policy.tiers is not None else ()
    rows = []
    for r in replications:
        finance = {f.month: f for f in forecast(policy, r.months, scenario.economics, r.cohorts)}
        for m in r.months:
            f = finance.get(m.month) if m.arm == "program" else None
            rows.append(
                (
                    r.index,
                    month_label(m.month),
                    m.arm,
                    m.customers,
                    m.members,
                    m.subscribers,
                    m.memberships_started,
                    m.memberships_cancelled,
                    m.referrals,
                    m.community_actions,
                    m.reminders_sent,
                    m.prompted,
                    m.purchases,
                    m.revenue / policy.money_unit,
                    m.points_issued / policy.scale,
                    m.points_redeemed / policy.scale,
                    m.points_expired / policy.scale,
                    m.points_outstanding / policy.scale,
                    m.points_donated / policy.scale,
                    *(getattr(f, name) if f else None for name in FINANCE_COLUMNS),
                    *(
                        (m.tier_counts[i] if m.arm == "program" and m.tier_counts else None)
                        for i in range(len(levels))
                    ),
                )
            )
    names = [
        "replication",
        "month",
        "arm",
        "customers",
        "members",
        "subscribers",
        "memberships_started",
        "memberships_cancelled",
        "referrals",
        "community_actions",
        "reminders_sent",
        "prompted",
        "purchases",
        "revenue",
        "points_issued",
        "points_redeemed",
        "points_expired",
        "points_outstanding",
        "points_donated",
        *FINANCE_COLUMNS,
        *(f"tier_{level.id}" for level in levels),
    ]
    return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})


def cohort_table(policy: Policy, replications: list[Replication]) -> pa.Table:
    """Run-off by earn cohort: one row per replication, kind, cohort and month end (cumulative figures).

    ``kind`` is ``points`` (in points: issued, redeemed, expired), ``cashback`` or ``dividend``
    (in currency: accrued as issued, paid as redeemed, expired).
    """
    rows: list[tuple[Any, ...]] = []
    for r in replications:
        for kind, entries, scale in (
            ("points", r.cohorts, policy.scale),
            ("cashback", r.cashback_cohorts, policy.money_unit),
            ("dividend", r.dividend_cohorts, policy.money_unit),
        ):
            rows.extend(
                (
                    r.index,
                    kind,
                    month_label(cohort),
                    month_label(month),
                    month - cohort,
                    issued / scale,
                    redeemed / scale,
                    expired / scale,
                    (issued - redeemed - expired) / scale,
                )
                for month, cohort, issued, redeemed, expired in entries
            )
    names = [
        "replication",
        "kind",
        "cohort",
        "month",
        "age_months",
        "issued",
        "redeemed",
        "expired",
        "outstanding",
    ]
    return pa.table(
        {name: [row[i] for row in rows] for i, name in enumerate(names)},
        schema=pa.schema(
            [
                ("replication", pa.int64()),
                ("kind", pa.string()),
                ("cohort", pa.string()),
                ("month", pa.string()),
                ("age_months", pa.int64()),
                ("issued", pa.float64()),
                ("redeemed", pa.float64()),
                ("expired", pa.float64()),
                ("outstanding", pa.float64()),
            ]
        ),
    )


def cohort_summary(replications: list[Replication]) -> list[dict[str, Any]]:
    """Per earn cohort at the end of the horizon, means across replications: points issued, the share
    redeemed and expired so far, and the projected ultimate redemption rate and breakage (chain-ladder)."""
    from loyalsim.finance.cohorts import ultimate_rates

    per: dict[int, list[tuple[float, float, float, float]]] = {}
    for r in replications:
        months = sorted({m.month for m in r.months if m.arm == "program"})
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


def stamp(policy: Policy, scenario: Scenario) -> dict[str, Any]:
    return {
        "loyalsim": __version__,
        "program": {"name": policy.name, "content_hash": policy.content_hash, "currency": policy.currency},
        "scenario": {"name": scenario.name, "content_hash": scenario.content_hash},
        "seed": scenario.seed,
        "replications": scenario.replications,
    }


def summary(policy: Policy, scenario: Scenario, table: pa.Table) -> dict[str, Any]:
    """Headline figures over the horizon, mean and P5/P50/P95 across replications."""
    data = table.to_pydict()
    arms: dict[str, dict[str, list[float]]] = {}
    for metric in ("purchases", "revenue", "points_issued", "points_redeemed", "points_expired", "referrals"):
        for arm in ("program", "control"):
            per_rep: dict[int, float] = {}
            for rep, a, value in zip(data["replication"], data["arm"], data[metric], strict=True):
                if a == arm:
                    per_rep[rep] = per_rep.get(rep, 0.0) + value
            arms.setdefault(arm, {})[metric] = list(per_rep.values())
    last = max(data["month"]) if data["month"] else None
    for arm in ("program", "control"):
        for metric in ("customers", "members", "points_outstanding"):
            arms[arm][f"{metric}_at_end"] = [
                v
                for m, a, v in zip(data["month"], data["arm"], data[metric], strict=True)
                if a == arm and m == last
            ]

    def stats(values: list[float]) -> dict[str, float]:
        array = np.array(values, dtype=float)
        return {
            "mean": float(array.mean()),
            "p5": float(np.percentile(array, 5)),
            "p50": float(np.percentile(array, 50)),
            "p95": float(np.percentile(array, 95)),
        }

    incremental = np.array(arms["program"]["revenue"]) - np.array(arms["control"]["revenue"])
    months = sorted({m for m, a in zip(data["month"], data["arm"], strict=True) if a == "program"})
    finance: dict[str, Any] = {}
    for number in (12, 24, 36):
        if number <= len(months):
            label = months[number - 1]
            finance[f"month_{number}"] = {
                metric: stats(
                    [
                        v
                        for m, a, v in zip(data["month"], data["arm"], data[metric], strict=True)
                        if a == "program" and m == label
                    ]
                )
                for metric in ("liability_at_cost", "contract_liability", "breakage", "points_outstanding")
            }
            finance[f"month_{number}"]["month"] = label
    stocks = (
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
    for number in (12, 24, 36):
        if f"month_{number}" in finance:
            label = finance[f"month_{number}"]["month"]
            finance[f"month_{number}"].update(
                {
                    metric: stats(
                        [
                            v
                            for m, a, v in zip(data["month"], data["arm"], data[metric], strict=True)
                            if a == "program" and m == label
                        ]
                    )
                    for metric in stocks
                }
            )
    if months:  # the month whose mean liability at cost is highest, with its figures
        program_rows = [
            (m, v)
            for m, a, v in zip(data["month"], data["arm"], data["liability_at_cost"], strict=True)
            if a == "program"
        ]
        by_month: dict[Any, list[float]] = {}
        for m, v in program_rows:
            by_month.setdefault(m, []).append(v)
        peak = max(months, key=lambda m: (float(np.mean(by_month[m])), -months.index(m)))
        finance["peak"] = {
            "month": peak,
            "month_number": months.index(peak) + 1,
            **{
                metric: stats(
                    [
                        v
                        for m, a, v in zip(data["month"], data["arm"], data[metric], strict=True)
                        if a == "program" and m == peak
                    ]
                )
                for metric in stocks
            },
        }
    if last is not None:
        finance["end"] = {
            metric: stats(
                [
                    v
                    for m, a, v in zip(data["month"], data["arm"], data[metric], strict=True)
                    if a == "program" and m == last
                ]
            )
            for metric in stocks
        }
    per_replication = _economics(data)
    economics: dict[str, Any] = {name: stats(values) for name, values in per_replication.items()}
    economics["per_replication"] = per_replication  # in replication order
    return {
        **stamp(policy, scenario),
        "horizon_days": scenario.days,
        "last_month": last,
        "finance": finance,
        "program_arm": {k: stats(v) for k, v in arms["program"].items()},
        "control_arm": {k: stats(v) for k, v in arms["control"].items() if not k.startswith("points")},
        "incremental_revenue": stats(list(incremental)),
        "economics": economics,
    }


# The monthly flows summed over the horizon in summary.json's economics, each with its present value.
_FLOWS = (
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


def _economics(data: dict[str, list[Any]]) -> dict[str, list[float]]:
    """Per replication, horizon totals: program cost, incremental gross margin, net benefit, ROI, NPV."""
    per: dict[int, dict[str, float]] = {}
    for i, rep in enumerate(data["replication"]):
        if data["arm"][i] != "program":
            continue
        row = per.setdefault(rep, {})
        factor = data["discount_factor"][i]
        for name in _FLOWS:
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


def write(out: Path, policy: Policy, scenario: Scenario, replications: list[Replication]) -> dict[str, Any]:
    """A simulation's files in ``out``; returns the summary (summary.json's content)."""
    table = monthly_table(policy, scenario, replications)
    headline = summary(policy, scenario, table)
    headline["cohorts"] = cohort_summary(replications)
    write_files(out, policy, scenario, table, cohort_table(policy, replications), headline)
    return headline


def write_files(
    out: Path,
    policy: Policy,
    scenario: Scenario,
    monthly: pa.Table,
    cohorts: pa.Table,
    headline: dict[str, Any],
) -> None:
    """monthly.{csv,parquet}, cohorts.{csv,parquet} (stamped), summary.json and report.html in ``out``."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    metadata = {b"loyalsim": json.dumps(stamp(policy, scenario)).encode()}
    table = monthly.replace_schema_metadata(metadata)
    cohorts = cohorts.replace_schema_metadata(metadata)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in (("monthly", table), ("cohorts", cohorts)):
        with atomic_path(out / f"{name}.parquet") as temporary:
            pq.write_table(data, temporary)
        with atomic_path(out / f"{name}.csv") as temporary:
            pacsv.write_csv(data, temporary)
    atomic_write_text(out / "summary.json", json.dumps(headline, indent=2) + "\n")
    from loyalsim.report.simulation_html import render

    atomic_write_text(out / "report.html", render(table, headline, cohorts))


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
        cohorts = (
            pq.read_table(folder / "cohorts.parquet") if (folder / "cohorts.parquet").is_file() else None
        )
        headline = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{folder}: cannot read the saved results: {str(exc).splitlines()[0]}") from exc
    if not isinstance(headline, dict):
        raise InputError(
            f"{folder / 'summary.json'}: line 1: the file holds a {type(headline).__name__}, not the "
            "object `loyalsim simulate` writes; run the simulation again to rewrite it"
        )
    try:
        page = render(table, headline, cohorts)
    except (AttributeError, KeyError, TypeError, IndexError, ValueError) as exc:
        raise InputError(
            f"{folder}: the saved results do not hold what `loyalsim simulate` writes "
            f"({type(exc).__name__}: {exc}); run the simulation again to rewrite them"
        ) from exc
    target = folder / "report.html"
    atomic_write_text(target, page)
    return target
