"""Replaying a large file on several cores: one engine per range of customers, on threads.

Where: the replay stage, behind ``loyalsim earn``. Customers never interact in a replay
(each one's points, tiers, expiry and redemptions depend on their own transactions and
the calendar), so replaying customers 0..k-1 and k..n-1 apart gives, customer by customer,
what one engine gives. Each part is closed through the end of the month of the file's
last day, as one engine would close every customer. The engines' compiled loops and
numpy's array operations release the GIL, so threads use the cores without copying the
transactions between processes.

Months reach the sink in order, each as one block of rows per part in customer order,
which concatenate to the single engine's rows. Files with returns are replayed by one
engine: a return's error message names whether its transaction id belongs to another
customer, which would otherwise depend on how far another part had got.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import numpy as np

from loyalsim.compile.policy import Policy
from loyalsim.ledger.lots import CohortTotals
from loyalsim.replay.engine import IntArray, MonthRows, ReplayEngine, ReplayResult
from loyalsim.transactions.reader import Transactions

# Files with fewer rows than this replay on one engine: below it, splitting the rows costs
# about what the second core saves.
PARTS_FROM = 200_000
MAX_PARTS = 4


def parts_for(tx: Transactions) -> int:
    """How many engines to replay ``tx`` with: one per available core (at most MAX_PARTS) for a
    large file without returns; one otherwise, or when ``LOYALSIM_THREADS=1``."""
    if len(tx) < PARTS_FROM or os.environ.get("LOYALSIM_THREADS") == "1" or bool(tx.is_return.any()):
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, MAX_PARTS))


def replay(
    policy: Policy,
    tx: Transactions,
    *,
    redeem: str = "program",
    parts: int = 1,
    sink: Callable[[MonthRows], None] | None = None,
) -> ReplayResult:
    """Replay ``tx`` (sorted by day) through ``policy`` on ``parts`` engines; the result (and the
    rows given to ``sink``) are those of one engine."""
    if parts <= 1 or len(tx) == 0:
        engine = ReplayEngine(policy, tx.customer_ids, redeem=redeem, lot_capacity=len(tx) + 16, sink=sink)
        engine.run(tx)
        return engine.finish()
    rows_before = np.concatenate(
        ([0], np.cumsum(np.bincount(tx.customer, minlength=tx.customer_ids.shape[0])))
    )
    bounds = _bounds(rows_before, parts)
    kept: list[MonthRows] = []
    merger = _InOrder(len(bounds) - 1, sink if sink is not None else kept.append)
    last_day = int(tx.day[-1])

    def one(k: int) -> ReplayResult:
        low, high = int(bounds[k]), int(bounds[k + 1])
        try:
            engine = ReplayEngine(
                policy,
                tx.customer_ids[low:high],
                redeem=redeem,
                lot_capacity=int(rows_before[high] - rows_before[low]) + 16,
                sink=lambda rows: merger.put(k, _shifted(rows, low)),
                first_customer=low,
            )
            engine.run(tx)
            return engine.finish(close_through=last_day)
        except BaseException:
            merger.stop()  # the other parts stop at their next month end
            raise
        finally:
            merger.done(k)

    with ThreadPoolExecutor(max_workers=len(bounds) - 1) as pool:
        futures = [pool.submit(one, k) for k in range(len(bounds) - 1)]
        try:
            wait(futures)
        except BaseException:  # Ctrl-C: stop the parts at their next month end, then leave
            merger.stop()
            raise
    failures = [f.exception() for f in futures if f.exception() is not None]
    first = next((e for e in failures if not isinstance(e, _Stopped)), failures[0] if failures else None)
    if first is not None:
        raise first
    return _joined(policy, tx, [f.result() for f in futures], _by_month(kept) if sink is None else [])


def _bounds(rows_before: IntArray, parts: int) -> IntArray:
    """Customer index boundaries cutting the rows into ``parts`` ranges of about equal size
    (fewer when some customer has most rows). ``rows_before[c]``: the rows of customers before c."""
    cuts = np.searchsorted(rows_before, np.linspace(0, rows_before[-1], parts + 1)[1:-1])
    return np.unique(np.concatenate(([0], cuts, [rows_before.size - 1]))).astype(np.int64)


def _shifted(rows: MonthRows, low: int) -> MonthRows:
    return dataclasses.replace(rows, customer=rows.customer + low)


class _Stopped(Exception):
    """A part stopped because another failed (that failure is the one raised)."""


class _InOrder:
    """Passes each part's months on in month order and, within a month, in part order.

    A month goes on once every part has given it, a later month, or finished: a part whose
    customers have no transactions yet gives no row for that month, as one engine would not.
    """

    def __init__(self, parts: int, sink: Callable[[MonthRows], None]) -> None:
        self.sink = sink
        self.stopped = False
        self.lock = threading.Lock()
        self.waiting: dict[int, dict[int, MonthRows]] = {}  # month → part → rows
        self.reached = [-(2**62)] * parts  # the latest month each part has given (finished: beyond any)

    def stop(self) -> None:
        """Make every part's next month end raise :class:`_Stopped` (another part failed, or Ctrl-C)."""
        self.stopped = True

    def put(self, part: int, rows: MonthRows) -> None:
        if self.stopped:
            raise _Stopped
        with self.lock:
            self.waiting.setdefault(rows.month, {})[part] = rows
            self.reached[part] = rows.month
            self._release()

    def done(self, part: int) -> None:
        with self.lock:
            self.reached[part] = 2**62
            self._release()

    def _release(self) -> None:
        ready = min(self.reached)
        for month in sorted(m for m in self.waiting if m <= ready):
            for _, rows in sorted(self.waiting.pop(month).items()):
                self.sink(rows)


def _by_month(blocks: list[MonthRows]) -> list[MonthRows]:
    """Blocks of the same month (in order) joined into one."""
    months: list[MonthRows] = []
    for month in sorted({b.month for b in blocks}):
        same = [b for b in blocks if b.month == month]
        fields = {
            f.name: np.concatenate([getattr(b, f.name) for b in same])
            for f in dataclasses.fields(MonthRows)
            if f.name != "month"
        }
        months.append(MonthRows(month=month, **fields))
    return months


def _joined(
    policy: Policy, tx: Transactions, results: list[ReplayResult], months: list[MonthRows]
) -> ReplayResult:
    cohorts = CohortTotals()
    for result in results:
        for name in ("issued", "redeemed", "expired", "reversed"):
            table = getattr(cohorts, name)
            for month, points in getattr(result.cohorts, name).items():
                table[month] = table.get(month, 0) + points
    with_months = [r for r in results if r.last_month >= r.first_month]
    runoff: dict[tuple[int, int], list[int]] = {}  # (month, cohort): issued, redeemed, expired
    for result in results:
        for month, cohort, issued, redeemed, expired in result.cohort_rows:
            summed = runoff.setdefault((month, cohort), [0, 0, 0])
            summed[0] += issued
            summed[1] += redeemed
            summed[2] += expired

    def joined(name: str) -> Any:
        return np.concatenate([getattr(r, name) for r in results])

    return ReplayResult(
        policy=policy,
        customer_ids=tx.customer_ids,
        months=months,
        rows=sum(r.rows for r in results),
        started=joined("started"),
        total_earned=joined("total_earned"),
        total_redeemed=joined("total_redeemed"),
        total_expired=joined("total_expired"),
        balance=joined("balance"),
        debt=joined("debt"),
        cohorts=cohorts,
        first_month=min((r.first_month for r in with_months), default=0),
        last_month=max((r.last_month for r in with_months), default=-1),
        rejected=list(tx.rejected) + [e for r in results for e in r.rejected],
        cohort_rows=[(month, cohort, *summed) for (month, cohort), summed in sorted(runoff.items())],  # type: ignore[misc]
    )
