"""A replayed history as finance reads it: each month's figures of the program's book.

Where: the finance stage, between a replay (``loyalsim earn``, :mod:`loyalsim.replay`) and
:func:`loyalsim.finance.forecast.forecast`, so that the liability, breakage and IFRS 15
deferral of the months a company has really had are computed by the same code as a forecast's.

A replay has no control arm: every customer in the file is a member, there is no
incremental revenue, and so no margin, net benefit or ROI. The figures that mean something
are the points' (issued, redeemed, expired, outstanding), the cashback and dividends
accrued, the liability at cost, the expected redemption rate from the replay's own cohort
run-off (chain ladder), and the IFRS 15 contract liability. Costs the replay cannot see
(referral credits, reminders, perks, donations) are zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from loyalsim.compile.calendar import month_index
from loyalsim.replay.engine import MonthRows
from loyalsim.transactions.reader import Transactions


@dataclass(frozen=True)
class BookMonth:
    """One month of a replayed book, with :class:`~loyalsim.finance.forecast.MonthFigures`' names
    (points in points units, money in minor units)."""

    month: int
    revenue: int  # purchases less returns, in the month
    points_issued: int
    points_redeemed: int
    points_expired: int
    points_outstanding: int
    cashback_accrued: int
    dividend_accrued: int
    arm: str = "program"
    points_donated: int = 0
    cashback_expired: int = 0
    cashback_paid: int = 0
    cashback_payable: int = 0
    dividend_paid: int = 0
    dividend_payable: int = 0
    fees_billed: int = 0
    fees_recognised: int = 0
    referral_cost: int = 0
    reminder_cost: int = 0
    donations: int = 0
    donations_matched: int = 0
    perk_cost: int = 0

    @property
    def member_revenue(self) -> int:
        """Sales to members: in a replay, every customer's."""
        return self.revenue


def revenue_by_month(tx: Transactions) -> dict[int, int]:
    """Sales less returns per month (minor units), by the replay's month index."""
    if len(tx) == 0:
        return {}
    months = month_index(tx.day)
    signed = np.where(tx.is_return, -tx.amount, tx.amount)
    first = int(months.min())
    sums = np.zeros(int(months.max()) - first + 1, dtype=np.int64)
    np.add.at(sums, months - first, signed)  # whole minor units: exact
    return {first + i: int(v) for i, v in enumerate(sums)}


def book_months(months: Sequence[MonthRows], revenue: Mapping[int, int]) -> list[BookMonth]:
    """The replay's month-end rows summed over customers, with each month's revenue."""
    return [BookMonth(rows.month, int(revenue.get(rows.month, 0)), *rows.totals()) for rows in months]
