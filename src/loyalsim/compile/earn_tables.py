"""A Policy's earn rules as flat integer tables, and the one compiled loop that applies them.

Where: built once per Policy (:attr:`loyalsim.compile.policy.Policy.earn_tables`) and run
by :meth:`Policy.earn_points`, which replay, the simulator and ``explain`` all call: this
loop is the only implementation of bands, rounding, tier and campaign multipliers,
membership earn perks, per-transaction caps and bonus campaigns. Why tables: a purchase is
then one pass over a few small arrays, where the same rules as numpy operations cost a
few dozen passes (or, on a simulated day's few hundred purchases, a few dozen calls'
fixed cost).

Arithmetic is exactly the numpy formulation's: per rule, the exact points
numerator/denominator (bands at their common denominator, over the amount in minor units),
times each multiplier's numerator when it applies (its denominator when it does not), over
the product of every multiplier's denominator, rounded once with the rule's mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from loyalsim.compile.exact import IntArray, rounding_code
from loyalsim.compile.mechanics import Conditions
from loyalsim.compile.rounding import round_div
from loyalsim.compiled import kernel

if TYPE_CHECKING:
    from loyalsim.compile.policy import Policy

Int8Array = npt.NDArray[np.int8]

# Columns of a rule row.
KIND, ROUNDING, BAND_START, BAND_STOP, WHOLE, POINTS, CAP, COND, DEN, TIERED = range(10)
SPEND, VISIT, ITEM, ACTION = range(4)
# Columns of a band row, a condition row, a factor row and a bonus row.
LOW, HIGH, RATE = range(3)
HAS_CATEGORY, HAS_EXCLUDED, HAS_CHANNEL, HAS_TIER, MIN_SPEND = range(5)
F_RULE, F_NUM, F_DEN, F_COND, F_START, F_END = range(6)
B_POINTS, B_COND, B_START, B_END = range(4)
# Rows of a condition's membership table (over code + 1, so that code -1, "none", is column 0).
CATEGORY_SET, EXCLUDED_SET, CHANNEL_SET, TIER_SET = range(4)
NO_MINIMUM = -(2**62)
ALWAYS = (-(2**62), 2**62)


@dataclass(frozen=True)
class EarnTables:
    """The earn rules of one Policy, as the compiled loop reads them."""

    rules: IntArray  # (rules, 10): see the column names above
    bands: (
        IntArray  # (bands, 3): low, high (exclusive; 2**62 = none), rate numerator at the rule's denominator
    )
    conditions: IntArray  # (conditions, 5); condition 0 is "always"
    sets: Int8Array  # (conditions, 4, width): category, excluded category, channel and tier membership
    factors: IntArray  # (factors, 6): a multiplier of one rule that applies when its condition and dates hold
    tier_multiplier: IntArray  # numerator per tier level, over ``tier_denominator``
    bonuses: IntArray  # (campaigns, 4): bonus points (0: not a bonus campaign), condition, first and last day
    scale: int  # points units per point
    money_unit: int  # minor units per unit of money

    @classmethod
    def of(cls, policy: Policy) -> EarnTables:
        conditions: list[Conditions] = [Conditions()]

        def condition(c: Conditions) -> int:
            if c not in conditions:
                conditions.append(c)
            return conditions.index(c)

        tier_multiplier, tier_den = (
            policy.tiers.multiplier_table() if policy.tiers is not None else (np.ones(1, dtype=np.int64), 1)
        )
        membership = policy.membership
        Row = tuple[int, ...]
        rules: list[Row] = []
        bands: list[Row] = []
        factors: list[Row] = []
        for r, rule in enumerate(policy.earn):
            kind = {"spend": SPEND, "visit": VISIT, "item": ITEM}.get(rule.kind, ACTION)
            common = math.lcm(*(band.rate.den for band in rule.bands)) if rule.bands else 1
            start = len(bands)
            for band in rule.bands:
                bands.append(
                    (
                        band.low,
                        band.high if band.high is not None else ALWAYS[1],
                        band.rate.num * (common // band.rate.den),
                    )
                )
            den = common * policy.money_unit if kind == SPEND else 1
            tiered = kind == SPEND and policy.tiers is not None
            if tiered:
                den *= tier_den
            if kind == SPEND and membership is not None:
                # Points are earned by members only; where membership is paid, members are subscribers.
                for perk in membership.perks:
                    if perk.kind == "earn_multiplier" and perk.multiplier is not None:
                        factors.append(
                            (r, perk.multiplier.num, perk.multiplier.den, condition(perk.conditions), *ALWAYS)
                        )
                        den *= perk.multiplier.den
            for campaign in policy.campaigns:
                if campaign.kind == "multiplier" and campaign.targets(rule):
                    factors.append(
                        (
                            r,
                            campaign.multiplier.num,
                            campaign.multiplier.den,
                            condition(campaign.conditions),
                            campaign.start,
                            campaign.end,
                        )
                    )
                    den *= campaign.multiplier.den
            rules.append(
                (
                    kind,
                    rounding_code(rule.rounding),
                    start,
                    len(bands),
                    rule.banding == "whole",
                    rule.points,
                    -1 if rule.cap_transaction is None else rule.cap_transaction,
                    condition(rule.conditions),
                    den,
                    tiered,
                )
            )
        bonuses: list[Row] = [
            (
                campaign.points if campaign.kind == "bonus" else 0,
                condition(campaign.conditions),
                campaign.start,
                campaign.end,
            )
            for campaign in policy.campaigns
        ]
        levels = len(policy.tiers.levels) if policy.tiers is not None else 1
        vocabulary = policy.vocabulary
        width = max(len(vocabulary.categories), len(vocabulary.channels), levels) + 1
        sets = np.zeros((len(conditions), 4, width), dtype=np.int8)
        rows: list[Row] = []
        for k, c in enumerate(conditions):
            for row, members, shift in (
                (CATEGORY_SET, c.category, 1),
                (EXCLUDED_SET, c.exclude_category, 1),
                (CHANNEL_SET, c.channel, 1),
                (TIER_SET, c.tiers, 0),
            ):
                for code in members or ():
                    sets[k, row, code + shift] = 1
            rows.append(
                (
                    c.category is not None,
                    bool(c.exclude_category),
                    c.channel is not None,
                    c.tiers is not None,
                    NO_MINIMUM if c.min_spend is None else c.min_spend,
                )
            )

        def table(values: list[Row], columns: int) -> IntArray:
            return np.array(values, dtype=np.int64).reshape(-1, columns)

        return cls(
            table(rules, 10),
            table(bands, 3),
            table(rows, 5),
            sets,
            table(factors, 6),
            np.asarray(tier_multiplier, dtype=np.int64),
            table(bonuses, 4),
            policy.scale,
            policy.money_unit,
        )

    def earn(
        self,
        amount: IntArray,
        tier: IntArray,
        day: IntArray,
        category: IntArray,
        channel: IntArray,
        quantity: IntArray,
    ) -> tuple[IntArray, IntArray]:
        """Points units per rule and per bonus campaign for each purchase: (rules × n, campaigns × n)."""
        return _earn(
            self.rules,
            self.bands,
            self.conditions,
            self.sets,
            self.factors,
            self.tier_multiplier,
            self.bonuses,
            self.scale,
            self.money_unit,
            amount,
            tier,
            day,
            category,
            channel,
            quantity,
        )


@kernel
def _earn(
    rules: IntArray,
    bands: IntArray,
    conditions: IntArray,
    sets: Int8Array,
    factors: IntArray,
    tier_multiplier: IntArray,
    bonuses: IntArray,
    scale: int,
    unit: int,
    amount: IntArray,
    tier: IntArray,
    day: IntArray,
    category: IntArray,
    channel: IntArray,
    quantity: IntArray,
) -> tuple[IntArray, IntArray]:
    n = amount.size
    out = np.zeros((rules.shape[0], n), dtype=np.int64)
    bonus = np.zeros((bonuses.shape[0], n), dtype=np.int64)
    holds = np.empty(conditions.shape[0], dtype=np.bool_)  # each condition, for the purchase at hand
    for i in range(n):
        value = amount[i]
        if value <= 0:  # returns and zero amounts earn nothing
            continue
        level, today, cat, chan = tier[i], day[i], category[i], channel[i]
        # Every condition once per purchase (codes are -1 when unknown); condition 0 is "always".
        holds[0] = True
        for k in range(1, conditions.shape[0]):
            holds[k] = not (
                (conditions[k, HAS_CATEGORY] and sets[k, CATEGORY_SET, cat + 1] == 0)
                or (conditions[k, HAS_EXCLUDED] and sets[k, EXCLUDED_SET, cat + 1] == 1)
                or (conditions[k, HAS_CHANNEL] and sets[k, CHANNEL_SET, chan + 1] == 0)
                or value < conditions[k, MIN_SPEND]
                or (conditions[k, HAS_TIER] and sets[k, TIER_SET, level] == 0)
            )
        for r in range(rules.shape[0]):
            # Direct 2-D indexing throughout: a row view per rule costs more than the rule's arithmetic.
            kind = rules[r, KIND]
            if kind == ACTION or not holds[rules[r, COND]]:
                continue
            multiplier = tier_multiplier[level] if rules[r, TIERED] else 1
            for f in range(factors.shape[0]):
                if factors[f, F_RULE] != r:
                    continue
                on = factors[f, F_START] <= today <= factors[f, F_END] and holds[factors[f, F_COND]]
                multiplier *= factors[f, F_NUM] if on else factors[f, F_DEN]
            mode = rules[r, ROUNDING]
            if kind == SPEND:
                base = (value // unit) * unit if mode == 0 else value  # floor_amount: whole units of money
                numerator = 0
                whole = rules[r, WHOLE]
                for b in range(rules[r, BAND_START], rules[r, BAND_STOP]):
                    low, high = bands[b, LOW], bands[b, HIGH]
                    if whole:
                        if low <= base < high:
                            numerator += base * bands[b, RATE]
                    else:
                        portion = min(base, high) - low
                        if portion > 0:
                            numerator += portion * bands[b, RATE]
                if mode == 5:  # exact: half-even at the points' decimals
                    units = round_div(numerator * multiplier * scale, rules[r, DEN], 3)
                else:
                    units = round_div(numerator * multiplier, rules[r, DEN], mode) * scale
            else:
                count = quantity[i] if kind == ITEM else 1
                units = round_div(rules[r, POINTS] * count * multiplier, rules[r, DEN], 1)
            if rules[r, CAP] >= 0:
                units = min(units, rules[r, CAP])
            out[r, i] = units
        for c in range(bonuses.shape[0]):
            if (
                bonuses[c, B_POINTS] != 0
                and bonuses[c, B_START] <= today <= bonuses[c, B_END]
                and holds[bonuses[c, B_COND]]
            ):
                bonus[c, i] = bonuses[c, B_POINTS]
    return out, bonus
