"""The compiled earn loop against the language's definition, computed here with exact fractions.

Generated programs mix bands (marginal or whole), every rounding mode, decimal points,
tier and campaign multipliers, a min-spend condition, a bonus campaign and a
per-transaction cap; every purchase's points must equal the reference's.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalsim.compile.calendar import day_number
from tests.helpers import program

MODES = ["floor_amount", "floor_points", "half_up", "half_even", "ceil_points", "exact"]
MARCH_1, MARCH_31 = day_number("2027-03-01"), day_number("2027-03-31")
# Mostly round rates: they put exact halves (rounding ties) within reach.
ROUND_RATES = st.sampled_from([Decimal(v) for v in ("1", "1", "1", "0.5", "1.5", "2", "0.25", "0.1", "3")])
rates = st.one_of(
    ROUND_RATES,
    ROUND_RATES,
    ROUND_RATES,
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5"), places=2),
)


def rounded(value: Fraction, mode: str) -> int:
    """The language's rounding modes, from their documented definitions."""
    floor = math.floor(value)
    rest = value - floor
    if mode in ("floor_amount", "floor_points"):
        return floor
    if mode == "ceil_points":
        return math.ceil(value)
    if mode == "half_up":
        return floor + (rest >= Fraction(1, 2))
    return floor + (rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1))  # half-even


@st.composite
def programs(draw: st.DrawFn) -> dict[str, Any]:
    edges = sorted(draw(st.sets(st.integers(1, 300), min_size=0, max_size=3)))
    bands = [{"from": low, "rate": float(draw(rates))} for low in [0, *edges]]
    for band, high in zip(bands, edges, strict=False):
        band["to"] = high
    rule: dict[str, Any] = {
        "id": "base",
        "kind": "spend",
        "bands": bands,
        "banding": draw(st.sampled_from(["marginal", "whole"])),
        "rounding": draw(st.sampled_from(MODES)),
    }
    # 'exact' keeps fractions of a point: it needs decimals (the validator says so).
    decimals = draw(st.integers(1 if rule["rounding"] == "exact" else 0, 2))
    if draw(st.booleans()):
        rule["cap"] = {"per_transaction": draw(st.integers(1, 500))}
    if draw(st.booleans()):
        rule["when"] = {"min_spend": draw(st.integers(0, 100))}
    return {
        "type": "tiered",
        "points": {"name": "points", "value": 0.01, "decimals": decimals},
        "earn": [rule, {"id": "visit", "kind": "visit", "points": draw(st.integers(1, 5))}],
        "tiers": {
            "metric": "spend",
            "window": {"kind": "lifetime"},
            "levels": [
                {"id": "member", "threshold": 0},
                {"id": "gold", "threshold": 500, "benefits": {"earn_multiplier": float(draw(rates))}},
            ],
        },
        "campaigns": [
            {
                "id": "double",
                "start": "2027-03-01",
                "end": "2027-03-31",
                "kind": "multiplier",
                "multiplier": float(draw(rates)),
                **({"rules": ["base", "visit"]} if draw(st.booleans()) else {}),
            },
            {
                "id": "bonus",
                "start": "2027-03-15",
                "end": "2027-04-15",
                "kind": "bonus",
                "points": draw(st.integers(1, 50)),
                "when": {"min_spend": draw(st.integers(0, 200))},
            },
        ],
        "rewards": {"catalog": [{"id": "r", "kind": "discount", "cost": 100, "face_value": 1}]},
    }


def reference(doc: dict[str, Any], cents: int, tier: int, day: int) -> int:
    """Points units of one purchase, by the language's definition."""
    scale = 10 ** doc["points"]["decimals"]
    if cents <= 0:
        return 0
    amount = Fraction(cents, 100)
    in_march = MARCH_1 <= day <= MARCH_31
    double, bonus = doc["campaigns"]
    total = 0
    for rule in doc["earn"]:
        if "min_spend" in rule.get("when", {}) and amount < rule["when"]["min_spend"]:
            continue
        targeted = rule["id"] in double.get("rules", ["base"])
        factor = Fraction(Decimal(str(double["multiplier"]))) if in_march and targeted else Fraction(1)
        if rule["kind"] == "visit":
            units = math.floor(rule["points"] * scale * factor)
        else:
            mode = rule["rounding"]
            base = Fraction(math.floor(amount)) if mode == "floor_amount" else amount
            exact = Fraction(0)
            for band in rule["bands"]:
                rate = Fraction(Decimal(str(band["rate"])))
                high = band.get("to", math.inf)
                if rule["banding"] == "whole":
                    exact += base * rate if band["from"] <= base < high else 0
                else:
                    exact += max(min(base, high) - band["from"], 0) * rate
            if tier == 1:
                factor *= Fraction(Decimal(str(doc["tiers"]["levels"][1]["benefits"]["earn_multiplier"])))
            exact *= factor
            units = rounded(exact * scale, "half_even") if mode == "exact" else rounded(exact, mode) * scale
        if "cap" in rule:
            units = min(units, rule["cap"]["per_transaction"] * scale)
        total += units
    if day_number("2027-03-15") <= day <= day_number("2027-04-15") and amount >= bonus["when"]["min_spend"]:
        total += bonus["points"] * scale
    return total


# Mostly whole quarters and halves of a unit, for the same reason.
amounts = st.one_of(
    st.integers(0, 1_200).map(lambda halves: 50 * halves),
    st.integers(0, 2_400).map(lambda quarters: 25 * quarters),
    st.integers(-5_000, 60_000),
)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    programs(),
    st.lists(
        st.tuples(amounts, st.integers(0, 1), st.integers(MARCH_1 - 20, MARCH_31 + 20)),
        min_size=10,
        max_size=40,
    ),
)
def test_compiled_earning_equals_the_exact_definition(
    doc: dict[str, Any], purchases: list[tuple[int, int, int]]
) -> None:
    policy = program(doc)
    cents, tier, day = (np.array(column, dtype=np.int64) for column in zip(*purchases, strict=True))
    earned = policy.earn_points(cents, tier, day).total.tolist()
    assert earned == [reference(doc, c, t, d) for c, t, d in purchases]
