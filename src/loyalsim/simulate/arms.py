"""The two arms' customers and their purchases: who buys on a day, or over a month, and what.

Where: the simulate stage. Purchase k of customer i happens at birth + E_k / rate, where
E_k is the k-th arrival of a unit-rate Poisson process shared by both arms (common random
numbers): the arms differ only in the rates (the program arm's members are lifted) and in
when BG/NBD dropout comes (churn reduction). The compiled arithmetic is in ``schedule``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from loyalsim.population.draw import Customers
from loyalsim.simulate import schedule
from loyalsim.simulate.spending import Spend
from loyalsim.simulate.story import Story

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
NEVER = np.iinfo(np.int64).max // 4
Bought = tuple[IntArray, IntArray, IntArray]  # (customers, amounts in minor units, purchase numbers)


def allowed_repeats(u: Array, p: Array, churn_reduction: Array) -> IntArray:
    """Repeat purchases before dropout: Geometric(p') by inversion of one shared uniform."""
    q = p * (1 - churn_reduction)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.ceil(np.log1p(-u) / np.log1p(-q))
    return np.where(q > 0, np.maximum(k, 1), NEVER).astype(np.int64)


@dataclass
class Arm:
    """One arm's customer state."""

    allowed: IntArray  # repeat purchases before dropping out (BG/NBD), NEVER otherwise
    repeats: IntArray
    clock: Array  # E_k of the last scheduled purchase
    gone: BoolArray
    death: Array  # day offset after which the customer buys no more (inf until known under BG/NBD)
    last_time: Array  # time (day offset) of the last scheduled purchase
    birth: Array  # day offset of the first purchase in this arm (referees: only in the program arm)
    horizon: int  # days simulated
    next_day: npt.NDArray[np.signedinteger[Any]] = field(
        init=False
    )  # day of the next scheduled purchase (-1: none)

    def __post_init__(self) -> None:
        self.next_day = schedule.new_calendar(self.allowed.size, self.horizon)

    @classmethod
    def of(cls, customers: Customers, churn_reduction: Array, horizon: int) -> Arm:
        n = customers.size
        return cls(
            allowed_repeats(customers.dropout_u, customers.dropout_p, churn_reduction),
            np.zeros(n, dtype=np.int64),
            np.zeros(n),
            np.zeros(n, dtype=bool),
            customers.death.copy(),
            customers.birth.astype(float),
            customers.birth.astype(float),
            horizon,
        )

    def due(self, day: int) -> IntArray:
        found: IntArray = schedule.due_on(self.next_day, day)
        return found

    def alive_at(self, day: int) -> BoolArray:
        """Born and not yet dead on ``day``: alive until the lifetime ends (not until the last
        purchase before it: a member who buys faster makes their last purchase earlier but lives
        just as long)."""
        alive: BoolArray = (self.birth <= day) & (day < self.death)
        return alive


@dataclass
class Shopping:
    """One arm's purchases of a day (or a month): those the program has still to credit, and their totals."""

    bought: list[Bought]
    purchases: int
    revenue: int  # minor units


@dataclass
class Tally:
    """One arm's totals of the month so far (minor units for money)."""

    purchases: int = 0
    revenue: int = 0
    member_revenue: int = 0  # sales to members, which grant points
    donations: int = 0  # per purchase, points converted, and the company's match

    def add(self, shopping: Shopping) -> list[Bought]:
        """Count a day's purchases in the month; returns those the program has to credit."""
        self.purchases += shopping.purchases
        self.revenue += shopping.revenue
        return shopping.bought

    def take(self) -> Tally:
        """The month's totals; the tally starts the next month from zero."""
        month = Tally(self.purchases, self.revenue, self.member_revenue, self.donations)
        self.purchases = self.revenue = self.member_revenue = self.donations = 0
        return month


@dataclass(frozen=True)
class Births:
    """The customers born on each day: ``order`` (customers by birth day) cut at ``edges[day]``."""

    order: IntArray
    edges: IntArray

    @classmethod
    def of(cls, birth: IntArray, days: int) -> Births:
        order = np.argsort(birth, kind="stable")
        return cls(order, np.searchsorted(birth[order], np.arange(days + 1)))

    def between(self, start: int, stop: int) -> IntArray:
        """Customers born on days ``start`` .. ``stop - 1``."""
        born: IntArray = self.order[self.edges[start] : self.edges[stop]]
        return born


@dataclass
class Shopper:
    """One arm's purchases, drawn day by day (:meth:`day`) or a month at a time (:meth:`span`)."""

    name: str  # "control" or "program"
    arm: Arm
    customers: Customers
    rate_now: Callable[[IntArray, int], Array]  # purchases per day of customers after a day's purchases
    span_rate: Array | None  # fixed rates, when the arm may go a month at a time
    switch: Array  # the time from which each customer buys at ``rate_now`` (their enrolment), base before
    until: Array  # the time their lift wears off (inf: never), base after
    spend: Spend
    arrival: np.uint64  # the arrival stream's base (streams.stream_base)
    births: Births
    story: Story
    keep: bool  # return the purchases for the program to credit
    credit_each_wave: Callable[[int, list[Bought]], None] | None = None  # points needed before the next gap
    # Every purchase drawn, as (days, customers, amounts, purchase numbers), when recorded
    # (synthetic transactions: ``simulate --transactions``); None: not kept.
    recorded: list[tuple[IntArray, IntArray, IntArray, IntArray]] | None = None

    @property
    def last_day(self) -> int:
        return self.arm.horizon - 1

    def schedule_next(self, who: IntArray, day: int) -> IntArray:
        """Draw each customer's next repeat purchase; return those falling on ``day`` (today)."""
        arm = self.arm
        due_today: IntArray = schedule.schedule_next(
            who,
            self.rate_now(who, day),
            self.customers.rate,
            self.switch,
            self.until,
            self.arrival,
            arm.repeats,
            arm.clock,
            arm.last_time,
            arm.death,
            arm.gone,
            arm.next_day,
            day,
            self.last_day,
        )
        return due_today

    def repeat(self, batch: IntArray) -> IntArray:
        """Count today's repeat purchases of ``batch`` (ending BG/NBD lifetimes reached); their purchase numbers."""
        arm = self.arm
        numbers: IntArray = schedule.count_repeats(
            batch, arm.repeats, arm.allowed, arm.death, arm.birth, arm.clock, self.customers.rate
        )
        return numbers

    def day(self, day: int, first: IntArray) -> Shopping:
        """The arm's purchases of ``day``: newcomers' (``first``) first ones and the due repeats,
        then the same-day purchases they lead to (waves)."""
        purchases = revenue = 0
        repeats = self.arm.due(day)
        who = np.concatenate((first, repeats))
        number = np.concatenate((np.zeros(first.size, dtype=np.int64), self.repeat(repeats)))
        bought: list[Bought] = []
        while who.size:
            amounts = self.spend(who, number)
            if self.recorded is not None:
                self.recorded.append((np.full(who.size, day, dtype=np.int64), who, amounts, number))
            self.story.purchases(self.name, day, who, amounts, number)
            purchases += int(who.size)
            revenue += int(amounts.sum())
            if self.keep:
                bought.append((who, amounts, number))
                if self.credit_each_wave is not None:
                    self.credit_each_wave(day, bought)
                    bought = []
            who = self.schedule_next(who, day)
            number = self.repeat(who)
        self.story.dropout(self.name, day, self.arm.gone, self.arm.repeats)
        return Shopping(bought, purchases, revenue)

    def span(self, start: int, stop: int) -> tuple[Shopping, IntArray]:
        """The arm's purchases of days ``start`` .. ``stop - 1`` (rates fixed), with each one's day."""
        arm, rate = self.arm, self.span_rate
        assert rate is not None
        who, days, numbers = schedule.draw_span(
            start,
            stop,
            self.births.between(start, stop),
            rate,
            self.customers.rate,
            self.switch,
            self.until,
            self.arrival,
            arm.repeats,
            arm.allowed,
            arm.clock,
            arm.last_time,
            arm.death,
            arm.birth,
            arm.gone,
            arm.next_day,
            self.last_day,
        )
        amounts = self.spend(who, numbers)
        if self.recorded is not None:
            self.recorded.append((days, who, amounts, numbers))
        return Shopping([(who, amounts, numbers)], int(who.size), int(amounts.sum())), days
