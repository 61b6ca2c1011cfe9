"""Counter-based uniforms: exactly SplitMix64's finaliser applied as documented, whatever the batch."""

from __future__ import annotations

import numpy as np

from loyalsim.simulate import streams

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix(x: int) -> int:
    """SplitMix64's output function (Steele, Lea & Flood 2014), in plain Python integers."""
    x = (x + GOLDEN) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def expected(key: int, stream: int, customer: int, index: int) -> float:
    base = mix((key ^ (stream * 0x632BE59BD9B4E019)) & MASK)
    x = mix(mix(base ^ customer) ^ ((index * GOLDEN) & MASK))
    return ((x >> 11) + 0.5) * 2.0**-53


def test_uniforms_are_the_documented_hash_bit_for_bit() -> None:
    customers = np.array([0, 1, 7, 123_456, 2**40 + 3], dtype=np.int64)
    indices = np.array([0, 5, 1 << 40, 3, 99], dtype=np.int64)
    for key in (0, 1, 2**63 + 5, MASK):
        for stream in (streams.ARRIVAL, streams.DONATION):
            got = streams.uniforms(key, stream, customers, indices)
            want = [
                expected(key, stream, c, k) for c, k in zip(customers.tolist(), indices.tolist(), strict=True)
            ]
            assert got.tolist() == want
            shared = streams.uniforms(key, stream, customers, 42)
            assert shared.tolist() == [expected(key, stream, c, 42) for c in customers.tolist()]


def test_a_draw_does_not_depend_on_the_batch_it_is_drawn_in() -> None:
    who = np.arange(1000, dtype=np.int64)
    index = who * 3 % 17
    whole = streams.uniforms(11, streams.AMOUNT, who, index)
    assert ((whole > 0) & (whole < 1)).all()
    picked = np.array([999, 3, 500], dtype=np.int64)
    assert streams.uniforms(11, streams.AMOUNT, picked, index[picked]).tolist() == whole[picked].tolist()
