"""What a program gives back, and the lift it buys: the value response (docs/behaviour.md,
"A response to what the program gives").

Where: the simulate stage, once per replication (cached per program and segment). A segment
whose response has ``value_response: {reference, half_value}`` states its ``frequency_lift``
as measured on the reference program (``fit response`` on that program's data); under another
program the lift is

    frequency_lift x g(v) / g(v_reference),   g(v) = v / (v + half_value),

where v is the value the program returns to a member per unit of spend. g rises with v
and flattens (diminishing returns: at v = half_value the lift is half its ceiling), is 0 at
v = 0 (a program that gives nothing lifts nothing), and the ratio is 1 under the reference
program itself, so the measured lift is reproduced there exactly.

v is measured by the program's own rules, through the replay engine ``earn`` uses, on a
reference stream: REFERENCE_CUSTOMERS customers drawn from the segment's purchase-rate and
spend models, all members, buying for REFERENCE_DAYS with no dropout (active members), auto
redemption. v = (points earned less points expired, at the points' monetary value, + cashback
and dividends accrued + membership perks used) / spend. Membership fees are not subtracted: a
fee's effect is on who takes the membership up and renews (``membership_take_up``, renewal),
and paying members are known to buy more to get their money's worth, not less. The stream is
drawn from a fixed seed, so v is a property of the program and the segment, the same in every
replication and for every seed.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from loyalsim.compile.calendar import day_number
from loyalsim.compile.policy import Policy
from loyalsim.population.scenario import Scenario, Segment
from loyalsim.replay.engine import MonthRows, ReplayEngine
from loyalsim.simulate.members import day_transactions

Array = npt.NDArray[np.float64]
REFERENCE_CUSTOMERS = 2000
REFERENCE_DAYS = 730  # two years: long enough for most expiry rules to act
REFERENCE_START = day_number("2001-01-01")  # any day: the stream's calendar (a Monday, a year's start)
_CACHE: dict[tuple[object, ...], float] = {}


def value_per_spend(policy: Policy, segment: Segment) -> float:
    """The value ``policy`` returns to a member of ``segment`` per unit of spend (module docstring)."""
    key: tuple[object, ...] = (policy.content_hash, segment.purchase_model, segment.purchase_params)
    key += (segment.days_per_unit, segment.spend_model, segment.spend_params)
    if key not in _CACHE:
        _CACHE[key] = _measure(policy, segment)
    return _CACHE[key]


def lift_factors(policy: Policy, scenario: Scenario) -> Array:
    """Per segment, the factor g(v) / g(v_reference) its frequency_lift is multiplied by under
    ``policy`` (1 for a segment without a value response)."""
    factors = np.ones(len(scenario.segments))
    for index, segment in enumerate(scenario.segments):
        if segment.value_response is None:
            continue
        reference, half_value = segment.value_response
        mine, theirs = value_per_spend(policy, segment), value_per_spend(reference, segment)
        if theirs <= 0:  # (the reference gives nothing: the stated lift cannot be scaled from it)
            continue
        mine = max(mine, 0.0)  # (nothing back, or less: no lift)
        factors[index] = (mine / (mine + half_value)) / (theirs / (theirs + half_value))
    return factors


def _measure(policy: Policy, segment: Segment) -> float:
    rng = np.random.default_rng(20010101)
    n = REFERENCE_CUSTOMERS
    r, alpha = segment.purchase_params[0], segment.purchase_params[1]
    rate = rng.gamma(r, 1 / alpha, n) / segment.days_per_unit  # purchases per day
    counts = rng.poisson(rate * REFERENCE_DAYS)
    who = np.repeat(np.arange(n), counts)
    day = rng.integers(0, REFERENCE_DAYS, who.size)
    if segment.spend_model == "gamma_gamma":
        p, q, gamma = segment.spend_params
        scale = rng.gamma(q, 1 / gamma, n)
        amount = rng.gamma(p, 1.0, who.size) / scale[who]
    else:
        mean, sigma = segment.spend_params
        amount = np.exp(np.log(mean) - sigma**2 / 2 + sigma * rng.standard_normal(who.size))
    if who.size == 0:  # (customers who never buy: nothing given back)
        return 0.0
    minor = np.maximum(np.round(amount * policy.money_unit), 1).astype(np.int64)
    order = np.lexsort((who, day))
    who, day, minor = who[order], day[order], minor[order]
    # Each purchase's number in its customer's life (the time-of-day order): its rank among the
    # customer's purchases, in day order.
    by_customer = np.argsort(who, kind="stable")
    starts = np.searchsorted(who[by_customer], np.arange(n))
    numbers = np.empty(who.size, dtype=np.int64)
    numbers[by_customer] = np.arange(who.size) - np.repeat(starts, counts)
    months: list[MonthRows] = []
    engine = ReplayEngine(
        policy, np.arange(n), redeem="auto", sink=months.append, lot_capacity=2 * who.size + 1024
    )
    engine.process_days(day_transactions(who, REFERENCE_START + day, minor, engine.customer_ids, numbers))
    engine.advance_to(REFERENCE_START + REFERENCE_DAYS)
    spend = float(minor.sum())
    if spend <= 0:
        return 0.0
    earned = sum(int(m.earned.sum()) for m in months)
    expired = sum(int(m.expired.sum()) for m in months)
    money_back = sum(int(m.cashback.sum()) + int(m.dividend.sum()) for m in months)
    points_value = (earned - expired) / policy.scale * float(policy.points.value) * policy.money_unit
    perks = float(sum(engine.perk_cost.values()))
    return (points_value + money_back + perks) / spend
