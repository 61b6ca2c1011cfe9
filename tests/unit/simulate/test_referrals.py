"""Referral grants within the referrer's limit per period, by hand."""

from __future__ import annotations

from typing import Any

import numpy as np

from loyalsim.compile.mechanics import Grant, Referral
from loyalsim.durations import Duration
from loyalsim.simulate.referrals import Referrals


class Ledger:
    """Stands in for the replay engine: records the points each call credits."""

    def __init__(self) -> None:
        self.credited: list[dict[int, int]] = []

    def credit(self, who: Any, units: Any, day: int) -> None:
        self.credited.append({w: u for w, u in zip(who.tolist(), units.tolist(), strict=True) if u})


def test_referrer_grants_stop_at_the_limit_and_start_again_next_period() -> None:
    rules = Referral(
        "first_purchase",
        0,
        None,
        referrer=Grant(points=10, credit=500),
        referee=Grant(),
        limit_count=2,
        limit_per=Duration(months=12),
    )
    book = Referrals(rules, first=5, size=10, rate=np.zeros(15), conversion=np.zeros(15), key=1, days=1000)
    book.referrer[:] = [0, 0, 0, 1, 0, 1, 2, 2, 2, 2]  # who referred pool customers 5..14
    ledger = Ledger()
    book.grant(100, 1, np.arange(5, 10), np.full(5, 100), ledger)  # referrer 0 three times (+1 later), 1 once
    book.grant(101, 1, np.arange(10, 15), np.full(5, 100), ledger)  # 1 once more, 2 four times
    referrer_points = [c for c in ledger.credited if c]
    assert referrer_points == [{0: 20, 1: 10}, {1: 10, 2: 20}]  # at most 2 grants each in the year
    assert book.cost[1] == 6 * 500  # six credits given, not ten
    book.grant(500, 2, np.array([5]), np.array([100]), ledger)  # a new 12-month period: 0 may earn again
    assert ledger.credited[-1] == {0: 10}
