"""Members' purchase rates: the post-reward lift lasts 30 days after a reward, then ends."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loyalsim.ledger.lots import LotLedger
from loyalsim.simulate.member_rates import POST_REWARD_DAYS, MemberRates

START = 20_000  # an absolute day number, as the replay engine counts days


@dataclass
class FakePoints:
    ledger: LotLedger
    redeem_auto: bool
    last_reward_day: np.ndarray


def _rates(post_reward: float) -> tuple[MemberRates, FakePoints]:
    n = 3
    ones = np.ones(n)
    rates = MemberRates(
        base=ones * 0.1,
        lift=np.zeros(n),
        mechanic_lift=np.zeros(n),
        goal_gradient=np.zeros(n),
        post_reward=ones * post_reward,
        reward=(500, 0),
        enrolled=lambda who: np.ones(who.size, bool),
        fixed=None,
        start=START,
    )
    points = FakePoints(
        LotLedger(n, 16), redeem_auto=False, last_reward_day=np.full(n, -(2**40), dtype=np.int64)
    )
    rates.points = points
    return rates, points


def test_the_post_reward_lift_lasts_thirty_days_after_the_reward() -> None:
    rates, points = _rates(0.5)
    who = np.arange(3)
    assert np.allclose(rates(who, 100), 0.1)  # nobody has taken a reward yet
    points.last_reward_day[:] = [
        START + 90,
        START + 100 - POST_REWARD_DAYS,
        START + 100 - POST_REWARD_DAYS - 1,
    ]
    # Day offset 100: ten days after the first's reward, 30 after the second's, 31 after the third's.
    assert np.allclose(rates(who, 100), [0.15, 0.15, 0.1])
    assert np.allclose(rates(who, 200), 0.1)  # long after, the lift is gone


def test_without_a_post_reward_lift_a_reward_changes_no_rate() -> None:
    rates, points = _rates(0.0)
    points.last_reward_day[:] = START + 99
    assert np.allclose(rates(np.arange(3), 100), 0.1)
