"""The simulator: synthetic customers on a SimPy clock, the program and a no-program control.

Where: the simulate stage. SimPy owns the clock: a daily process draws every alive
customer's purchases at once (numpy arrays, one row per customer) and a month-end process
records results between days. An arm whose purchases depend on nothing decided day by
day (the control arm; the program arm when members' rates are fixed) steps a month at a
time instead, drawing the month in one compiled pass with the daily step's arithmetic:
the same results, without a day's fixed costs 365 times a year. The program arm's purchases go through the same replay
engine as ``loyalsim earn`` — one implementation of every rule. The control arm sees the
same customers and the same random numbers (common random numbers): a purchase is drawn
by inverting one shared uniform, so lifting a member's rate can only add purchases.

Mechanics with state of their own live beside this module: paid membership
(``membership``), referrals (``referrals``), community actions (``community``), cashback
and dividend ledgers (``cashback``); docs/simulate.md lists what is and is not simulated.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import simpy
from scipy.special import ndtri

from loyalsim.allocator import keep_freed_memory, small_pages
from loyalsim.compile.calendar import first_of_month, last_of_month, month_end, month_index, month_of
from loyalsim.compile.exact import divide
from loyalsim.compile.policy import Policy
from loyalsim.population.scenario import RESPONSE_DEFAULTS, Scenario
from loyalsim.replay.engine import MonthRows, ReplayEngine
from loyalsim.simulate import schedule, streams
from loyalsim.simulate.cashback import CashbackLedger, DividendLedger
from loyalsim.simulate.community import Community
from loyalsim.simulate.member_events import MemberEvents
from loyalsim.simulate.membership import Memberships
from loyalsim.simulate.quantiles import gamma_quantile
from loyalsim.simulate.referrals import Referrals, pool_size
from loyalsim.transactions.reader import Transactions

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
NEVER = np.iinfo(np.int64).max // 4
PROMPTED = 1 << 40  # purchase numbers of reminder-prompted purchases start here (their own amounts)
# Customers from which a replication runs its control arm on a thread beside the program arm
# (its month-long compiled passes release the GIL). Measured on the reference workload: 25%
# faster at 100,000 customers, 10% at 10,000, no different at 1,000. Nothing is shared, so the
# results are those of running the arms in turn (a test checks).
THREADS_FROM = 10_000
UNBORN = 2**40  # birth day of a referee-to-be who has not been referred (beyond any horizon)


@dataclass
class Customers:
    """Everyone who will exist in one replication, drawn up front (initial customers and arrivals)."""

    birth: IntArray  # day offset of the first purchase
    segment: IntArray
    rate: Array  # purchases per day
    dropout_u: Array  # uniform behind the number of repeat purchases before dropping out (BG/NBD)
    dropout_p: Array  # BG/NBD dropout probability after each repeat purchase (0 for Pareto/NBD)
    death: Array  # Pareto/NBD: day offset of death (inf for BG/NBD)
    spend_shape: Array
    spend_scale: Array
    lognormal: npt.NDArray[np.bool_]
    enrol_u: Array

    @property
    def size(self) -> int:
        return int(self.birth.size)

    FIELDS = ("birth", "segment", "rate", "dropout_u", "dropout_p", "death", "spend_shape", "spend_scale",
              "lognormal", "enrol_u")

    def extended(self, other: Customers) -> Customers:
        """These customers followed by ``other``'s."""
        return Customers(*(np.concatenate((getattr(self, f), getattr(other, f))) for f in self.FIELDS))

    def busiest_first(self, initial: int) -> Customers:
        """The same customers, the ``initial`` ones and then the arrivals, each numbered from the
        highest purchase rate down.

        Why: a day's buyers are then mostly the low numbers, so the per-customer arrays they
        touch stay in cache (with Gamma-distributed rates, a tenth of the customers make most
        of the purchases). Numbering is arbitrary otherwise: every draw keys on it the same way
        in both arms.
        """
        order = np.concatenate((np.argsort(-self.rate[:initial], kind="stable"),
                                initial + np.argsort(-self.rate[initial:], kind="stable")))
        return Customers(*(getattr(self, f)[order] for f in self.FIELDS))


def draw_customers(scenario: Scenario, rng: np.random.Generator) -> Customers:
    """Initial customers and monthly arrivals, with their segment's heterogeneity."""
    months = int(np.ceil(scenario.days / 30.436875))
    arrivals = rng.poisson(scenario.arrivals_per_month, months) if scenario.arrivals_per_month else np.zeros(0, int)
    births = [np.zeros(scenario.initial, dtype=np.int64)]
    for m, count in enumerate(arrivals.tolist()):
        births.append(np.minimum((m * 30.436875 + rng.uniform(0, 30.436875, count)).astype(np.int64),
                                 scenario.days - 1))
    return draw_population(scenario, rng, np.concatenate(births))


def draw_population(scenario: Scenario, rng: np.random.Generator, birth: IntArray) -> Customers:
    """Customers born on ``birth`` (day offsets), each with a segment and that segment's heterogeneity."""
    n = birth.size
    shares = np.array([s.share for s in scenario.segments])
    segment = rng.choice(len(scenario.segments), size=n, p=shares / shares.sum())
    rate = np.zeros(n)
    dropout_p = np.zeros(n)
    death = np.full(n, np.inf)
    shape, scale = np.ones(n), np.ones(n)
    lognormal = np.zeros(n, dtype=bool)
    for index, seg in enumerate(scenario.segments):
        sel = segment == index
        count = int(sel.sum())
        if not count:
            continue
        r, alpha, third, fourth = seg.purchase_params
        rate[sel] = rng.gamma(r, 1 / alpha, count) / seg.days_per_unit
        if seg.purchase_model == "bgnbd":
            dropout_p[sel] = rng.beta(third, fourth, count)
        else:
            # A death rate drawn as 0 (tiny s, huge beta) is a customer who never dies: 1/0 = inf
            # is the right lifetime, not a warning for the user.
            with np.errstate(divide="ignore", over="ignore"):
                death[sel] = rng.exponential(1 / rng.gamma(third, 1 / fourth, count)) * seg.days_per_unit
        if seg.spend_model == "gamma_gamma":
            p, q, gamma = seg.spend_params
            shape[sel] = p
            scale[sel] = rng.gamma(q, 1 / gamma, count)  # nu: each purchase ~ Gamma(p, rate nu)
        else:
            mean, sigma = seg.spend_params
            lognormal[sel] = True
            shape[sel] = np.log(mean) - sigma**2 / 2
            scale[sel] = sigma
    return Customers(birth, segment, rate, rng.random(n), dropout_p, death + birth, shape, scale, lognormal,
                     rng.random(n))


@dataclass
class Arm:
    """One arm's customer state. Purchase k of customer i happens at birth + E_k / rate, where E_k
    is the k-th arrival of a unit-rate Poisson process shared by both arms (common random numbers)."""

    allowed: IntArray  # repeat purchases before dropping out (BG/NBD), NEVER otherwise
    repeats: IntArray
    clock: Array  # E_k of the last scheduled purchase
    gone: npt.NDArray[np.bool_]
    death: Array  # day offset after which the customer buys no more (inf until known under BG/NBD)
    last_time: Array  # time (day offset) of the last scheduled purchase
    birth: Array  # day offset of the first purchase in this arm (referees: only in the program arm)
    horizon: int  # days simulated
    next_day: npt.NDArray[np.signedinteger[Any]] = field(init=False)  # day of the next scheduled purchase (-1: none)

    def __post_init__(self) -> None:
        self.next_day = schedule.new_calendar(self.allowed.size, self.horizon)

    def due(self, day: int) -> IntArray:
        found: IntArray = schedule.due_on(self.next_day, day)
        return found


@dataclass
class Shopping:
    """One arm's purchases of a day (or a month): those the program has still to credit, and their totals."""

    bought: list[tuple[IntArray, IntArray, IntArray]]  # (customers, amounts in minor units, purchase numbers)
    purchases: int
    revenue: int  # minor units


@dataclass
class MonthResult:
    month: int
    arm: str
    customers: int  # alive (born and not dropped out) at month end
    members: int
    purchases: int
    revenue: int  # minor units
    points_issued: int = 0
    points_redeemed: int = 0
    points_expired: int = 0
    points_outstanding: int = 0
    member_revenue: int = 0  # minor units: sales to members, which grant points
    cashback_accrued: int = 0  # minor units earned by members this month
    dividend_accrued: int = 0  # minor units of dividend earned on this month's eligible spend
    cashback_paid: int = 0  # minor units paid out (schedule) or claimed (on request) this month
    cashback_expired: int = 0  # minor units of unpaid cashback that expired this month
    cashback_payable: int = 0  # minor units owed to members at month end
    dividend_paid: int = 0
    dividend_payable: int = 0
    subscribers: int = 0  # paid memberships (trial included) active at month end
    fees_billed: int = 0  # minor units
    fees_recognised: int = 0  # minor units of fee revenue earned this month (over each paid period)
    memberships_started: int = 0
    memberships_cancelled: int = 0
    referrals: int = 0  # new customers brought in by members this month (program arm)
    referral_cost: int = 0  # minor units: credits and discounts given for referrals
    community_actions: int = 0  # community actions taken by members this month (program arm)
    donations: int = 0  # minor units the company gives to the program's cause: per purchase, points converted, match
    points_donated: int = 0  # points units members converted into donations (part of points_redeemed)
    donations_matched: int = 0  # minor units the company added to members' donations
    perk_cost: int = 0  # minor units: membership perks used on purchases, and yearly perks (membership, tiers)
    reminders_sent: int = 0
    reminder_cost: int = 0  # minor units
    prompted: int = 0  # purchases or redemptions prompted by reminders this month
    tier_counts: list[int] = field(default_factory=list)  # active members by tier level at month end


@dataclass
class Replication:
    index: int
    months: list[MonthResult] = field(default_factory=list)
    customers: int = 0
    story: list[dict[str, Any]] = field(default_factory=list)  # events of the watched customer, if any
    repeat_purchases_control: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per customer
    # Cumulative points per earn cohort at each month end: (month, cohort, issued, redeemed, expired).
    cohorts: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    # The same for cashback and dividends, in minor units: (month, cohort, accrued, paid, expired).
    cashback_cohorts: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    dividend_cohorts: list[tuple[int, int, int, int, int]] = field(default_factory=list)


def _allowed(u: Array, p: Array, churn_reduction: Array) -> IntArray:
    """Repeat purchases before dropout: Geometric(p') by inversion of one shared uniform."""
    q = p * (1 - churn_reduction)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.ceil(np.log1p(-u) / np.log1p(-q))
    return np.where(q > 0, np.maximum(k, 1), NEVER).astype(np.int64)


POST_REWARD_DAYS = 30  # how long a post-reward lift lasts (docs/behaviour.md)


def run_replication(policy: Policy, scenario: Scenario, index: int, watch: int | None = None, *,
                    beside: bool = True) -> Replication:
    """Simulate one replication: program and control arms on common random numbers.

    ``watch`` records one customer's story (purchases in both arms, points, tiers, month-end
    statements, membership, dropout) in ``Replication.story``. ``beside``: from
    ``THREADS_FROM`` customers, run the control arm and the drawing of purchases on a thread
    beside the program arm, unless ``LOYALSIM_THREADS=1`` (the results are the same either way).

    Event-driven: a customer is touched only on the days they buy or have a membership event
    (and at month ends in aggregate), so the cost grows with events, not with customers x days.
    The rate in force after a purchase (the member's state then: lift, progress towards a
    reward, a reward just taken, an active paid membership) sets the gap to the next purchase.
    """
    keep_freed_memory()
    small_pages()
    population_seed, key_seed, pool_seed = np.random.SeedSequence(scenario.seed).spawn(
        scenario.replications)[index].spawn(3)
    customers = draw_customers(scenario, np.random.default_rng(population_seed)).busiest_first(
        scenario.initial)
    key = int(key_seed.generate_state(1, dtype=np.uint64)[0])
    enrolment = np.array([s.responds("enrolment_rate") for s in scenario.segments])
    member = customers.enrol_u < enrolment[customers.segment]
    main = customers.size
    referral_rates = np.array([s.responds("referral_rate") for s in scenario.segments])
    lifetimes = np.zeros(0)
    if policy.referral is not None and referral_rates.max() > 0:
        conversions = np.array([s.responds("referee_conversion") for s in scenario.segments])
        size = pool_size(int(member.sum()), float(referral_rates.max()), float(conversions.max()), scenario.days, main)
        # Referees-to-be come from their own stream: adding referrals changes no other customer.
        pool = draw_population(scenario, np.random.default_rng(pool_seed), np.zeros(size, dtype=np.int64))
        lifetimes = pool.death.copy()
        pool.birth[:] = UNBORN
        customers = customers.extended(pool)
        member = np.concatenate((member, np.ones(size, dtype=bool)))  # a referee joins the program
    n = customers.size
    seg_response = {name: np.array([s.responds(name) for s in scenario.segments])[customers.segment]
                    for name in RESPONSE_DEFAULTS}
    referrals = None
    if lifetimes.size:
        assert policy.referral is not None
        referrals = Referrals(policy.referral, main, lifetimes.size, seg_response["referral_rate"],
                              seg_response["referee_conversion"], key, scenario.days)
    today = [0]

    def chooser(able: IntArray, day: int) -> npt.NDArray[np.bool_]:
        """Which of ``able`` redeem at the end of ``day`` (absolute): one uniform per member and day."""
        u = streams.uniforms(key, streams.CHOICE, able, np.full(able.size, day - scenario.start))
        decided: npt.NDArray[np.bool_] = u < seg_response["redemption_propensity"][able]
        return decided

    memberships = None
    if policy.membership is not None:
        renewal = np.array([s.renewal for s in scenario.segments])[customers.segment]
        memberships = Memberships(policy.membership, scenario.start, key, seg_response["membership_take_up"],
                                  seg_response["trial_conversion"], (renewal[:, 0], renewal[:, 1]))
    lift = seg_response["frequency_lift"]
    # Responses to a program's money back: cashback, and value-based rewards (dividends, donations).
    mechanic_lift = np.zeros(n)
    if policy.cashback is not None:
        mechanic_lift += seg_response["cashback_lift"]
    if policy.value is not None and (policy.value.dividend is not None or policy.value.donations is not None):
        mechanic_lift += seg_response["value_affinity"]
    goal_gradient = np.where(member, seg_response["goal_gradient"], 0.0)
    post_reward = np.where(member, seg_response["post_reward_lift"], 0.0)
    reward = _reference_reward(policy)
    reduction = np.where(member, seg_response["churn_reduction"], 0.0)
    arms = {
        "control": Arm(_allowed(customers.dropout_u, customers.dropout_p, np.zeros(n)),
                       np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n, dtype=bool), customers.death.copy(),
                       customers.birth.astype(float), customers.birth.astype(float), scenario.days),
        "program": Arm(_allowed(customers.dropout_u, customers.dropout_p, reduction),
                       np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n, dtype=bool), customers.death.copy(),
                       customers.birth.astype(float), customers.birth.astype(float), scenario.days),
    }
    ids = np.arange(n)  # customers are their index: no returns to match by id in a simulation
    months_points: dict[int, list[int]] = {}
    cashback = CashbackLedger(policy.cashback, seg_response["redemption_propensity"], key) \
        if policy.cashback is not None else None
    dividends = DividendLedger(policy.value.dividend.paid_in_month) \
        if policy.value is not None and policy.value.dividend is not None else None
    cohort_rows: list[tuple[int, int, int, int, int]] = []
    # The program arm's customers alive at each month end, by month: drawn with the month's
    # purchases when the arm goes a month at a time, else found by the month-end process.
    month_alive: dict[int, npt.NDArray[np.bool_]] = {}
    tier_counts: dict[int, list[int]] = {}
    story: list[dict[str, Any]] = []

    def collect(rows: MonthRows) -> None:
        months_points[rows.month] = [int(rows.earned.sum()), int(rows.redeemed.sum()), int(rows.expired.sum()),
                                     int(rows.balance.sum()), int(rows.cashback.sum()), int(rows.dividend.sum())]
        if cashback is not None:
            paid, expired = cashback.month_end(rows.month, rows.customer, rows.cashback)
            months_points[rows.month] += [paid, expired, cashback.payable()]
        if dividends is not None:
            months_points[rows.month] += list(dividends.month_end(rows.month, int(rows.dividend.sum())))
        if policy.tiers is not None:  # active members by tier, alive as the month-end process found them
            active = member[rows.customer] & month_alive[rows.month][rows.customer]
            tier_counts[rows.month] = np.bincount(rows.tier[active], minlength=len(policy.tiers.levels)).tolist()
        totals = engine.ledger.cohorts
        cohort_rows.extend((rows.month, cohort, issued, totals.redeemed.get(cohort, 0), totals.expired.get(cohort, 0))
                           for cohort, issued in sorted(totals.issued.items()))
        if watch is not None:
            hit = np.flatnonzero(rows.customer == watch)
            if hit.size:
                i = int(hit[0])
                story.append({"day": last_of_month(first_of_month(rows.month)) - scenario.start,
                              "event": "statement", "month": rows.month, "earned": int(rows.earned[i]),
                              "redeemed": int(rows.redeemed[i]), "expired": int(rows.expired[i]),
                              "balance": int(rows.balance[i]), "tier": int(rows.tier[i])})

    # Room for every purchase members would make with no dropout (an upper bound on the lots, a
    # little above the purchases they make): the ledger should not have to grow and copy itself.
    # Untouched capacity costs no memory.
    expected = float(customers.rate[member].sum()) * scenario.days * 1.1
    engine = ReplayEngine(policy, ids, redeem="program", sink=collect, chooser=chooser,
                          lot_capacity=int(min(max(expected, 2 * n), 64 * n + 1024)))
    tally = {arm: {"purchases": 0, "revenue": 0, "member_revenue": 0, "donations": 0} for arm in arms}
    donations = policy.value.donations if policy.value is not None else None
    result = Replication(index, customers=main)
    unit = policy.money_unit
    birth_order = np.argsort(customers.birth, kind="stable")
    birth_edges = np.searchsorted(customers.birth[birth_order], np.arange(scenario.days + 1))

    def enrolled(who: IntArray) -> npt.NDArray[np.bool_]:
        """Who the program treats as a member now: enrolled, and subscribed when membership is paid."""
        if memberships is None:
            active: npt.NDArray[np.bool_] = member[who]
            return active
        subscribed: npt.NDArray[np.bool_] = member[who] & memberships.active_of(who)
        return subscribed

    # Rates that depend on points (goal gradient, post-reward lift) need each purchase's points
    # before the next gap is drawn; otherwise a day's purchases go through the program at once.
    stateful = reward is not None and bool(goal_gradient.any() or post_reward.any())
    # Members' rate when it depends on nothing but enrolment (no paid membership, nothing
    # stateful): one lookup per purchase instead of five.
    fixed_rate = customers.rate * (1 + np.where(member, lift + mechanic_lift, 0.0)) \
        if memberships is None and not stateful else None

    def rate_now(name: str, who: IntArray) -> Array:
        """Purchases per day from now on: the base rate, lifted for members by their state."""
        if name == "control":
            return customers.rate[who]
        if fixed_rate is not None:
            lifted: Array = fixed_rate[who]
            return lifted
        base = customers.rate[who]
        factor = 1 + np.where(enrolled(who), lift[who] + mechanic_lift[who], 0.0)
        if reward is not None and (goal_gradient[who].any() or post_reward[who].any()):
            spare = np.maximum(engine.ledger.balance[who] - engine.ledger.debt[who] - reward[1], 0)
            if engine.redeem_auto:  # tonight's redemption leaves the remainder to work towards
                progress, rewarded = (spare % reward[0]) / reward[0], spare >= reward[0]
            else:
                progress, rewarded = np.minimum(spare / reward[0], 1.0), np.zeros(who.size, dtype=bool)
            rewarded |= today[0] - engine.last_reward_day[who] <= POST_REWARD_DAYS
            factor = factor * (1 + goal_gradient[who] * progress) * (1 + np.where(rewarded, post_reward[who], 0.0))
        rate: Array = base * factor
        return rate

    shapes = {(seg.spend_model, seg.spend_params[0]) for seg in scenario.segments}
    one_gamma_shape = float(next(iter(shapes))[1]) if len(shapes) == 1 and next(iter(shapes))[0] == "gamma_gamma" \
        else None

    def spend(who: IntArray, purchase: IntArray) -> IntArray:
        """Amount of purchase number ``purchase`` (0 = first) of each customer: the same in both arms."""
        u = streams.uniforms(key, streams.AMOUNT, who, purchase)
        if one_gamma_shape is not None:  # every segment's spend is Gamma-Gamma with the same p
            amount = gamma_quantile(one_gamma_shape, u)
            amount /= customers.spend_scale[who]
        else:
            shape, scale = customers.spend_shape[who], customers.spend_scale[who]
            normal = customers.lognormal[who]
            amount = np.empty(who.size)
            gamma = ~normal
            if gamma.any():
                for value in np.unique(shape[gamma]).tolist():  # one shape per segment
                    sel = gamma & (shape == value)
                    amount[sel] = gamma_quantile(value, u[sel]) / scale[sel]
            amount[normal] = np.exp(shape[normal] + scale[normal] * ndtri(u[normal]))
        amount *= unit
        return np.maximum(np.rint(amount, out=amount), 1).astype(np.int64)

    arrival = streams.stream_base(key, streams.ARRIVAL)

    def schedule_next(name: str, arm: Arm, who: IntArray, day: int) -> IntArray:
        """Draw each customer's next repeat purchase; return those falling on ``day`` (today)."""
        due_today: IntArray = schedule.schedule_next(
            who, rate_now(name, who), customers.rate, arrival, arm.repeats, arm.clock, arm.last_time, arm.death,
            arm.gone, arm.next_day, day, scenario.days - 1)
        return due_today

    def repeat(arm: Arm, batch: IntArray) -> IntArray:
        """Count today's repeat purchases of ``batch`` (ending BG/NBD lifetimes reached); their purchase numbers."""
        numbers: IntArray = schedule.count_repeats(batch, arm.repeats, arm.allowed, arm.death, arm.birth, arm.clock,
                                                   customers.rate)
        return numbers

    basket = Basket.of(scenario)
    community = None
    if policy.community and any(s.action_rates for s in scenario.segments):
        ids_index = {action.id: i for i, action in enumerate(policy.community)}
        per_segment = np.zeros((len(scenario.segments), len(policy.community)))
        for row, seg in enumerate(scenario.segments):
            for action_id, rate in seg.action_rates:
                if action_id in ids_index:
                    per_segment[row, ids_index[action_id]] = rate
        community = Community(policy.community, per_segment[customers.segment], key)
    events = MemberEvents.of(policy.earn, key, n)
    community_retention = np.where(member, seg_response["community_retention"], 0.0)
    reminder_response = seg_response["reminder_response"]
    reminding = bool(policy.reminders)
    donation_rules = policy.value.donations if policy.value is not None else None
    donation_propensity = np.where(member, seg_response["donation_propensity"], 0.0)
    converting = bool(donation_rules is not None and donation_rules.points_per_step > 0 and donation_propensity.any())
    yearly_perks = policy.membership.yearly_cost if policy.membership is not None else 0
    period_points = policy.membership.period_points if policy.membership is not None else 0
    first_month = month_of(scenario.start)

    def credit(day: int | IntArray, bought: list[tuple[IntArray, IntArray, IntArray]]) -> None:
        """Members' purchases of the day (or of one wave, or of a span of days: ``day`` then
        gives each purchase's day) through the program."""
        who = np.concatenate([b[0] for b in bought])
        amounts = np.concatenate([b[1] for b in bought])
        numbers = np.concatenate([b[2] for b in bought])
        pick = enrolled(who)
        days = np.broadcast_to(np.asarray(day, dtype=np.int64), who.shape)
        tally["program"]["member_revenue"] += int(amounts[pick].sum())
        if donations is not None:
            tally["program"]["donations"] += int(donations.per_purchase(amounts[pick]).sum())
        if not pick.any():
            return
        earned_before = engine.earned_to_date(watch) if watch is not None else 0
        mix = None
        if basket is not None:
            category, channel = basket.draw(key, customers.segment[who[pick]], who[pick], numbers[pick])
            mix = (category, channel, basket)
        engine._process(_day_transactions(who[pick], scenario.start + days[pick], amounts[pick], ids, numbers[pick],
                                          mix))
        if watch is not None and (who[pick] == watch).any():
            story.append({"day": day, "event": "points", "earned": engine.earned_to_date(watch) - earned_before,
                          "tier": int(engine.tier[watch])})

    stories: dict[str, list[dict[str, Any]]] = {name: [] for name in arms}  # each arm's own (threads)

    def shop(name: str, arm: Arm, day: int, first: IntArray) -> Shopping:
        """One arm's purchases of the day: newcomers' first and the due repeats, then the same-day
        purchases they lead to (waves). Returns them with the program arm's not yet credited."""
        told = stories[name]
        purchases = revenue = 0
        repeats = arm.due(day)
        who = np.concatenate((first, repeats))
        number = np.concatenate((np.zeros(first.size, dtype=np.int64), repeat(arm, repeats)))
        bought: list[tuple[IntArray, IntArray, IntArray]] = []
        while who.size:
            amounts = spend(who, number)
            if watch is not None:
                for amount, k in zip(amounts[who == watch].tolist(), number[who == watch].tolist(), strict=True):
                    told.append({"day": day, "event": "purchase", "arm": name, "number": k, "amount": amount})
            purchases += int(who.size)
            revenue += int(amounts.sum())
            if name == "program":
                bought.append((who, amounts, number))
                if stateful:  # the next gap depends on the points of this purchase
                    credit(day, bought)
                    bought = []
            who = schedule_next(name, arm, who, day)
            number = repeat(arm, who)
        if watch is not None and arm.gone[watch] and not any(e["event"] == "dropout" for e in told):
            told.append({"day": day, "event": "dropout", "arm": name, "after": int(arm.repeats[watch])})
        return Shopping(bought, purchases, revenue)

    def add_to_tally(name: str, shopping: Shopping) -> list[tuple[IntArray, IntArray, IntArray]]:
        """Count the day's purchases in the arm's month; returns those the program has to credit."""
        tally[name]["purchases"] += shopping.purchases
        tally[name]["revenue"] += shopping.revenue
        return shopping.bought

    # Month-long steps where a day's purchases depend on nothing decided day by day: the
    # control arm always (it has no program), the program arm when a member's rate is fixed
    # and no community action or referral changes who buys. One compiled pass then draws a
    # month's purchases (and the program credits them in one batch), with the arithmetic of
    # the daily step, so the results are those of stepping day by day (a test checks).
    # A watched customer's story is told day by day.
    by_month = watch is None
    program_by_month = by_month and fixed_rate is not None and community is None and referrals is None
    month_lasts = np.minimum(month_end(scenario.start + np.arange(scenario.days)) - scenario.start,
                             scenario.days - 1)
    spans = [(first, int(month_lasts[first]) + 1) for first in
             np.flatnonzero(np.diff(month_lasts, prepend=-1)).tolist()]

    def shop_span(name: str, arm: Arm, start: int, stop: int) -> tuple[Shopping, IntArray]:
        """One arm's purchases of days ``start`` .. ``stop - 1`` (rates fixed), with each one's day."""
        rate = customers.rate if name == "control" else fixed_rate
        assert rate is not None
        who, days, numbers = schedule.draw_span(
            start, stop, birth_order[birth_edges[start]:birth_edges[stop]], rate, customers.rate, arrival,
            arm.repeats, arm.allowed, arm.clock, arm.last_time, arm.death, arm.birth, arm.gone, arm.next_day,
            scenario.days - 1)
        amounts = spend(who, numbers)
        return Shopping([(who, amounts, numbers)], int(who.size), int(amounts.sum())), days

    def control_daily(env: simpy.Environment) -> Any:
        arm = arms["control"]
        if by_month:
            for start, stop in spans:
                add_to_tally("control", shop_span("control", arm, start, stop)[0])
                yield env.timeout(stop - env.now)
            return
        while env.now < scenario.days:
            day = int(env.now)
            add_to_tally("control", shop("control", arm, day, birth_order[birth_edges[day]:birth_edges[day + 1]]))
            yield env.timeout(1)

    def draw_program_span(start: int, stop: int) -> tuple[Shopping, IntArray, npt.NDArray[np.bool_]]:
        """The program arm's purchases of a month (``shop_span``), and who is alive at its end."""
        shopping, days = shop_span("program", arms["program"], start, stop)
        arm = arms["program"]
        return shopping, days, (arm.birth <= stop - 1) & (stop - 1 < arm.death)

    def monthly_process(env: simpy.Environment, alongside: Callable[..., Future[Any]]) -> Any:
        """The program arm a month at a time (``program_by_month``). ``alongside`` runs work on
        the thread beside this one (or at once): the next month's purchases, and the control
        arm's month, while the program credits this month's."""
        drawn = alongside(draw_program_span, *spans[0])
        control_steps.append(alongside(control_env.run, spans[0][1]))
        for number, (_, stop) in enumerate(spans):
            shopping, days, alive = drawn.result()
            if number + 1 < len(spans):
                drawn = alongside(draw_program_span, *spans[number + 1])
                control_steps.append(alongside(control_env.run, spans[number + 1][1]))
            # The drawing may already be in the next month: the month end counts who was alive at this one's.
            month_alive[month_of(scenario.start + stop - 1)] = alive
            bought = add_to_tally("program", shopping)
            if shopping.purchases:
                credit(days, bought)
            yield env.timeout(stop - env.now)

    def daily_process(env: simpy.Environment) -> Any:
        while env.now < scenario.days:
            day = int(env.now)
            today[0] = day
            born = birth_order[birth_edges[day]:birth_edges[day + 1]]
            referees = referrals.born_on(day) if referrals is not None else born[:0]
            if referees.size:
                program = arms["program"]
                program.birth[referees] = program.last_time[referees] = day
                program.death[referees] = lifetimes[referees - main] + day
            if memberships is not None:
                before = memberships.state[watch] if watch is not None else 0
                memberships.events(day, arms["program"].death)
                memberships.join(np.concatenate((born[member[born]], referees)), day)
                billed = memberships.take_billed()
                if period_points and billed.size:  # bonus_points perks: credited at each paid period's start
                    engine._advance(scenario.start + day)
                    engine._credit(billed, np.full(billed.size, period_points, dtype=np.int64), scenario.start + day)
                if watch is not None and memberships.state[watch] != before:
                    story.append({"day": day, "event": "membership",
                                  "state": ("none", "trial", "paid", "ended")[int(memberships.state[watch])]})
            shopping = shop("program", arms["program"], day, np.concatenate((born, referees)))
            bought = add_to_tally("program", shopping)
            if bought:  # one pass through the program for the whole day
                credit(day, bought)
            if referrals is not None and referees.size:
                engine._advance(scenario.start + day)
                referrals.grant(scenario.start + day, month_of(scenario.start + day),
                                referees, spend(referees, np.zeros(referees.size, dtype=np.int64)), engine)
            yield env.timeout(1)

    def act(month: int, last: int, who: IntArray) -> None:
        """Community actions of active enrolled members this month: points, and the retention effect."""
        assert community is not None
        who, points, engaged = community.month_end(month, month - first_month, who)
        engine._advance(scenario.start + last)
        engine._credit(who, points, scenario.start + last)
        program = arms["program"]
        keep = who[engaged & (customers.dropout_p[who] > 0) & np.isinf(program.death[who])
                   & (community_retention[who] > 0)]
        if keep.size:  # memoryless: redraw the rest of the lifetime with the lower dropout probability
            u = streams.uniforms(key, streams.COMMUNITY, keep, np.full(keep.size, month))
            base = customers.dropout_p[keep] * (1 - reduction[keep])
            program.allowed[keep] = program.repeats[keep] + _allowed(u, base, community_retention[keep])

    def celebrate(month: int, last: int, who: IntArray) -> None:
        """Points of dated member events (sign-up, birthday, anniversary) this month end."""
        assert events is not None
        joined = month_index(scenario.start + arms["program"].birth[who].astype(np.int64))
        points = events.month_end(month, who, joined, engine.tier[who])
        earning = points > 0
        if not earning.any():
            return
        engine._advance(scenario.start + last)
        engine._credit(who[earning], points[earning], scenario.start + last)
        if watch is not None and (who[earning] == watch).any():
            story.append({"day": last, "event": "member event", "points": int(points[who == watch][0])})

    def remind(month: int, last: int, who: IntArray) -> tuple[int, int, int]:
        """The program's reminders this month to ``who`` (active members); returns (sent, cost, prompted)."""
        start_abs, last_abs = first_of_month(month), scenario.start + last
        ledger = engine.ledger
        sent = cost = prompted = 0
        for number, reminder in enumerate(policy.reminders):
            if reminder.kind == "points_expiring" and reminder.before is not None:
                notice = ledger.lot_expiry[:ledger.size] - int(reminder.before.approx_days)
                due = (ledger.lot_remaining[:ledger.size] > 0) & (notice >= start_abs) & (notice <= last_abs)
                # Marks over all customers, not np.intersect1d: that sorts every active member each month.
                owners = np.zeros(n, dtype=bool)
                owners[ledger.lot_customer[:ledger.size][due]] = True
                targets = who[owners[who]]
            elif reminder.kind == "reward_available" and reward is not None and not engine.redeem_auto:
                rewards = policy.rewards
                assert rewards is not None
                cost_of = rewards.catalog[reminder.reward].cost if reminder.reward is not None else reward[0]
                targets = who[ledger.balance[who] - ledger.debt[who] - reward[1] >= cost_of]
            elif reminder.kind == "tier_progress" and policy.tiers is not None and reminder.within is not None:
                tiers = policy.tiers
                unit = {"spend": policy.money_unit, "points_earned": policy.scale}.get(tiers.metric, 1)
                ladder = np.append(tiers.thresholds, NEVER)
                gap = ladder[np.minimum(engine.tier[who] + 1, len(tiers.levels))] - engine.metric[who]
                targets = who[(gap > 0) & (gap <= int(reminder.within * unit))]
            else:
                continue
            sent += int(targets.size)
            cost += int(targets.size) * reminder.cost
            u = streams.uniforms(key, streams.REMINDER, targets, np.full(targets.size, month * 16 + number))
            acting = targets[u < reminder_response[targets]]
            if acting.size == 0:
                continue
            prompted += int(acting.size)
            engine._advance(last_abs)
            if reminder.kind == "reward_available":  # the reminder prompts the redemption itself
                chooser_was, engine.chooser = engine.chooser, None
                engine._redeem(acting, last_abs, auto=False)
                engine.chooser = chooser_was
            else:  # it prompts a purchase today, beyond the member's usual ones
                numbers = np.full(acting.size, PROMPTED + month, dtype=np.int64)
                amounts = spend(acting, numbers)
                tally["program"]["purchases"] += int(acting.size)
                tally["program"]["revenue"] += int(amounts.sum())
                credit(last, [(acting, amounts, numbers)])
        return sent, cost, prompted

    def donate(month: int, last: int, who: IntArray) -> dict[str, int]:
        """Members converting their points into donations this month end, with the company's match."""
        u = streams.uniforms(key, streams.DONATION, who, np.full(who.size, month))
        deciding = who[u < donation_propensity[who]]
        if deciding.size == 0:
            return {}
        engine._advance(scenario.start + last)
        donors, points, donated, matched = engine._donate(deciding)
        if watch is not None and (donors == watch).any():
            i = int(np.flatnonzero(donors == watch)[0])
            story.append({"day": last, "event": "donation", "points": int(points[i]), "amount": int(donated[i])})
        tally["program"]["donations"] += int(donated.sum() + matched.sum())  # with the per-purchase gifts
        return {"points_donated": int(points.sum()), "donations_matched": int(matched.sum())}

    def month_end_process(env: simpy.Environment, name: str) -> Any:
        arm = arms[name]
        day = 0
        while day < scenario.days:
            last = min(last_of_month(scenario.start + day) - scenario.start, scenario.days - 1)
            yield env.timeout(last + 0.5 - env.now)
            month = month_of(scenario.start + last)
            # Alive until the lifetime ends (not until the last purchase before it: a member who buys
            # faster makes their last purchase earlier but lives just as long).
            if name == "program":
                if month not in month_alive:
                    month_alive[month] = (arm.birth <= last) & (last < arm.death)
                alive = month_alive[month]
            else:
                alive = (arm.birth <= last) & (last < arm.death)
            extra: dict[str, int] = {}
            if name == "program" and (community is not None or reminding or converting or events is not None):
                # Month-end actions first: reminders may prompt purchases that belong to this month.
                active_now = np.flatnonzero(alive)
                active_now = active_now[enrolled(active_now)]
                if events is not None:
                    celebrate(month, last, active_now)
                if community is not None:
                    act(month, last, active_now)
                    extra["community_actions"] = community.counts.get(month, 0)
                if reminding:
                    sent, cost, prompted = remind(month, last, active_now)
                    extra.update(reminders_sent=sent, reminder_cost=cost, prompted=prompted)
                if converting:
                    extra.update(donate(month, last, active_now))
            record = MonthResult(month, name, int(alive.sum()), 0, tally[name]["purchases"], tally[name]["revenue"],
                                 member_revenue=tally[name]["member_revenue"], donations=tally[name]["donations"])
            for field_name, value in extra.items():
                setattr(record, field_name, value)
            if name == "program":
                record.members = int((alive & member).sum())
                if referrals is not None:
                    referrals.refer(month, last, np.flatnonzero(alive & member))
                    record.referrals = referrals.born.get(month, 0)
                    record.referral_cost = referrals.cost.get(month, 0)
                if memberships is not None:
                    record.subscribers = int((memberships.active & (arm.birth <= last)).sum())
                    record.fees_billed = memberships.billed.get(month, 0)
                    record.fees_recognised = memberships.recognised.get(month, 0)
                    record.memberships_started = memberships.started.get(month, 0)
                    record.memberships_cancelled = memberships.cancelled.get(month, 0)
                    record.perk_cost += _twelfth(record.subscribers * yearly_perks)
            records[name].append(record)
            tally[name] = {"purchases": 0, "revenue": 0, "member_revenue": 0, "donations": 0}
            day = last + 1

    # The control arm on its own SimPy clock: it shares no state with the program arm.
    control_env = simpy.Environment()
    control_env.process(control_daily(control_env))
    control_env.process(month_end_process(control_env, "control"))
    control_steps: list[Future[Any]] = []  # the control arm's runs up to a time (the last: to the end)
    records: dict[str, list[MonthResult]] = {name: [] for name in arms}
    # For large populations the control arm, and the drawing of the program arm's purchases when
    # it goes a month at a time, run beside the program on another core (their compiled loops
    # release the GIL). Nothing is shared, so the results are those of running them in turn.
    threaded = beside and n >= THREADS_FROM and os.environ.get("LOYALSIM_THREADS") != "1"
    with ThreadPoolExecutor(max_workers=1) as executor:
        alongside = executor.submit if threaded else _done
        if not program_by_month:
            control_steps.append(alongside(control_env.run, scenario.days + 1))
        env = simpy.Environment()
        env.process(monthly_process(env, alongside) if program_by_month else daily_process(env))
        env.process(month_end_process(env, "program"))
        try:
            env.run(until=scenario.days + 1)
        finally:
            for step in control_steps:  # wait for them, however the program arm ended
                step.exception()
        for step in control_steps:
            step.result()
        if control_env.now < scenario.days + 1:
            control_env.run(until=scenario.days + 1)
    for pair in zip(records["control"], records["program"], strict=True):
        result.months.extend(pair)
    story.extend(stories["control"] + stories["program"])
    engine._advance(scenario.start + scenario.days)  # close the program's last month
    level_perks = policy.tiers.yearly_perk_costs() if policy.tiers is not None else []
    for record in result.months:
        if record.arm == "program" and record.month in months_points:
            issued, redeemed, expired, outstanding, accrued, dividend, *money = months_points[record.month]
            record.points_issued, record.points_redeemed = issued, redeemed
            record.points_expired, record.points_outstanding = expired, outstanding
            record.cashback_accrued, record.dividend_accrued = accrued, dividend
            if cashback is not None:
                record.cashback_paid, record.cashback_expired, record.cashback_payable = money[:3]
                money = money[3:]
            if dividends is not None:
                record.dividend_paid, record.dividend_payable = money[:2]
            record.tier_counts = tier_counts.get(record.month, [])
            record.perk_cost += engine.perk_cost.get(record.month, 0)
            if level_perks and record.tier_counts:
                record.perk_cost += _twelfth(sum(count * cost for count, cost in zip(record.tier_counts, level_perks,
                                                                                        strict=True)))
    result.cohorts = cohort_rows
    result.cashback_cohorts = cashback.rows if cashback is not None else []
    result.dividend_cohorts = dividends.rows if dividends is not None else []
    result.repeat_purchases_control = arms["control"].repeats[:main]
    result.customers = main + (sum(referrals.born.values()) if referrals is not None else 0)
    if watch is not None:
        order = {"membership": 0, "purchase": 1, "points": 2, "dropout": 3, "member event": 4, "donation": 5,
                 "statement": 6}
        result.story = sorted(story, key=lambda e: (e["day"], order[e["event"]], e.get("arm", "")))
        result.story.insert(0, {"day": int(customers.birth[watch]), "event": "profile",
                                "segment": scenario.segments[int(customers.segment[watch])].id,
                                "member": bool(member[watch]), "rate_per_week": float(customers.rate[watch] * 7),
                                "program_rate_per_week": float(customers.rate[watch] * 7 * (1 + lift[watch])
                                                               if member[watch] else customers.rate[watch] * 7),
                                "repeat_purchases_allowed": int(arms["control"].allowed[watch])
                                if arms["control"].allowed[watch] < NEVER else None})
    return result


def _done(function: Callable[..., Any], *args: Any) -> Future[Any]:
    """``function(*args)`` run now, as a finished future (``submit`` without a thread)."""
    future: Future[Any] = Future()
    try:
        future.set_result(function(*args))
    except Exception as error:  # handed over as an executor would
        future.set_exception(error)
    return future


def _twelfth(yearly: int) -> int:
    """A month's accrual of a yearly cost in minor units: a twelfth, rounded half-even."""
    return int(divide(np.array([yearly]), 12, "half_even")[0])


def _reference_reward(policy: Policy) -> tuple[int, int] | None:
    """(cost, minimum balance kept) of the reward members work towards: the default, else the cheapest."""
    rewards = policy.rewards
    if rewards is None or not rewards.catalog:
        return None
    chosen = rewards.default_reward or min(rewards.catalog, key=lambda r: r.cost)
    return (chosen.cost, rewards.min_balance) if chosen.cost > 0 else None


def _day_transactions(who: IntArray, day: IntArray, amounts: IntArray, ids: Any, numbers: IntArray,
                      basket: tuple[IntArray, IntArray, Basket] | None = None) -> Transactions:
    """Member purchases on ``day`` (each one's, in day order), one transaction each (with their
    category and channel, given a basket). ``numbers`` are the purchases' numbers in each
    customer's life, which follow time: they stand as the time of day, so the replay engine
    takes a customer's purchases of one day in the order they happened, as ``earn`` does."""
    n = who.size
    category, channel, mix = basket if basket is not None else (None, None, None)
    return Transactions(
        customer=who, customer_ids=ids, day=day, second=np.ascontiguousarray(numbers, dtype=np.int64),
        amount=amounts, is_return=np.zeros(n, dtype=bool), transaction_id=None, category=category,
        channel=channel, quantity=np.ones(n, dtype=np.int64), row=np.zeros(n, dtype=np.int64), file="<simulation>",
        rejected=[], categories=mix.categories if mix else np.zeros(0, dtype=object),
        channels=mix.channels if mix else np.zeros(0, dtype=object),
    )


@dataclass(frozen=True)
class Basket:
    """Each segment's mix of categories and channels, as cumulative shares over shared code tables."""

    categories: npt.NDArray[np.object_]
    channels: npt.NDArray[np.object_]
    category_cdf: Array  # [segment, category]
    channel_cdf: Array

    @classmethod
    def of(cls, scenario: Scenario) -> Basket | None:
        if not any(s.basket_category or s.basket_channel for s in scenario.segments):
            return None
        categories = sorted({name for s in scenario.segments for name, _ in s.basket_category})
        channels = sorted({name for s in scenario.segments for name, _ in s.basket_channel})

        def cdf(table: list[str], mixes: list[tuple[tuple[str, float], ...]]) -> Array:
            out = np.zeros((len(mixes), max(len(table), 1)))  # a row of zeros: no mix, code -1
            for row, mix in enumerate(mixes):
                shares = np.array([dict(mix).get(name, 0.0) for name in table])
                if shares.sum() > 0:
                    out[row] = np.cumsum(shares) / shares.sum()
            return out

        return cls(np.array(categories, dtype=object), np.array(channels, dtype=object),
                   cdf(categories, [s.basket_category for s in scenario.segments]),
                   cdf(channels, [s.basket_channel for s in scenario.segments]))

    def draw(self, key: int, segment: IntArray, who: IntArray, number: IntArray) -> tuple[IntArray, IntArray]:
        """Category and channel codes of purchase ``number`` of each customer (-1: the segment has no mix)."""
        codes = []
        for stream, table, cdf in ((streams.CATEGORY, self.categories, self.category_cdf),
                                   (streams.CHANNEL, self.channels, self.channel_cdf)):
            u = streams.uniforms(key, stream, who, number)
            rows = cdf[segment]
            code = (u[:, None] > rows).sum(axis=1)
            has_mix = rows[:, -1] > 0 if table.size else np.zeros(who.size, dtype=bool)
            codes.append(np.where(has_mix, np.minimum(code, max(table.size - 1, 0)), -1).astype(np.int64))
        return codes[0], codes[1]
