"""Dated member events in the simulator: the points of `kind: action` earn rules.

Where: simulate, used by :mod:`loyalsim.simulate.engine` at each month end of the program
arm. The events a member's own dates determine are simulated; the rest are not:

- ``sign_up``: once, in the month the member joins (their first purchase as a member);
- ``birthday``: every year in the member's birthday month, drawn uniformly over the twelve
  months from the customer's own random stream (the same whatever the sharding or order);
- ``membership_anniversary``: every year in the month of the member's joining, from the
  first anniversary on.

``profile_complete``, ``app_download`` and ``survey`` have no date in the simulated world
(nothing says when, or whether, a member completes a profile) and earn nothing; the docs say so.

Points are credited on the month's last day to the members active and enrolled then, in
customer order, through the program's ledger (so they expire and are redeemed like any
other points). A rule's tier condition is checked at that day's tier. Limits per period
of a year or more are respected by construction (one event per year); a rule with a limit
below one a year (for example ``count: 1, per: 2 years``) is counted over its period.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from loyalsim.compile.mechanics import EarnRule
from loyalsim.durations import DAYS_PER_MONTH
from loyalsim.simulate import streams

IntArray = npt.NDArray[np.int64]

DATED = ("sign_up", "birthday", "membership_anniversary")


@dataclass
class MemberEvents:
    """The program's dated action rules and each customer's birthday month."""

    rules: tuple[EarnRule, ...]
    customers: int
    birthday_month: IntArray  # 0..11 per customer (empty when no rule needs it)
    granted: dict[tuple[int, int], IntArray] = field(
        default_factory=dict
    )  # (rule, period) → count per customer

    @classmethod
    def of(cls, rules: tuple[EarnRule, ...], key: int, customers: int) -> MemberEvents | None:
        """The events of ``rules`` the simulator dates (None: the program has none)."""
        dated = tuple(r for r in rules if r.kind == "action" and r.action in DATED)
        if not dated:
            return None
        months = np.zeros(0, dtype=np.int64)
        if any(r.action == "birthday" for r in dated):
            u = streams.uniforms(key, streams.BIRTHDAY, np.arange(customers, dtype=np.uint64), 0)
            months = np.minimum((u * 12).astype(np.int64), 11)
        return cls(dated, customers, months)

    def month_end(self, month: int, who: IntArray, joined_month: IntArray, tier: IntArray) -> IntArray:
        """Points each of ``who`` (active enrolled members, their joining month index and tier now)
        earns from dated events in month index ``month``."""
        total = np.zeros(who.size, dtype=np.int64)
        for index, rule in enumerate(self.rules):
            if rule.action == "sign_up":
                due = joined_month == month
            elif rule.action == "birthday":
                due = self.birthday_month[who] == month % 12
            else:  # membership_anniversary
                due = (joined_month < month) & ((month - joined_month) % 12 == 0)
            if rule.conditions.tiers is not None:
                due &= np.isin(tier, list(rule.conditions.tiers))
            count = due.astype(np.int64)
            if rule.limit_count is not None and rule.action != "sign_up":
                per_months = (
                    rule.limit_per.approx_days / DAYS_PER_MONTH
                    if rule.limit_per is not None
                    else float("inf")
                )
                period = int(month // per_months) if np.isfinite(per_months) else 0
                used = self.granted.setdefault((index, period), np.zeros(self.customers, dtype=np.int64))
                count = np.minimum(count, np.maximum(rule.limit_count - used[who], 0))
                used[who] += count
            total += count * rule.points
        return total
