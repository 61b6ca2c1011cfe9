"""Estimating a simulation's work before it starts, and refusing a run that would not end.

Where: the runner (:func:`loyalsim.run.runner.run`), beside the memory check, for every
command that simulates. Why: a scenario with a tiny Gamma ``alpha`` (purchase rates in the
thousands a week), a huge ``frequency_lift`` or a million replications is valid YAML, and
would otherwise run for days at full load with nothing to say.

The estimate is an upper bound on purchases: each customer's expected rate is r/alpha per
time unit (the Gamma mean) with no dropout, over the horizon, times the stated lifts
(``frequency_lift``, ``goal_gradient``, ``post_reward_lift``), both arms, plus each
customer's first purchase. Time is that bound over a measured rate of purchases and of
customer-months per second (benchmarks/README.md: about a million purchases and three million
customer-months a second on one core of the 2-core reference machine), on the
replications that run at once. Dropout makes real runs faster, never slower, than the bound.
``LOYALSIM_WORK_CHECK=0`` turns the refusal off.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from loyalsim.durations import DAYS_PER_MONTH
from loyalsim.errors import UsageError
from loyalsim.run import memory

PURCHASES_PER_SECOND = 1_000_000
CUSTOMER_MONTHS_PER_SECOND = 3_000_000
# A run estimated to take longer than this is refused (LOYALSIM_WORK_CHECK=0 runs it anyway).
MAX_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Workload:
    """Upper bounds for one replication of a scenario."""

    customers: int
    purchases: float  # both arms
    customer_months: float

    @property
    def seconds(self) -> float:
        return self.purchases / PURCHASES_PER_SECOND + self.customer_months / CUSTOMER_MONTHS_PER_SECOND


def estimate(scenario: Any) -> Workload:
    """The work of one replication of ``scenario`` (see the module's docstring)."""
    customers = memory.customers(scenario)
    purchases = 0.0
    for segment in scenario.segments:
        r, alpha = segment.purchase_params[0], segment.purchase_params[1]
        units = scenario.days / segment.days_per_unit
        lift = (
            (1 + max(segment.responds("frequency_lift"), 0.0))
            * (1 + max(segment.responds("goal_gradient"), 0.0))
            * (1 + max(segment.responds("post_reward_lift"), 0.0))
        )
        per_customer = 1 + r / alpha * units * lift
        purchases += 2 * segment.share * (customers - memory.existing(scenario)) * per_customer
        history = getattr(scenario, "history", None)
        if segment.share == 0 and history is not None and history.summary is not None:
            summary = history.summary  # each existing customer at their posterior mean rate
            rates = (r + summary.x) / (alpha + summary.T)
            purchases += 2 * float(rates.sum()) * units * lift
    return Workload(customers, purchases, customers * scenario.days / DAYS_PER_MONTH)


def describe(seconds: float) -> str:
    """A duration for people: 40 s, 12 min, 3.5 h, 9 days."""
    if seconds < 90:
        return f"{seconds:,.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:,.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:,.1f} h"
    return f"{seconds / 86400:,.0f} days"


def total_seconds(scenarios: Sequence[Any], at_once: int) -> float:
    """Estimated wall time of one replication of each of ``scenarios``, ``at_once`` running together."""
    counts: dict[int, tuple[Any, int]] = {}
    for scenario in scenarios:  # replications share their scenario object: estimate each once
        known = counts.get(id(scenario))
        counts[id(scenario)] = (scenario, 1 if known is None else known[1] + 1)
    return sum(estimate(s).seconds * n for s, n in counts.values()) / max(1, at_once)


def check(scenarios: Sequence[Any], at_once: int) -> None:
    """Raise a UsageError when replications of ``scenarios`` (one entry per replication) would
    take longer than ``MAX_SECONDS``, with the figures and what to change."""
    if os.environ.get("LOYALSIM_WORK_CHECK", "1") == "0" or not scenarios:
        return
    seconds = total_seconds(scenarios, at_once)
    if seconds <= MAX_SECONDS:
        return
    largest = max({id(s): s for s in scenarios}.values(), key=lambda s: estimate(s).seconds)
    work = estimate(largest)
    per_customer = work.purchases / 2 / max(work.customers, 1)
    raise UsageError(
        f"{largest.file}: this run would take about {describe(seconds)} ({len(scenarios):,} replication(s); "
        f"the largest: {work.customers:,} customers making up to {per_customer:,.0f} purchases each over the "
        f"horizon, {work.purchases:,.0f} in both arms), more than the {describe(MAX_SECONDS)} loyalsim starts "
        "without being asked. Check the purchase model (a small alpha means a high purchase rate: r/alpha "
        "purchases per time unit) and the lifts, or use fewer replications or customers, more --workers or a "
        "--cluster; LOYALSIM_WORK_CHECK=0 runs it anyway."
    )
