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

from loyalsim.compiled import kernel

U64 = npt.NDArray[np.uint64]
Array = npt.NDArray[np.float64]

(
    ARRIVAL,
    AMOUNT,
    DROPOUT,
    CHOICE,
    TAKE_UP,
    TRIAL,
    RENEWAL,
    CATEGORY,
    CHANNEL,
    COMMUNITY,
    CLAIM,
    REMINDER,
    DONATION,
    BIRTHDAY,
    ENROLMENT,
) = range(1, 16)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@kernel
def _mix(x: np.uint64) -> np.uint64:
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


@kernel
def uniform_one(base: np.uint64, customer: np.uint64, index: np.uint64) -> float:
    """The uniform of one (customer, index) pair of the stream ``base`` (see :func:`stream_base`)."""
    x = _mix(_mix(base ^ customer) ^ (index * _GOLDEN))
    return (np.float64(x >> np.uint64(11)) + 0.5) * 1.1102230246251565e-16  # 2**-53


def stream_base(key: int, stream: int) -> np.uint64:
    """The hash every draw of this replication key's ``stream`` starts from."""
    # np.uint64 again on the way out: numba returns a Python int, which would be typed int64 next time.
    return np.uint64(_mix(np.uint64((key ^ (stream * 0x632BE59BD9B4E019)) & 0xFFFFFFFFFFFFFFFF)))


@kernel
def _draw(base: np.uint64, customer: U64, index: U64) -> Array:
    out = np.empty(customer.size, dtype=np.float64)
    shared = index.size == 1
    for i in range(customer.size):
        out[i] = uniform_one(base, customer[i], index[0] if shared else index[i])
    return out


def uniforms(key: int, stream: int, customer: npt.ArrayLike, index: npt.ArrayLike) -> Array:
    """Uniforms in (0, 1), one per (customer, index) pair, for this replication key and stream.

    ``index`` is one array per customer or a single number shared by all.
    """
    c, k = _as_u64(customer).reshape(-1), _as_u64(index).reshape(-1)
    if k.size not in (1, c.size):
        raise ValueError(f"{c.size} customers but {k.size} indices")
    result: Array = _draw(stream_base(key, stream), c, k)
    return result


def _as_u64(values: npt.ArrayLike) -> U64:
    """The values' bits as unsigned 64-bit integers (a view, not a copy, of int64 arrays)."""
    array = np.asarray(values)
    if array.dtype == np.int64:
        view: U64 = array.view(np.uint64)
        return view
    converted: U64 = array.astype(np.int64).view(np.uint64)
    return converted
