"""Who joins the program and when: the scenario's enrolment response (docs/behaviour.md, "Who
joins, and when").

Where: the simulate stage, once per replication before the arms run. A member joins on their
enrolment day and buys at their member rate from its beginning (time ``day - 1``: day d covers
(d - 1, d]); their purchases before it are a non-member's (base rate, no points). With the
defaults (no delay, no selection) a customer who joins does so at their first purchase, and
existing customers of a launch on day 0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from loyalsim.simulate import streams

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
BEFORE = -(2**40)  # enrolled before the forecast starts (a running book's members; referees, from birth)
NEVER = 2**40  # never enrols
LONGEST = 2**39  # a delay beyond any horizon


def join_chance(share: Array, selection: Array, relative_rate: Array) -> Array:
    """Each customer's chance of joining: ``share`` for a customer at their segment's mean
    purchase rate, the odds scaled by (rate / mean rate) ** ``selection`` (0: no self-selection;
    1: a customer buying twice as often has twice the odds of joining)."""
    if not selection.any():
        return share
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        odds = share / (1 - share) * relative_rate**selection
        chance: Array = np.where(share >= 1, 1.0, np.where(np.isfinite(odds), odds / (1 + odds), 1.0))
    return chance


def enrolment_days(
    birth: IntArray,
    member: BoolArray,
    existing: BoolArray,
    running: bool,
    delay: Array,
    selection: Array,
    relative_rate: Array,
    key: int,
    main: int,
) -> IntArray:
    """Each customer's enrolment day (a day offset; ``NEVER`` for non-members, ``BEFORE`` for
    members from before the start).

    A member joins ``delay`` days after their first purchase on average (exponential), sooner
    the more they buy: the delay is divided by (rate / mean rate) ** ``selection``. Existing
    customers of a launch count from day 0; a running book's existing members and referees
    (customers from ``main`` on) are members already. One uniform per customer from the
    ENROLMENT stream, so the days key on the customer, not on the order of the draw.
    """
    n = birth.size
    days = np.full(n, NEVER, dtype=np.int64)
    if not n:
        return days
    u = streams.uniforms(key, streams.ENROLMENT, np.arange(n), 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale = np.where(selection > 0, relative_rate ** (-selection), 1.0)
        wait = np.minimum(np.nan_to_num(-np.log(u) * delay * scale, nan=0.0, posinf=LONGEST), LONGEST)
    start = np.where(existing, 0, np.maximum(birth, 0))
    days[member] = (start + np.ceil(wait).astype(np.int64))[member]
    if running:
        days[member & existing] = BEFORE
    days[main:] = np.where(member[main:], BEFORE, NEVER)
    return days


def switch_times(days: IntArray) -> Array:
    """The time from which each customer buys at their member rate: the beginning of their
    enrolment day (-inf for members from before the start, inf for non-members)."""
    times = days.astype(np.float64) - 1.0
    times[days <= BEFORE] = -np.inf
    times[days >= NEVER] = np.inf
    return times
