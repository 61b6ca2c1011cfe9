"""The tables of a simulation: a row per replication, month and arm, and the cohort run-off.

Where: the measure stage. Columns are named where they are filled (docs/finance.md documents
each with its unit): ``replication``, ``month`` (YYYY-MM), ``arm`` (program or control), the
counts of :data:`COUNTS`, ``revenue`` (currency), the points of :data:`POINTS`, then the finance
columns of the program arm (:data:`FINANCE_COLUMNS`, :mod:`loyalsim.finance.forecast`) and
active members per tier (``tier_<id>``).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from loyalsim.compile.calendar import month_label
from loyalsim.compile.policy import Policy
from loyalsim.population.scenario import Scenario
from loyalsim.simulate.results import Replication

# Counts of customers and events, as the simulator records them.
COUNTS = (
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
)
MONEY = ("revenue",)  # minor units in the simulator, currency here
POINTS = ("points_issued", "points_redeemed", "points_expired", "points_outstanding", "points_donated")
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
    """Every month of every replication, control and program arm, with the program's finance."""
    from loyalsim.finance.forecast import forecast

    levels = policy.tiers.levels if policy.tiers is not None else ()
    tiers = [f"tier_{level.id}" for level in levels]
    names = ["replication", "month", "arm", *COUNTS, *MONEY, *POINTS, *FINANCE_COLUMNS, *tiers]
    data: dict[str, list[Any]] = {name: [] for name in names}
    for r in replications:
        finance = {f.month: f for f in forecast(policy, r.months, scenario.economics, r.cohorts, r.history)}
        for m in r.months:
            f = finance.get(m.month) if m.arm == "program" else None
            row: dict[str, Any] = {"replication": r.index, "month": month_label(m.month), "arm": m.arm}
            row.update({name: getattr(m, name) for name in COUNTS})
            row.update({name: getattr(m, name) / policy.money_unit for name in MONEY})
            row.update({name: getattr(m, name) / policy.scale for name in POINTS})
            row.update({name: getattr(f, name) if f else None for name in FINANCE_COLUMNS})
            counts = m.tier_counts if m.arm == "program" and m.tier_counts else None
            row.update({name: counts[i] if counts else None for i, name in enumerate(tiers)})
            for name, value in row.items():
                data[name].append(value)
    return pa.table(data)


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
