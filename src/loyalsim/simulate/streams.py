"""Counter-based random numbers: a uniform for each (customer, event number, stream).

Where: the simulator. Drawing "the k-th purchase of customer i" from a hash of
(replication key, stream, i, k) makes every draw independent of the order in which
customers are processed, and gives the program and control arms the same numbers for
the same event (common random numbers). The mixer is SplitMix64 (Steele, Lea & Flood
2014), which passes BigCrush as a generator of this kind.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
Array = npt.NDArray[np.float64]

(ARRIVAL, AMOUNT, DROPOUT, CHOICE, TAKE_UP, TRIAL, RENEWAL, CATEGORY, CHANNEL, COMMUNITY, CLAIM, REMINDER,
 DONATION) = range(1, 14)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: U64) -> U64:
    with np.errstate(over="ignore"):
        x = x + _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        result: U64 = x ^ (x >> np.uint64(31))
    return result


def uniforms(key: int, stream: int, customer: npt.ArrayLike, index: npt.ArrayLike) -> Array:
    """Uniforms in (0, 1), one per (customer, index) pair, for this replication key and stream."""
    c, k = _as_u64(customer), _as_u64(index)
    base = _mix(np.array([(key ^ (stream * 0x632BE59BD9B4E019)) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))
    x = _mix(_mix(base ^ c) ^ (k * _GOLDEN))
    result: Array = ((x >> np.uint64(11)).astype(np.float64) + 0.5) * (2.0**-53)
    return result


def _as_u64(values: npt.ArrayLike) -> U64:
    """The values' bits as unsigned 64-bit integers (a view, not a copy, of int64 arrays)."""
    array = np.asarray(values)
    if array.dtype == np.int64:
        view: U64 = array.view(np.uint64)
        return view
    converted: U64 = array.astype(np.uint64)
    return converted
