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
def time_after(t: float, gap: float, switch: float, until: float, base: float, rate: float) -> float:
    """When a unit-exponential ``gap`` drawn at time ``t`` is used up, at the member's ``rate``
    from ``switch`` (their enrolment) until ``until`` (the lift worn off) and at the ``base``
    rate outside: the piecewise-constant intensity, segment by segment. With ``switch`` at -inf
    and ``until`` at inf (a member from the start, for good) it is ``t + gap / rate``, the same
    arithmetic as with no enrolment day. (A helper of scalars: numba inlines it.)"""
    left = gap
    if t < switch:
        room = (switch - t) * base
        if left <= room:
            return t + left / base
        left -= room
        t = switch
    if t < until:
        room = (until - t) * rate
        if left <= room:
            return t + left / rate
        left -= room
        t = until
    return t + left / base


@kernel
def schedule_next(
    who: IntArray,
    rate: Array,
    base_rate: Array,
    switch: Array,
    until: Array,
    arrival: np.uint64,
    repeats: IntArray,
    clock: Array,
    last_time: Array,
    death: Array,
    gone: BoolArray,
    next_day: npt.NDArray[np.signedinteger[Any]],
    today: int,
    last_day: int,
) -> IntArray:
    """Draw the next purchase of each customer in ``who`` (who just bought, at ``rate`` from
    ``switch[c]``, the time they enrol, until ``until[c]``, when the lift wears off; at their
    base rate before and after).

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
        when = time_after(last_time[c], gap, switch[c], until[c], base_rate[c], rate[i])
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
def count_repeats(
    batch: IntArray,
    repeats: IntArray,
    allowed: IntArray,
    death: Array,
    birth: Array,
    clock: Array,
    base_rate: Array,
) -> IntArray:
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


@kernel
def draw_span(
    start: int,
    stop: int,
    born: IntArray,
    rate: Array,
    base_rate: Array,
    switch: Array,
    until: Array,
    arrival: np.uint64,
    repeats: IntArray,
    allowed: IntArray,
    clock: Array,
    last_time: Array,
    death: Array,
    birth: Array,
    gone: BoolArray,
    next_day: npt.NDArray[np.signedinteger[Any]],
    last_day: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """Every purchase of days ``start`` .. ``stop - 1`` when each customer's rate is fixed
    (``rate``, per customer, from ``switch``: see :func:`schedule_next`): the first purchases of
    ``born`` and everyone's repeats.

    Returns (customer, day, purchase number) in day order, each customer's purchases in
    their order. The arithmetic is that of :func:`count_repeats` and :func:`schedule_next`
    step by step, so the purchases, and the state left for the next span, are those of
    drawing the days one by one (tests compare the two on every canonical program).
    Why the steps are written out again rather than shared through helper kernels: numba
    does not inline a helper taking a customer's arrays, and the calls made this loop
    about twice as slow.
    """
    n = next_day.size
    # Who starts buying in the span: scheduled repeats (by day), then newcomers' first purchases.
    first_c = np.empty(n + born.size, dtype=np.int64)
    first_day = np.empty(n + born.size, dtype=np.int64)
    starts = 0
    for c in range(n):
        if start <= next_day[c] < stop:
            first_c[starts], first_day[starts] = c, next_day[c]
            starts += 1
    repeat_starts = starts
    for c in born:
        first_c[starts], first_day[starts] = c, np.int64(birth[c])
        starts += 1
    size = max(4 * starts, 16)
    out_c = np.empty(size, dtype=np.int64)
    out_day = np.empty(size, dtype=np.int64)
    out_k = np.empty(size, dtype=np.int64)
    count = 0
    for s in range(starts):
        c, day = first_c[s], first_day[s]
        number = 0
        if s < repeat_starts:  # count_repeats
            repeats[c] += 1
            if repeats[c] == allowed[c]:
                death[c] = min(death[c], birth[c] + clock[c] / base_rate[c])
            number = repeats[c]
        while True:
            if count == size:  # grow the output
                size *= 2
                grown_c, grown_day, grown_k = (
                    np.empty(size, dtype=np.int64),
                    np.empty(size, dtype=np.int64),
                    np.empty(size, dtype=np.int64),
                )
                grown_c[:count], grown_day[:count], grown_k[:count] = (
                    out_c[:count],
                    out_day[:count],
                    out_k[:count],
                )
                out_c, out_day, out_k = grown_c, grown_day, grown_k
            out_c[count], out_day[count], out_k[count] = c, day, number
            count += 1
            # schedule_next
            if gone[c] or base_rate[c] <= 0:
                break
            gap = -np.log(uniform_one(arrival, np.uint64(c), np.uint64(repeats[c] + 1)))
            clock[c] += gap
            when = time_after(last_time[c], gap, switch[c], until[c], base_rate[c], rate[c])
            if when >= death[c]:
                gone[c] = True
                break
            if when > last_day:
                break
            last_time[c] = when
            day = np.int64(np.ceil(when))
            if day >= stop:
                next_day[c] = day
                break
            # count_repeats: they buy again within the span
            repeats[c] += 1
            if repeats[c] == allowed[c]:
                death[c] = min(death[c], birth[c] + clock[c] / base_rate[c])
            number = repeats[c]
    # Counting sort by day (stable: each customer's purchases stay in order).
    span = stop - start
    place = np.zeros(span + 1, dtype=np.int64)
    for i in range(count):
        place[out_day[i] - start + 1] += 1
    for d in range(span):
        place[d + 1] += place[d]
    customer = np.empty(count, dtype=np.int64)
    days = np.empty(count, dtype=np.int64)
    numbers = np.empty(count, dtype=np.int64)
    for i in range(count):
        j = place[out_day[i] - start]
        place[out_day[i] - start] += 1
        customer[j], days[j], numbers[j] = out_c[i], out_day[i], out_k[i]
    return customer, days, numbers
