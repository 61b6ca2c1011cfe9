"""The points ledger by earn lot: exact FIFO redemption, expiry and breakage.

Where: used by replay (``loyalsim earn``) and the simulator. Every batch of earned points
becomes a *lot* (customer, points, earn month, expiry day). Redemptions and reversals
consume a customer's lots oldest first; expiry removes what is left of a lot on its day.
All operations act on many customers at once; the walks along each customer's lots are
compiled loops (``loyalsim.compiled``), one pass over the batch.

Invariant, tested: for every customer and in total,
issued = redeemed + expired + outstanding (+ reversed, for returns), and
per earn-month cohort the same identity holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from loyalsim.compiled import kernel

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

    def __init__(self, customers: int, capacity: int = 1024, *, track_days: bool = False) -> None:
        """``track_days``: keep each lot's earn day (``lot_day``), for a book another program's
        rules will take over (:meth:`rebased`); off by default, as it costs 8 bytes a lot."""
        self.customers = customers
        capacity = max(capacity, 16)
        self.lot_day: IntArray | None = np.zeros(capacity, dtype=np.int64) if track_days else None
        # One row of 32 bytes per lot (remaining, next lot, month, expiry day): walking a
        # customer's lots touches one cache line per lot, not four. Zeros cost nothing until
        # touched, so a generous capacity holds no memory it does not use; every field is set
        # when a lot is added.
        self.lots = np.zeros((capacity, 4), dtype=np.int64)
        self.lot_customer = np.zeros(capacity, dtype=np.int64)
        self.size = 0
        # One 32-byte row per customer: the first and last lot of their chain, their balance, and
        # the points they owe after a return reversed more than the balance held (repaid from
        # future earning). Crediting or redeeming touches one cache line per customer.
        self.account = np.zeros((customers, 4), dtype=np.int64)
        self.account[:, HEAD] = self.account[:, TAIL] = -1
        self.any_debt = False
        self.cohorts = CohortTotals()
        self._expiry_cursor = 0
        self._sorted_expiry = True
        self._kept_for_good = False  # whether an exempt tier ever kept a lot past its expiry
        # Earn months seen so far: the compiled loops tally points by month in a dense array.
        self._first_month = 0
        self._last_month = -1

    # -- storage -------------------------------------------------------------------------------
    @property
    def balance(self) -> IntArray:
        """Each customer's points held (a view: writes go to the ledger)."""
        return self.account[:, BALANCE]

    @property
    def debt(self) -> IntArray:
        """Points each customer owes (a view)."""
        return self.account[:, DEBT]

    @property
    def lot_remaining(self) -> IntArray:
        """Points left in each lot (a view: writes go to the ledger)."""
        return self.lots[:, REMAINING]

    @property
    def lot_month(self) -> IntArray:
        """Each lot's earn month (cohort)."""
        return self.lots[:, MONTH]

    @property
    def lot_expiry(self) -> IntArray:
        """The day each lot expires at the end of (NEVER: not by date)."""
        return self.lots[:, EXPIRY]

    def _reserve(self, extra: int) -> None:
        needed = self.size + extra
        if needed <= self.lot_customer.shape[0]:
            return
        capacity = max(needed, 2 * self.lot_customer.shape[0])
        lots = np.zeros((capacity, 4), dtype=np.int64)
        lots[: self.size] = self.lots[: self.size]
        customer = np.zeros(capacity, dtype=np.int64)
        customer[: self.size] = self.lot_customer[: self.size]
        self.lots, self.lot_customer = lots, customer
        if self.lot_day is not None:
            days = np.zeros(capacity, dtype=np.int64)
            days[: self.size] = self.lot_day[: self.size]
            self.lot_day = days

    def _by_month(self) -> IntArray:
        return np.zeros(max(self._last_month - self._first_month + 1, 1), dtype=np.int64)

    def _tally(self, table: dict[int, int], by_month: IntArray) -> None:
        for offset in np.flatnonzero(by_month).tolist():
            month = self._first_month + offset
            table[month] = table.get(month, 0) + int(by_month[offset])

    # -- earning -------------------------------------------------------------------------------
    def add(
        self, customer: IntArray, points: IntArray, month: int, expiry: IntArray | int, day: int = 0
    ) -> None:
        """Add one lot per entry (positive ``points`` only) earned in ``month``, in entry order.

        ``expiry`` is the day the lots expire at the end of (one day for all, or one per lot);
        ``day`` the day they are earned (kept with ``track_days``).
        """
        expiry = np.asarray(expiry, dtype=np.int64).reshape(-1)
        if customer.size == 0:
            return
        counted = False
        if self.any_debt:
            keep = points > 0
            customer, points = customer[keep], points[keep]
            if expiry.size > 1:
                expiry = expiry[keep]
            # Repay debt first: those points were already given back by a return. They count as
            # issued and immediately reversed against this cohort.
            self.cohorts.issued[month] = self.cohorts.issued.get(month, 0) + int(points.sum())
            counted = True
            repay = np.minimum(self.debt[customer], points)
            if repay.any():
                self.debt[customer] -= repay
                self.cohorts.reversed[month] = self.cohorts.reversed.get(month, 0) + int(repay.sum())
                points = points - repay  # the repaid entries are now zero: not added below
                self.any_debt = bool(self.debt.any())
        self._reserve(customer.size)
        after = int(self.lot_expiry[self.size - 1]) if self.size else -NEVER
        count, total, in_order = _link_lots(
            self.lots, self.lot_customer, self.account, self.size, customer, points, expiry, month, after
        )
        if count == 0:
            return
        if self.lot_day is not None:
            self.lot_day[self.size : self.size + count] = day
        if not counted:
            self.cohorts.issued[month] = self.cohorts.issued.get(month, 0) + total
        if self._last_month < self._first_month:
            self._first_month = self._last_month = month
        elif month < self._first_month or month > self._last_month:
            self._first_month, self._last_month = min(self._first_month, month), max(self._last_month, month)
        if not in_order:
            self._sorted_expiry = False
        self.size += count

    # -- consuming (FIFO) ----------------------------------------------------------------------
    def consume(self, customer: IntArray, points: IntArray, table: dict[int, int]) -> IntArray:
        """Take ``points`` from each customer's oldest lots (at most the balance); returns what was taken."""
        by_month = self._by_month()
        taken: IntArray = _consume_lots(
            customer, points, self.account, self.lots, by_month, self._first_month
        )
        self._tally(table, by_month)
        return taken

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
    def expire_due(
        self, day: int, tier: IntArray | None = None, exempt_level: npt.NDArray[np.bool_] | None = None
    ) -> tuple[IntArray, IntArray]:
        """Expire lots whose expiry day is ``day`` or earlier.

        With ``tier`` (each customer's level) and ``exempt_level`` (per level), a member in an
        exempt level when a lot falls due keeps it for good. Returns (owner, points expired) per
        expired lot, for reporting (an owner appears once per lot).
        """
        use_exempt = tier is not None and exempt_level is not None
        self._kept_for_good = self._kept_for_good or use_exempt
        if self._sorted_expiry:
            start = self._expiry_cursor
            stop = _due_until(self.lots, start, self.size, day)
            lots = np.arange(start, stop, dtype=np.int64)
            self._expiry_cursor = stop
        else:
            lots = np.flatnonzero(self.lot_expiry[: self.size] <= day)
        if lots.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        by_month = self._by_month()
        owners, amounts = _expire_lots(
            lots,
            tier if tier is not None else _NO_TIERS,
            exempt_level if exempt_level is not None else _NO_EXEMPT,
            use_exempt,
            not self._sorted_expiry,
            self.lot_customer,
            self.lots,
            self.account,
            by_month,
            self._first_month,
        )
        self._tally(self.cohorts.expired, by_month)
        if (
            self._sorted_expiry
            and not self._kept_for_good
            and self._expiry_cursor >= max(self.COMPACT_FROM, self.size - self._expiry_cursor)
        ):
            self._compact()
        return owners, amounts

    # Lots before the expiry cursor are spent (expired, or used up) unless an exempt tier kept
    # them: once they are at least half the lots (and COMPACT_FROM of them), the live lots move
    # to the front. The arena then stays about twice the live lots (a quarter of a year's lots
    # with 90-day expiry) instead of growing with every lot ever earned: fresh memory is slow
    # to touch the first time (a page fault and zeroing per page; on a virtual machine the host
    # may have to back the page too), and was most of the time spent adding lots.
    COMPACT_FROM = 1 << 16

    def _compact(self) -> None:
        start, size = self._expiry_cursor, self.size
        live = size - start
        self.lots[:live] = self.lots[start:size]  # (numpy copies overlapping ranges safely)
        self.lot_customer[:live] = self.lot_customer[start:size]
        if self.lot_day is not None:
            self.lot_day[:live] = self.lot_day[start:size]
        _shift_links(self.lots, live, self.account, start)
        self.size, self._expiry_cursor = live, 0

    # -- a book under another program's rules -------------------------------------------------
    def rebased(
        self,
        expiry_of: Callable[[IntArray], IntArray],
        start: int,
        kept_from: Callable[[IntArray], IntArray] | None = None,
    ) -> LotLedger:
        """This book (kept with ``track_days``) as another program takes it over on day ``start``:
        the same accounts, balances, debts, cohorts and lots (oldest first, with their earn day
        and month), each lot's expiry set again from its earn day by ``expiry_of`` (the new
        rules), never before ``start`` (a lot the new rules would already have expired expires
        at the end of the first day under them). ``kept_from``: the old rules' expiry by earn
        day; a lot with points left past that date was kept for good by an exempt tier, and
        stays kept. Spent lots are left behind."""
        assert self.lot_day is not None, "rebased needs a ledger that tracks earn days"
        live = np.flatnonzero(self.lot_remaining[: self.size] > 0)
        days = self.lot_day[live]
        expiry = np.maximum(expiry_of(days), start)
        if kept_from is not None:
            expiry[kept_from(days) < start] = NEVER  # kept for good by an exempt tier
        out = LotLedger(self.customers, max(2 * live.size, 16), track_days=True)
        out.take_lots(self, live, expiry)
        return out

    @property
    def months_seen(self) -> tuple[int, int]:
        """The first and last earn month of any lot so far (last < first: none yet)."""
        return self._first_month, self._last_month

    @property
    def kept_for_good(self) -> bool:
        """Whether an exempt tier ever kept a lot past its expiry."""
        return self._kept_for_good

    def take_lots(self, source: LotLedger, live: IntArray, expiry: IntArray) -> None:
        """Fill this empty ledger with ``source``'s lots ``live`` (in position order), their new
        ``expiry`` days, its debts and its cohort totals: :meth:`rebased`'s second half."""
        import copy

        assert source.lot_day is not None and self.lot_day is not None and self.size == 0
        size = live.size
        self._reserve(size)
        self.lots[:size] = source.lots[live]
        self.lots[:size, EXPIRY] = expiry
        self.lot_customer[:size] = owner = source.lot_customer[live]
        self.lot_day[:size] = source.lot_day[live]
        self.size = size
        # Each customer's chain in position order (the order it was earned in): link neighbours.
        order = np.argsort(owner, kind="stable")
        following = np.full(size, -1, dtype=np.int64)
        same = owner[order[1:]] == owner[order[:-1]]
        following[order[:-1][same]] = order[1:][same]
        self.lots[:size, NEXT] = following
        self.account[:, DEBT] = source.debt
        np.add.at(self.account[:, BALANCE], owner, self.lots[:size, REMAINING])  # exact, in int64
        if size:
            first = np.ones(size, dtype=bool)
            first[1:] = ~same
            last = np.ones(size, dtype=bool)
            last[:-1] = ~same
            self.account[owner[order[first]], HEAD] = order[first]
            self.account[owner[order[last]], TAIL] = order[last]
        self.any_debt = source.any_debt
        self.cohorts = copy.deepcopy(source.cohorts)
        self._sorted_expiry = bool(np.all(np.diff(expiry) >= 0))
        self._kept_for_good = source.kept_for_good
        self._first_month, self._last_month = source.months_seen

    # -- checks --------------------------------------------------------------------------------
    def outstanding_by_cohort(self) -> dict[int, int]:
        months = self.lot_month[: self.size]
        remaining = self.lot_remaining[: self.size]
        table: dict[int, int] = {}
        accumulate(table, months, remaining)
        return table


_NO_TIERS = np.zeros(1, dtype=np.int64)
_NO_EXEMPT = np.zeros(1, dtype=np.bool_)
REMAINING, NEXT, MONTH, EXPIRY = range(4)  # the columns of LotLedger.lots
HEAD, TAIL, BALANCE, DEBT = range(4)  # the columns of LotLedger.account


@kernel
def _link_lots(
    lots: IntArray,
    lot_customer: IntArray,
    account: IntArray,
    start: int,
    customer: IntArray,
    points: IntArray,
    expiry: IntArray,
    month: int,
    after: int,
) -> tuple[int, int, bool]:
    """Append one lot per entry with positive points at ``start`` onwards and link each to the end
    of its customer's chain. Returns the lots added, their points, and whether the lots' expiry
    days still never decrease (``after``: the expiry of the lot before ``start``)."""
    one_expiry = expiry.size == 1
    lot = start
    total = 0
    in_order = True
    latest = after
    for i in range(customer.size):
        if points[i] <= 0:
            continue
        who = customer[i]
        due = expiry[0] if one_expiry else expiry[i]
        lot_customer[lot] = who
        lots[lot, REMAINING] = points[i]
        lots[lot, NEXT] = -1
        lots[lot, MONTH] = month
        lots[lot, EXPIRY] = due
        previous = account[who, TAIL]
        if previous >= 0:
            lots[previous, NEXT] = lot
        else:
            account[who, HEAD] = lot
        account[who, TAIL] = lot
        account[who, BALANCE] += points[i]
        total += points[i]
        if due < latest:
            in_order = False
        latest = max(latest, due)
        lot += 1
    return lot - start, total, in_order


@kernel
def _consume_lots(
    customer: IntArray,
    points: IntArray,
    account: IntArray,
    lots: IntArray,
    by_month: IntArray,
    first_month: int,
) -> IntArray:
    """FIFO: take up to ``points[i]`` (never more than the balance) from each customer's oldest lots."""
    taken = np.empty(customer.size, dtype=np.int64)
    for i in range(customer.size):
        who = customer[i]
        wanted = min(points[i], account[who, BALANCE])
        left = wanted
        lot = account[who, HEAD]
        while left > 0:
            take = min(left, lots[lot, REMAINING])
            lots[lot, REMAINING] -= take
            left -= take
            by_month[lots[lot, MONTH] - first_month] += take
            if lots[lot, REMAINING] == 0:
                lot = lots[lot, NEXT]
        account[who, HEAD] = lot
        if lot < 0:
            account[who, TAIL] = -1
        account[who, BALANCE] -= wanted
        taken[i] = wanted
    return taken


@kernel
def _shift_links(lots: IntArray, live: int, account: IntArray, by: int) -> None:
    """After the lots from ``by`` moved down by ``by`` places: their links and the accounts' first
    and last lots, moved likewise (-1, no lot, stays)."""
    for lot in range(live):
        if lots[lot, NEXT] >= 0:
            lots[lot, NEXT] -= by
    for who in range(account.shape[0]):
        if account[who, HEAD] >= 0:
            account[who, HEAD] -= by
        if account[who, TAIL] >= 0:
            account[who, TAIL] -= by


@kernel
def _due_until(lots: IntArray, start: int, size: int, day: int) -> int:
    """With lots in expiry order: the first lot from ``start`` not due by the end of ``day``."""
    lot = start
    while lot < size and lots[lot, EXPIRY] <= day:
        lot += 1
    return lot


@kernel
def _expire_lots(
    due: IntArray,
    tier: IntArray,
    exempt_level: npt.NDArray[np.bool_],
    use_exempt: bool,
    retire: bool,
    lot_customer: IntArray,
    lots: IntArray,
    account: IntArray,
    by_month: IntArray,
    first_month: int,
) -> tuple[IntArray, IntArray]:
    """Expire what is left of the ``due`` lots (those of owners in an exempt level are kept for good).

    ``retire``: set each handled lot's expiry to NEVER (the unsorted scan would see it again).
    """
    owners = np.empty(due.size, dtype=np.int64)
    amounts = np.empty(due.size, dtype=np.int64)
    count = 0
    for lot in due:
        left = lots[lot, REMAINING]
        if retire:
            lots[lot, EXPIRY] = NEVER
        if left <= 0:
            continue
        who = lot_customer[lot]
        if use_exempt and exempt_level[tier[who]]:
            continue
        owners[count] = who
        amounts[count] = left
        count += 1
        by_month[lots[lot, MONTH] - first_month] += left
        lots[lot, REMAINING] = 0
        account[who, BALANCE] -= left
        # A lot with points left is the first such lot of its chain (lots are used oldest first),
        # unless an exempt level kept older ones: when it was the first, the next lot (if any)
        # is untouched, so the chain now starts there, without reading it.
        if account[who, HEAD] == lot:
            following = lots[lot, NEXT]
            account[who, HEAD] = following
            if following < 0:
                account[who, TAIL] = -1
    return owners[:count], amounts[:count]
