"""Per-customer purchase summaries (frequency, recency, age, spend) for model fitting.

Purchases on the same day are merged into one purchase (their amounts added), as in the
published CDNOW analyses. Times are in the chosen unit from each customer's first
purchase: weeks are days / 7 (fractional), so no information is rounded away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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
    # Merge purchases on the same day.
    order = np.lexsort((day, customer))
    customer, day, amount = customer[order], day[order], amount[order]
    new = np.concatenate(([True], (customer[1:] != customer[:-1]) | (day[1:] != day[:-1])))
    starts = np.flatnonzero(new)
    c, d = customer[starts], day[starts]
    spent = np.add.reduceat(amount, starts).astype(np.float64) / money_unit
    first_of = np.concatenate(([True], c[1:] != c[:-1]))
    first_day_each = np.maximum.accumulate(np.where(first_of, d, np.iinfo(np.int64).min))
    in_calibration = d <= calibration_end
    cohort = first_day_each <= calibration_end
    ids = np.unique(c[cohort])
    count = ids.size
    cal = in_calibration & cohort
    cal_inverse = np.searchsorted(ids, c[cal])
    days_in_cal = np.bincount(cal_inverse, minlength=count)
    first = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, cal_inverse, d[cal])
    last = np.full(count, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last, cal_inverse, d[cal])
    repeat = cal & ~first_of
    repeat_inverse = np.searchsorted(ids, c[repeat])
    repeat_total = np.bincount(repeat_inverse, weights=spent[repeat], minlength=count)
    x = (days_in_cal - 1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_spend = np.where(x > 0, repeat_total / np.maximum(x, 1), np.nan)
    holdout = None
    length = 0.0
    if holdout_end is not None:
        later = cohort & (d > calibration_end) & (d <= holdout_end)
        holdout = np.bincount(np.searchsorted(ids, c[later]), minlength=count).astype(np.float64)
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
        repeat_days=d[
            cohort & ~first_of & ((d <= holdout_end) if holdout_end is not None else in_calibration)
        ],
    )
    check(summary)
    return summary


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
