"""When each simulated customer buys next: the compiled per-purchase loops of the daily step.

Where: the simulator's daily process (``simulate.engine``). Purchase k of a customer
happens at birth + E_k / rate, E_k the k-th arrival of a unit-rate Poisson process drawn
from the customer's ARRIVAL stream (shared by both arms: common random numbers). A
customer has at most one purchase scheduled at a time, its day kept in a small per-customer
array that one compiled scan a day reads (cheaper than per-day lists, whose pointer chasing
misses the cache on every customer).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from loyalsim.compiled import kernel
from loyalsim.simulate.streams import uniform_one

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def new_calendar(customers: int, days: int) -> npt.NDArray[np.signedinteger[Any]]:
    """Each customer's day of their next scheduled purchase (-1: none), as small as the horizon allows.

    Why small: the daily scan reads all of it; two bytes a customer keep a million in cache.
    """
    dtype = np.int16 if days < np.iinfo(np.int16).max else np.int32
    return np.full(customers, -1, dtype=dtype)


@kernel
def due_on(next_day: npt.NDArray[np.signedinteger[Any]], day: int) -> IntArray:
    """The customers whose next purchase is on ``day``, in increasing order."""
    out = np.empty(next_day.size, dtype=np.int64)
    count = 0
    for c in range(next_day.size):
        if next_day[c] == day:
            out[count] = c
            count += 1
    return out[:count].copy()


@kernel
def schedule_next(who: IntArray, rate: Array, base_rate: Array, arrival: np.uint64, repeats: IntArray,
                  clock: Array, last_time: Array, death: Array, gone: BoolArray,
                  next_day: npt.NDArray[np.signedinteger[Any]], today: int, last_day: int) -> IntArray:
    """Draw the next purchase of each customer in ``who`` (who just bought, at ``rate`` from now on).

    A customer whose next purchase falls after their death is gone; one falling after the
    horizon (``last_day``) is dropped; one falling ``today`` is returned (they buy again
    today); the rest join the day's list of ``first``/``link``.
    """
    again = np.empty(who.size, dtype=np.int64)
    count = 0
    for i in range(who.size):
        c = who[i]
        if gone[c] or base_rate[c] <= 0:
            continue
        gap = -np.log(uniform_one(arrival, np.uint64(c), np.uint64(repeats[c] + 1)))
        clock[c] += gap
        when = last_time[c] + gap / rate[i]
        if when >= death[c]:
            gone[c] = True
            continue
        if when > last_day:
            continue
        last_time[c] = when
        day = np.int64(np.ceil(when))
        if day == today:
            again[count] = c
            count += 1
        else:
            next_day[c] = day
    return again[:count]


@kernel
def count_repeats(batch: IntArray, repeats: IntArray, allowed: IntArray, death: Array, birth: Array, clock: Array,
                  base_rate: Array) -> IntArray:
    """Count a repeat purchase for each customer of ``batch``; returns their purchase numbers.

    BG/NBD dropout ends the customer's lifetime at the time their allowed-th repeat purchase
    would fall at the base rate: a frequency lift adds purchases within the lifetime and
    cannot shorten it (the control arm, at base rate, stops right there).
    """
    numbers = np.empty(batch.size, dtype=np.int64)
    for i in range(batch.size):
        c = batch[i]
        repeats[c] += 1
        if repeats[c] == allowed[c]:
            death[c] = min(death[c], birth[c] + clock[c] / base_rate[c])
        numbers[i] = repeats[c]
    return numbers
