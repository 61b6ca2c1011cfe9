"""The Policy: a compiled program, immutable, with vectorised operations.

Where: the output of stage 3 (compile) and the input of replay (``loyalsim earn``) and
of the simulator. A Policy holds no clock and no random state; callers pass dates (day
numbers), tiers and amounts as numpy arrays of many transactions or members at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loyalsim.compile.exact import IntArray, divide
from loyalsim.compile.mechanics import (
    Action,
    Campaign,
    Cashback,
    EarnRule,
    ExpiryRule,
    Membership,
    PointsSpec,
    Referral,
    Reminder,
    Rewards,
    Tiers,
    Value,
    Vocabulary,
)


@dataclass(frozen=True)
class EarnBreakdown:
    """Points units per earn rule (rows) and per bonus campaign (rows), per transaction."""

    rules: IntArray  # shape (len(policy.earn), n)
    bonuses: IntArray  # shape (len(policy.campaigns), n); zero rows for multiplier campaigns

    @property
    def total(self) -> IntArray:
        total: IntArray = self.rules.sum(axis=0) + self.bonuses.sum(axis=0)
        return total


@dataclass(frozen=True)
class Policy:
    """A compiled loyalty program."""

    name: str
    title: str
    currency: str
    minor_units: int
    type: str
    points: PointsSpec
    vocabulary: Vocabulary
    earn: tuple[EarnRule, ...] = ()
    tiers: Tiers | None = None
    rewards: Rewards | None = None
    expiry: tuple[ExpiryRule, ...] = ()
    membership: Membership | None = None
    cashback: Cashback | None = None
    value: Value | None = None
    community: tuple[Action, ...] = ()
    referral: Referral | None = None
    campaigns: tuple[Campaign, ...] = ()
    reminders: tuple[Reminder, ...] = ()
    content_hash: str = ""
    source_file: str = ""

    # -- sizes and conversions ---------------------------------------------------------------
    @property
    def scale(self) -> int:
        return self.points.scale

    @property
    def money_unit(self) -> int:
        return int(10**self.minor_units)

    def tier_ids(self) -> list[str]:
        return [level.id for level in self.tiers.levels] if self.tiers else []

    def tier_name(self, index: int) -> str:
        """The level's id (as in outputs)."""
        return self.tiers.levels[index].id if self.tiers else ""

    def level_name(self, index: int) -> str:
        """The level's display name (as in explanations)."""
        return self.tiers.levels[index].name if self.tiers else ""

    # -- earning -------------------------------------------------------------------------------
    def multipliers(self, rule: EarnRule, tier: IntArray, day: IntArray, amount: IntArray,
                    category: IntArray, channel: IntArray) -> tuple[IntArray, int]:
        """Combined multiplier per transaction for ``rule`` as (numerators, common denominator)."""
        numerator = np.ones(tier.shape, dtype=np.int64)
        denominator = 1
        if rule.kind == "spend" and self.tiers is not None:
            table, common = self.tiers.multiplier_table()
            numerator = numerator * table[tier]
            denominator *= common
        if rule.kind == "spend" and self.membership is not None and self.membership.multiplies_earn:
            # Points are earned by members only; where membership is paid, members are subscribers.
            perk_num, perk_den = self.membership.earn_multiplier(amount, tier, category, channel)
            numerator = numerator * perk_num
            denominator *= perk_den
        for campaign in self.campaigns:
            if campaign.kind != "multiplier" or not campaign.targets(rule):
                continue
            on = campaign.active(day) & campaign.conditions.mask(amount, tier, category, channel)
            numerator = numerator * np.where(on, campaign.multiplier.num, campaign.multiplier.den)
            denominator *= campaign.multiplier.den
        return numerator, denominator

    def earn_points(self, amount: IntArray, tier: IntArray, day: IntArray, category: IntArray | None = None,
                    channel: IntArray | None = None, quantity: IntArray | None = None) -> EarnBreakdown:
        """Points units each purchase earns from each rule, after multipliers and per-transaction caps.

        ``amount`` is in minor units (purchases only: non-positive amounts earn nothing);
        ``tier`` holds level indices (0 when the program has no tiers); ``day`` day numbers.
        Per-period caps and once-per-member bonuses need member state: callers apply them.
        """
        n = amount.shape[0]
        category = category if category is not None else np.full(n, -1, dtype=np.int64)
        channel = channel if channel is not None else np.full(n, -1, dtype=np.int64)
        quantity = quantity if quantity is not None else np.ones(n, dtype=np.int64)
        purchase = amount > 0
        rules = np.zeros((len(self.earn), n), dtype=np.int64)
        for r, rule in enumerate(self.earn):
            if rule.kind == "action":
                continue
            applies = purchase & rule.conditions.mask(amount, tier, category, channel)
            mult_num, mult_den = self.multipliers(rule, tier, day, amount, category, channel)
            if rule.kind == "spend":
                num, den = rule.exact(np.where(applies, amount, 0), self.minor_units)
                units = self.settle(num * mult_num, den * mult_den, rule.rounding)
            else:
                base = rule.points * (quantity if rule.kind == "item" else 1)
                units = divide(base * mult_num, mult_den, "floor_points")
            if rule.cap_transaction is not None:
                units = np.minimum(units, rule.cap_transaction)
            rules[r] = np.where(applies, units, 0)
        bonuses = np.zeros((len(self.campaigns), n), dtype=np.int64)
        for c, campaign in enumerate(self.campaigns):
            if campaign.kind == "bonus":
                on = purchase & campaign.active(day) & campaign.conditions.mask(amount, tier, category, channel)
                bonuses[c] = np.where(on, campaign.points, 0)
        return EarnBreakdown(rules, bonuses)

    def settle(self, numerator: IntArray, denominator: int, mode: str) -> IntArray:
        """Exact points numerator/denominator → integer points units, with the named rounding."""
        if mode == "exact":
            return divide(numerator * self.scale, denominator, "half_even")
        return divide(numerator, denominator, mode) * self.scale
