"""Points by earn cohort: redemption curves and the expected redemption rate (ERR).

Where: the finance stage. The simulator records, at every month end, each earn cohort's
cumulative points issued, redeemed and expired (FIFO redemption, so a redemption is charged
to the oldest points held). From that run-off triangle:

- the **redemption curve** of a cohort: the cumulative share of its points redeemed by
  each month since it was earned (age 0 = the month the points were earned);
- the **expected redemption rate** at a month end, estimated as an actuary would with what
  is known at that date (no look-ahead): volume-weighted chain-ladder development factors
  of cumulative redemptions from age k to k+1, from the cohorts that have reached both
  ages; each cohort's redemptions projected to the oldest age observed (never more than
  its points not yet expired); points still unresolved at that oldest age are assumed to
  redeem in the proportion seen among resolved points (redeemed / (redeemed + expired)).
  ERR = projected ultimate redemptions / points issued, over all cohorts so far.

The estimate is an estimate: early in a program, few cohorts are old, so it leans on the
oldest cohorts' experience and moves as they mature (IFRS 15's cumulative catch-up).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Row = tuple[
    int, int, int, int, int
]  # month, cohort, issued, redeemed, expired (cumulative at that month end)
Matrix = npt.NDArray[np.float64]


def triangle(rows: Sequence[Row], months: Sequence[int]) -> tuple[Matrix, Matrix, Matrix]:
    """Issued, cumulative redeemed and cumulative expired as [cohort, month] matrices over ``months``."""
    position = {month: i for i, month in enumerate(months)}
    n = len(months)
    issued, redeemed, expired = np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n))
    for month, cohort, i, r, e in rows:
        if month in position and cohort in position:
            c, t = position[cohort], position[month]
            issued[c, t], redeemed[c, t], expired[c, t] = i, r, e
    return issued, redeemed, expired


def expected_redemption_rates(rows: Sequence[Row], months: Sequence[int]) -> list[float]:
    """ERR at each of ``months``' ends from the cohorts known then; 1.0 before any point is issued."""
    issued, redeemed, expired = triangle(rows, months)
    out = []
    for t in range(len(months)):
        out.append(_err_at(issued[: t + 1, t], redeemed[: t + 1, : t + 1], expired[: t + 1, t]))
    return out


def _err_at(issued: Matrix, redeemed: Matrix, expired: Matrix) -> float:
    """``issued``/``expired``: per cohort 0..t at month t; ``redeemed``: [cohort, month 0..t]."""
    total = issued.sum()
    if total <= 0:
        return 1.0
    return float(np.clip(_ultimates(issued, redeemed, expired).sum() / total, 1e-6, 1.0))


def _ultimates(issued: Matrix, redeemed: Matrix, expired: Matrix) -> Matrix:
    """Each cohort's projected ultimate redemptions at month t (the arguments as for :func:`_err_at`)."""
    t = issued.size - 1
    # Development factors from age k to k + 1 (cohort c is age k at month c + k).
    factors = np.ones(t + 1)
    for k in range(t):
        cohorts = np.arange(0, t - k)  # have reached age k + 1 by month t
        before = redeemed[cohorts, cohorts + k].sum()
        after = redeemed[cohorts, cohorts + k + 1].sum()
        if before > 0:
            factors[k] = after / before
    now = redeemed[np.arange(t + 1), t]
    ages = t - np.arange(t + 1)
    projected = np.array([now[c] * np.prod(factors[ages[c] : t]) for c in range(t + 1)])
    ceiling = issued - expired  # a cohort cannot redeem points that have already expired
    projected = np.minimum(projected, ceiling)
    # The oldest cohort's still-unresolved points: assumed to redeem like the resolved ones.
    resolved = now.sum() + expired.sum()
    ratio = now.sum() / resolved if resolved > 0 else 1.0
    unresolved = max(issued[0] - now[0] - expired[0], 0.0) / issued[0] if issued[0] > 0 else 1.0
    ultimate: Matrix = np.minimum(projected + unresolved * ratio * issued, ceiling)
    return ultimate


def ultimate_rates(rows: Sequence[Row], months: Sequence[int]) -> dict[int, tuple[float, float]]:
    """Per cohort at the last of ``months``: (points issued, projected ultimate redemption rate)."""
    issued, redeemed, expired = triangle(rows, months)
    t = len(months) - 1
    if t < 0:
        return {}
    ultimate = _ultimates(issued[:, t], redeemed, expired[:, t])
    return {
        cohort: (float(issued[c, t]), float(ultimate[c] / issued[c, t]))
        for c, cohort in enumerate(months)
        if issued[c, t] > 0
    }


def redemption_curves(rows: Sequence[Row], months: Sequence[int]) -> dict[int, list[float]]:
    """Per cohort (earn month): the cumulative share of its points redeemed at ages 0, 1, 2, ... months."""
    issued, redeemed, _ = triangle(rows, months)
    curves: dict[int, list[float]] = {}
    for c, cohort in enumerate(months):
        final = issued[c, -1]
        if final > 0:
            curves[cohort] = [float(redeemed[c, t] / final) for t in range(c, len(months))]
    return curves
