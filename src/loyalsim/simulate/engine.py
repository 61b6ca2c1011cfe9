"""One replication: a program arm and a no-program control on a SimPy clock, from drawn customers.

Where: the simulate stage; :func:`run_replication` puts the rooms together.

SimPy owns the clock. Each arm has a purchase process (day by day, or a month at a time)
and a month-end process that records the month between days. An arm whose purchases depend
on nothing decided day by day steps a month at a time, drawing the month in one compiled
pass with the daily step's arithmetic: the control arm always; the program arm when no
mechanic needs daily steps (each declares ``needs_daily_steps``) and nobody is watched.
The results are those of stepping day by day (a test checks).

The rooms: customers are drawn in ``population.draw``; purchases in ``arms`` (the arm's
state and schedule) and ``spending`` (amounts, categories, channels); members' rates in
``member_rates``; members' purchases through the replay engine in ``members``; month-end
work in ``month_end``; the program's statements in ``statements``; a watched customer's
story in ``story``. Mechanics with state of their own: ``membership``, ``referrals``,
``community``, ``cashback``, ``member_events``. docs/simulate.md lists what is simulated.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt
import simpy

from loyalsim.compile.calendar import last_of_month, month_end, month_of
from loyalsim.compile.policy import Policy
from loyalsim.population.draw import Customers, draw_customers, draw_population
from loyalsim.population.history import History
from loyalsim.population.scenario import RESPONSE_DEFAULTS, Scenario
from loyalsim.replay.engine import ReplayEngine
from loyalsim.simulate import streams
from loyalsim.simulate.arms import NEVER, Arm, Births, Shopper, Shopping, Tally
from loyalsim.simulate.cashback import CashbackLedger, DividendLedger
from loyalsim.simulate.community import Community
from loyalsim.simulate.enrolment import BEFORE as BEFORE_START
from loyalsim.simulate.enrolment import NEVER as NEVER_ENROLS
from loyalsim.simulate.enrolment import enrolment_days, join_chance, switch_times
from loyalsim.simulate.member_events import MemberEvents
from loyalsim.simulate.member_rates import MemberRates
from loyalsim.simulate.members import Chooser, Crediting, Members
from loyalsim.simulate.membership import Memberships
from loyalsim.simulate.month_end import MonthEndWork
from loyalsim.simulate.program_value import lift_factors
from loyalsim.simulate.referrals import Referrals, pool_size
from loyalsim.simulate.results import MonthResult, Replication, Synthetic
from loyalsim.simulate.spending import Basket, Spend
from loyalsim.simulate.statements import PointsMonth, Statements, twelfth
from loyalsim.simulate.story import Story
from loyalsim.transactions.reader import Transactions
from loyalsim.transactions.sums import revenue_by_month

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Process = Generator[simpy.Event, Any, None]
# Customers from which a replication runs its control arm on a thread beside the program arm
# (its month-long compiled passes release the GIL). Nothing is shared, so the results are
# those of running the arms in turn (a test checks); benchmarks/README.md has the gain.
THREADS_FROM = 10_000
UNBORN = 2**40  # birth day of a referee-to-be who has not been referred (beyond any horizon)

__all__ = ["MonthResult", "Replication", "Synthetic", "run_replication", "synthetic_transactions"]


def run_replication(
    policy: Policy,
    scenario: Scenario,
    index: int,
    watch: int | None = None,
    *,
    beside: bool = True,
    book_from: Policy | None = None,
) -> Replication:
    """Simulate one replication: program and control arms on common random numbers.

    ``watch`` records one customer's story (purchases in both arms, points, tiers, month-end
    statements, membership, dropout) in ``Replication.story``. ``beside``: from
    ``THREADS_FROM`` customers, run the control arm and the drawing of purchases on a thread
    beside the program arm, unless ``LOYALSIM_THREADS=1`` (the results are the same either way).

    Event-driven: a customer is touched only on the days they buy or have a membership event
    (and at month ends in aggregate), so the cost grows with events, not with customers x days.

    ``book_from``: with a running program's history, the program that ran it, when ``policy``
    is a change to it: members start from the book ``book_from``'s replay gives, carried over
    by ``ReplayEngine.adopt_book``'s rules (None: ``policy`` ran the history itself).
    """
    run = _Run(policy, scenario, index, watch, book_from)
    threaded = beside and run.customers.size >= THREADS_FROM and os.environ.get("LOYALSIM_THREADS") != "1"
    run.simulate(threaded)
    return run.result()


def synthetic_transactions(policy: Policy, scenario: Scenario, index: int) -> tuple[Replication, Synthetic]:
    """Replication ``index`` as :func:`run_replication` runs it, with every purchase of the
    program arm recorded and its members' enrolment days: synthetic data for ``earn``, ``fit
    purchases`` and ``fit response`` (``simulate --transactions``)."""
    run = _Run(policy, scenario, index, None)
    run.shoppers["program"].recorded = []
    run.simulate(run.customers.size >= THREADS_FROM and os.environ.get("LOYALSIM_THREADS") != "1")
    return run.result(), run.synthetic()


def _with_referees(
    policy: Policy,
    scenario: Scenario,
    customers: Customers,
    member: BoolArray,
    pool_seed: np.random.SeedSequence,
) -> tuple[Customers, BoolArray, Array]:
    """The customers followed by the pool of referees-to-be (members, unborn until referred),
    and the pool's lifetimes; no pool when the program or the scenario has no referrals."""
    rates = [s.responds("referral_rate") for s in scenario.segments]
    if policy.referral is None or max(rates) <= 0:
        return customers, member, np.zeros(0)
    conversions = [s.responds("referee_conversion") for s in scenario.segments]
    size = pool_size(
        int(member.sum()), float(max(rates)), float(max(conversions)), scenario.days, customers.size
    )
    # Referees-to-be come from their own stream: adding referrals changes no other customer.
    pool = draw_population(scenario, np.random.default_rng(pool_seed), np.zeros(size, dtype=np.int64))
    lifetimes = pool.death.copy()
    pool.birth[:] = UNBORN
    return customers.extended(pool), np.concatenate((member, np.ones(size, dtype=bool))), lifetimes


def _relative_rates(scenario: Scenario, customers: Customers) -> Array:
    """Each customer's purchase rate over their segment's mean (r / alpha): how much heavier a
    buyer they are, for self-selected enrolment."""
    mean = np.array(
        [s.purchase_params[0] / s.purchase_params[1] / s.days_per_unit for s in scenario.segments]
    )
    typical = mean[customers.segment]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative: Array = np.where(typical > 0, customers.rate / typical, 1.0)
    return relative


def _community(policy: Policy, scenario: Scenario, segment: IntArray, key: int) -> Community | None:
    """Community actions, with each customer's rates per action from their segment (None: none taken)."""
    if not policy.community or not any(s.action_rates for s in scenario.segments):
        return None
    ids_index = {action.id: i for i, action in enumerate(policy.community)}
    per_segment = np.zeros((len(scenario.segments), len(policy.community)))
    for row, seg in enumerate(scenario.segments):
        for action_id, rate in seg.action_rates:
            if action_id in ids_index:
                per_segment[row, ids_index[action_id]] = rate
    return Community(policy.community, per_segment[segment], key)


def _history_rows(history: History, customers: Customers) -> Transactions:
    """The history's rows up to ``as_of`` as transactions of the simulation's customers (each
    existing customer's number in this replication); rows of customers with no purchase (only
    returns) are left out, as they are not in the history's summary."""
    import dataclasses

    tx, summary_codes = history.transactions, history.customer_codes
    assert tx is not None and summary_codes is not None
    number = np.full(summary_codes.size, -1, dtype=np.int64)
    existing = np.flatnonzero(customers.existing)
    number[customers.origin[existing]] = existing
    # Each file code's place in the summary (-1: not in it), looked up row by row: a gather,
    # not a binary search per row.
    place = np.full(len(tx.customer_ids), -1, dtype=np.int64)
    place[summary_codes] = np.arange(summary_codes.size)
    position = place[tx.customer]
    kept = tx
    if (position < 0).any():  # (rows of customers outside the summary: only returns)
        rows = np.flatnonzero(position >= 0)
        kept, position = tx.subset(rows), position[rows]
    return dataclasses.replace(
        kept, rejected=[], customer=number[position], customer_ids=np.arange(customers.size).astype(object)
    )


class _Run:
    """The parts of one replication, put together; its SimPy processes are the methods below."""

    def __init__(
        self,
        policy: Policy,
        scenario: Scenario,
        index: int,
        watch: int | None,
        book_from: Policy | None = None,
    ) -> None:
        self.policy, self.scenario, self.index = policy, scenario.drawn(index), index
        self.book_from = book_from
        history = scenario.history
        self.running_book = history is not None and history.program_running  # its book is replayed
        self.history_revenue: dict[int, int] = {}  # a running book's sales by month, before the forecast
        response = self._draw(index)
        rates, reduction = self._mechanics(response)
        self.story = Story(watch, scenario.start)
        self._program(response, rates, reduction)
        self._shoppers(rates)

    def _draw(self, index: int) -> dict[str, Array]:
        """The replication's customers (and referees-to-be), its key, and each customer's
        responses by name (from their segment)."""
        policy, scenario = self.policy, self.scenario
        population_seed, key_seed, pool_seed, _ = scenario.seeds(index)
        customers = draw_customers(scenario, np.random.default_rng(population_seed)).busiest_first(
            scenario.starting
        )
        key = int(key_seed.generate_state(1, dtype=np.uint64)[0])
        self.main = customers.size  # customers who exist from the start or arrive (not referees)
        relative = _relative_rates(scenario, customers)
        selection = np.array([s.responds("enrolment_selection") for s in scenario.segments])
        joins = customers.enrol_u < join_chance(
            np.array([s.responds("enrolment_rate") for s in scenario.segments])[customers.segment],
            selection[customers.segment],
            relative,
        )
        if self.running_book:
            joins |= customers.existing  # a running program's customers are its members (as in earn)
        delay = np.array([s.responds("enrolment_delay") for s in scenario.segments])[customers.segment]
        customers, member, self.lifetimes = _with_referees(policy, scenario, customers, joins, pool_seed)
        self.customers, self.member, self.key = customers, member, key
        per_segment = {
            name: np.array([s.responds(name) for s in scenario.segments]) for name in RESPONSE_DEFAULTS
        }
        if any(s.value_response is not None for s in scenario.segments):  # the lift follows the value given
            per_segment["frequency_lift"] = per_segment["frequency_lift"] * lift_factors(policy, scenario)
        response = {name: values[customers.segment] for name, values in per_segment.items()}
        pad = customers.size - self.main  # (referees: members from birth)
        self.enrol_day = enrolment_days(
            customers.birth,
            member,
            customers.existing,
            self.running_book,
            np.concatenate((delay, np.zeros(pad))),
            response["enrolment_selection"],
            np.concatenate((relative, np.ones(pad))),
            key,
            self.main,
        )
        self.lift = response["frequency_lift"]
        return response

    def _mechanics(self, response: dict[str, Array]) -> tuple[MemberRates, Array]:
        """Referrals, paid membership, who is a member, members' rates and both arms; returns
        the rates and each customer's churn reduction."""
        policy, scenario, customers, member, key = (
            self.policy,
            self.scenario,
            self.customers,
            self.member,
            self.key,
        )
        n = customers.size
        self.referrals = (
            Referrals(
                policy.referral,
                self.main,
                self.lifetimes.size,
                response["referral_rate"],
                response["referee_conversion"],
                key,
                scenario.days,
            )
            if self.lifetimes.size and policy.referral is not None
            else None
        )
        self.memberships = None
        if policy.membership is not None:
            renewal = np.array([s.renewal for s in scenario.segments])[customers.segment]
            self.memberships = Memberships(
                policy.membership,
                scenario.start,
                key,
                response["membership_take_up"],
                response["trial_conversion"],
                (renewal[:, 0], renewal[:, 1]),
            )
        history = scenario.history
        if self.memberships is not None and self.running_book:
            assert history is not None and history.summary is not None
            existing = np.flatnonzero(customers.existing)
            self.memberships.continuing(existing, history.summary.first_day[customers.origin[existing]])
        self.members = Members(member, self.memberships, self.enrol_day)
        rates = MemberRates.of(
            policy,
            customers.rate,
            member,
            response,
            self.members.enrolled,
            self.memberships is not None,
            scenario.start,
        )
        reduction = np.where(member, response["churn_reduction"], 0.0)
        self.arms = {
            "control": Arm.of(customers, np.zeros(n), scenario.days),
            "program": Arm.of(customers, reduction, scenario.days),
        }
        return rates, reduction

    def _program(self, response: dict[str, Array], rates: MemberRates, reduction: Array) -> None:
        """The program's side: its money ledgers, statements, replay engine, crediting and month-end work."""
        policy, scenario, customers, member, key = (
            self.policy,
            self.scenario,
            self.customers,
            self.member,
            self.key,
        )
        n = customers.size
        cashback = (
            CashbackLedger(policy.cashback, response["redemption_propensity"], key)
            if policy.cashback is not None
            else None
        )
        value = policy.value
        dividends = (
            DividendLedger(value.dividend.paid_in_month)
            if value is not None and value.dividend is not None
            else None
        )
        self.statements = Statements(
            policy, member, cashback, dividends, self.story, month_of(scenario.start)
        )
        if np.any((self.enrol_day > np.maximum(customers.birth, 0)) & (self.enrol_day < NEVER_ENROLS)):
            self.statements.enrolled_from = scenario.start + np.minimum(self.enrol_day, scenario.days)
        # Room for every purchase members would make with no dropout (an upper bound on the lots, a
        # little above the purchases they make): the ledger should not have to grow and copy itself.
        # Untouched capacity costs no memory.
        expected = float(customers.rate[member].sum()) * scenario.days * 1.1
        self.engine = engine = ReplayEngine(
            policy,
            np.arange(n),
            redeem="program",
            sink=self.statements.collect,
            chooser=Chooser(key, scenario.start, response["redemption_propensity"]),
            lot_capacity=int(min(max(expected, 2 * n), 64 * n + 1024)),
        )
        rates.points = engine
        if self.running_book:
            assert scenario.history is not None
            rows = _history_rows(scenario.history, customers)
            self.history_revenue = revenue_by_month(rows)
            self.statements.keep_history = self.book_from is None
            engine.replay_history(rows, scenario.start)
            self.statements.keep_history = True
            if self.book_from is not None:
                # The program that really ran replays the history too; its book (and its last
                # month, the opening) replaces this program's own replay of it.
                running = ReplayEngine(
                    self.book_from,
                    np.arange(n),
                    redeem="program",
                    sink=self.statements.collect,
                    lot_capacity=2 * n,
                    track_lot_days=True,
                )
                with self.statements.rules_of(self.book_from):
                    running.replay_history(rows, scenario.start)
                engine.adopt_book(running, scenario.start)
        self.tally = {name: Tally() for name in self.arms}
        spend = Spend.of(scenario, customers, key, policy.money_unit)
        self.spend = spend
        self.credit = Crediting(
            self.members,
            engine,
            customers,
            scenario.start,
            key,
            Basket.of(scenario),
            value.donations if value is not None else None,
            self.tally["program"],
            self.story,
        )
        self.community = _community(policy, scenario, customers.segment, key)
        self.month_end_work = MonthEndWork(
            policy,
            scenario.start,
            month_of(scenario.start),
            key,
            engine,
            self.arms["program"],
            customers,
            MemberEvents.of(policy.earn, key, n),
            self.community,
            np.where(member, response["community_retention"], 0.0),
            reduction,
            response["reminder_response"],
            np.where(member, response["donation_propensity"], 0.0),
            rates.reward,
            spend,
            self.credit,
            self.tally["program"],
            self.story,
        )

    def _shoppers(self, rates: MemberRates) -> None:
        """Each arm's shopper, and whether the program arm may go a month at a time."""
        scenario, customers, key, spend = self.scenario, self.customers, self.key, self.spend
        births = Births.of(customers.birth, scenario.days)
        self.births = births
        # Members by enrolment day (referees join when referred; a running book's members before).
        enrolling = np.flatnonzero(
            (self.enrol_day >= 0)
            & (self.enrol_day < scenario.days)
            & ~(customers.existing & (customers.rate <= 0))  # (drawn gone before the start)
        )
        self.enrolling = Births(
            enrolling[np.argsort(self.enrol_day[enrolling], kind="stable")],
            np.searchsorted(np.sort(self.enrol_day[enrolling]), np.arange(scenario.days + 1)),
        )
        switch = switch_times(self.enrol_day)
        lasting = np.array([s.responds("lift_duration") for s in scenario.segments])
        duration = np.concatenate(
            (lasting[customers.segment[: self.main]], np.zeros(customers.size - self.main))
        )
        until = np.where(duration > 0, switch + duration, np.inf)  # (0: the lift lasts)
        arrival = streams.stream_base(key, streams.ARRIVAL)
        self.shoppers = {
            "control": Shopper(
                "control",
                self.arms["control"],
                customers,
                lambda who, day: customers.rate[who],
                customers.rate,
                np.full(customers.size, -np.inf),
                np.full(customers.size, np.inf),
                spend,
                arrival,
                births,
                self.story,
                keep=False,
            ),
            "program": Shopper(
                "program",
                self.arms["program"],
                customers,
                rates,
                rates.fixed,
                switch,
                until,
                spend,
                arrival,
                births,
                self.story,
                keep=True,
                credit_each_wave=self.credit if rates.stateful else None,
            ),
        }
        mechanics = (rates, self.memberships, self.community, self.referrals)
        self.program_by_month = not self.story.watching and not any(
            m.needs_daily_steps for m in mechanics if m is not None
        )
        month_lasts = np.minimum(
            month_end(scenario.start + np.arange(scenario.days)) - scenario.start, scenario.days - 1
        )
        self.spans = [
            (first, int(month_lasts[first]) + 1)
            for first in np.flatnonzero(np.diff(month_lasts, prepend=-1)).tolist()
        ]
        self.records: dict[str, list[MonthResult]] = {name: [] for name in self.arms}
        # Existing customers (a history) make no first purchase: their next one is drawn from the
        # beginning of day 0 (time -1), in both arms from the same arrival stream.
        self.existing = np.flatnonzero(customers.existing & (customers.rate > 0))
        for shopper in self.shoppers.values():
            shopper.schedule_next(self.existing, -1)
        self.control_steps: list[
            Future[Any]
        ] = []  # the control arm's runs up to a time (the last: to the end)

    # -- the processes ---------------------------------------------------------------------------
    def control_purchases(self, env: simpy.Environment) -> Process:
        """The control arm's purchases: a month at a time unless a watched customer's story is told."""
        shopper, tally = self.shoppers["control"], self.tally["control"]
        if not self.story.watching:
            for start, stop in self.spans:
                tally.add(shopper.span(start, stop)[0])
                yield env.timeout(stop - env.now)
            return
        while env.now < self.scenario.days:
            day = int(env.now)
            tally.add(shopper.day(day, self.births.between(day, day + 1)))
            yield env.timeout(1)

    def draw_program_span(self, start: int, stop: int) -> tuple[Shopping, IntArray, BoolArray]:
        """The program arm's purchases of a month (``Shopper.span``), and who is alive at its end."""
        shopping, days = self.shoppers["program"].span(start, stop)
        return shopping, days, self.arms["program"].alive_at(stop - 1)

    def monthly_process(
        self, env: simpy.Environment, control_env: simpy.Environment, alongside: Callable[..., Future[Any]]
    ) -> Process:
        """The program arm a month at a time (``program_by_month``). ``alongside`` runs work on
        the thread beside this one (or at once): the next month's purchases, and the control
        arm's month, while the program credits this month's."""
        spans = self.spans
        drawn = alongside(self.draw_program_span, *spans[0])
        self.control_steps.append(alongside(control_env.run, spans[0][1]))
        for number, (_, stop) in enumerate(spans):
            shopping, days, alive = drawn.result()
            if number + 1 < len(spans):
                drawn = alongside(self.draw_program_span, *spans[number + 1])
                self.control_steps.append(alongside(control_env.run, spans[number + 1][1]))
            # The drawing may already be in the next month: the month end counts who was alive at this one's.
            self.statements.alive[month_of(self.scenario.start + stop - 1)] = alive
            bought = self.tally["program"].add(shopping)
            if shopping.purchases:
                self.credit(days, bought)  # each purchase's own day
            yield env.timeout(stop - env.now)

    def daily_process(self, env: simpy.Environment) -> Process:
        """The program arm day by day: newcomers and referees, membership events, purchases, referral grants."""
        start, program, referrals = self.scenario.start, self.arms["program"], self.referrals
        while env.now < self.scenario.days:
            day = int(env.now)
            born = self.births.between(day, day + 1)
            referees = referrals.born_on(day) if referrals is not None else born[:0]
            if referees.size:
                program.birth[referees] = program.last_time[referees] = day
                program.death[referees] = self.lifetimes[referees - self.main] + day
            if self.memberships is not None:  # members take it up (or not) on their enrolment day
                self.membership_day(day, np.concatenate((self.enrolling.between(day, day + 1), referees)))
            shopping = self.shoppers["program"].day(day, np.concatenate((born, referees)))
            bought = self.tally["program"].add(shopping)
            if bought:  # one pass through the program for the whole day
                self.credit(day, bought)
            if referrals is not None and referees.size:
                self.engine.advance_to(start + day)
                referrals.grant(
                    start + day,
                    month_of(start + day),
                    referees,
                    self.spend(referees, np.zeros(referees.size, dtype=np.int64)),
                    self.engine,
                )
            yield env.timeout(1)

    def membership_day(self, day: int, joining: IntArray) -> None:
        """Paid membership's events of ``day``: renewals and lapses, ``joining`` members, period points."""
        memberships = self.memberships
        assert memberships is not None
        before = self.story.membership_state(memberships.state)
        memberships.events(day, self.arms["program"].death)
        memberships.join(joining, day)
        billed = memberships.take_billed()
        period_points = memberships.rules.period_points
        if period_points and billed.size:  # bonus_points perks: credited at each paid period's start
            self.engine.credit(
                billed, np.full(billed.size, period_points, dtype=np.int64), self.scenario.start + day
            )
        self.story.membership(day, before, memberships.state)

    def month_end_process(self, env: simpy.Environment, name: str) -> Process:
        """Each month end of arm ``name``, between its last day and the next: the month's record."""
        arm, scenario = self.arms[name], self.scenario
        day = 0
        while day < scenario.days:
            last = min(last_of_month(scenario.start + day) - scenario.start, scenario.days - 1)
            yield env.timeout(last + 0.5 - env.now)
            month = month_of(scenario.start + last)
            if name == "program":
                if month not in self.statements.alive:  # (else drawn with the month's purchases)
                    self.statements.alive[month] = arm.alive_at(last)
                alive = self.statements.alive[month]
            else:
                alive = arm.alive_at(last)
            extra: dict[str, int] = {}
            if name == "program" and self.month_end_work.any:
                # Month-end actions first: reminders may prompt purchases that belong to this month.
                active = np.flatnonzero(alive)
                extra = self.month_end_work(month, last, active[self.members.enrolled_on(active, last)])
            tally = self.tally[name].take()
            record = MonthResult(
                month,
                name,
                int(alive.sum()),
                0,
                tally.purchases,
                tally.revenue,
                member_revenue=tally.member_revenue,
                donations=tally.donations,
            )
            for field_name, value in extra.items():
                setattr(record, field_name, value)
            if name == "program":
                self.program_month(record, month, last, alive)
            self.records[name].append(record)
            day = last + 1

    def program_month(self, record: MonthResult, month: int, last: int, alive: BoolArray) -> None:
        """The program arm's own figures of a month: members, referrals, paid memberships."""
        record.members = int((alive & self.member & (self.enrol_day <= last)).sum())
        referrals = self.referrals
        if referrals is not None:
            referrals.refer(month, last, np.flatnonzero(alive & self.member))
            record.referrals = referrals.born.get(month, 0)
            record.referral_cost = referrals.cost.get(month, 0)
        memberships = self.memberships
        if memberships is not None:
            record.subscribers = int((memberships.active & (self.arms["program"].birth <= last)).sum())
            record.fees_billed = memberships.billed.get(month, 0)
            record.fees_recognised = memberships.recognised.get(month, 0)
            record.memberships_started = memberships.started.get(month, 0)
            record.memberships_cancelled = memberships.cancelled.get(month, 0)
            assert self.policy.membership is not None
            record.perk_cost += twelfth(record.subscribers * self.policy.membership.yearly_cost)

    # -- running ---------------------------------------------------------------------------------
    def simulate(self, threaded: bool) -> None:
        """Run both arms to the horizon. ``threaded``: the control arm, and the drawing of the
        program arm's months, on a thread beside the program arm (their compiled loops release
        the GIL; nothing is shared, so the results are those of running them in turn)."""
        end = self.scenario.days + 1
        # The control arm on its own SimPy clock: it shares no state with the program arm.
        control_env = simpy.Environment()
        control_env.process(self.control_purchases(control_env))
        control_env.process(self.month_end_process(control_env, "control"))
        with ThreadPoolExecutor(max_workers=1) as executor:
            alongside = executor.submit if threaded else _done
            if not self.program_by_month:
                self.control_steps.append(alongside(control_env.run, end))
            env = simpy.Environment()
            env.process(
                self.monthly_process(env, control_env, alongside)
                if self.program_by_month
                else self.daily_process(env)
            )
            env.process(self.month_end_process(env, "program"))
            try:
                env.run(until=end)
            finally:
                for step in self.control_steps:  # wait for them, however the program arm ended
                    step.exception()
            for step in self.control_steps:
                step.result()
            if control_env.now < end:
                control_env.run(until=end)

    def synthetic(self) -> Synthetic:
        """The recorded purchases of the program arm, and who enrolled when (see
        :func:`synthetic_transactions`)."""
        recorded = self.shoppers["program"].recorded
        assert recorded is not None
        scenario, customers = self.scenario, self.customers
        parts = list(zip(*recorded, strict=True)) if recorded else [[np.zeros(0, dtype=np.int64)]] * 4
        day, who, amount, number = (np.concatenate(part).astype(np.int64) for part in parts)
        order = np.argsort(day, kind="stable")
        day, who, amount, number = day[order], who[order], amount[order], number[order]
        basket = Basket.of(scenario)
        category = channel = None
        categories = channels = np.zeros(0, dtype=object)
        if basket is not None:
            category, channel = basket.draw(self.key, customers.segment[who], who, number)
            categories, channels = basket.categories, basket.channels
        born = self.arms["program"].birth
        enrolled = self.member & (self.enrol_day < scenario.days) & (born < scenario.days)
        members = np.flatnonzero(enrolled)
        on = self.enrol_day[members].copy()
        before = on <= BEFORE_START
        history = scenario.history
        if (
            history is not None and history.summary is not None
        ):  # a running book's members: since their first purchase
            existing = before & customers.existing[members]
            on[existing] = history.summary.first_day[customers.origin[members[existing]]] - scenario.start
        on[before & ~customers.existing[members]] = born[
            members[before & ~customers.existing[members]]
        ].astype(np.int64)
        return Synthetic(
            who,
            scenario.start + day,
            amount,
            category,
            channel,
            categories,
            channels,
            members,
            scenario.start + on,
            _file_ids(scenario, customers, born),
        )

    def result(self) -> Replication:
        """The replication's months (control and program, month by month), cohorts and story."""
        result = Replication(self.index, customers=self.main)
        for pair in zip(self.records["control"], self.records["program"], strict=True):
            result.months.extend(pair)
        self.engine.advance_to(self.scenario.start + self.scenario.days)  # close the program's last month
        statements = self.statements
        statements.fill(result.months, self.engine.perk_cost)
        result.cohorts = self.engine.cohort_rows  # the replay engine records the run-off
        if statements.opening is not None:
            month, book, members = statements.opening
            result.opening = {"month": month, "points_outstanding": book.outstanding, "customers": members}
            if statements.cashback is not None:
                result.opening["cashback_payable"] = book.cashback_payable
            if statements.dividends is not None:
                result.opening["dividend_payable"] = book.dividend_payable
            fees = self.memberships
            result.history = [
                _history_month(
                    month,
                    figures,
                    self.history_revenue.get(month, 0),
                    (fees.billed.get(month, 0), fees.recognised.get(month, 0))
                    if fees is not None
                    else (0, 0),
                )
                for month, figures in sorted(statements.history.items())
            ]
        result.cashback_cohorts = statements.cashback.rows if statements.cashback is not None else []
        result.dividend_cohorts = statements.dividends.rows if statements.dividends is not None else []
        result.repeat_purchases_control = self.arms["control"].repeats[: self.main]
        result.customers = self.main + (
            sum(self.referrals.born.values()) if self.referrals is not None else 0
        )
        result.story = self.story.told(
            self.scenario, self.customers, self.member, self.lift, self.arms["control"].allowed, NEVER
        )
        return result


def _file_ids(scenario: Scenario, customers: Customers, born: Array) -> npt.NDArray[np.object_]:
    """Each customer's id in synthetic files: a history's customers keep theirs; the others are
    numbered 1, 2, ... by their first purchase (then by a uniform: the simulation's numbering
    follows purchase rates, which ids should not give away), prefixed "new-" beside a history."""
    ids = np.empty(customers.size, dtype=object)
    existing = customers.existing
    history = scenario.history
    if history is not None and history.summary is not None and existing.any():
        ids[existing] = history.summary.customer_ids[customers.origin[existing]]
    others = np.flatnonzero(~existing)
    rank = np.lexsort((customers.enrol_u[others], born[others]))
    prefix = "new-" if history is not None else ""
    ids[others[rank]] = [f"{prefix}{i}" for i in range(1, others.size + 1)]
    return ids


def _history_month(month: int, book: PointsMonth, revenue: int, fees: tuple[int, int]) -> MonthResult:
    """A running book's month before the forecast, as the program arm's figures finance reads
    (every customer of the history a member: their sales are members' sales; ``fees``: billed
    and recognised in the month, of the paid periods current at the start)."""
    return MonthResult(
        month,
        "program",
        customers=0,
        members=0,
        purchases=0,
        revenue=revenue,
        points_issued=book.issued,
        points_redeemed=book.redeemed,
        points_expired=book.expired,
        points_outstanding=book.outstanding,
        member_revenue=revenue,
        cashback_accrued=book.cashback_accrued,
        dividend_accrued=book.dividend_accrued,
        cashback_paid=book.cashback_paid,
        cashback_expired=book.cashback_expired,
        cashback_payable=book.cashback_payable,
        dividend_paid=book.dividend_paid,
        dividend_payable=book.dividend_payable,
        fees_billed=fees[0],
        fees_recognised=fees[1],
    )


def _done(function: Callable[..., Any], *args: Any) -> Future[Any]:
    """``function(*args)`` run now, as a finished future (``submit`` without a thread)."""
    future: Future[Any] = Future()
    try:
        future.set_result(function(*args))
    except Exception as error:  # handed over as an executor would
        future.set_exception(error)
    return future
