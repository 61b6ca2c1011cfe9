"""Referrals in the simulator: members bring new customers in, and both sides are rewarded.

Where: the simulate stage, used by :mod:`loyalsim.simulate.engine` for the program arm of
programs with a ``referral`` section, when a segment's ``referral_rate`` is above 0.

- At each month end, every active enrolled member makes Poisson(``referral_rate`` / 12)
  referrals, each converting with probability ``referee_conversion`` (one generator per
  replication and month, drawn in customer order, so results do not depend on how work
  is split).
- A converted referee is a new customer, drawn in advance from a pool with the scenario's
  segment mix (the pool is drawn from its own random stream, so adding referrals does not
  change any other customer). They make their first purchase on a uniform day within
  the program's ``window`` (at most 30 days) after the referral, join the program, and
  exist only in the program arm: the control never sees them.
- Qualifying: the referee's first purchase must reach ``min_first_purchase``. Then the
  referee's grant (points, a credit, or a discount on that purchase) and the referrer's
  grant (points or a credit; at most ``limit`` per referrer per period) are given. Points
  go through the program's ledger; credits and discounts are a cost of the program.
- If the pool runs out, further referees are counted in ``unplaced`` and not simulated.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from loyalsim.compile.mechanics import Referral

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[np.float64]


class Points(Protocol):
    """Where referral points go: the program's replay engine."""

    def credit(self, customers: IntArray, units: IntArray, day: int) -> None: ...


def pool_size(members: int, rate: float, conversion: float, days: int, customers: int) -> int:
    """Room for the referees a run may need: 1.5x the expected number, with referees referring in turn."""
    per_member = rate * days / 365.25 * conversion
    return int(min(1.5 * members * per_member * (1 + per_member) + 100, 3 * customers + 100))


@dataclass
class Referrals:
    # Referees are born on their own days, and granted on their first purchase.
    needs_daily_steps: ClassVar[bool] = True
    rules: Referral
    first: int  # index of the first pool customer
    size: int
    rate: Array  # referrals per member per year, per customer
    conversion: Array
    key: int
    days: int  # the horizon
    used: int = 0
    unplaced: int = 0
    due: dict[int, list[IntArray]] = field(default_factory=dict)
    referrer: IntArray = field(init=False)
    born: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # month → referees born
    cost: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # month → minor units of credits
    granted: IntArray = field(init=False)  # grants to each referrer in their current limit period
    granted_period: IntArray = field(init=False)

    def __post_init__(self) -> None:
        self.referrer = np.full(self.size, -1, dtype=np.int64)
        customers = self.first + self.size
        self.granted = np.zeros(customers, dtype=np.int64)
        self.granted_period = np.full(customers, -1, dtype=np.int64)

    def refer(self, month: int, last_day: int, who: IntArray) -> None:
        """Referrals made by ``who`` (active enrolled members) in the month ending on ``last_day``."""
        rng = np.random.default_rng([self.key, month, 0x5EF])
        made = rng.poisson(self.rate[who] / 12)
        converted = rng.binomial(made, self.conversion[who])
        referrers = np.repeat(who, converted)
        if referrers.size == 0:
            return
        room = self.size - self.used
        if referrers.size > room:
            self.unplaced += int(referrers.size - room)
            referrers = referrers[:room]
        spread = min(int(self.rules.window.approx_days) if self.rules.window else 30, 30)
        birth = last_day + 1 + rng.integers(0, max(spread, 1), referrers.size)
        inside = birth <= self.days - 1
        index = np.arange(self.used, self.used + referrers.size)
        self.used += int(referrers.size)
        self.referrer[index] = referrers
        for day in np.unique(birth[inside]).tolist():
            self.due.setdefault(int(day), []).append(self.first + index[inside & (birth == day)])

    def born_on(self, day: int) -> IntArray:
        parts = self.due.pop(day, [])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def grant(self, day: int, month: int, referees: IntArray, first_amount: IntArray, engine: Points) -> None:
        """Rewards for referees whose first purchase today qualifies, and for their referrers."""
        self.born[month] += int(referees.size)
        rules = self.rules
        ok = first_amount >= rules.min_first_purchase
        referees, first_amount = referees[ok], first_amount[ok]
        if referees.size == 0:
            return
        cost = 0
        engine.credit(referees, np.full(referees.size, rules.referee.points, dtype=np.int64), day)
        cost += rules.referee.credit * int(referees.size)
        if rules.referee.discount_rate is not None:
            rate = rules.referee.discount_rate
            cost += int((first_amount * rate.num // rate.den).sum())
        referrers = self.referrer[referees - self.first]
        if rules.limit_count is not None:
            period = int(day // max(rules.limit_per.approx_days, 1)) if rules.limit_per else 0
            stale = self.granted_period[referrers] != period
            self.granted[referrers[stale]] = 0
            self.granted_period[referrers] = period
            # The k-th grant to a referrer today is allowed while earlier grants + k stay within the limit.
            order = np.argsort(referrers, kind="stable")
            ranked = referrers[order]
            starts = np.flatnonzero(np.concatenate(([True], ranked[1:] != ranked[:-1])))
            rank = np.arange(ranked.size) - np.repeat(starts, np.diff(np.append(starts, ranked.size)))
            allowed = np.empty(referrers.size, dtype=bool)
            allowed[order] = self.granted[ranked] + rank < rules.limit_count
            referrers = referrers[allowed]
            np.add.at(self.granted, referrers, 1)
        if referrers.size:
            unique, counts = np.unique(referrers, return_counts=True)
            engine.credit(unique, counts * rules.referrer.points, day)
            cost += rules.referrer.credit * int(referrers.size)
        self.cost[month] += cost
