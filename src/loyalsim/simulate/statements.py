"""The program's month-end statements in the simulator: points, money ledgers, tiers and cohorts.

Where: the simulate stage. The replay engine hands each month's rows to :meth:`Statements.collect`
(its sink) when it closes the month; :meth:`Statements.fill` writes them into the program
arm's month results once the run is over.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from loyalsim.compile.calendar import first_of_month, last_of_month
from loyalsim.compile.exact import divide
from loyalsim.compile.policy import Policy
from loyalsim.replay.engine import MonthRows
from loyalsim.simulate.cashback import CashbackLedger, DividendLedger
from loyalsim.simulate.results import MonthResult
from loyalsim.simulate.story import Story

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass
class PointsMonth:
    """One month's program figures from the replay engine and the money ledgers (points units, minor units)."""

    issued: int
    redeemed: int
    expired: int
    outstanding: int
    cashback_accrued: int
    dividend_accrued: int
    cashback_paid: int = 0
    cashback_expired: int = 0
    cashback_payable: int = 0
    dividend_paid: int = 0
    dividend_payable: int = 0


@dataclass
class Statements:
    """Month-end figures of the program arm, gathered as the replay engine closes each month."""

    policy: Policy
    member: BoolArray
    cashback: CashbackLedger | None
    dividends: DividendLedger | None
    story: Story
    first_month: int  # the forecast's first month: months before it are a history's
    # The program arm's customers alive at each month end, by month: drawn with the month's
    # purchases when the arm goes a month at a time, else found by the month-end process.
    alive: dict[int, BoolArray] = field(default_factory=dict)
    months: dict[int, PointsMonth] = field(default_factory=dict)
    tier_counts: dict[int, list[int]] = field(default_factory=dict)
    opening: tuple[int, PointsMonth, int] | None = None  # a history's last month, its figures, members
    # Whether a history's months are the book (False while a changed program replays the history
    # only for its own counters: the book is the running program's, collected after it).
    keep_history: bool = True
    history: dict[int, PointsMonth] = field(default_factory=dict)  # a history's months, by month
    # Each customer's enrolment day, as an absolute day number (members count from it on); None:
    # every member from their first purchase.
    enrolled_from: IntArray | None = None

    def collect(self, rows: MonthRows) -> None:
        """The sink of the replay engine: a month's rows, closed. A history's months before the
        forecast are the opening book: their cashback and dividends go through the money ledgers
        (accrued, paid by the program's schedules, expired; members' claims are not in a
        transaction file, so none are made there), and the last month is kept as ``opening``."""
        month = PointsMonth(*rows.totals())
        history = rows.month < self.first_month
        if history and not self.keep_history:
            return
        if self.cashback is not None:
            month.cashback_paid, month.cashback_expired = self.cashback.month_end(
                rows.month, rows.customer, rows.cashback, claims=not history
            )
            month.cashback_payable = self.cashback.payable()
        if self.dividends is not None:
            month.dividend_paid, month.dividend_payable = self.dividends.month_end(
                rows.month, month.dividend_accrued
            )
        if history:
            self.opening = (rows.month, month, int(np.count_nonzero(self.member[rows.customer])))
            self.history[rows.month] = month
            return
        self.months[rows.month] = month
        tiers = self.policy.tiers
        if tiers is not None:  # active members by tier, alive as the month-end process found them
            active = self.member[rows.customer] & self.alive[rows.month][rows.customer]
            if self.enrolled_from is not None:
                active &= self.enrolled_from[rows.customer] <= last_of_month(first_of_month(rows.month))
            self.tier_counts[rows.month] = np.bincount(
                rows.tier[active], minlength=len(tiers.levels)
            ).tolist()
        self.story.statement(rows)

    @contextmanager
    def rules_of(self, running: Policy) -> Iterator[None]:
        """The money ledgers under ``running``'s rules for a while (the history of the program
        that ran, when this arm is a change to it), then under their own again."""
        cashback, dividends = self.cashback, self.dividends
        kept = (cashback.rules if cashback is not None else None, dividends.paid_in_month if dividends else 0)
        try:
            if cashback is not None and running.cashback is not None:
                cashback.rules = running.cashback
            if dividends is not None and running.value is not None and running.value.dividend is not None:
                dividends.paid_in_month = running.value.dividend.paid_in_month
            yield
        finally:
            if cashback is not None and kept[0] is not None:
                cashback.rules = kept[0]
            if dividends is not None:
                dividends.paid_in_month = kept[1]

    def fill(self, records: list[MonthResult], perk_cost: dict[int, int]) -> None:
        """Write the statements into the program arm's ``records``, with the month's perk costs
        (``perk_cost``: used on purchases, from the engine; tiers' yearly perks added here)."""
        tiers = self.policy.tiers
        level_perks = tiers.yearly_perk_costs() if tiers is not None else []
        for record in records:
            month = self.months.get(record.month)
            if record.arm != "program" or month is None:
                continue
            record.points_issued, record.points_redeemed = month.issued, month.redeemed
            record.points_expired, record.points_outstanding = month.expired, month.outstanding
            record.cashback_accrued, record.dividend_accrued = month.cashback_accrued, month.dividend_accrued
            if self.cashback is not None:
                record.cashback_paid, record.cashback_expired = month.cashback_paid, month.cashback_expired
                record.cashback_payable = month.cashback_payable
            if self.dividends is not None:
                record.dividend_paid, record.dividend_payable = month.dividend_paid, month.dividend_payable
            record.tier_counts = self.tier_counts.get(record.month, [])
            record.perk_cost += perk_cost.get(record.month, 0)
            if level_perks and record.tier_counts:
                record.perk_cost += twelfth(
                    sum(count * cost for count, cost in zip(record.tier_counts, level_perks, strict=True))
                )


def twelfth(yearly: int) -> int:
    """A month's accrual of a yearly cost in minor units: a twelfth, rounded half-even."""
    return int(divide(np.array([yearly]), 12, "half_even")[0])
