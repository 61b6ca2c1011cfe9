"""Community actions in the simulator: points for engagement, within limits, and a retention effect.

Where: the simulate stage, used by :mod:`loyalsim.simulate.engine` for the program arm of
programs with ``community`` actions, when a segment has ``action_rates``.

- At each month end, every active enrolled member takes Poisson(rate) actions of each kind
  (the segment's ``action_rates``, per month; one generator per replication and month,
  drawn in customer order), capped by the action's limit: a limit per month or shorter
  is scaled to a month (``count`` × 30.44 days / period); a longer one is counted over
  its period (months since the start, in whole periods).
- Each action's points go through the program's ledger on the month's last day (earning,
  expiry and redemption as for purchase points).
- Retention: a BG/NBD member who took at least one action in the month has the rest of
  their lifetime redrawn with their dropout probability lowered by
  ``community_retention`` — valid because the geometric number of remaining purchases is
  memoryless. Pareto/NBD lifetimes are not changed (their death rate is not kept).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from loyalsim.compile.mechanics import Action
from loyalsim.durations import DAYS_PER_MONTH

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[np.float64]


@dataclass
class Community:
    # A month-end action may redraw a lifetime: the arm goes day by day to take it up.
    needs_daily_steps: ClassVar[bool] = True
    actions: tuple[Action, ...]
    rates: Array  # [customer, action]: actions per member per month
    key: int
    taken: dict[tuple[int, int], IntArray] = field(
        default_factory=dict
    )  # (action, period) → counts per customer
    points: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # month → points granted
    counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # month → actions taken

    def month_end(self, month: int, month_number: int, who: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Actions by ``who`` (active enrolled members) this month: (customers, points each, engaged mask)."""
        rng = np.random.default_rng([self.key, month, 0xAC7])
        total = np.zeros(who.size, dtype=np.int64)
        engaged = np.zeros(who.size, dtype=bool)
        for index, action in enumerate(self.actions):
            count = rng.poisson(self.rates[who, index])
            if action.limit_count is not None:
                per = action.limit_per.approx_days if action.limit_per is not None else DAYS_PER_MONTH
                if per <= DAYS_PER_MONTH:
                    # 1e-9: 5 a month must stay 5, not 4.999... after the division
                    count = np.minimum(count, int(action.limit_count * DAYS_PER_MONTH / per + 1e-9))
                else:
                    period = int(month_number * DAYS_PER_MONTH // per)
                    used = self.taken.setdefault(
                        (index, period), np.zeros(self.rates.shape[0], dtype=np.int64)
                    )
                    count = np.minimum(count, np.maximum(action.limit_count - used[who], 0))
                    used[who] += count
            engaged |= count > 0
            total += count * action.points
            self.counts[month] += int(count.sum())
        self.points[month] += int(total.sum())
        return who, total, engaged
