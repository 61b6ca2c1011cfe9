"""Compiled mechanics: frozen, exact, clock-free parts of a Policy.

Where: the compile stage. Each section of a program compiles, through the registry in
:mod:`loyalsim.compile.registry`, into one of these objects. They hold no clock and no
random state; their methods work on numpy arrays of many transactions or members at once.
Amounts are integer minor units; rates are :class:`Ratio`; points are integer units of
``10**-decimals`` points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from loyalsim.compile.exact import ONE, IntArray, Ratio, divide
from loyalsim.durations import Duration

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Conditions:
    """When a rule applies; category/channel sets hold codes from the policy's vocabularies."""

    category: frozenset[int] | None = None
    exclude_category: frozenset[int] = frozenset()
    channel: frozenset[int] | None = None
    min_spend: int | None = None  # minor units
    tiers: frozenset[int] | None = None

    def mask(self, amount: IntArray, tier: IntArray, category: IntArray, channel: IntArray) -> BoolArray:
        ok: BoolArray = np.ones(amount.shape, dtype=bool)
        if self.category is not None:
            ok &= np.isin(category, list(self.category))
        if self.exclude_category:
            ok &= ~np.isin(category, list(self.exclude_category))
        if self.channel is not None:
            ok &= np.isin(channel, list(self.channel))
        if self.min_spend is not None:
            ok &= amount >= self.min_spend
        if self.tiers is not None:
            ok &= np.isin(tier, list(self.tiers))
        return ok


@dataclass(frozen=True)
class PeriodCap:
    units: int  # points units
    period: str  # day, week, month, quarter, year


@dataclass(frozen=True)
class Band:
    low: int  # minor units, inclusive
    high: int | None  # minor units, exclusive; None = unbounded
    rate: Ratio


@dataclass(frozen=True)
class EarnRule:
    """One earn rule. ``kind`` is spend, visit, item or action."""

    id: str
    kind: str
    conditions: Conditions = Conditions()
    cap_transaction: int | None = None  # points units
    cap_period: PeriodCap | None = None
    description: str | None = None
    # spend
    bands: tuple[Band, ...] = ()
    banding: str = "marginal"
    rounding: str = "floor_points"
    # visit / item / action
    points: int = 0  # points units
    action: str | None = None
    limit_count: int | None = None
    limit_per: Duration | None = None  # None with a count = lifetime


@dataclass(frozen=True)
class Level:
    id: str
    name: str
    threshold: int  # metric units: minor units for spend, points units, or visits
    multiplier: Ratio = ONE
    bonus_points: int = 0  # points units
    perks: tuple[tuple[str, int | None], ...] = ()  # (name, yearly cost in minor units)


@dataclass(frozen=True)
class Tiers:
    metric: str  # points_earned, spend, visits
    window: str  # calendar_year, rolling, anniversary, lifetime
    window_months: int  # rolling window in whole calendar months (0 otherwise)
    evaluation: str  # immediate, monthly
    levels: tuple[Level, ...]
    downgrade: str = "reset"  # reset, one_level, none
    grace: Duration = field(default_factory=Duration)

    @cached_property
    def thresholds(self) -> IntArray:
        """Each level's threshold, lowest level first (built once)."""
        return np.array([level.threshold for level in self.levels], dtype=np.int64)

    def level_for(self, metric: IntArray) -> IntArray:
        """Highest level whose threshold the metric reaches (0 if none: the lowest level)."""
        from loyalsim.compile.levels import levels_of  # compiled: keeps importing mechanics light

        result: IntArray = levels_of(self.thresholds, np.ascontiguousarray(metric, dtype=np.int64))
        return result

    def multiplier_table(self) -> tuple[IntArray, int]:
        """Earn multipliers by level as integer numerators over one common denominator."""
        common = math.lcm(*(level.multiplier.den for level in self.levels))
        table = np.array(
            [level.multiplier.num * (common // level.multiplier.den) for level in self.levels], dtype=np.int64
        )
        return table, common

    def yearly_perk_costs(self) -> list[int]:
        """Minor units per member per year of each level's perks (those with a value)."""
        return [sum(cost or 0 for _, cost in level.perks) for level in self.levels]


@dataclass(frozen=True)
class Reward:
    id: str
    name: str
    kind: str
    cost: int  # points units
    face_value: int  # minor units
    min_tier: int | None = None


@dataclass(frozen=True)
class Rewards:
    catalog: tuple[Reward, ...]
    policy: str = "choice"  # auto, choice
    default: int | None = None  # index into catalog
    min_balance: int = 0  # points units

    @property
    def default_reward(self) -> Reward | None:
        if self.default is not None:
            return self.catalog[self.default]
        return self.catalog[0] if len(self.catalog) == 1 else None


@dataclass(frozen=True)
class ExpiryRule:
    kind: str  # rolling, fixed_date, inactivity
    after: Duration | None = None
    to_month_end: bool = False
    date: str | None = None  # 'YYYY-MM-DD' or 'MM-DD'
    activity: str = "purchase"
    exempt_tiers: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Plan:
    id: str
    fee: int  # minor units
    period: Duration | None  # None = one-time


@dataclass(frozen=True)
class Perk:
    kind: str
    name: str
    rate: Ratio | None = None
    multiplier: Ratio | None = None
    points: int = 0
    value: int | None = None  # minor units
    conditions: Conditions = Conditions()


@dataclass(frozen=True)
class Membership:
    plans: tuple[Plan, ...]
    trial: Duration | None = None
    trial_converts_to: int | None = None
    renewal: str = "auto"
    perks: tuple[Perk, ...] = ()

    def purchase_cost(
        self, amount: IntArray, tier: IntArray, category: IntArray, channel: IntArray
    ) -> IntArray:
        """What each subscriber purchase costs the company in perks, in minor units: a discount
        perk's rate of the amount (rounded half-even to the minor unit, per purchase) and the
        ``value`` of a free-shipping or free-item perk per purchase it applies to."""
        cost = np.zeros(amount.shape, dtype=np.int64)
        spend = np.maximum(amount, 0)
        for perk in self.perks:
            on = perk.conditions.mask(amount, tier, category, channel) & (amount > 0)
            if perk.kind == "discount" and perk.rate is not None:
                cost += np.where(on, divide(spend * perk.rate.num, perk.rate.den, "half_even"), 0)
            elif perk.kind in ("free_shipping", "free_item") and perk.value:
                cost += np.where(on, perk.value, 0)
        return cost

    @property
    def has_purchase_cost(self) -> bool:
        return any(
            (p.kind == "discount" and p.rate is not None)
            or (p.kind in ("free_shipping", "free_item") and p.value)
            for p in self.perks
        )

    @property
    def yearly_cost(self) -> int:
        """Minor units per subscriber per year of ``other`` perks (streaming, insurance...)."""
        return sum(p.value or 0 for p in self.perks if p.kind == "other")

    @property
    def period_points(self) -> int:
        """Points units credited to a subscriber at the start of each paid period (``bonus_points``)."""
        return sum(p.points for p in self.perks if p.kind == "bonus_points")


@dataclass(frozen=True)
class CashbackRate:
    rate: Ratio
    conditions: Conditions = Conditions()
    cap: int | None = None  # minor units per transaction


@dataclass(frozen=True)
class Cashback:
    """Cashback accrues per purchase, rounded down to the minor unit (never over-promised)."""

    rates: tuple[CashbackRate, ...]
    threshold: int = 0
    form: str = "store_credit"
    schedule: str = "monthly"
    expiry: Duration | None = None

    def accrue(self, amount: IntArray, tier: IntArray, category: IntArray, channel: IntArray) -> IntArray:
        """Cashback in minor units per purchase: the first matching rate applies."""
        out = np.zeros(amount.shape, dtype=np.int64)
        decided = np.zeros(amount.shape, dtype=bool)
        for rate in self.rates:
            hit = rate.conditions.mask(amount, tier, category, channel) & ~decided
            value = divide(np.maximum(amount, 0) * rate.rate.num, rate.rate.den, "floor_points")
            if rate.cap is not None:
                value = np.minimum(value, rate.cap)
            out = np.where(hit, value, out)
            decided |= hit
        return out


@dataclass(frozen=True)
class Dividend:
    rate: Ratio
    eligible: Conditions = Conditions()
    paid_in_month: int = 3
    form: str = "voucher"
    expiry: Duration | None = None

    def eligible_spend(
        self, amount: IntArray, tier: IntArray, category: IntArray, channel: IntArray
    ) -> IntArray:
        return np.where(self.eligible.mask(amount, tier, category, channel), amount, 0)


@dataclass(frozen=True)
class Donations:
    per_purchase_amount: int = 0
    per_purchase_rate: Ratio | None = None
    points_per_step: int = 0
    amount_per_step: int = 0
    match_rate: Ratio | None = None
    cause: str | None = None

    def per_purchase(self, amount: IntArray) -> IntArray:
        out = np.full(amount.shape, self.per_purchase_amount, dtype=np.int64)
        if self.per_purchase_rate is not None:
            out += divide(
                np.maximum(amount, 0) * self.per_purchase_rate.num, self.per_purchase_rate.den, "floor_points"
            )
        return np.where(amount > 0, out, 0)

    def convert(self, available: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Members converting all they can of ``available`` points units: (points units used,
        donation in minor units, the company's match in minor units, rounded half-even)."""
        if self.points_per_step <= 0:
            zero = np.zeros(available.shape, dtype=np.int64)
            return zero, zero, zero
        steps = np.maximum(available, 0) // self.points_per_step
        donated = steps * self.amount_per_step
        matched = (
            divide(donated * self.match_rate.num, self.match_rate.den, "half_even")
            if self.match_rate is not None
            else np.zeros(available.shape, dtype=np.int64)
        )
        return steps * self.points_per_step, donated, matched


@dataclass(frozen=True)
class Value:
    dividend: Dividend | None = None
    donations: Donations | None = None


@dataclass(frozen=True)
class Action:
    id: str
    kind: str
    points: int
    limit_count: int | None = None
    limit_per: Duration | None = None


@dataclass(frozen=True)
class Grant:
    points: int = 0
    credit: int = 0  # minor units
    discount_rate: Ratio | None = None


@dataclass(frozen=True)
class Referral:
    qualifying_event: str
    min_first_purchase: int = 0
    window: Duration | None = None
    referrer: Grant = Grant()
    referee: Grant = Grant()
    limit_count: int | None = None
    limit_per: Duration | None = None


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    start: int  # day number, inclusive
    end: int  # day number, inclusive
    kind: str  # multiplier, bonus
    multiplier: Ratio = ONE
    points: int = 0
    rules: frozenset[str] | None = None  # earn rule ids; None = all spend rules
    conditions: Conditions = Conditions()
    once_per_member: bool = False

    def targets(self, rule: EarnRule) -> bool:
        return rule.id in self.rules if self.rules is not None else rule.kind == "spend"


@dataclass(frozen=True)
class Reminder:
    kind: str
    before: Duration | None = None
    within: int | None = None
    reward: int | None = None
    channel: str = "email"
    cost: int = 0


@dataclass(frozen=True)
class PointsSpec:
    name: str = "points"
    value: Ratio = field(default_factory=lambda: Ratio(0))  # money per point
    decimals: int = 0
    rounding: str = "floor_points"

    @property
    def scale(self) -> int:
        """Integer units per point."""
        return int(10**self.decimals)


@dataclass(frozen=True)
class Vocabulary:
    """Category and channel names referenced by the program, coded as small integers."""

    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    @staticmethod
    def _lookup(names: tuple[str, ...], values: Any) -> IntArray:
        lookup = {name: i for i, name in enumerate(names)}
        return np.array([lookup.get(str(v), -1) for v in values], dtype=np.int64)

    def category_codes(self, values: Any, size: int) -> IntArray:
        """Policy category codes for text values (a list or array of ``size`` strings, or None)."""
        if values is None:
            return np.full(size, -1, dtype=np.int64)
        return self._lookup(self.categories, values)

    def channel_codes(self, values: Any, size: int) -> IntArray:
        if values is None:
            return np.full(size, -1, dtype=np.int64)
        return self._lookup(self.channels, values)

    def recode(self, codes: IntArray | None, table: Any, size: int, *, channel: bool = False) -> IntArray:
        """Map a transactions column (codes into ``table``) to policy codes, via the table only."""
        if codes is None:  # no such column: -1 for every row, read-only, holding no memory
            return np.broadcast_to(np.int64(-1), (size,))
        mapping = self._lookup(self.channels if channel else self.categories, table)
        mapping = np.append(mapping, -1)  # code -1 (empty) → index -1 → -1
        result: IntArray = mapping[codes]
        return result
