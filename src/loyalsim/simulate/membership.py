"""Paid membership in the simulator: take-up, trial, conversion, sBG renewal, fees and their deferral.

Where: the simulate stage, used by :mod:`loyalsim.simulate.engine` for the program arm of
programs with a ``membership`` section. State lives in numpy arrays; events (a trial's end,
a paid period's end) are kept in a day → customers schedule, so only customers with an
event are touched.

- Take-up: an enrolled member starts the membership at their first purchase with
  probability ``membership_take_up`` — the trial where the program offers one, else the
  default plan (the trial's ``converts_to``, else the first plan).
- Trial: at its end the member converts to the plan with probability ``trial_conversion``.
- Renewal: each member draws a cancellation probability θ ~ Beta(alpha, beta) (the
  segment's ``renewal``) and, at the end of each paid period, cancels with probability θ
  — the shifted-beta-geometric process (Fader & Hardie 2007). A member whose customer
  lifetime has ended cancels. A one-time plan never renews.
- Fees: billed at the start of each paid period, in minor units. Revenue is recognised
  evenly over the period's days (IFRS 15 / ASC 606, a service over time): each billing is
  split across the calendar months it covers, cumulatively rounded so the parts add up to
  the fee exactly. What is billed but not yet recognised is deferred fee revenue.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from scipy.special import betaincinv

from loyalsim.compile.calendar import add_duration, day_after, first_of_month, month_of
from loyalsim.compile.mechanics import Membership as MembershipRules
from loyalsim.durations import Duration
from loyalsim.simulate import streams

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[np.float64]
NONE, TRIAL, PAID, ENDED = 0, 1, 2, 3


@dataclass
class Memberships:
    # Joining, billing and lapsing happen on their days and change who is a member.
    needs_daily_steps: ClassVar[bool] = True
    rules: MembershipRules
    start: int  # the scenario's first day (day number)
    key: int
    take_up: Array  # per customer
    conversion: Array
    renewal: tuple[Array, Array]  # alpha, beta per customer
    state: npt.NDArray[np.int8] = field(init=False)
    plan: IntArray = field(init=False)
    periods: IntArray = field(init=False)
    theta: Array = field(init=False)
    due: dict[int, list[IntArray]] = field(default_factory=dict)
    billed: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # month → minor units
    recognised: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    started: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # month → memberships started
    cancelled: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    billed_now: list[IntArray] = field(default_factory=list)  # who started a paid period since last taken

    def take_billed(self) -> IntArray:
        """Who started a paid period since the last call (for perks credited per period)."""
        who = np.concatenate(self.billed_now) if self.billed_now else np.zeros(0, dtype=np.int64)
        self.billed_now = []
        return who

    def __post_init__(self) -> None:
        n = self.take_up.size
        self.state = np.zeros(n, dtype=np.int8)
        self.plan = np.zeros(n, dtype=np.int64)
        self.periods = np.zeros(n, dtype=np.int64)
        self.theta = np.zeros(n)
        rules = self.rules
        self.default_plan = rules.trial_converts_to if rules.trial_converts_to is not None else 0

    @property
    def active(self) -> npt.NDArray[np.bool_]:
        """Every customer: in a trial or a paid period (for month-end counts)."""
        result: npt.NDArray[np.bool_] = (self.state == TRIAL) | (self.state == PAID)
        return result

    def active_of(self, who: IntArray) -> npt.NDArray[np.bool_]:
        """Whether each of ``who`` is in a trial or a paid period (touches only them)."""
        state = self.state[who]
        result: npt.NDArray[np.bool_] = (state == TRIAL) | (state == PAID)
        return result

    def join(self, who: IntArray, day: int) -> None:
        """Members making their first purchase today: some start the trial or the plan."""
        if who.size == 0:
            return
        u = streams.uniforms(self.key, streams.TAKE_UP, who, 0)
        who = who[u < self.take_up[who]]
        if who.size == 0:
            return
        alpha, beta = self.renewal
        self.theta[who] = betaincinv(
            alpha[who], beta[who], streams.uniforms(self.key, streams.RENEWAL, who, 0)
        )
        self.started[self._month(day)] += int(who.size)
        if self.rules.trial is not None:
            self.state[who] = TRIAL
            self._schedule(who, self._add(day, self.rules.trial))
        else:
            self._bill(who, day, self.default_plan)

    def continuing(self, who: IntArray, first_days: IntArray) -> None:
        """Members of a running paid program at the forecast's start: ``who`` subscribed at their
        first purchase (``first_days``, day numbers) on the default plan, and renewed every period
        since, as a transaction file's customers are all members (as ``earn`` treats them). The
        period that covers the day before the start was billed at its start (a history month);
        its fee is recognised over its days, so what falls after the start is the opening
        deferred fee revenue, and renewal goes on by sBG from its end. A one-time plan was paid
        at the first purchase and never renews. No period points are credited for the history."""
        if who.size == 0:
            return
        rules = self.rules
        plan_index = self.default_plan
        plan = rules.plans[plan_index]
        alpha, beta = self.renewal
        self.theta[who] = betaincinv(
            alpha[who], beta[who], streams.uniforms(self.key, streams.RENEWAL, who, 0)
        )
        self.state[who], self.plan[who] = PAID, plan_index
        period = plan.period
        if period is None:
            self.periods[who] = 1
            return
        begins = np.asarray(first_days, dtype=np.int64).copy()
        ends = add_duration(begins, period)
        periods = np.ones(who.size, dtype=np.int64)
        while True:  # the period covering the day before the start
            over = ends < self.start
            if not over.any():
                break
            begins[over] = ends[over]
            ends[over] = add_duration(ends[over], period)
            periods[over] += 1
        self.periods[who] = periods
        for begin in np.unique(begins).tolist():
            same = begins == begin
            group, end = who[same], int(ends[same][0])
            total = plan.fee * int(group.size)
            self.billed[month_of(begin)] += total
            self._recognise(total, begin, end)
            self._schedule(group, end - self.start)

    def events(self, day: int, death: Array) -> None:
        """Trials ending and paid periods ending today. ``death``: when each customer's lifetime ends."""
        parts = self.due.pop(day, [])
        if not parts:
            return
        who = np.concatenate(parts)
        who = who[self.active_of(who)]
        alive = day < death[who]
        ended = who[~alive]
        trial = who[alive & (self.state[who] == TRIAL)]
        paid = who[alive & (self.state[who] == PAID)]
        stay_trial = trial[streams.uniforms(self.key, streams.TRIAL, trial, 0) < self.conversion[trial]]
        renew = paid[self.plan_has_period(paid)]
        renew = renew[
            streams.uniforms(self.key, streams.RENEWAL, renew, self.periods[renew]) >= self.theta[renew]
        ]
        stop = np.setdiff1d(np.concatenate((ended, trial, paid)), np.concatenate((stay_trial, renew)))
        self.state[stop] = ENDED
        self.cancelled[self._month(day)] += int(stop.size)
        self._bill(stay_trial, day, self.default_plan)
        for plan in np.unique(self.plan[renew]).tolist():
            self._bill(renew[self.plan[renew] == plan], day, int(plan))

    def plan_has_period(self, who: IntArray) -> npt.NDArray[np.bool_]:
        periodic = np.array([p.period is not None for p in self.rules.plans])
        result: npt.NDArray[np.bool_] = periodic[self.plan[who]]
        return result

    def _bill(self, who: IntArray, day: int, plan_index: int) -> None:
        if who.size == 0:
            return
        plan = self.rules.plans[plan_index]
        self.state[who] = PAID
        self.plan[who] = plan_index
        self.periods[who] += 1
        self.billed_now.append(who)
        total = plan.fee * int(who.size)
        self.billed[self._month(day)] += total
        if plan.period is None:  # a one-time fee: recognised when billed
            self.recognised[self._month(day)] += total
            return
        end = self._add(day, plan.period)
        self._schedule(who, end)
        self._recognise(total, self.start + day, self.start + end)

    def _recognise(self, total: int, first: int, stop: int) -> None:
        """Spread ``total`` evenly over the days [first, stop), month by month, exactly."""
        length = stop - first
        done = 0
        day = first
        while day < stop:
            month = month_of(day)
            next_month = first_of_month(month + 1)
            until = min(next_month, stop)
            cumulative = (total * (until - first) * 2 + length) // (2 * length)  # rounded half up
            self.recognised[month] += cumulative - done
            done = cumulative
            day = until

    def _schedule(self, who: IntArray, day: int) -> None:
        self.due.setdefault(day, []).append(who.copy())

    def _add(self, day: int, duration: Duration) -> int:
        return day_after(self.start + day, duration) - self.start

    def _month(self, day: int) -> int:
        return month_of(self.start + day)
