"""Calendar arithmetic on day numbers (days since 1970-01-01) as numpy int arrays.

Where: shared by the compiler, the replay and the simulator. Month arithmetic follows the
calendar: adding 1 month to 31 January gives 28/29 February (the month's last day).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from loyalsim.durations import Duration

EPOCH = dt.date(1970, 1, 1)
IntArray = npt.NDArray[np.int64]


def day_number(date: dt.date | str) -> int:
    value = dt.date.fromisoformat(date) if isinstance(date, str) else date
    return (value - EPOCH).days


def to_date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def month_index(days: IntArray) -> IntArray:
    """Months since January 1970 for each day number (2027-03-15 → 12*57 + 2)."""
    months: IntArray = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months


def month_start(months: IntArray) -> IntArray:
    """Day number of the first day of each month index."""
    starts: IntArray = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return starts


def month_end(days: IntArray) -> IntArray:
    """Day number of the last day of the month of each day."""
    return month_start(month_index(days) + 1) - 1


def year_of(days: IntArray) -> IntArray:
    years: IntArray = days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    return years


def add_duration(days: IntArray, duration: Duration) -> IntArray:
    """Add whole months (clamped to the month's last day) and then days."""
    out = np.asarray(days, dtype=np.int64)
    if duration.months:
        months = month_index(out)
        day_of_month = out - month_start(months)
        target = months + duration.months
        length = month_start(target + 1) - month_start(target)
        out = month_start(target) + np.minimum(day_of_month, length - 1)
    return out + duration.days


def month_label(month: int) -> str:
    """'YYYY-MM' for a month index."""
    year, index = divmod(int(month), 12)
    return f"{1970 + year:04d}-{index + 1:02d}"


# Scalar forms for the per-day paths of the replay and the simulator: the array functions
# above on one day, remembered (a day's facts are asked for on every round of it, and numpy's
# fixed cost per call is several times the arithmetic).
@lru_cache(maxsize=1 << 14)
def month_of(day: int) -> int:
    """The month index of one day number."""
    return int(month_index(np.array([day], dtype=np.int64))[0])


@lru_cache(maxsize=1 << 14)
def last_of_month(day: int) -> int:
    """The day number of the last day of one day's month."""
    return int(month_end(np.array([day], dtype=np.int64))[0])


@lru_cache(maxsize=1 << 14)
def first_of_month(month: int) -> int:
    """The day number of the first day of one month index."""
    return int(month_start(np.array([month], dtype=np.int64))[0])


@lru_cache(maxsize=1 << 14)
def day_after(day: int, duration: Duration) -> int:
    """``add_duration`` of one day number."""
    return int(add_duration(np.array([day], dtype=np.int64), duration)[0])
