"""The points ledger by earn lot: exact FIFO redemption, expiry and breakage.

Where: used by replay (``loyalsim earn``) and the simulator. Every batch of earned points
becomes a *lot* (customer, points, earn month, expiry day). Redemptions and reversals
consume a customer's lots oldest first; expiry removes what is left of a lot on its day.
All operations act on many customers at once (numpy), looping only over "how many lots
deep" a batch reaches, never over customers.

Invariant, tested: for every customer and in total,
issued = redeemed + expired + outstanding (+ reversed, for returns), and
per earn-month cohort the same identity holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
NEVER = np.iinfo(np.int64).max // 4


def accumulate(table: dict[int, int], months: IntArray, amounts: IntArray) -> None:
    """Add integer ``amounts`` into ``table`` by month, exactly (int64 sums, no floats)."""
    if months.size == 0:
        return
    if months[0] == months[-1] and (months.size < 3 or (months == months[0]).all()):
        # One cohort (the common case): no sorting needed.
        total = int(amounts.sum())
        if total:
            table[int(months[0])] = table.get(int(months[0]), 0) + total
        return
    order = np.argsort(months, kind="stable")
    months, amounts = months[order], amounts[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(months)) + 1))
    sums = np.add.reduceat(amounts, starts)
    for month, total in zip(months[starts].tolist(), sums.tolist(), strict=True):
        if total:
            table[month] = table.get(month, 0) + total


@dataclass
class CohortTotals:
    """Points by earn month (cohort): issued, redeemed, expired, reversed (returns).

    For every cohort: issued = redeemed + expired + reversed + outstanding.
    """

    issued: dict[int, int] = field(default_factory=dict)
    redeemed: dict[int, int] = field(default_factory=dict)
    expired: dict[int, int] = field(default_factory=dict)
    reversed: dict[int, int] = field(default_factory=dict)


class LotLedger:
    """Lots for ``customers`` customers; capacity grows as needed."""

    def __init__(self, customers: int, capacity: int = 1024) -> None:
        self.customers = customers
        capacity = max(capacity, 16)
        self.lot_customer = np.zeros(capacity, dtype=np.int64)
        self.lot_remaining = np.zeros(capacity, dtype=np.int64)
        self.lot_expiry = np.zeros(capacity, dtype=np.int64)
        self.lot_month = np.zeros(capacity, dtype=np.int64)
        self.lot_next = np.full(capacity, -1, dtype=np.int64)
        self.size = 0
        self.head = np.full(customers, -1, dtype=np.int64)
        self.tail = np.full(customers, -1, dtype=np.int64)
        self.balance = np.zeros(customers, dtype=np.int64)
        # Points owed after a return reversed more than the balance held; repaid from future earning.
        self.debt = np.zeros(customers, dtype=np.int64)
        self.any_debt = False
        self.cohorts = CohortTotals()
        self._expiry_cursor = 0
        self._sorted_expiry = True

    # -- storage -------------------------------------------------------------------------------
    def _reserve(self, extra: int) -> None:
        needed = self.size + extra
        if needed <= self.lot_customer.shape[0]:
            return
        capacity = max(needed, 2 * self.lot_customer.shape[0])
        for name in ("lot_customer", "lot_remaining", "lot_expiry", "lot_month"):
            old = getattr(self, name)
            new = np.zeros(capacity, dtype=np.int64)
            new[: self.size] = old[: self.size]
            setattr(self, name, new)
        nxt = np.full(capacity, -1, dtype=np.int64)
        nxt[: self.size] = self.lot_next[: self.size]
        self.lot_next = nxt

    # -- earning -------------------------------------------------------------------------------
    def add(self, customer: IntArray, points: IntArray, month: int, expiry: IntArray | int) -> None:
        """Add one lot per entry (``customer`` unique; positive ``points`` only) earned in ``month``.

        ``expiry`` is the day the lots expire at the end of (one day for all, or one per lot).
        """
        keep = points > 0
        if not keep.all():
            customer, points = customer[keep], points[keep]
            if not np.isscalar(expiry):
                expiry = np.asarray(expiry)[keep]
        if customer.size == 0:
            return
        total = int(points.sum())
        self.cohorts.issued[month] = self.cohorts.issued.get(month, 0) + total
        if self.any_debt:
            # Repay debt first: those points were already given back by a return. They count as
            # issued and immediately reversed against this cohort.
            repay = np.minimum(self.debt[customer], points)
            if repay.any():
                self.debt[customer] -= repay
                self.cohorts.reversed[month] = self.cohorts.reversed.get(month, 0) + int(repay.sum())
                points = points - repay
                live = points > 0
                customer, points = customer[live], points[live]
                if not np.isscalar(expiry):
                    expiry = np.asarray(expiry)[live]
                self.any_debt = bool(self.debt.any())
        count = customer.size
        if count == 0:
            return
        first_expiry = int(expiry) if isinstance(expiry, int) else int(np.min(expiry))
        if self.size and first_expiry < self.lot_expiry[self.size - 1]:
            self._sorted_expiry = False
        self._reserve(count)
        stop = self.size + count
        index = np.arange(self.size, stop, dtype=np.int64)
        self.lot_customer[self.size:stop] = customer
        self.lot_remaining[self.size:stop] = points
        self.lot_expiry[self.size:stop] = expiry
        self.lot_month[self.size:stop] = month
        self.lot_next[self.size:stop] = -1
        previous = self.tail[customer]
        linked = previous >= 0
        self.lot_next[previous[linked]] = index[linked]
        empty = ~linked
        self.head[customer[empty]] = index[empty]
        self.tail[customer] = index
        self.balance[customer] += points
        self.size = stop

    # -- consuming (FIFO) ----------------------------------------------------------------------
    def consume(self, customer: IntArray, points: IntArray, table: dict[int, int]) -> IntArray:
        """Take ``points`` from each (unique) customer's oldest lots; returns what was taken."""
        wanted = np.minimum(points, self.balance[customer])
        left = wanted.copy()
        cust = customer.copy()
        active = left > 0
        while active.any():
            cust, left = cust[active], left[active]
            lot = self.head[cust]
            take = np.minimum(left, self.lot_remaining[lot])
            self.lot_remaining[lot] -= take
            left = left - take
            accumulate(table, self.lot_month[lot], take)
            exhausted = self.lot_remaining[lot] == 0
            self.head[cust[exhausted]] = self.lot_next[lot[exhausted]]
            active = left > 0
        self.balance[customer] -= wanted
        self._fix_empty(customer)
        return wanted

    def _fix_empty(self, customer: IntArray) -> None:
        gone = self.head[customer] < 0
        self.tail[customer[gone]] = -1

    def redeem(self, customer: IntArray, points: IntArray) -> IntArray:
        return self.consume(customer, points, self.cohorts.redeemed)

    def reverse(self, customer: IntArray, points: IntArray) -> IntArray:
        """Take back points (a return): from the balance, oldest first; the rest becomes debt."""
        taken = self.consume(customer, points, self.cohorts.reversed)
        owed = points - taken
        if owed.any():
            self.debt[customer] += owed
            self.any_debt = True
        return taken

    def expire_all(self, customer: IntArray) -> IntArray:
        """Expire every remaining point of these customers (inactivity, fixed dates)."""
        return self.consume(customer, self.balance[customer].copy(), self.cohorts.expired)

    # -- expiry by date ------------------------------------------------------------------------
    def expire_due(self, day: int, exempt: Callable[[IntArray], npt.NDArray[np.bool_]] | None = None
                   ) -> tuple[IntArray, IntArray]:
        """Expire lots whose expiry day is ``day`` or earlier.

        ``exempt`` (a test on the owning customers) keeps a due lot for good: a member in an exempt tier when
        a lot falls due keeps it. Returns (customers, points expired) for reporting.
        """
        if self._sorted_expiry:
            start = self._expiry_cursor
            stop = start + int(np.searchsorted(self.lot_expiry[start:self.size], day, side="right"))
            lots = np.arange(start, stop, dtype=np.int64)
            self._expiry_cursor = stop
        else:
            lots = np.flatnonzero(self.lot_expiry[: self.size] <= day)
        lots = lots[self.lot_remaining[lots] > 0]
        if exempt is not None and lots.size:
            kept = exempt(self.lot_customer[lots])
            if not self._sorted_expiry:
                self.lot_expiry[lots[kept]] = NEVER
            lots = lots[~kept]
        if not self._sorted_expiry:
            self.lot_expiry[lots] = NEVER
        if lots.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        amounts = self.lot_remaining[lots].copy()
        owners = self.lot_customer[lots]
        accumulate(self.cohorts.expired, self.lot_month[lots], amounts)
        self.lot_remaining[lots] = 0
        np.subtract.at(self.balance, owners, amounts)
        self._skip_empty_heads(owners)
        return owners, amounts

    def _skip_empty_heads(self, customer: IntArray) -> None:
        cust = customer
        while cust.size:
            lot = self.head[cust]
            stale = (lot >= 0) & (self.lot_remaining[np.maximum(lot, 0)] == 0)
            cust = cust[stale]
            self.head[cust] = self.lot_next[self.head[cust]]
        self._fix_empty(customer)

    # -- checks --------------------------------------------------------------------------------
    def outstanding_by_cohort(self) -> dict[int, int]:
        months = self.lot_month[: self.size]
        remaining = self.lot_remaining[: self.size]
        table: dict[int, int] = {}
        accumulate(table, months, remaining)
        return table

