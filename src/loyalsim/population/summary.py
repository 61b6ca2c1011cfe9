"""Per-customer purchase summaries (frequency, recency, age, spend) for model fitting.

Purchases on the same day are merged into one purchase (their amounts added), as in the
published CDNOW analyses. Times are in the chosen unit from each customer's first
purchase: weeks are days / 7 (fractional), so no information is rounded away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loyalsim.compiled import kernel
from loyalsim.errors import LoyalsimError, UsageError
from loyalsim.transactions.reader import Transactions

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
UNITS = {"day": 1.0, "week": 7.0}


class FitDataError(LoyalsimError):
    """The data cannot support a fit (too few customers, no repeat purchases, ...): exit 1."""


@dataclass
class Summary:
    customer_ids: npt.NDArray[np.object_]
    x: Array  # repeat purchases in the calibration period
    t_x: Array  # time of the last calibration purchase since the first
    T: Array  # time from the first purchase to the end of calibration
    mean_spend: Array  # average amount of repeat purchases (currency units; nan when x = 0)
    holdout: Array | None  # purchases in the holdout period (None without a holdout)
    holdout_length: float  # in time units
    first_day: IntArray
    calibration_end: int
    unit: float
    repeat_days: IntArray  # days of every merged repeat purchase of the cohort (for tracking plots)
    codes: IntArray | None = None  # each customer's code in the transactions read (ascending)

    @property
    def customers(self) -> int:
        return int(self.x.size)


def summarise(
    tx: Transactions, calibration_end: int, holdout_end: int | None, unit: str, money_unit: int
) -> Summary:
    """Build the calibration (and holdout) summary; raise FitDataError when it cannot be fitted."""
    if unit not in UNITS:
        raise UsageError(f"--time-unit must be day or week, not {unit!r}")
    scale = UNITS[unit]
    buy = ~tx.is_return
    customer, day, amount = tx.customer[buy].astype(np.int64), tx.day[buy].astype(np.int64), tx.amount[buy]
    if customer.size == 0:
        raise FitDataError("the file has no purchases")
    first_data, last_data = int(day.min()), int(day.max())
    from loyalsim.compile.calendar import to_date

    if not first_data <= calibration_end <= last_data:
        raise FitDataError(
            f"the calibration end {to_date(calibration_end)} is outside the data, which runs from "
            f"{to_date(first_data)} to {to_date(last_data)}"
        )
    if holdout_end is not None and holdout_end <= calibration_end:
        raise UsageError("--holdout-end must come after --calibration-end")
    if first_data == last_data:
        raise FitDataError("all purchases are on one day: repeat-purchase timing cannot be estimated")
    # One pass over the rows in day order (as read): a customer's purchases on one day are one
    # purchase (their amounts added), so a row starts a purchase when its day is not the
    # customer's last one. No sort: the rows are already in day order.
    if np.any(day[1:] < day[:-1]):  # (not from read_transactions, which sorts by day)
        order = np.argsort(day, kind="stable")
        customer, day, amount = customer[order], day[order], amount[order]
    codes = len(tx.customer_ids)
    unbounded = np.iinfo(np.int64).max
    first, last, days_in_cal, repeat_cents, later, repeat_days = _summarise_days(
        customer,
        day,
        amount.astype(np.int64),
        codes,
        calibration_end,
        holdout_end if holdout_end is not None else unbounded,
        holdout_end is not None,
    )
    chosen = first <= calibration_end  # customers whose first purchase is in calibration
    ids = np.flatnonzero(chosen)
    first, last = first[chosen], last[chosen]
    x = (days_in_cal[chosen] - 1).astype(np.float64)
    repeat_total = repeat_cents[chosen].astype(np.float64) / money_unit
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_spend = np.where(x > 0, repeat_total / np.maximum(x, 1), np.nan)
    holdout = None
    length = 0.0
    if holdout_end is not None:
        holdout = later[chosen].astype(np.float64)
        length = (holdout_end - calibration_end) / scale
    summary = Summary(
        customer_ids=tx.customer_ids[ids],
        x=x,
        t_x=(last - first) / scale,
        T=(calibration_end - first) / scale,
        mean_spend=mean_spend,
        holdout=holdout,
        holdout_length=length,
        first_day=first,
        calibration_end=calibration_end,
        unit=scale,
        repeat_days=repeat_days,
        codes=ids,
    )
    check(summary)
    return summary


@kernel
def _summarise_days(
    customer: IntArray,
    day: IntArray,
    amount: IntArray,
    codes: int,
    calibration_end: int,
    holdout_end: int,
    with_holdout: bool,
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Per customer code, from purchase rows in day order: the first purchase day, the last
    calibration purchase day, the calibration purchase days, the minor units of calibration
    purchases after the first day, the holdout purchase days; and the day of every repeat
    purchase (a new day after the first) of a customer who started in calibration, up to the
    holdout's end (the calibration's without one)."""
    none = np.iinfo(np.int64).max
    first = np.full(codes, none, dtype=np.int64)
    last = np.full(codes, none, dtype=np.int64)
    seen = np.full(codes, none, dtype=np.int64)  # the customer's latest purchase day so far
    days = np.zeros(codes, dtype=np.int64)
    cents = np.zeros(codes, dtype=np.int64)
    later = np.zeros(codes, dtype=np.int64)
    repeats = np.empty(customer.size, dtype=np.int64)
    count = 0
    for i in range(customer.size):
        c, d = customer[i], day[i]
        if first[c] == none:
            first[c] = last[c] = seen[c] = d
            days[c] = 1
            continue
        if first[c] > calibration_end:
            continue
        new = d != seen[c]
        seen[c] = d
        if d <= calibration_end:
            if new:
                days[c] += 1
                last[c] = d
                repeats[count] = d
                count += 1
            if d != first[c]:
                cents[c] += amount[i]
        elif d <= holdout_end and new:
            later[c] += 1
            if with_holdout:
                repeats[count] = d
                count += 1
    return first, last, days, cents, later, repeats[:count]


def check(summary: Summary, minimum: int = 10) -> None:
    if summary.customers < minimum:
        raise FitDataError(
            f"only {summary.customers} customers made a first purchase by the calibration end; "
            f"at least {minimum} are needed for a meaningful fit"
        )
    if not (summary.x > 0).any():
        raise FitDataError(
            "no customer made a repeat purchase in the calibration period, so purchase rates "
            "and dropout cannot be told apart; extend the calibration period"
        )
