"""The array engine against a plain per-customer reference implementation, exactly.

The reference below walks one customer at a time through their purchases in plain Python:
the same population draws and the same counter-based uniforms (so the same random numbers),
but its own scheduling, lifetimes, frequency lift, churn reduction, and its own points
ledger for the program (1 point per whole dollar, lots expiring at the end of the 180th day,
every 100 points auto-redeemed at the end of a purchase day, oldest points first). Given
those numbers everything is deterministic, so the monthly figures must agree exactly.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml

from loyalsim.compile import load_policy
from loyalsim.compile.calendar import month_index
from loyalsim.population.draw import draw_customers
from loyalsim.population.scenario import load_scenario
from loyalsim.simulate import run_replication, streams
from loyalsim.simulate.quantiles import gamma_quantile

PROGRAM = """\
apiVersion: loyalsim/v1
kind: Program
metadata: {name: reference, currency: USD}
type: points
points: {name: points, value: 0.05, rounding: floor_amount}
earn: [{id: base, kind: spend, rate: 1}]
rewards:
  catalog: [{id: five, kind: discount, cost: 100, face_value: 5}]
  redemption: {policy: auto, default: five}
expiry: [{kind: rolling, after: 180 days}]
"""
LIFT, REDUCTION = 0.15, 0.3


# Not named `setup`: pytest 8.0 calls a module-level `setup` as a nose-style fixture.
def reference_case(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "reference.yaml").write_text(PROGRAM)
    scenario = {
        "apiVersion": "loyalsim/v1",
        "kind": "Scenario",
        "metadata": {"name": "reference"},
        "programs": ["reference.yaml"],
        "start": "2027-01-01",
        "horizon": "12 months",
        "seed": 99,
        "replications": 1,
        "population": {
            "initial": 1500,
            "arrivals_per_month": 60,
            "segments": [
                {
                    "id": "all",
                    "share": 1.0,
                    "purchase": {
                        "model": "bgnbd",
                        "time_unit": "week",
                        "params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
                    },
                    "spend": {"model": "gamma_gamma", "params": {"p": 6.25, "q": 3.74, "gamma": 15.44}},
                    "response": {"enrolment_rate": 1.0, "frequency_lift": LIFT, "churn_reduction": REDUCTION},
                }
            ],
        },
        "economics": {"gross_margin": 0.5},
    }
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scenario))
    return load_policy(tmp_path / "reference.yaml"), load_scenario(tmp_path / "s.yaml")


def purchases(
    c,
    i: int,
    key: int,
    days: int,
    *,
    lift: float,
    reduction: float,  # type: ignore[no-untyped-def]
) -> tuple[list[tuple[int, int]], float]:
    """One customer's purchases (day, cents), first at birth, then repeats until their lifetime or the
    horizon; and when their lifetime ends (inf if not within the horizon)."""
    birth, rate, p = int(c.birth[i]), float(c.rate[i]), float(c.dropout_p[i])
    q = p * (1 - reduction)
    allowed = max(math.ceil(math.log1p(-float(c.dropout_u[i])) / math.log1p(-q)), 1) if q > 0 else 10**18
    amount = lambda k: int(  # noqa: E731
        max(
            np.rint(
                gamma_quantile(
                    float(c.spend_shape[i]),
                    streams.uniforms(key, streams.AMOUNT, [i], [k]),
                )[0]
                / c.spend_scale[i]
                * 100
            ),
            1,
        )
    )
    out = [(birth, amount(0))]
    clock, last, death, k = 0.0, float(birth), math.inf, 0
    while rate > 0:
        gap = -math.log(float(streams.uniforms(key, streams.ARRIVAL, [i], [k + 1])[0]))
        clock += gap
        when = last + gap / (rate * (1 + lift))
        if when >= death or when > days - 1:
            break
        last, k = when, k + 1
        out.append((math.ceil(when), amount(k)))
        if k == allowed:  # the lifetime ends where the allowed-th purchase falls at the base rate
            death = birth + clock / rate
    return out, death


def points_by_month(bought: list[tuple[int, int]], start: int, days: int) -> dict[int, list[int]]:
    """earned, redeemed, expired per month and the balance at each month end, for one customer."""
    month = lambda day: int(month_index(np.array([start + day]))[0])  # noqa: E731
    flows: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    lots: list[list[int]] = []  # [expiry day, points], oldest first
    balances: dict[int, int] = {}
    by_day: dict[int, int] = defaultdict(int)
    for day, cents in bought:
        by_day[day] += cents // 100  # one point per whole dollar of each purchase
        flows[month(day)][0] += cents // 100

    def expire_through(day: int) -> None:
        while lots and lots[0][0] <= day:
            flows[month(lots[0][0])][2] += lots[0][1]
            lots.pop(0)

    for day in range(days):
        if day in by_day:
            if by_day[day]:
                lots.append([day + 179, by_day[day]])
            take = sum(points for _, points in lots) // 100 * 100
            flows[month(day)][1] += take
            while take:
                used = min(take, lots[0][1])
                lots[0][1] -= used
                take -= used
                if not lots[0][1]:
                    lots.pop(0)
        expire_through(day)
        if month(day + 1) != month(day):
            balances[month(day)] = sum(points for _, points in lots)
    return {m: [*flows[m], balances.get(m, 0)] for m in balances}


@pytest.mark.slow
def test_engine_matches_the_per_customer_reference_exactly(tmp_path: Path) -> None:
    policy, scenario = reference_case(tmp_path)
    result = run_replication(policy, scenario, 0)
    population_seed, key_seed = np.random.SeedSequence(scenario.seed).spawn(1)[0].spawn(2)
    customers = draw_customers(scenario, np.random.default_rng(population_seed)).busiest_first(
        scenario.initial
    )
    key = int(key_seed.generate_state(1, dtype=np.uint64)[0])
    expected: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    month = lambda day: int(month_index(np.array([scenario.start + day]))[0])  # noqa: E731
    month_ends = [
        day for day in range(scenario.days) if day == scenario.days - 1 or month(day + 1) != month(day)
    ]
    alive: dict[tuple[int, str], int] = defaultdict(int)
    for i in range(customers.size):
        for arm, lift, reduction in (("control", 0.0, 0.0), ("program", LIFT, REDUCTION)):
            bought, death = purchases(customers, i, key, scenario.days, lift=lift, reduction=reduction)
            for ends in month_ends:  # active at a month end: born, and the lifetime not over
                if customers.birth[i] <= ends < death:
                    alive[(month(ends), arm)] += 1
            for day, cents in bought:
                expected[(month(day), arm)][0] += 1
                expected[(month(day), arm)][1] += cents
            if arm == "program":
                for m, (earned, redeemed, expired, balance) in points_by_month(
                    bought, scenario.start, scenario.days
                ).items():
                    row = expected[(m, arm)]
                    row[2] += earned
                    row[3] += redeemed
                    row[4] += expired
                    row[5] += balance
    got = {
        (m.month, m.arm): [
            m.purchases,
            m.revenue,
            m.points_issued,
            m.points_redeemed,
            m.points_expired,
            m.points_outstanding,
        ]
        for m in result.months
    }
    got = {k: v if k[1] == "program" else [*v[:2], 0, 0, 0, 0] for k, v in got.items()}
    assert got == dict(expected)
    assert {(m.month, m.arm): m.customers for m in result.months} == dict(alive)
    # The comparison is not vacuous: both arms bought, points were redeemed and expired.
    totals = np.array(list(got.values())).sum(axis=0)
    assert totals[0] > 5000 and totals[3] > 0 and totals[4] > 0
