"""How often a member buys: the base rate lifted by the program, and by their points (docs/behaviour.md).

Where: the simulate stage, for the program arm's schedule. The rate in force after a
purchase (the member's state then: enrolment, lift, progress towards a reward, a reward
just taken, an active paid membership) sets the gap to their next purchase.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from loyalsim.compile.policy import Policy
from loyalsim.ledger.lots import LotLedger

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
POST_REWARD_DAYS = 30  # how long a post-reward lift lasts (docs/behaviour.md)


class Points(Protocol):
    """What the rates read of the program's replay engine."""

    ledger: LotLedger
    redeem_auto: bool
    last_reward_day: IntArray


def reference_reward(policy: Policy) -> tuple[int, int] | None:
    """(cost, minimum balance kept) of the reward members work towards: the default, else the cheapest."""
    rewards = policy.rewards
    if rewards is None or not rewards.catalog:
        return None
    chosen = rewards.default_reward or min(rewards.catalog, key=lambda r: r.cost)
    return (chosen.cost, rewards.min_balance) if chosen.cost > 0 else None


@dataclass
class MemberRates:
    """Purchases per day of program-arm customers from now on.

    ``lift`` and ``mechanic_lift`` apply to the enrolled (``enrolled``: members, and subscribed
    where membership is paid); ``goal_gradient`` and ``post_reward`` (zero for non-members)
    depend on the member's points, read from ``points`` (the replay engine) when asked.
    """

    base: Array  # each customer's own rate
    lift: Array
    mechanic_lift: Array  # responses to money back: cashback, dividends, donations
    goal_gradient: Array
    post_reward: Array
    reward: tuple[int, int] | None
    enrolled: Callable[[IntArray], BoolArray]
    fixed: Array | None  # the members' rates when they depend on enrolment alone
    start: int  # the scenario's first day (absolute): the engine's days are absolute, the schedule's offsets
    points: Points | None = None  # set once the engine exists

    @classmethod
    def of(
        cls,
        policy: Policy,
        base: Array,
        member: BoolArray,
        response: dict[str, Array],
        enrolled: Callable[[IntArray], BoolArray],
        paid_membership: bool,
        start: int,
    ) -> MemberRates:
        lift = response["frequency_lift"]
        mechanic_lift = np.zeros(base.size)
        if policy.cashback is not None:
            mechanic_lift += response["cashback_lift"]
        value = policy.value
        if value is not None and (value.dividend is not None or value.donations is not None):
            mechanic_lift += response["value_affinity"]
        goal_gradient = np.where(member, response["goal_gradient"], 0.0)
        post_reward = np.where(member, response["post_reward_lift"], 0.0)
        reward = reference_reward(policy)
        stateful = reward is not None and bool(goal_gradient.any() or post_reward.any())
        # Members' rate when it depends on nothing but enrolment (no paid membership, nothing
        # stateful): one lookup per purchase instead of five.
        fixed = (
            base * (1 + np.where(member, lift + mechanic_lift, 0.0))
            if not paid_membership and not stateful
            else None
        )
        return cls(base, lift, mechanic_lift, goal_gradient, post_reward, reward, enrolled, fixed, start)

    @property
    def stateful(self) -> bool:
        """Whether a rate depends on points: each purchase's points are needed before the next gap."""
        return self.reward is not None and bool(self.goal_gradient.any() or self.post_reward.any())

    @property
    def needs_daily_steps(self) -> bool:
        """Whether the arm must go day by day: the rates change with what happens in the month."""
        return self.fixed is None

    def __call__(self, who: IntArray, day: int) -> Array:
        """Purchases per day of ``who`` after the purchases of ``day`` (an offset from the start)."""
        if self.fixed is not None:
            lifted: Array = self.fixed[who]
            return lifted
        factor = 1 + np.where(self.enrolled(who), self.lift[who] + self.mechanic_lift[who], 0.0)
        reward = self.reward
        if reward is not None and (self.goal_gradient[who].any() or self.post_reward[who].any()):
            points = self.points
            assert points is not None
            ledger = points.ledger
            spare = np.maximum(ledger.balance[who] - ledger.debt[who] - reward[1], 0)
            if points.redeem_auto:  # tonight's redemption leaves the remainder to work towards
                progress, rewarded = (spare % reward[0]) / reward[0], spare >= reward[0]
            else:
                progress, rewarded = np.minimum(spare / reward[0], 1.0), np.zeros(who.size, dtype=bool)
            rewarded |= self.start + day - points.last_reward_day[who] <= POST_REWARD_DAYS
            factor = (
                factor
                * (1 + self.goal_gradient[who] * progress)
                * (1 + np.where(rewarded, self.post_reward[who], 0.0))
            )
        rate: Array = self.base[who] * factor
        return rate
