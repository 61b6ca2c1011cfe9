"""The program arm's month-end work: dated member events, community actions, reminders, donations.

Where: the simulate stage, called by the month-end process for the active enrolled members
before the month's results are recorded (reminders may prompt purchases that belong to the
month). Every decision draws from the customer's own stream keyed by the month, so results
do not depend on how the work is split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loyalsim.compile.calendar import first_of_month, month_index
from loyalsim.compile.mechanics import Donations, Reminder
from loyalsim.compile.policy import Policy
from loyalsim.population.draw import Customers
from loyalsim.replay.engine import ReplayEngine
from loyalsim.simulate import streams
from loyalsim.simulate.arms import NEVER, Arm, Tally, allowed_repeats
from loyalsim.simulate.community import Community
from loyalsim.simulate.member_events import MemberEvents
from loyalsim.simulate.members import Crediting
from loyalsim.simulate.spending import Spend
from loyalsim.simulate.story import Story

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
PROMPTED = 1 << 40  # purchase numbers of reminder-prompted purchases start here (their own amounts)


@dataclass
class MonthEndWork:
    """What members do at a month end besides buying, and what the program does for them."""

    policy: Policy
    start: int  # the scenario's first day (absolute)
    first_month: int
    key: int
    engine: ReplayEngine
    program: Arm
    customers: Customers
    events: MemberEvents | None
    community: Community | None
    community_retention: Array  # zero for non-members
    churn_reduction: Array  # zero for non-members
    reminder_response: Array
    donation_propensity: Array  # zero for non-members
    reward: tuple[int, int] | None  # (cost, minimum balance) of the reward members work towards
    spend: Spend
    credit: Crediting
    tally: Tally  # the program arm's month
    story: Story

    @property
    def converting(self) -> bool:
        """Whether members may convert points into donations."""
        value = self.policy.value
        rules: Donations | None = value.donations if value is not None else None
        return bool(rules is not None and rules.points_per_step > 0 and self.donation_propensity.any())

    @property
    def any(self) -> bool:
        return (
            self.community is not None
            or bool(self.policy.reminders)
            or self.converting
            or self.events is not None
        )

    def __call__(self, month: int, last: int, active: IntArray) -> dict[str, int]:
        """The month's work for ``active`` (active enrolled members) on day offset ``last``; its counts."""
        extra: dict[str, int] = {}
        if self.events is not None:
            self.celebrate(month, last, active)
        if self.community is not None:
            self.act(month, last, active)
            extra["community_actions"] = self.community.counts.get(month, 0)
        if self.policy.reminders:
            sent, cost, prompted = self.remind(month, last, active)
            extra.update(reminders_sent=sent, reminder_cost=cost, prompted=prompted)
        if self.converting:
            extra.update(self.donate(month, last, active))
        return extra

    def celebrate(self, month: int, last: int, who: IntArray) -> None:
        """Points of dated member events (sign-up, birthday, anniversary) this month end."""
        assert self.events is not None
        joined = month_index(self.start + self.program.birth[who].astype(np.int64))
        points = self.events.month_end(month, who, joined, self.engine.tier[who])
        earning = points > 0
        if not earning.any():
            return
        self.engine.credit(who[earning], points[earning], self.start + last)
        self.story.member_event(last, who[earning], points[earning])

    def act(self, month: int, last: int, who: IntArray) -> None:
        """Community actions of active enrolled members this month: points, and the retention effect."""
        assert self.community is not None
        who, points, engaged = self.community.month_end(month, month - self.first_month, who)
        self.engine.credit(who, points, self.start + last)
        program, retention = self.program, self.community_retention
        keep = who[
            engaged
            & (self.customers.dropout_p[who] > 0)
            & np.isinf(program.death[who])
            & (retention[who] > 0)
        ]
        if keep.size:  # memoryless: redraw the rest of the lifetime with the lower dropout probability
            u = streams.uniforms(self.key, streams.COMMUNITY, keep, np.full(keep.size, month))
            base = self.customers.dropout_p[keep] * (1 - self.churn_reduction[keep])
            program.allowed[keep] = program.repeats[keep] + allowed_repeats(u, base, retention[keep])

    def remind(self, month: int, last: int, who: IntArray) -> tuple[int, int, int]:
        """The program's reminders this month to ``who`` (active members); returns (sent, cost, prompted)."""
        start_abs, last_abs = first_of_month(month), self.start + last
        sent = cost = prompted = 0
        for number, reminder in enumerate(self.policy.reminders):
            targets = self._reminded(reminder, who, start_abs, last_abs)
            if targets is None:
                continue
            sent += int(targets.size)
            cost += int(targets.size) * reminder.cost
            u = streams.uniforms(
                self.key, streams.REMINDER, targets, np.full(targets.size, month * 16 + number)
            )
            acting = targets[u < self.reminder_response[targets]]
            if acting.size == 0:
                continue
            prompted += int(acting.size)
            self.engine.advance_to(last_abs)
            if reminder.kind == "reward_available":  # the reminder prompts the redemption itself
                self.engine.redeem_prompted(acting, last_abs)
            else:  # it prompts a purchase today, beyond the member's usual ones
                numbers = np.full(acting.size, PROMPTED + month, dtype=np.int64)
                amounts = self.spend(acting, numbers)
                self.tally.purchases += int(acting.size)
                self.tally.revenue += int(amounts.sum())
                self.credit(last, [(acting, amounts, numbers)])
        return sent, cost, prompted

    def _reminded(self, reminder: Reminder, who: IntArray, start_abs: int, last_abs: int) -> IntArray | None:
        """Which of ``who`` ``reminder`` goes to this month (None: it does not apply)."""
        policy, engine = self.policy, self.engine
        ledger = engine.ledger
        kind, before, within = reminder.kind, reminder.before, reminder.within
        if kind == "points_expiring" and before is not None:
            notice = ledger.lot_expiry[: ledger.size] - int(before.approx_days)
            due = (ledger.lot_remaining[: ledger.size] > 0) & (notice >= start_abs) & (notice <= last_abs)
            # Marks over all customers, not np.intersect1d: that sorts every active member each month.
            owners = np.zeros(engine.n, dtype=bool)
            owners[ledger.lot_customer[: ledger.size][due]] = True
            targets: IntArray = who[owners[who]]
            return targets
        if kind == "reward_available" and self.reward is not None and not engine.redeem_auto:
            rewards = policy.rewards
            assert rewards is not None
            cost_of = rewards.catalog[reminder.reward].cost if reminder.reward is not None else self.reward[0]
            found: IntArray = who[ledger.balance[who] - ledger.debt[who] - self.reward[1] >= cost_of]
            return found
        if kind == "tier_progress" and policy.tiers is not None and within is not None:
            tiers = policy.tiers
            unit = {"spend": policy.money_unit, "points_earned": policy.scale}.get(tiers.metric, 1)
            ladder = np.append(tiers.thresholds, NEVER)
            gap = ladder[np.minimum(engine.tier[who] + 1, len(tiers.levels))] - engine.metric[who]
            close: IntArray = who[(gap > 0) & (gap <= int(within * unit))]
            return close
        return None

    def donate(self, month: int, last: int, who: IntArray) -> dict[str, int]:
        """Members converting their points into donations this month end, with the company's match."""
        u = streams.uniforms(self.key, streams.DONATION, who, np.full(who.size, month))
        deciding = who[u < self.donation_propensity[who]]
        if deciding.size == 0:
            return {}
        donors, points, donated, matched = self.engine.donate(deciding, self.start + last)
        self.story.donation(last, donors, points, donated)
        self.tally.donations += int(donated.sum() + matched.sum())  # with the per-purchase gifts
        return {"points_donated": int(points.sum()), "donations_matched": int(matched.sum())}
