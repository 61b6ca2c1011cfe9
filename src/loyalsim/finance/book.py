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
from dataclasses import dataclass, replace

import numpy as np

from loyalsim.compile.policy import Policy
from loyalsim.replay.engine import MonthRows


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


def book_months(
    months: Sequence[MonthRows], revenue: Mapping[int, int], policy: Policy | None = None
) -> list[BookMonth]:
    """The replay's month-end rows summed over customers, with each month's revenue. With the
    ``policy``, cashback and dividends go through the simulator's money ledgers as a running
    book's history does (paid by the program's schedules, expired by its rules; members' claims
    of on_request cashback are not in a transaction file, so none are made): their paid,
    expired and payable figures are then the program's, month by month."""
    from loyalsim.simulate.cashback import CashbackLedger, DividendLedger

    cashback = (
        CashbackLedger(policy.cashback, np.zeros(0), 0)
        if policy is not None and policy.cashback is not None
        else None
    )
    dividend = policy.value.dividend if policy is not None and policy.value is not None else None
    dividends = DividendLedger(dividend.paid_in_month) if dividend is not None else None
    out = []
    for rows in months:
        month = BookMonth(rows.month, int(revenue.get(rows.month, 0)), *rows.totals())
        if cashback is not None:
            paid, expired = cashback.month_end(rows.month, rows.customer, rows.cashback, claims=False)
            month = replace(
                month, cashback_paid=paid, cashback_expired=expired, cashback_payable=cashback.payable()
            )
        if dividends is not None:
            paid, payable = dividends.month_end(rows.month, month.dividend_accrued)
            month = replace(month, dividend_paid=paid, dividend_payable=payable)
        out.append(month)
    return out
