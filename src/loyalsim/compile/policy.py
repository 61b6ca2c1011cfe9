"""The Policy: a compiled program, immutable, with vectorised operations.

Where: the output of the compile stage and the input of replay (``loyalsim earn``) and
of the simulator. A Policy holds no clock and no random state; callers pass dates (day
numbers), tiers and amounts as numpy arrays of many transactions or members at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from loyalsim.compile.exact import IntArray
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

if TYPE_CHECKING:
    from loyalsim.compile.earn_tables import EarnTables


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
    # The largest purchase (minor units) the program's rates and stacked multipliers compute
    # exactly in 64-bit integers (compile.build); larger transactions are rejected by row.
    max_exact_amount: int = 10**15

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
    @cached_property
    def earn_tables(self) -> EarnTables:
        """The earn rules as the compiled loop reads them (built on first use, then kept)."""
        from loyalsim.compile.earn_tables import EarnTables

        return EarnTables.of(self)

    def earn_points(
        self,
        amount: IntArray,
        tier: IntArray,
        day: IntArray,
        category: IntArray | None = None,
        channel: IntArray | None = None,
        quantity: IntArray | None = None,
    ) -> EarnBreakdown:
        """Points units each purchase earns from each rule, after multipliers and per-transaction caps.

        ``amount`` is in minor units (purchases only: non-positive amounts earn nothing);
        ``tier`` holds level indices (0 when the program has no tiers); ``day`` day numbers.
        Per-period caps and once-per-member bonuses need member state: callers apply them.
        The rules run in one compiled loop (:mod:`loyalsim.compile.earn_tables`).
        """
        n = amount.shape[0]

        def column(values: IntArray | None, default: int) -> IntArray:
            if values is None:
                return np.full(n, default, dtype=np.int64)
            return np.ascontiguousarray(values, dtype=np.int64)

        rules, bonuses = self.earn_tables.earn(
            column(amount, 0),
            column(tier, 0),
            column(day, 0),
            column(category, -1),
            column(channel, -1),
            column(quantity, 1),
        )
        return EarnBreakdown(rules, bonuses)
