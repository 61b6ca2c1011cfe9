"""Sums of a transaction file by calendar month.

Where: the transactions stage; used by a replayed book's finance (:mod:`loyalsim.finance.book`)
and by the simulator for a running book's history months.
"""

from __future__ import annotations

import numpy as np

from loyalsim.compile.calendar import month_index
from loyalsim.transactions.reader import Transactions

__all__ = ["revenue_by_month"]


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
