"""Every rounding mode at its boundaries, with expectations computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from loyalsim.compile.exact import Ratio, divide, money_minor, round_scalar
from tests.helpers import program

CLASSIC_BANDS = [{"from": 50, "to": 100, "rate": 1}, {"from": 100, "rate": 2}]
AMOUNTS = [0.01, 49.99, 50.00, 50.99, 100.00, 100.60, 120.99, 250.00]


def classic(mode: str, decimals: int = 0) -> object:
    return program(
        {
            "type": "points",
            "points": {"name": "points", "value": 0.01, "decimals": decimals},
            "earn": [{"id": "c", "kind": "spend", "bands": CLASSIC_BANDS, "rounding": mode}],
            "rewards": {"catalog": [{"id": "r", "kind": "discount", "cost": 1000, "face_value": 10}]},
        }
    )


def points_for(policy, amounts: list[float]) -> list[float]:  # type: ignore[no-untyped-def]
    minor = np.array([round(a * 100) for a in amounts], dtype=np.int64)
    zeros = np.zeros(minor.size, dtype=np.int64)
    units = policy.earn_points(minor, zeros, zeros).total
    return [u / policy.scale for u in units.tolist()]


# Exact points at the classic bands: (a-50) for 50..100, 50 + 2(a-100) above 100.
#   0.01 → 0;  49.99 → 0;  50.00 → 0;  50.99 → 0.99;  100.00 → 50;  100.60 → 51.2;
#   120.99 → 91.98;  250.00 → 350.
@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("floor_amount", [0, 0, 0, 0, 50, 50, 90, 350]),  # whole dollars: 50.99→50, 100.60→100, 120.99→120
        ("floor_points", [0, 0, 0, 0, 50, 51, 91, 350]),
        ("half_up", [0, 0, 0, 1, 50, 51, 92, 350]),
        ("half_even", [0, 0, 0, 1, 50, 51, 92, 350]),
        ("ceil_points", [0, 0, 0, 1, 50, 52, 92, 350]),
    ],
)
def test_classic_bands_at_boundaries(mode: str, expected: list[int]) -> None:
    assert points_for(classic(mode), AMOUNTS) == expected


def test_exact_mode_keeps_decimals() -> None:
    assert points_for(classic("exact", decimals=2), AMOUNTS) == [0, 0, 0, 0.99, 50, 51.2, 91.98, 350]


def test_half_modes_differ_only_on_ties() -> None:
    flat = {
        "type": "points",
        "points": {"name": "p", "value": 0.01},
        "rewards": {"catalog": [{"id": "r", "kind": "discount", "cost": 100, "face_value": 1}]},
    }
    for mode, expected in (("half_up", [1, 2, 3, 1]), ("half_even", [0, 2, 2, 1])):
        policy = program({**flat, "earn": [{"id": "h", "kind": "spend", "rate": 0.5, "rounding": mode}]})
        # 1.00 → 0.5, 3.00 → 1.5, 5.00 → 2.5, 2.01 → 1.005
        assert points_for(policy, [1.00, 3.00, 5.00, 2.01]) == expected


def test_refunds_and_non_positive_amounts_earn_nothing() -> None:
    policy = classic("floor_amount")
    minor = np.array([-12099, 0], dtype=np.int64)
    zeros = np.zeros(2, dtype=np.int64)
    assert policy.earn_points(minor, zeros, zeros).total.tolist() == [0, 0]


def test_whole_banding_gives_the_whole_amount_its_band_rate() -> None:
    policy = program(
        {
            "type": "points",
            "points": {"name": "p", "value": 0.01},
            "earn": [
                {
                    "id": "w",
                    "kind": "spend",
                    "bands": CLASSIC_BANDS,
                    "banding": "whole",
                    "rounding": "floor_amount",
                }
            ],
            "rewards": {"catalog": [{"id": "r", "kind": "discount", "cost": 100, "face_value": 1}]},
        }
    )
    assert points_for(policy, [49.99, 50.00, 99.99, 100.00, 120.99]) == [0, 50, 99, 200, 240]


def test_divide_matches_python_fractions_on_random_integers() -> None:
    import math
    from fractions import Fraction

    rng = np.random.default_rng(7)
    num = rng.integers(-(10**9), 10**9, 2000)
    for den in (1, 2, 3, 7, 10, 100, 999):
        for mode in ("floor_points", "ceil_points", "half_up", "half_even"):
            got = divide(num, den, mode)
            for n, g in zip(num.tolist()[:200], got.tolist()[:200], strict=True):
                f = Fraction(n, den)
                want = {
                    "floor_points": math.floor(f),
                    "ceil_points": math.ceil(f),
                    "half_up": math.floor(f + Fraction(1, 2)),
                    "half_even": round(f),
                }[mode]
                assert g == want, (n, den, mode)


def test_money_and_ratios_are_exact() -> None:
    assert money_minor(14.99, 2) == 1499
    # 0.07 and 1.15 have inexact binary expansions; the written decimals are recovered exactly.
    assert money_minor(0.07, 2) == 7 and money_minor(1.15, 2) == 115 and money_minor(139, 2) == 13900
    assert money_minor(1234, 0) == 1234
    with pytest.raises(ValueError):
        money_minor(10.125, 2)
    assert Ratio.of(1.2) == Ratio(6, 5)
    assert Ratio.of(0.05) == Ratio(1, 20)
    assert round_scalar(5, 2, "half_even") == 2 and round_scalar(7, 2, "half_even") == 4
