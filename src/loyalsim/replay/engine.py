"""Replaying real transactions through a Policy, over time, for every customer at once.

Where: the replay stage, the engine behind ``loyalsim earn``. Days are processed in
order. Within a day, a customer's transactions are taken in "rounds" (their first, then
their second, …), so each numpy operation touches every customer at most once. The end of
a day (auto-redemption, expiry, due downgrades, month end) is deferred until a later day
arrives, so a file replayed in two halves gives exactly the result of replaying it whole.

Semantics (documented in docs/replay.md):
- tiers: upgrades per ``evaluation`` (immediate: on the qualifying transaction; monthly:
  at month end); requalification at the end of each window (calendar year: 31 December;
  anniversary: the day before each anniversary of the first transaction; rolling: every
  month end over the last N calendar months) with the downgrade policy and grace;
- expiry: each purchase's points form a lot that expires on the earliest date any
  date-based rule gives; a member in an exempt tier when a lot falls due keeps it;
  inactivity expiry clears the balance ``after`` the last purchase;
- redemption: auto-redemption of the default reward at the end of each day the balance
  allows it (``redeem='auto'``); with member choice nothing is redeemed unless asked;
- returns reverse the points their purchase earned (a partial return reverses the
  difference between the original points and what the remaining amount would have
  earned); a balance cannot cover becomes debt, repaid from later earning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from loyalsim.compile.calendar import (
    add_duration,
    day_after,
    day_number,
    last_of_month,
    month_end,
    month_index,
    month_of,
    year_of,
)
from loyalsim.compile.levels import level_of
from loyalsim.compile.policy import Policy
from loyalsim.compiled import kernel
from loyalsim.durations import Duration
from loyalsim.ledger.lots import NEVER, CohortTotals, LotLedger
from loyalsim.transactions.reader import RowError, Transactions, order_within_day

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_YEAR = Duration(months=12)
_NO_LEVELS = np.zeros(0, dtype=np.int64)


@dataclass
class MonthRows:
    """Month-end figures for the customers active so far (index into customer ids)."""

    month: int
    customer: IntArray
    earned: IntArray
    redeemed: IntArray
    expired: IntArray
    balance: IntArray
    tier: IntArray
    cashback: IntArray
    dividend: IntArray

    def totals(self) -> tuple[int, int, int, int, int, int]:
        """Summed over the customers: earned, redeemed, expired, balance, cashback, dividend."""
        return (
            int(self.earned.sum()),
            int(self.redeemed.sum()),
            int(self.expired.sum()),
            int(self.balance.sum()),
            int(self.cashback.sum()),
            int(self.dividend.sum()),
        )

    @classmethod
    def empty(cls) -> MonthRows:
        """No rows (the schema of a month's table when a replay has no month)."""
        zero = np.zeros(0, dtype=np.int64)
        return cls(0, zero, zero, zero, zero, zero, zero, zero, zero)


@dataclass
class ReplayResult:
    policy: Policy
    customer_ids: npt.NDArray[Any]  # ids as read (objects), or indices in a simulation
    months: list[MonthRows]  # empty when the months went to a sink
    rows: int
    started: BoolArray
    total_earned: IntArray
    total_redeemed: IntArray
    total_expired: IntArray
    balance: IntArray  # points held at the end, per customer
    debt: IntArray  # points owed at the end (returns that reversed more than the balance held)
    cohorts: CohortTotals  # points by earn month: issued, redeemed, expired, reversed
    first_month: int
    last_month: int
    rejected: list[RowError] = field(default_factory=list)
    ledger: LotLedger | None = None  # the lots themselves (one engine's replay; None when joined from parts)
    # The run-off: each earn cohort's cumulative points at each month end, as
    # (month, cohort, issued, redeemed, expired) — what finance's chain ladder reads.
    cohort_rows: list[tuple[int, int, int, int, int]] = field(default_factory=list)


def carried_tiers(running: Policy, changed: Policy, tier: IntArray, own: IntArray) -> IntArray:
    """Each member's level under ``changed`` for their level ``tier`` under ``running``: the level
    with the same id; for a level ``changed`` lacks, the highest level below it in ``running``'s
    ladder that ``changed`` has, else ``changed``'s first. Without tiers in ``running``, ``own``
    (``changed``'s rules over the history); without tiers in ``changed``, 0."""
    if changed.tiers is None:
        return np.zeros_like(tier)
    if running.tiers is None:
        return own.copy()
    ids = {level.id: index for index, level in enumerate(changed.tiers.levels)}
    table = np.zeros(len(running.tiers.levels), dtype=np.int64)
    for index in range(len(running.tiers.levels)):
        below = [ids[level.id] for level in running.tiers.levels[: index + 1] if level.id in ids]
        table[index] = below[-1] if below else 0
    result: IntArray = table[tier]
    return result


def _period_of(days: IntArray, period: str) -> IntArray:
    if period == "day":
        return days
    if period == "week":
        return (days + 3) // 7  # weeks start on Monday (1970-01-01 was a Thursday)
    if period == "month":
        return month_index(days)
    if period == "quarter":
        return month_index(days) // 3
    return year_of(days)


class ReplayEngine:
    """Stateful replay of one policy over one population of customer ids."""

    def __init__(
        self,
        policy: Policy,
        customer_ids: npt.NDArray[Any],
        redeem: str = "program",
        lot_capacity: int = 1024,
        sink: Callable[[MonthRows], None] | None = None,
        chooser: Callable[[IntArray, int], BoolArray] | None = None,
        first_customer: int | None = None,
        track_lot_days: bool = False,
    ) -> None:
        """``chooser`` (simulation): for members who chose when to redeem, decides which of the
        customers able to afford a reward after a day's purchases redeem one at that day's end
        (given the customers and the day).

        ``first_customer``: this engine replays the transactions' customers ``first_customer``
        onwards, as many as ``customer_ids`` holds, and skips the rows of others (a part of a
        file replayed on several threads: see ``replay.parts``; its files hold no returns).
        None: every row is this engine's.

        ``track_lot_days``: keep each lot's earn day, so that another program can take this
        engine's book over (:meth:`adopt_book`)."""
        self.first_customer = first_customer
        self.policy = policy
        self.sink = sink
        self.chooser = chooser
        self.customer_ids = customer_ids
        n = customer_ids.shape[0]
        self.n = n
        self.redeem_auto = redeem == "auto" or (
            redeem == "program" and policy.rewards is not None and policy.rewards.policy == "auto"
        )
        self.ledger = LotLedger(n, lot_capacity, track_days=track_lot_days)
        self.started = np.zeros(n, dtype=bool)
        self.day_count = np.zeros(n, dtype=np.int64)  # scratch for ranking a day's rows per customer
        self.tier = np.zeros(n, dtype=np.int64)
        tiers = policy.tiers
        self._day_lots = (
            -(2**62),
            0,
            0,
        )  # (day, its month, its lots' expiry day), for the day being credited
        self.window_months = tiers.window_months if tiers and tiers.window == "rolling" else 0
        self.metric = np.zeros(n, dtype=np.int64)  # the current window's qualification metric
        self.buckets = np.zeros((n, max(self.window_months, 1)), dtype=np.int64)
        self.anniversary = np.full(n, NEVER, dtype=np.int64)
        self.pending_day = np.full(n, NEVER, dtype=np.int64)
        self.pending_target = np.zeros(n, dtype=np.int64)
        self.inactivity_due = np.full(n, NEVER, dtype=np.int64)
        capped = [r for r, rule in enumerate(policy.earn) if rule.cap_period is not None]
        self.capped_rules = capped
        self.cap_used = np.zeros((n, len(capped)), dtype=np.int64)
        self.cap_period = np.full((n, len(capped)), -1, dtype=np.int64)
        self.bonus_granted = np.zeros((n, len(policy.campaigns)), dtype=bool)
        # Points earned, redeemed and expired this month (after its row, at a month end: the next
        # month's), and cashback and dividend.
        self.m_earned = np.zeros(n, dtype=np.int64)
        self.m_redeemed = np.zeros(n, dtype=np.int64)
        self.m_expired = np.zeros(n, dtype=np.int64)
        self.m_cashback = np.zeros(n, dtype=np.int64)
        self.m_dividend = np.zeros(n, dtype=np.int64)
        # Who has points moving today (purchases, credits, returns), redeemed for at the day's end:
        # a flag per customer, and the flagged customers listed as they are flagged (the first
        # ``touched_count[0]`` of ``touched_list``), so the day's end reads the list instead of
        # scanning a flag per customer (a scan of a million flags every day was 0.2 s of a 10M
        # row replay).
        self.touched = np.zeros(n, dtype=bool)
        self.touched_list = np.empty(n, dtype=np.int64)
        self.touched_count = np.zeros(1, dtype=np.int64)
        # Points earned, redeemed and expired through the last month end's row: a customer's total
        # is this plus the month's. Brought up to date once a month, not at every purchase, which
        # saves reaching into another customer-sized array each time.
        self.earned_before = np.zeros(n, dtype=np.int64)
        self.redeemed_before = np.zeros(n, dtype=np.int64)
        self.expired_before = np.zeros(n, dtype=np.int64)
        self.last_reward_day = np.full(
            n, -(2**40), dtype=np.int64
        )  # day of the latest redemption (simulation)
        self.perk_cost: dict[int, int] = {}  # month → minor units of membership perks used on purchases
        membership = policy.membership
        self.perks_per_purchase = membership is not None and membership.has_purchase_cost
        self.first_month: int | None = None
        self.last_month: int | None = None
        self.months: list[MonthRows] = []
        self.cohort_rows: list[tuple[int, int, int, int, int]] = []
        self.open_day: int | None = None
        self.held: Transactions | None = None
        self.rows = 0
        self._batch_returns = False  # whether the batch being replayed has returns
        self.rejected: list[RowError] = []
        # Purchases of earlier batches, sorted by transaction id, for matching returns.
        self.history = _PurchaseTable.empty()
        # tid → (amount returned, points, cashback and dividend reversed so far)
        self.returned: dict[str, tuple[int, int, int, int]] = {}
        expiry = [e for e in policy.expiry if e.kind in ("rolling", "fixed_date")]
        self.dated_expiry = expiry
        exempt: set[int] = set()
        for rule in expiry:
            exempt |= rule.exempt_tiers
        levels = len(policy.tiers.levels) if policy.tiers is not None else 1
        # Per tier level: does being in it when a lot falls due keep the lot? (None: no exemptions.)
        self.exempt_level: BoolArray | None = np.isin(np.arange(levels), sorted(exempt)) if exempt else None
        self.inactivity = next((e for e in policy.expiry if e.kind == "inactivity"), None)

    # -- public --------------------------------------------------------------------------------
    def run(self, tx: Transactions) -> None:
        """Replay a batch of transactions (sorted by day, with this engine's customer ids).

        The batch's last day may continue in the next batch, so its rows are held back until
        a later day arrives or :meth:`finish` is called: a file replayed in pieces gives
        exactly the result of replaying it whole. Days before one already closed are refused.
        """
        if self.first_customer is None:  # (a part leaves the file's rejected rows to whoever joins the parts)
            self.rejected += tx.rejected
        if self.first_customer:
            import dataclasses

            tx = dataclasses.replace(tx, customer=tx.customer - self.first_customer)
        if self.first_customer is not None and tx.is_return.any():
            raise ValueError("a part of a file replayed on several engines cannot hold returns")
        if self.held is not None:
            from loyalsim.transactions.merge import combine

            tx = combine([self.held, tx.subset(slice(None))])
            self.held = None
        if len(tx) == 0:
            return
        last = int(tx.day.max())
        complete = int(np.searchsorted(tx.day, last, side="left"))
        self.held = tx.subset(slice(complete, None))
        if complete:
            self._process(tx.subset(slice(0, complete)))

    # -- public, for a caller that drives the engine day by day (the simulator) ----------------
    def process_days(self, tx: Transactions) -> None:
        """Replay whole days of transactions now (sorted by day; no day is held back as
        :meth:`run` holds its batch's last one)."""
        self._process(tx)

    def replay_history(self, tx: Transactions, until: int) -> None:
        """Replay a history's days (``tx``, before ``until``) as ``loyalsim earn`` replays them,
        then close every day before ``until``: the book a forecast of a running program starts
        from. The chooser is not asked during the history (earn knows no member's choices and
        makes none), so the state at ``until`` is exactly earn's."""
        chooser, self.chooser = self.chooser, None
        try:
            if len(tx):
                self._process(tx)
            self._advance(until)
        finally:
            self.chooser = chooser

    def adopt_book(self, source: ReplayEngine, start: int) -> None:
        """Take over ``source``'s book on day ``start``: ``source`` replayed the same history
        under the program that ran it (with ``track_lot_days``), this engine under its own rules
        (a changed program). Members keep what the running program gave them: their lots (with
        their earn days, expiring by this program's rules from then, never before ``start``),
        balance, debt, the points earned, redeemed and expired to date, and their tier, matched
        by id (:func:`carried_tiers`). Qualification progress is the running program's where
        both count the same metric over the same window, else what this program's rules count
        over the same history (its own replay). The history's cohorts and month figures are the
        running program's. docs/forecast.md states the rules."""
        old_tier = self.tier.copy()
        self.ledger = source.ledger.rebased(self.expiry_days, start, source.expiry_days)
        self.tier[:] = carried_tiers(source.policy, self.policy, source.tier, old_tier)
        for name in (
            "earned_before",
            "redeemed_before",
            "expired_before",
            "m_earned",
            "m_redeemed",
            "m_expired",
            "last_reward_day",
        ):
            getattr(self, name)[:] = getattr(source, name)
        mine, theirs = self.policy.tiers, source.policy.tiers
        if (
            mine is not None
            and theirs is not None
            and (mine.metric, mine.window, mine.window_months)
            == (theirs.metric, theirs.window, theirs.window_months)
        ):
            self.metric[:], self.buckets[:] = source.metric, source.buckets
            self.anniversary[:] = source.anniversary
        # A downgrade this program's replay scheduled stands only for a member whose tier it was.
        self.pending_day[self.tier != old_tier] = NEVER
        self.cohort_rows = list(source.cohort_rows)
        self.months = list(source.months)
        self.first_month, self.last_month = source.first_month, source.last_month

    def advance_to(self, day: int) -> None:
        """Close every day before ``day``: their redemptions, expiry, tier changes and month ends."""
        self._advance(day)

    def credit(self, customers: IntArray, units: IntArray, day: int) -> None:
        """Issue ``units`` points to ``customers`` on ``day`` (a bonus, an action's, a referral's),
        counted as earned; days before it are closed first."""
        self._advance(day)
        self._credit(customers, units, day)

    def redeem_prompted(self, customers: IntArray, day: int) -> None:
        """``customers`` redeem one reward each on ``day`` if their balance allows it, whatever
        the chooser would decide (a reminder prompted them); days before it are closed first."""
        self._advance(day)
        self._redeem(customers, day, auto=False, ask=False)

    def donate(self, customers: IntArray, day: int) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """``customers`` convert their spare points into donations on ``day`` (see :meth:`_donate`);
        days before it are closed first."""
        self._advance(day)
        return self._donate(customers)

    def _process(self, tx: Transactions) -> None:
        """Replay whole days of transactions."""
        vocabulary = self.policy.vocabulary
        category = vocabulary.recode(tx.category, tx.categories, len(tx))
        channel = vocabulary.recode(tx.channel, tx.channels, len(tx), channel=True)
        # A part (of a file without returns) keeps no purchases to match returns with.
        batch = (
            _PurchaseTable.of(tx, category, channel)
            if tx.transaction_id is not None and self.first_customer is None
            else None
        )
        # Per-row points and tiers, kept only when returns may need them.
        size = len(tx) if batch is not None else 0
        self.row_points = np.zeros(size, dtype=np.int64)
        self.row_tier = np.zeros(size, dtype=np.int64)
        self.row_done = np.zeros(size, dtype=bool)
        self._batch_returns = bool(tx.is_return.any())
        boundaries = np.flatnonzero(np.diff(tx.day)) + 1
        starts = np.concatenate(([0], boundaries))
        stops = np.concatenate((boundaries, [len(tx)]))
        # A part replays the rows of its own customers (renumbered from 0) only.
        mine = None if self.first_customer is None else (tx.customer >= 0) & (tx.customer < self.n)
        for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
            day = int(tx.day[start])
            if mine is None:
                day_rows = np.arange(start, stop)
            else:
                day_rows = start + np.flatnonzero(mine[start:stop])
                if day_rows.size == 0:
                    continue
            self._advance(day)
            rows, ranks = order_within_day(tx, day_rows, self.day_count)
            for rank in range(int(ranks.max()) + 1):
                self._round(tx, rows[ranks == rank], day, category, channel, batch)
        if batch is not None:
            batch.points, batch.tier = self.row_points[batch.row], self.row_tier[batch.row]
            self.history = _PurchaseTable.merge(self.history, batch)
        self.rows += len(tx) if mine is None else int(np.count_nonzero(mine))

    def earned_to_date(self, customer: int) -> int:
        """Points ``customer`` has earned so far (net of returns)."""
        return int(self.earned_before[customer] + self.m_earned[customer])

    def finish(self, close_through: int | None = None) -> ReplayResult:
        """Close the last day and every day to the end of its month (or of the month of
        ``close_through``, when later: the last day of other customers' transactions); return
        the results."""
        if self.held is not None:
            held, self.held = self.held, None
            self._process(held)
        if self.open_day is not None:
            last = last_of_month(
                max(self.open_day, close_through if close_through is not None else self.open_day)
            )
            self._advance(last + 1)
            self.open_day = None
        return ReplayResult(
            self.policy,
            self.customer_ids,
            self.months,
            self.rows,
            self.started,
            self.earned_before + self.m_earned,
            self.redeemed_before + self.m_redeemed,
            self.expired_before + self.m_expired,
            self.ledger.balance,
            self.ledger.debt,
            self.ledger.cohorts,
            self.first_month if self.first_month is not None else 0,
            self.last_month if self.last_month is not None else -1,
            self.rejected,
            self.ledger,
            self.cohort_rows,
        )

    # -- days ----------------------------------------------------------------------------------
    def _advance(self, day: int) -> None:
        if self.open_day is None:
            self.open_day = day
            return
        if day < self.open_day:
            raise ValueError(f"transactions of day {day} arrive after day {self.open_day} was closed")
        for closing in range(self.open_day, day):
            self._end_of_day(closing)
        self.open_day = day

    def _end_of_day(self, day: int) -> None:
        touched = self.touched_list[: int(self.touched_count[0])].copy()
        self.touched_count[0] = 0
        self.touched[touched] = False
        if self.chooser is not None:
            touched.sort()  # (members choosing are asked in customer order, as their random draws are)
        if touched.size and (self.redeem_auto or self.chooser is not None):
            self._redeem(touched, day, auto=self.redeem_auto)
        if self.ledger.size:
            who, amount = self.ledger.expire_due(day, self.tier, self.exempt_level)
            if who.size:
                _add_to(who, amount, self.m_expired)
        if self.inactivity is not None:
            due = np.flatnonzero(self.inactivity_due == day)
            due = due[self.ledger.balance[due] > 0]
            if self.inactivity.exempt_tiers and due.size:
                due = due[~np.isin(self.tier[due], list(self.inactivity.exempt_tiers))]
            if due.size:
                gone = self.ledger.expire_all(due)
                self.m_expired[due] += gone
        is_month_end = last_of_month(day) == day
        if self.policy.tiers is not None:
            self._pending_downgrades(day)
        if is_month_end:
            self._record_month(day)
        # Window-end requalification and month-end upgrades take effect from the next day,
        # so a month's row shows the tier in force on its last day.
        if self.policy.tiers is not None:
            self._tier_calendar(day)
            if is_month_end:
                self._tier_month_end(day)

    def _redeem(self, customers: IntArray, day: int, *, auto: bool, ask: bool = True) -> None:
        """Redeem for customers whose balance allows it, after today's purchases.

        auto: the default reward, as many times as the balance allows. Otherwise (members
        choose): the default reward, else the cheapest, once, for those ``chooser`` picks
        (for all who can afford it when ``ask`` is false, or there is no chooser).
        """
        rewards = self.policy.rewards
        if rewards is None:
            return
        reward = rewards.default_reward
        if reward is None and not auto:
            reward = min(rewards.catalog, key=lambda r: r.cost)
        if reward is None or reward.cost == 0:
            return
        count = _affordable(
            customers,
            self.ledger.balance,
            self.ledger.debt,
            rewards.min_balance,
            reward.cost,
            self.tier,
            -1 if reward.min_tier is None else reward.min_tier,
        )
        if not auto:
            count = np.minimum(count, 1)
            able = count > 0
            if able.any() and ask and self.chooser is not None:
                count[able] = self.chooser(customers[able], day).astype(np.int64)
        hit = count > 0
        if hit.any():
            who = customers[hit]
            taken = self.ledger.redeem(who, count[hit] * reward.cost)
            _add_to(who, taken, self.m_redeemed)
            self.last_reward_day[who] = day

    def _donate(self, customers: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """``customers`` convert all the whole steps of their spare points into donations (the
        reward's minimum balance is kept): returns who did, points units used, minor units
        donated and the company's match. The points leave the balance as redeemed."""
        value = self.policy.value
        assert value is not None and value.donations is not None
        keep = self.policy.rewards.min_balance if self.policy.rewards is not None else 0
        spare = self.ledger.balance[customers] - self.ledger.debt[customers] - keep
        used, donated, matched = value.donations.convert(spare)
        hit = used > 0
        who = customers[hit]
        if who.size:
            taken = self.ledger.redeem(who, used[hit])
            _add_to(who, taken, self.m_redeemed)
        return who, used[hit], donated[hit], matched[hit]

    # -- tiers ---------------------------------------------------------------------------------
    def _pending_downgrades(self, day: int) -> None:
        """Downgrades whose grace ends today."""
        tiers = self.policy.tiers
        assert tiers is not None
        if not (tiers.grace.months or tiers.grace.days):
            return
        pending = np.flatnonzero(self.pending_day == day)
        if pending.size:
            self.tier[pending] = np.minimum(self.tier[pending], self.pending_target[pending])
            self.pending_day[pending] = NEVER

    def _tier_calendar(self, day: int) -> None:
        tiers = self.policy.tiers
        assert tiers is not None
        date = np.array([day])
        if tiers.window == "calendar_year" and int(year_of(date + 1)[0]) != int(year_of(date)[0]):
            everyone = np.flatnonzero(self.started)
            self._requalify(everyone, tiers.level_for(self.metric[everyone]), day)
            self.metric[:] = 0
        elif tiers.window == "anniversary":
            due = np.flatnonzero(self.anniversary == day + 1)
            if due.size:
                self._requalify(due, tiers.level_for(self.metric[due]), day)
                self.metric[due] = 0
                self.anniversary[due] = add_duration(self.anniversary[due], _YEAR)

    def _requalify(self, customers: IntArray, qualified: IntArray, day: int) -> None:
        tiers = self.policy.tiers
        assert tiers is not None
        current = self.tier[customers]
        if tiers.downgrade == "reset":
            target = qualified
        elif tiers.downgrade == "one_level":
            target = np.maximum(qualified, current - 1)
        else:
            target = np.maximum(qualified, current)
        up = target > current
        self._upgrade(customers[up], target[up], day)
        down = target < current
        keep = ~down
        self.pending_day[customers[keep]] = NEVER
        if not down.any():
            return
        if tiers.grace.months or tiers.grace.days:
            due = add_duration(np.full(int(down.sum()), day, dtype=np.int64), tiers.grace)
            already = self.pending_day[customers[down]] != NEVER
            self.pending_day[customers[down]] = np.where(already, self.pending_day[customers[down]], due)
            self.pending_target[customers[down]] = target[down]
        else:
            self.tier[customers[down]] = target[down]

    def _upgrade(self, customers: IntArray, target: IntArray, day: int) -> None:
        """Raise tiers on ``day``; grant each newly reached level's bonus points as a lot of that day.

        At a window's or a month's end that is the day ending, for every customer alike: the lot's
        cohort month and expiry follow from it, never from the latest day with transactions (which
        differs between the parts of a file replayed on several engines)."""
        tiers = self.policy.tiers
        if tiers is None or customers.size == 0:
            return
        bonus = np.array([level.bonus_points for level in tiers.levels], dtype=np.int64)
        if bonus.any():
            cumulative = np.concatenate(([0], np.cumsum(bonus)))
            grant = cumulative[target + 1] - cumulative[self.tier[customers] + 1]
            self._credit(customers, np.maximum(grant, 0), day)
        self.tier[customers] = target

    def _tier_month_end(self, day: int) -> None:
        tiers = self.policy.tiers
        assert tiers is not None
        month = month_of(day)
        everyone = np.flatnonzero(self.started)
        if tiers.window == "rolling":
            self._requalify(everyone, tiers.level_for(self.metric[everyone]), day)
        elif tiers.evaluation == "monthly":
            qualified = tiers.level_for(self.metric[everyone])
            up = qualified > self.tier[everyone]
            self._upgrade(everyone[up], qualified[up], day)
        if self.window_months:
            # Roll the window: the oldest month's metric leaves it.
            slot = (month + 1) % self.window_months
            self.metric -= self.buckets[:, slot]
            self.buckets[:, slot] = 0

    def _record_month(self, day: int) -> None:
        month = month_of(day)
        who = np.flatnonzero(self.started)
        # Everyone started (the usual case after a few months): plain copies, not gathers.
        every = who.size == self.n

        def picked(values: IntArray) -> IntArray:
            chosen: IntArray = values.copy() if every else values[who]
            return chosen

        # Money columns a program does not have stay zeros: one read-only zero per row, not a copy.
        none = np.broadcast_to(np.int64(0), who.shape)
        accumulators = (
            self.m_earned,
            self.m_redeemed,
            self.m_expired,
            self.m_cashback if self.policy.cashback is not None else None,
            self.m_dividend
            if self.policy.value is not None and self.policy.value.dividend is not None
            else None,
        )
        earned, redeemed, expired, cashback, dividend = (
            none if a is None else picked(a) for a in accumulators
        )
        ledger = self.ledger  # (without debts, the balance is what is held: no subtraction)
        balance = picked(ledger.balance - ledger.debt) if ledger.any_debt else picked(ledger.balance)
        # Copies (and picking copies): these rows stay valid after the resets below.
        rows = MonthRows(
            month, who, earned, redeemed, expired, balance, picked(self.tier), cashback, dividend
        )
        if self.sink is not None:
            self.sink(rows)
        else:
            self.months.append(rows)
        totals = ledger.cohorts
        self.cohort_rows.extend(
            (month, cohort, issued, totals.redeemed.get(cohort, 0), totals.expired.get(cohort, 0))
            for cohort, issued in sorted(totals.issued.items())
        )
        self.first_month = month if self.first_month is None else self.first_month
        self.last_month = month
        # The started customers' month is recorded: it joins their totals and starts again. Points
        # credited to a customer before their first purchase (a simulation's referral, say) stay
        # in their month until it is recorded. (Masked whole-array operations: no gathers.)
        started = None if every else self.started
        for before, this_month in (
            (self.earned_before, self.m_earned),
            (self.redeemed_before, self.m_redeemed),
            (self.expired_before, self.m_expired),
        ):
            np.add(before, this_month, out=before, where=True if started is None else started)
        for accumulator in accumulators:
            if accumulator is not None:
                np.copyto(accumulator, 0, where=True if started is None else started)

    # -- transactions --------------------------------------------------------------------------
    def _credit(self, customers: IntArray, units: IntArray, day: int) -> None:
        """Issue points (a bonus, an action's, a referral's) and count them as earned."""
        keep = units > 0
        if not keep.all():
            customers, units = customers[keep], units[keep]
        self._issue(customers, units, day)
        _add_to(customers, units, self.m_earned)
        _touch(customers, self.touched, self.touched_list, self.touched_count)

    def _issue(self, customers: IntArray, units: IntArray, day: int) -> None:
        """Put the positive ``units`` in the ledger as lots with their expiry date."""
        if customers.size:
            if self._day_lots[0] != day:  # every lot of one day has the same month and expiry
                self._day_lots = (
                    day,
                    month_of(day),
                    int(self.expiry_days(np.array([day], dtype=np.int64))[0]),
                )
            self.ledger.add(customers, units, self._day_lots[1], self._day_lots[2], day)

    def expiry_days(self, days: IntArray) -> IntArray:
        """The day lots earned on ``days`` expire at the end of, by this program's dated rules."""
        expiry = np.full(days.shape, NEVER, dtype=np.int64)
        for rule in self.dated_expiry:
            if rule.kind == "rolling" and rule.after is not None:
                due = add_duration(days, rule.after)
                if rule.to_month_end:
                    due = month_end(due)
                # Points expire at the end of their last valid day.
                expiry = np.minimum(expiry, due - 1 if not rule.to_month_end else due)
            elif rule.kind == "fixed_date" and rule.date:
                expiry = np.minimum(expiry, _next_fixed_date(days, rule.date))
        return expiry

    def _round(
        self,
        tx: Transactions,
        rows: IntArray,
        day: int,
        category: IntArray,
        channel: IntArray,
        batch: _PurchaseTable | None,
    ) -> None:
        customers = tx.customer[rows]
        fresh = _newcomers(customers, self.started)
        if fresh.size:
            self.anniversary[fresh] = day_after(day, _YEAR)
        if not self._batch_returns:  # purchases only (every simulated day, most files' days)
            self._purchases(tx, rows, day, category, channel, customers)
            return
        buy = ~tx.is_return[rows]
        if buy.any():
            self._purchases(tx, rows[buy], day, category, channel, customers[buy])
        if (~buy).any():
            self._returns(tx, rows[~buy], day, batch)

    def _purchases(
        self,
        tx: Transactions,
        rows: IntArray,
        day: int,
        category: IntArray,
        channel: IntArray,
        customers: IntArray,
    ) -> None:
        """Purchases ``rows`` of ``tx`` (at most one per customer), whose customers are ``customers``."""
        policy = self.policy
        amount = tx.amount[rows]
        days = np.full(rows.size, day, dtype=np.int64)
        tier = self.tier[customers]
        earned = policy.earn_points(amount, tier, days, category[rows], channel[rows], tx.quantity[rows])
        rules = earned.rules
        for slot, r in enumerate(self.capped_rules):
            cap = policy.earn[r].cap_period
            assert cap is not None
            period = int(_period_of(days[:1], cap.period)[0])
            stale = self.cap_period[customers, slot] != period
            self.cap_used[customers[stale], slot] = 0
            self.cap_period[customers, slot] = period
            allowed = np.maximum(cap.units - self.cap_used[customers, slot], 0)
            rules[r] = np.minimum(rules[r], allowed)
            self.cap_used[customers, slot] += rules[r]
        bonuses = earned.bonuses
        for c, campaign in enumerate(policy.campaigns):
            if campaign.once_per_member and bonuses[c].any():
                bonuses[c] = np.where(self.bonus_granted[customers, c], 0, bonuses[c])
                self.bonus_granted[customers[bonuses[c] > 0], c] = True
        total = rules.sum(axis=0) + bonuses.sum(axis=0)
        self._issue(customers, total, day)
        if self.row_points.size:
            self.row_points[rows] = total
            self.row_tier[rows] = tier
            self.row_done[rows] = True
        cashback, dividend = _money_accrued(policy, amount, tier, category[rows], channel[rows])
        if cashback is not None:
            self.m_cashback[customers] += cashback
        if self.perks_per_purchase:
            assert policy.membership is not None
            month = month_of(day)
            used = policy.membership.purchase_cost(amount, tier, category[rows], channel[rows])
            self.perk_cost[month] = self.perk_cost.get(month, 0) + int(used.sum())
        if dividend is not None:
            self.m_dividend[customers] += dividend
        if self.inactivity is not None and self.inactivity.after is not None:
            self.inactivity_due[customers] = add_duration(days, self.inactivity.after)
        # Points counted as earned, the day's activity, the tier metric and who reaches a higher
        # level now (immediate evaluation), in one compiled pass.
        tiers = policy.tiers
        metric = self._metric_value(amount, total, 1)
        thresholds = tiers.thresholds if tiers is not None and tiers.evaluation == "immediate" else _NO_LEVELS
        up, level = _book(
            customers,
            total,
            self.m_earned,
            self.touched,
            self.touched_list,
            self.touched_count,
            metric,
            self.metric,
            self.buckets,
            self._bucket(day),
            thresholds,
            self.tier,
        )
        if up.size:
            self._upgrade(customers[up], level, day)

    def _metric_value(self, amount: IntArray, points: IntArray, visits: int) -> IntArray:
        """What each transaction (its amount and points, ``visits`` each: 1 for a purchase, 0 for a
        return) adds to the tier metric (an empty array: the program has no tiers)."""
        tiers = self.policy.tiers
        if tiers is None:
            return _NO_LEVELS
        if tiers.metric == "visits":
            return np.full(amount.size, visits, dtype=np.int64)
        chosen = amount if tiers.metric == "spend" else points
        return np.ascontiguousarray(chosen, dtype=np.int64)

    def _bucket(self, day: int) -> int:
        """The rolling window's month slot that ``day`` counts in (-1: no rolling window)."""
        return month_of(day) % self.window_months if self.window_months else -1

    def _count_metric(
        self, customers: IntArray, amount: IntArray, points: IntArray, visits: int, day: int
    ) -> None:
        value = self._metric_value(amount, points, visits)
        if value.size:
            _count_all(customers, value, self.metric, self.buckets, self._bucket(day))

    def _returns(self, tx: Transactions, rows: IntArray, day: int, batch: _PurchaseTable | None) -> None:
        assert tx.transaction_id is not None
        matched, reversal, returned_amount, money_back = [], [], [], []
        for row in rows.tolist():
            code = int(tx.transaction_id[row])
            tid = str(tx.transaction_ids[code]) if code >= 0 else ""
            customer = int(tx.customer[row])
            owner = str(self.customer_ids[customer])
            # Earlier batches first, then this one: the customer's first purchase with this id.
            source: _PurchaseTable | None = self.history
            index = self.history.find(tid, owner)
            if index is None and batch is not None:
                source, index = batch, batch.find(tid, owner, done=self.row_done)
            if index is None or source is None:
                elsewhere = self.history.find(tid) is not None or (
                    batch is not None and batch.find(tid, done=self.row_done) is not None
                )
                message = (
                    "return with no matching purchase: this transaction_id belongs to another customer"
                    if elsewhere
                    else "return with no matching purchase (no earlier purchase has this transaction_id)"
                )
                self.rejected.append(
                    RowError(tx.source(row), int(tx.row[row]), "transaction_id", tid, message)
                )
                continue
            if source is batch:
                p_points, p_tier = (
                    int(self.row_points[batch.row[index]]),
                    int(self.row_tier[batch.row[index]]),
                )
            else:
                p_points, p_tier = int(source.points[index]), int(source.tier[index])
            p_amount = int(source.amount[index])
            before_amount, before_points, before_cashback, before_dividend = self.returned.get(
                tid, (0, 0, 0, 0)
            )
            total_returned = before_amount + int(tx.amount[row])
            if total_returned > p_amount:
                decimals = self.policy.minor_units
                shown = f"{int(tx.amount[row]) / 10**decimals:.{decimals}f}"  # as written, not in minor units
                self.rejected.append(
                    RowError(
                        tx.source(row),
                        int(tx.row[row]),
                        "amount",
                        shown,
                        f"returns more than the purchase's amount ({p_amount / 10**decimals:.{decimals}f})",
                    )
                )
                continue
            remaining = p_amount - total_returned
            still = 0
            if remaining > 0:
                again = self.policy.earn_points(
                    np.array([remaining]),
                    np.array([p_tier]),
                    np.array([int(source.day[index])]),
                    source.category[index : index + 1],
                    source.channel[index : index + 1],
                    source.quantity[index : index + 1],
                )
                still = int(again.total[0])
            points = max(0, min(p_points - before_points, p_points - still - before_points))
            # Cashback and dividends as points: what the purchase accrued less what its remaining
            # amount would have accrued, less what earlier partial returns reversed already.
            on_cashback, on_dividend = _money_accrued(
                self.policy,
                np.array([p_amount, remaining]),
                np.full(2, p_tier),
                np.full(2, source.category[index]),
                np.full(2, source.channel[index]),
            )
            cashback = (
                0 if on_cashback is None else max(0, int(on_cashback[0] - on_cashback[1]) - before_cashback)
            )
            dividend = (
                0 if on_dividend is None else max(0, int(on_dividend[0] - on_dividend[1]) - before_dividend)
            )
            self.returned[tid] = (
                total_returned,
                before_points + points,
                before_cashback + cashback,
                before_dividend + dividend,
            )
            matched.append(customer)
            reversal.append(points)
            returned_amount.append(int(tx.amount[row]))
            money_back.append((cashback, dividend))
        if not matched:
            return
        customers = np.array(matched, dtype=np.int64)
        units = np.array(reversal, dtype=np.int64)
        money = np.array(money_back, dtype=np.int64).reshape(-1, 2)
        np.subtract.at(self.m_cashback, customers, money[:, 0])
        np.subtract.at(self.m_dividend, customers, money[:, 1])
        self.ledger.reverse(customers, units)
        self.m_earned[customers] -= units
        _touch(customers, self.touched, self.touched_list, self.touched_count)
        self._count_metric(customers, -np.array(returned_amount, dtype=np.int64), -units, 0, day)


def _money_accrued(
    policy: Policy, amount: IntArray, tier: IntArray, category: IntArray, channel: IntArray
) -> tuple[IntArray | None, IntArray | None]:
    """Cashback and dividend (minor units) that purchases accrue, each rounded down to the minor
    unit; None where the program has no such mechanic. One definition for purchases and returns."""
    cashback = (
        policy.cashback.accrue(amount, tier, category, channel) if policy.cashback is not None else None
    )
    dividend = None
    if policy.value is not None and policy.value.dividend is not None:
        rule = policy.value.dividend
        dividend = rule.eligible_spend(amount, tier, category, channel) * rule.rate.num // rule.rate.den
    return cashback, dividend


@dataclass
class _PurchaseTable:
    """Purchases with transaction ids, sorted by id, for matching returns."""

    tid: npt.NDArray[np.str_]  # the ids themselves, sorted
    row: IntArray
    customer_id: npt.NDArray[np.object_]
    day: IntArray
    amount: IntArray
    category: IntArray
    channel: IntArray
    quantity: IntArray
    points: IntArray
    tier: IntArray

    @classmethod
    def empty(cls) -> _PurchaseTable:
        zero = np.zeros(0, dtype=np.int64)
        none = np.zeros(0, dtype=object)
        return cls(np.zeros(0, dtype=str), zero, none, zero, zero, zero, zero, zero, zero, zero)

    @classmethod
    def of(cls, tx: Transactions, category: IntArray, channel: IntArray) -> _PurchaseTable:
        assert tx.transaction_id is not None
        rows = np.flatnonzero(~tx.is_return & (tx.transaction_id >= 0))
        # Codes are ranks in the sorted id table, so sorting codes sorts ids; purchases sharing an
        # id are in the order they are replayed (day, time, amount, category, channel), never by
        # file position, so "the first purchase with this id" does not depend on row order.
        order = rows[
            np.lexsort(
                (
                    channel[rows],
                    category[rows],
                    tx.amount[rows],
                    tx.second[rows],
                    tx.day[rows],
                    tx.transaction_id[rows],
                )
            )
        ]
        zero = np.zeros(order.size, dtype=np.int64)
        return cls(
            tx.transaction_ids[tx.transaction_id[order]].astype(str),
            order,
            tx.customer_ids[tx.customer[order]],
            tx.day[order],
            tx.amount[order],
            category[order],
            channel[order],
            tx.quantity[order],
            zero,
            zero.copy(),
        )

    def find(
        self, tid: str, customer_id: str | None = None, done: npt.NDArray[np.bool_] | None = None
    ) -> int | None:
        """Index of the first purchase with this id (by this customer; within a batch: already replayed)."""
        index = int(np.searchsorted(self.tid, tid, side="left")) if self.tid.size else 0
        while index < self.tid.size and self.tid[index] == tid:
            if (customer_id is None or self.customer_id[index] == customer_id) and (
                done is None or done[self.row[index]]
            ):
                return index
            index += 1
        return None

    @classmethod
    def merge(cls, old: _PurchaseTable, new: _PurchaseTable) -> _PurchaseTable:
        if old.tid.size == 0:
            return new
        fields = (
            "tid",
            "row",
            "customer_id",
            "day",
            "amount",
            "category",
            "channel",
            "quantity",
            "points",
            "tier",
        )
        joined = {name: np.concatenate((getattr(old, name), getattr(new, name))) for name in fields}
        joined["row"] = np.full(joined["row"].size, -1, dtype=np.int64)  # rows refer to their own batch only
        order = np.argsort(joined["tid"], kind="stable")
        return cls(**{name: values[order] for name, values in joined.items()})


@kernel
def _affordable(
    customers: IntArray,
    balance: IntArray,
    debt: IntArray,
    keep: int,
    cost: int,
    tier: IntArray,
    min_tier: int,
) -> IntArray:
    """How many rewards of ``cost`` each customer's spare points pay for (none below ``min_tier``)."""
    count = np.zeros(customers.size, dtype=np.int64)
    for i in range(customers.size):
        c = customers[i]
        spare = balance[c] - debt[c] - keep
        if spare >= cost and tier[c] >= min_tier:
            count[i] = spare // cost
    return count


@kernel
def _add_to(customers: IntArray, amounts: IntArray, monthly: IntArray) -> None:
    """Add each customer's amount to their month's (customers may repeat)."""
    for i in range(customers.size):
        monthly[customers[i]] += amounts[i]


@kernel
def _count(c: int, value: int, metric: IntArray, buckets: IntArray, slot: int) -> None:
    """Add ``value`` to customer ``c``'s tier metric (never below zero) and to its rolling-window month."""
    metric[c] = max(metric[c] + value, 0)
    if slot >= 0:
        buckets[c, slot] += value


@kernel
def _count_all(customers: IntArray, values: IntArray, metric: IntArray, buckets: IntArray, slot: int) -> None:
    for i in range(customers.size):
        _count(customers[i], values[i], metric, buckets, slot)


@kernel
def _newcomers(customers: IntArray, started: BoolArray) -> IntArray:
    """Mark ``customers`` (each at most once) as started; those who were not, in order."""
    fresh = np.empty(customers.size, dtype=np.int64)
    count = 0
    for c in customers:
        if not started[c]:
            started[c] = True
            fresh[count] = c
            count += 1
    return fresh[:count]


@kernel
def _flag(c: int, touched: BoolArray, listed: IntArray, count: IntArray) -> None:
    """Flag customer ``c`` as touched today, listing them if newly flagged (see ``ReplayEngine.touched``)."""
    if not touched[c]:
        touched[c] = True
        listed[count[0]] = c
        count[0] += 1


@kernel
def _touch(customers: IntArray, touched: BoolArray, listed: IntArray, count: IntArray) -> None:
    """Flag ``customers`` as touched today (see :func:`_flag`)."""
    for c in customers:
        _flag(c, touched, listed, count)


@kernel
def _book(
    customers: IntArray,
    units: IntArray,
    monthly: IntArray,
    touched: BoolArray,
    listed: IntArray,
    listed_count: IntArray,
    values: IntArray,
    metric: IntArray,
    buckets: IntArray,
    slot: int,
    thresholds: IntArray,
    tier: IntArray,
) -> tuple[IntArray, IntArray]:
    """A round of purchases (one per customer) after their points are in the ledger: count the
    points earned this month, the day's activity (``touched``, ``listed``: see
    ``ReplayEngine.touched``) and the tier metric (``values``; empty: no tiers). With
    ``thresholds`` (immediate evaluation), returns the rows whose customer now reaches a
    higher level, and that level."""
    up = np.empty(customers.size, dtype=np.int64)
    level = np.empty(customers.size, dtype=np.int64)
    count = 0
    for i in range(customers.size):
        c = customers[i]
        if units[i] > 0:
            monthly[c] += units[i]
            _flag(c, touched, listed, listed_count)
        if values.size:
            _count(c, values[i], metric, buckets, slot)
            if thresholds.size:
                reached = level_of(thresholds, metric[c])
                if reached > tier[c]:
                    up[count], level[count] = i, reached
                    count += 1
    return up[:count], level[:count]


def _next_fixed_date(days: IntArray, text: str) -> IntArray:
    """The expiry day a fixed-date rule gives points earned on ``days``."""
    if len(text) == 10:
        target = day_number(text)
        return np.where(days <= target, target, NEVER)
    month, dom = (int(part) for part in text.split("-"))
    years = year_of(days)
    out = np.empty(days.shape, dtype=np.int64)
    for year in np.unique(years).tolist():
        this = _safe_day(year, month, dom)
        nxt = _safe_day(year + 1, month, dom)
        sel = years == year
        out[sel] = np.where(days[sel] <= this, this, nxt)
    return out


def _safe_day(year: int, month: int, dom: int) -> int:
    import calendar
    import datetime as dt

    last = calendar.monthrange(year, month)[1]
    return day_number(dt.date(year, month, min(dom, last)))
