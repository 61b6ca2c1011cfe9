"""Transactions too large for a program to compute exactly, rejected by row before the replay.

Where: the replay stage, called by ``loyalsim earn`` after reading. The compiler works out the
largest purchase a program's rates and stacked multipliers compute exactly in 64-bit integers
(:attr:`loyalsim.compile.policy.Policy.max_exact_amount`, far above any real purchase for
ordinary programs); a row above it would otherwise wrap around silently.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from loyalsim.compile.policy import Policy
from loyalsim.transactions.reader import RowError, Transactions


def reject_inexact(policy: Policy, tx: Transactions) -> Transactions:
    """``tx`` without the rows whose amount is beyond ``policy.max_exact_amount``; each such row
    joins ``tx.rejected`` with its row, column and the limit."""
    limit = policy.max_exact_amount
    over = np.abs(tx.amount) > limit
    if not over.any():
        return tx
    unit = 10**policy.minor_units
    errors = [
        RowError(
            tx.source(int(i)),
            int(tx.row[i]),
            "amount",
            f"{int(tx.amount[i]) / unit:,.{policy.minor_units}f}",
            f"the amount is above {limit / unit:,.0f} {policy.currency}, the largest this program's rates "
            "and stacked multipliers compute exactly",
        )
        for i in np.flatnonzero(over)[:1000]
    ]
    kept = tx.subset(np.flatnonzero(~over))
    return dataclasses.replace(kept, rejected=sorted([*tx.rejected, *errors], key=lambda e: e.row))
