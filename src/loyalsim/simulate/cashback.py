"""Cashback and dividends in the simulator: balances by accrual month, payouts, claims and expiry.

Where: the simulate stage, for the program arm of programs with ``cashback``. The replay
engine accrues each member's cashback per month; this ledger keeps it by accrual month
(the cohort) and, at each month end:

- pays it out: on a ``monthly``, ``quarterly`` or ``annually`` schedule, at the end of each
  payout period, every member whose balance reaches the payout ``threshold`` is paid all
  of it; ``on_request``, a member whose balance reaches the threshold claims all of it
  with probability ``redemption_propensity`` each month;
- expires what is still unpaid ``expiry`` after its accrual month ends (breakage).

Per cohort and month end it records accrued, paid and expired (cumulative); payable is
the rest. Amounts are integer minor units throughout.

Dividends (:class:`DividendLedger`) accrue on eligible spend through each calendar year and
are paid to every member in the program's ``paid_in_month`` of the next year; their
cohorts are the accrual months.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from loyalsim.compile.mechanics import Cashback
from loyalsim.durations import DAYS_PER_MONTH
from loyalsim.simulate import streams

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[np.float64]
PAYOUT_MONTHS = {"monthly": 1, "quarterly": 3, "annually": 12}


@dataclass
class CashbackLedger:
    rules: Cashback
    claim: Array  # per customer: probability of claiming a due on_request balance in a month
    key: int
    lots: dict[int, tuple[IntArray, IntArray]] = field(
        default_factory=dict
    )  # cohort → (members, amounts left)
    accrued: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # cohort → total accrued
    paid: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # cohort → paid so far
    expired: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    rows: list[tuple[int, int, int, int, int]] = field(
        default_factory=list
    )  # month, cohort, accrued, paid, expired

    def month_end(
        self, month: int, who: IntArray, amounts: IntArray, *, claims: bool = True
    ) -> tuple[int, int]:
        """Add this month's accruals, then pay and expire; returns (paid, expired) this month.
        ``claims``: whether members claim on_request balances (not in a history's months)."""
        keep = amounts > 0
        if keep.any():
            self.lots[month] = (who[keep], amounts[keep].copy())
            self.accrued[month] += int(amounts[keep].sum())
        paid = self._pay(month) if claims or self.rules.schedule in PAYOUT_MONTHS else 0
        expired = self._expire(month)
        self.rows.extend(
            (month, cohort, self.accrued[cohort], self.paid[cohort], self.expired[cohort])
            for cohort in sorted(self.accrued)
        )
        return paid, expired

    def payable(self) -> int:
        return int(sum(int(amounts.sum()) for _, amounts in self.lots.values()))

    def _balances(self) -> tuple[IntArray, IntArray]:
        if not self.lots:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        members = np.concatenate([m for m, _ in self.lots.values()])
        amounts = np.concatenate([a for _, a in self.lots.values()])
        unique, inverse = np.unique(members, return_inverse=True)
        return unique, np.bincount(inverse, weights=amounts, minlength=unique.size).astype(np.int64)

    def _pay(self, month: int) -> int:
        schedule = self.rules.schedule
        if schedule in PAYOUT_MONTHS:
            if (month % 12 + 1) % PAYOUT_MONTHS[schedule]:
                return 0
            members, balance = self._balances()
            due = members[balance >= max(self.rules.threshold, 1)]
        else:  # on_request: members able to claim do so with their segment's propensity
            members, balance = self._balances()
            able = members[balance >= max(self.rules.threshold, 1)]
            u = streams.uniforms(self.key, streams.CLAIM, able, np.full(able.size, month))
            due = able[u < self.claim[able]]
        if due.size == 0:
            return 0
        total = 0
        for cohort, (owners, amounts) in self.lots.items():
            hit = np.isin(owners, due) & (amounts > 0)
            if hit.any():
                value = int(amounts[hit].sum())
                self.paid[cohort] += value
                total += value
                amounts[hit] = 0
        self._drop_empty()
        return total

    def _expire(self, month: int) -> int:
        if self.rules.expiry is None:
            return 0
        months = max(round(self.rules.expiry.approx_days / DAYS_PER_MONTH), 1)
        total = 0
        for cohort in [c for c in self.lots if month - c >= months]:
            value = int(self.lots[cohort][1].sum())
            self.expired[cohort] += value
            total += value
            del self.lots[cohort]
        return total

    def _drop_empty(self) -> None:
        for cohort in [c for c, (_, amounts) in self.lots.items() if not amounts.any()]:
            del self.lots[cohort]


@dataclass
class DividendLedger:
    paid_in_month: int  # 1 = January of the year after accrual
    accrued: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    paid: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    rows: list[tuple[int, int, int, int, int]] = field(default_factory=list)

    def month_end(self, month: int, accrued: int) -> tuple[int, int]:
        """Add this month's accrual; pay last year's in the payout month. Returns (paid, payable)."""
        if accrued:
            self.accrued[month] += accrued
        total = 0
        if month % 12 + 1 == self.paid_in_month:
            for cohort in self.accrued:
                if cohort // 12 == month // 12 - 1 and self.paid[cohort] < self.accrued[cohort]:
                    total += self.accrued[cohort] - self.paid[cohort]
                    self.paid[cohort] = self.accrued[cohort]
        self.rows.extend(
            (month, cohort, self.accrued[cohort], self.paid[cohort], 0) for cohort in sorted(self.accrued)
        )
        return total, sum(self.accrued.values()) - sum(self.paid.values())
