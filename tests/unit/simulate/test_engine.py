"""The simulator against closed forms, and its reproducibility."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from loyalsim.compile import load_policy
from loyalsim.population import models
from loyalsim.population.scenario import load_scenario
from loyalsim.simulate import run_replication
from tests.conftest import ROOT
from tests.unit.simulate.test_reference import reference_case

CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
CDNOW_PARETO_TUPLE = (0.553, 10.578, 0.606, 11.669)


def scenario_file(tmp_path: Path, model: str, params: dict[str, float], initial: int, weeks: int) -> Path:
    document = {
        "apiVersion": "loyalsim/v1",
        "kind": "Scenario",
        "metadata": {"name": "closed-form"},
        "programs": [str(ROOT / "programs" / "classic-rewards.yaml")],
        "start": "2027-01-01",
        "horizon": f"{weeks} weeks",
        "seed": 7,
        "replications": 1,
        "population": {
            "initial": initial,
            "arrivals_per_month": 0,
            "segments": [
                {
                    "id": "cdnow",
                    "share": 1.0,
                    "purchase": {"model": model, "time_unit": "week", "params": params},
                    "spend": {"model": "gamma_gamma", "params": {"p": 6.25, "q": 3.74, "gamma": 15.44}},
                    "response": {"enrolment_rate": 0.0},
                }
            ],
        },
        "economics": {"gross_margin": 0.5},
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    ("model", "params", "expected"),
    [
        ("bgnbd", CDNOW_BGNBD, models.bgnbd_expected),
        ("pareto_nbd", CDNOW_PARETO, models.pareto_expected),
    ],
)
def test_no_program_purchases_match_the_closed_form(
    tmp_path: Path, model: str, params: dict[str, float], expected: object
) -> None:
    weeks = 39
    scenario = load_scenario(scenario_file(tmp_path, model, params, 40_000, weeks))
    policy = load_policy(ROOT / "programs" / "classic-rewards.yaml")
    result = run_replication(policy, scenario, 0)
    repeats = result.repeat_purchases_control.astype(float)
    # Purchases are drawn for days 1 .. days-1, i.e. over (0, days - 1] days since the first purchase.
    t = (scenario.days - 1) / 7
    closed = float(expected(np.array(list(params.values())), np.array([t]))[0])  # type: ignore[operator]
    error = repeats.std() / np.sqrt(repeats.size)
    assert abs(repeats.mean() - closed) < 4 * error, (repeats.mean(), closed, error)


def test_same_seed_same_results_and_replications_differ() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "coffee-baseline.yaml", replications=2)
    small = type(scenario)(**{**scenario.__dict__, "initial": 2000, "arrivals_per_month": 100, "days": 120})
    policy = load_policy(ROOT / "programs" / "coffee-stars.yaml")
    first = run_replication(policy, small, 1)
    again = run_replication(policy, small, 1)
    other = run_replication(policy, small, 0)
    assert first.months == again.months
    assert first.months != other.months
    program = [m for m in first.months if m.arm == "program"]
    assert any(m.points_issued > 0 for m in program)
    # Common random numbers: with a frequency lift and no churn effect, members only add purchases
    # until BG/NBD dropout (which purchases bring forward) starts to bite; month 1 shows the lift.
    control = [m for m in first.months if m.arm == "control"]
    assert program[0].purchases >= control[0].purchases


def _small(propensity: float, **extra: float):  # type: ignore[no-untyped-def]
    scenario = load_scenario(ROOT / "scenarios" / "coffee-baseline.yaml", replications=1)
    segment = scenario.segments[0]
    response = {**segment.response, "redemption_propensity": propensity, **extra}
    # A stated lift, whatever the program gives (these tests are about the mechanics).
    segments = (type(segment)(**{**segment.__dict__, "response": response, "value_response": None}),)
    return type(scenario)(
        **{**scenario.__dict__, "initial": 3000, "arrivals_per_month": 100, "days": 365, "segments": segments}
    )


def test_points_are_conserved_and_redemption_follows_the_propensity() -> None:
    policy = load_policy(ROOT / "programs" / "coffee-stars.yaml")
    eager = run_replication(policy, _small(1.0), 0)
    never = run_replication(policy, _small(0.0), 0)
    for result in (eager, never):
        program = [m for m in result.months if m.arm == "program"]
        outstanding = 0
        for month in program:
            outstanding += month.points_issued - month.points_redeemed - month.points_expired
            assert outstanding == month.points_outstanding
    assert sum(m.points_redeemed for m in never.months) == 0
    assert sum(m.points_redeemed for m in eager.months) > 0


def _arm(result, arm: str, field: str) -> int:  # type: ignore[no-untyped-def]
    return sum(getattr(m, field) for m in result.months if m.arm == arm)


@pytest.mark.parametrize("response", ["goal_gradient", "post_reward_lift"])
def test_reward_driven_lifts_add_program_purchases_and_leave_the_control_alone(response: str) -> None:
    policy = load_policy(ROOT / "programs" / "classic-rewards.yaml")  # auto-redemption of 500-point rewards
    plain = run_replication(policy, _small(1.0), 0)
    lifted = run_replication(policy, _small(1.0, **{response: 0.5}), 0)
    assert _arm(lifted, "control", "purchases") == _arm(plain, "control", "purchases")
    assert _arm(lifted, "program", "purchases") > _arm(plain, "program", "purchases")
    # Same customers, same lifetimes: a lift cannot make anyone leave earlier.
    for a, b in zip(plain.months, lifted.months, strict=True):
        assert b.customers == a.customers


def test_paid_membership_bills_fees_and_counts_subscribers() -> None:
    policy = load_policy(ROOT / "programs" / "paid-membership.yaml")  # $14.99 a month after a 30-day trial
    result = run_replication(policy, _small(1.0, membership_take_up=0.5, trial_conversion=0.4), 0)
    program = [m for m in result.months if m.arm == "program"]
    assert all(m.fees_billed % 1499 == 0 for m in program)  # whole monthly fees, in cents
    # 30-day trials: only the initial customers' (started 1 January) end in January, on the 31st; each fee
    # then covers 31 January to 28 February, so January recognises 1 day in 28 of it.
    january = program[0]
    assert january.fees_billed > 0 and january.fees_recognised == (january.fees_billed * 2 + 28) // 56
    assert sum(m.fees_recognised for m in program) < sum(
        m.fees_billed for m in program
    )  # some still deferred
    members = program[-1].members
    assert 0 < program[-1].subscribers < members
    assert all(m.subscribers == 0 and m.fees_billed == 0 for m in result.months if m.arm == "control")


def test_referrals_bring_customers_into_the_program_arm_only() -> None:
    policy = load_policy(ROOT / "programs" / "refer-a-friend.yaml")  # referrer $20 credit, referee 20% off
    rate, conversion = 2.0, 0.5
    plain = run_replication(policy, _small(1.0), 0)
    referred = run_replication(policy, _small(1.0, referral_rate=rate, referee_conversion=conversion), 0)
    # The control arm is untouched: referees come from their own random stream and never reach it.
    assert [m for m in referred.months if m.arm == "control"] == [
        m for m in plain.months if m.arm == "control"
    ]
    program = [m for m in referred.months if m.arm == "program"]
    control = [m for m in referred.months if m.arm == "control"]
    born = sum(m.referrals for m in program)
    assert referred.customers == plain.customers + born
    # Referrals made at each month end are born in the next month: their expected number is the members
    # active at each month end but the last, times rate / 12, times the conversion.
    expected = sum(m.members for m in program[:-1]) * rate / 12 * conversion
    assert born == pytest.approx(expected, abs=4 * np.sqrt(expected))
    assert program[-1].customers > control[-1].customers
    # A qualifying referee (first purchase of $50 or more) earns their referrer a $20 credit and gets 20% off
    # that purchase, so each costs at least $30; no referee costs more than $20 + 20% of their first purchase.
    cost = sum(m.referral_cost for m in program)
    assert cost >= 3000


def test_a_basket_mix_drives_category_rules_and_cashback_lifts_purchases() -> None:
    from dataclasses import replace

    policy = load_policy(ROOT / "programs" / "pharmacy-cashback.yaml")  # 5% on own brand, 1% on most else
    base = _small(1.0)
    segment = replace(
        base.segments[0], basket_category=(("own_brand", 0.3), ("prescriptions", 0.2), ("other", 0.5))
    )
    mixed = replace(base, segments=(segment,))
    result = run_replication(policy, mixed, 0)
    program = [m for m in result.months if m.arm == "program"]
    share = sum(m.cashback_accrued for m in program) / sum(m.member_revenue for m in program)
    # 0.3 x 5% + 0.2 x 0 (prescriptions excluded) + 0.5 x 1% = 2.0%, less rounding down to the cent.
    assert 0.0195 < share <= 0.0200
    without_mix = run_replication(policy, base, 0)  # no categories: only the 1% rate applies
    plain = [m for m in without_mix.months if m.arm == "program"]
    assert 0.0095 < sum(m.cashback_accrued for m in plain) / sum(m.member_revenue for m in plain) <= 0.0100
    lifted = run_replication(
        policy,
        replace(mixed, segments=(replace(segment, response={**segment.response, "cashback_lift": 0.2}),)),
        0,
    )
    assert _arm(lifted, "control", "purchases") == _arm(result, "control", "purchases")
    assert _arm(lifted, "program", "purchases") > _arm(result, "program", "purchases")


def test_community_actions_earn_points_within_limits_and_keep_members() -> None:
    from dataclasses import replace

    from scipy.stats import poisson

    policy = load_policy(ROOT / "programs" / "community-club.yaml")  # review: 50 points, at most 5 a month
    base = _small(1.0)
    segment = base.segments[0]

    def with_response(**response: object):  # type: ignore[no-untyped-def]
        return replace(
            base,
            segments=(
                replace(segment, action_rates=(("review", 2.0),), response={**segment.response, **response}),
            ),
        )

    plain = run_replication(policy, base, 0)
    acting = run_replication(policy, with_response(), 0)
    program = [m for m in acting.months if m.arm == "program"]
    actions = sum(m.community_actions for m in program)
    # Purchases are untouched without a retention effect; every extra point issued is 50 per review.
    assert _arm(acting, "program", "purchases") == _arm(plain, "program", "purchases")
    assert _arm(acting, "program", "points_issued") - _arm(plain, "program", "points_issued") == 50 * actions
    # E[min(Poisson(2), 5)] reviews per active member-month.
    per_member = sum(poisson.sf(k, 2.0) for k in range(5))
    expected = sum(m.members for m in program) * per_member
    assert actions == pytest.approx(expected, abs=4 * np.sqrt(expected * 2))
    kept = run_replication(policy, with_response(community_retention=0.5), 0)
    assert _arm(kept, "control", "customers") == _arm(plain, "control", "customers")
    assert [m.customers for m in kept.months if m.arm == "program"][-1] > program[-1].customers


def test_reminders_are_sent_and_prompt_purchases_and_redemptions_at_the_stated_rate() -> None:
    from dataclasses import replace

    def respond(scenario, rate: float):  # type: ignore[no-untyped-def]
        segment = scenario.segments[0]
        return replace(
            scenario, segments=(replace(segment, response={**segment.response, "reminder_response": rate}),)
        )

    policy = load_policy(
        ROOT / "programs" / "coffee-stars.yaml"
    )  # expiring stars (30 days), tier progress (100)
    silent = run_replication(policy, respond(_small(1.0), 0.0), 0)
    nudged = run_replication(policy, respond(_small(1.0), 0.5), 0)
    quiet = [m for m in silent.months if m.arm == "program"]
    loud = [m for m in nudged.months if m.arm == "program"]
    assert sum(m.reminders_sent for m in quiet) > 0 and sum(m.prompted for m in quiet) == 0
    first = next(i for i, m in enumerate(loud) if m.reminders_sent)
    assert quiet[first].reminders_sent == loud[first].reminders_sent  # nothing differs before the first nudge
    sent = loud[first].reminders_sent
    assert loud[first].prompted == pytest.approx(0.5 * sent, abs=4 * np.sqrt(sent * 0.25))
    assert _arm(nudged, "program", "purchases") == _arm(silent, "program", "purchases") + sum(
        m.prompted for m in loud
    )
    assert _arm(nudged, "control", "purchases") == _arm(silent, "control", "purchases")
    # A reward_available reminder prompts the redemption itself (hybrid-rewards made a member-choice program:
    # with auto-redemption there is nothing to remind of).
    auto = load_policy(ROOT / "programs" / "hybrid-rewards.yaml")
    assert auto.rewards is not None
    hybrid = replace(auto, rewards=replace(auto.rewards, policy="choice"))
    lazy = respond(_small(0.1), 0.0)
    assert _arm(run_replication(hybrid, respond(_small(0.1), 1.0), 0), "program", "points_redeemed") > _arm(
        run_replication(hybrid, lazy, 0), "program", "points_redeemed"
    )


def test_donations_are_the_per_purchase_share_of_members_purchases_rounded_down() -> None:
    policy = load_policy(
        ROOT / "programs" / "coop-dividend.yaml"
    )  # 0.1% of each member purchase to the cause
    result = run_replication(policy, _small(1.0), 0)
    program = [m for m in result.months if m.arm == "program"]
    donated, sales = sum(m.donations for m in program), sum(m.member_revenue for m in program)
    purchases = sum(m.purchases for m in program)
    # Each purchase gives floor(0.1% of its amount in cents): at most the exact share, at most a cent less each.
    assert sales * 0.001 - purchases <= donated <= sales * 0.001 and donated > 0
    assert all(m.donations == 0 for m in result.months if m.arm == "control")


def _program(tmp_path: Path, body: dict[str, object]) -> Path:
    path = tmp_path / "program.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "loyalsim/v1",
                "kind": "Program",
                "metadata": {"name": "t", "currency": "USD"},
                **body,
            }
        )
    )
    return path


PAID = {
    "type": "paid",
    "points": {"name": "points", "value": 0.01, "rounding": "floor_points"},
    "earn": [{"id": "base", "kind": "spend", "rate": 1}],
}
MONTHLY = [{"id": "monthly", "fee": 10, "period": "1 month"}]


def test_membership_perks_multiply_points_credit_bonuses_and_cost_what_they_say(tmp_path: Path) -> None:
    def run(perks: list[dict[str, object]]):  # type: ignore[no-untyped-def]
        policy = load_policy(_program(tmp_path, {**PAID, "membership": {"plans": MONTHLY, "perks": perks}}))
        return [
            m
            for m in run_replication(policy, _small(1.0, membership_take_up=0.6), 0).months
            if m.arm == "program"
        ]

    plain = run([{"kind": "free_shipping", "value": 5.99}])
    doubled = run(
        [
            {"kind": "earn_multiplier", "multiplier": 2},
            {"kind": "bonus_points", "points": 100},
            {"kind": "other", "value": 36},
            {"kind": "discount", "rate": 0.05},
        ]
    )
    for a, b in zip(plain, doubled, strict=True):
        # Perks change no behaviour: the same subscribers buy the same amounts.
        assert (a.purchases, a.member_revenue, a.subscribers) == (
            b.purchases,
            b.member_revenue,
            b.subscribers,
        )
        periods = b.fees_billed // 1000  # paid periods started this month, each crediting 100 bonus points
        # Points a purchase earns: floor(2 x dollars) is 2 x floor(dollars) or one more.
        from_purchases = b.points_issued - 100 * periods
        assert 2 * a.points_issued <= from_purchases <= 2 * a.points_issued + a.purchases
        # $36 a year = $3.00 a month per subscriber, exactly; 5% of each subscriber purchase, to the cent.
        discount = b.perk_cost - 300 * b.subscribers
        assert abs(discount - 0.05 * b.member_revenue) <= 0.5 * b.purchases
    # Free shipping at $5.99 per subscriber purchase: the cost is a whole number of uses.
    assert all(m.perk_cost % 599 == 0 for m in plain) and sum(m.perk_cost for m in plain) > 0
    assert sum(m.perk_cost for m in plain) <= 599 * sum(m.purchases for m in plain)


def test_members_convert_points_into_donations_with_the_company_match(tmp_path: Path) -> None:
    body = {
        "type": "value",
        "points": {"name": "points", "value": 0.01, "rounding": "floor_points"},
        "earn": [{"id": "base", "kind": "spend", "rate": 1}],
        "value": {
            "donations": {
                "points_to_donation": {"points": 100, "amount": 1.00, "match_rate": 0.5},
                "cause": "schools",
            }
        },
    }
    policy = load_policy(_program(tmp_path, body))
    never = [m for m in run_replication(policy, _small(1.0), 0).months if m.arm == "program"]
    always = [
        m
        for m in run_replication(policy, _small(1.0, donation_propensity=1.0), 0).months
        if m.arm == "program"
    ]
    assert sum(m.points_donated + m.donations for m in never) == 0
    assert sum(m.points_donated for m in always) > 0
    for month in always:
        # Whole steps of 100 points → $1.00 each, matched at 50% (whole dollars: no rounding).
        assert month.points_donated % 100 == 0
        donated = month.points_donated // 100 * 100
        assert (month.donations_matched, month.donations) == (donated // 2, donated + donated // 2)
        assert month.points_donated <= month.points_redeemed  # donated points leave as redeemed
    # Conversions only take points away: the same purchases earn the same points, fewer remain.
    assert [m.points_issued for m in always] == [m.points_issued for m in never]
    assert all(a.points_outstanding < b.points_outstanding for a, b in zip(always, never, strict=True))
    outstanding = 0
    for month in always:
        outstanding += month.points_issued - month.points_redeemed - month.points_expired
        assert outstanding == month.points_outstanding


def _same(a: object, b: object) -> None:
    assert a.months == b.months  # type: ignore[attr-defined]
    assert a.cohorts == b.cohorts  # type: ignore[attr-defined]
    assert a.cashback_cohorts == b.cashback_cohorts  # type: ignore[attr-defined]
    assert (a.repeat_purchases_control == b.repeat_purchases_control).all()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "program", ["reference", *sorted(p.name for p in (ROOT / "programs").glob("*.yaml"))]
)
@pytest.mark.parametrize("population", ["bgnbd", "pareto-lognormal-basket", "mid-month-start"])
def test_a_month_at_a_time_gives_the_results_of_day_by_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, program: str, population: str
) -> None:
    """Arms whose purchases depend on nothing decided day by day are drawn a month at a time;
    watching a customer steps every day instead. Both must give the same results, for every
    canonical program (those that redraw purchases day by day step the program arm by day and
    the control arm by month)."""
    from dataclasses import replace

    from loyalsim.simulate import schedule

    if program == "reference":
        policy, scenario = reference_case(tmp_path)
    else:
        policy = load_policy(ROOT / "programs" / program)
        scenario = _small(
            0.6,
            churn_reduction=0.2,
            cashback_lift=0.1,
            value_affinity=0.2,
            referral_rate=0.01,
            reminder_response=0.2,
            donation_propensity=0.2,
            community_retention=0.2,
        )
        scenario = replace(
            scenario, segments=(replace(scenario.segments[0], action_rates=(("review", 0.5),)),)
        )
    if population == "mid-month-start":  # months cut short at both ends of the horizon
        scenario = replace(scenario, start=scenario.start + 14, days=100)
    elif population != "bgnbd":
        segment = replace(
            scenario.segments[0],
            purchase_model="pareto_nbd",
            purchase_params=CDNOW_PARETO_TUPLE,
            spend_model="lognormal",
            spend_params=(30.0, 0.6),
            basket_category=(("own_brand", 0.3), ("prescriptions", 0.2), ("other", 0.5)),
            basket_channel=(("online", 0.4), ("store", 0.6)),
        )
        scenario = replace(scenario, segments=(segment,))
    spans: list[int] = []
    real = schedule.draw_span

    def counting(*args):  # type: ignore[no-untyped-def]
        spans.append(1)
        return real(*args)

    monkeypatch.setattr(schedule, "draw_span", counting)
    by_month = run_replication(policy, scenario, 0)
    months = len({m.month for m in by_month.months})
    # Members' purchases depend on the day before with a paid membership, community actions
    # (which redraw lifetimes) and referrals (which bring customers in).
    acting = dict(scenario.segments[0].action_rates)
    day_by_day = (
        policy.membership is not None
        or any(a.id in acting for a in policy.community)
        or policy.referral is not None
    )
    assert len(spans) == months * (1 if day_by_day else 2)  # which arms went a month at a time
    spans.clear()
    by_day = run_replication(policy, scenario, 0, watch=3)
    assert not spans
    _same(by_month, by_day)


@pytest.mark.parametrize("program", ["coffee-stars.yaml", "paid-membership.yaml"])
def test_running_work_on_the_thread_beside_changes_no_result(
    monkeypatch: pytest.MonkeyPatch, program: str
) -> None:
    """Month at a time (coffee-stars): each month's drawing and the control arm's month go beside
    the program; day by day (a paid membership): the whole control arm does."""
    from loyalsim.simulate import engine

    policy = load_policy(ROOT / "programs" / program)
    scenario = _small(0.6)
    monkeypatch.setattr(engine, "THREADS_FROM", 10**9)
    in_turn = run_replication(policy, scenario, 0)
    started: list[str] = []
    real = engine.ThreadPoolExecutor.submit

    def submit(self, function, *args, **kwargs):  # type: ignore[no-untyped-def]
        started.append(function.__name__)
        return real(self, function, *args, **kwargs)

    monkeypatch.setattr(engine, "THREADS_FROM", 0)
    monkeypatch.setattr(engine.ThreadPoolExecutor, "submit", submit)
    beside = run_replication(policy, scenario, 0)
    months = len({m.month for m in in_turn.months})
    if program == "coffee-stars.yaml":
        assert sorted(started) == ["draw_program_span"] * months + ["run"] * months
    else:
        assert started == ["run"]
    _same(beside, in_turn)


def test_an_error_on_either_side_of_the_control_thread_is_raised_not_hung(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalsim.replay.engine import ReplayEngine
    from loyalsim.simulate import engine

    policy, small = reference_case(tmp_path)
    monkeypatch.setattr(engine, "THREADS_FROM", 0)
    real_process = ReplayEngine._process
    calls = [0]

    def failing_program(self, tx):  # type: ignore[no-untyped-def]
        calls[0] += 1
        if calls[0] == 3:  # the program arm fails while the control arm runs beside it
            raise RuntimeError("program arm failed")
        return real_process(self, tx)

    monkeypatch.setattr(ReplayEngine, "_process", failing_program)
    with pytest.raises(RuntimeError, match="program arm failed"):
        run_replication(policy, small, 0)
    monkeypatch.setattr(ReplayEngine, "_process", real_process)

    from loyalsim.simulate import spending

    real_quantile = spending.gamma_quantile
    drawn = [0]

    def failing_draws(shape, u):  # type: ignore[no-untyped-def]
        drawn[0] += 1
        if drawn[0] == 5:  # one arm's drawing fails part way
            raise ValueError("draw failed")
        return real_quantile(shape, u)

    monkeypatch.setattr(spending, "gamma_quantile", failing_draws)
    with pytest.raises(ValueError, match="draw failed"):
        run_replication(policy, small, 0)


def test_one_thread_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from loyalsim.simulate import engine

    started: list[int] = []
    monkeypatch.setattr(engine, "THREADS_FROM", 0)
    monkeypatch.setattr(engine.ThreadPoolExecutor, "submit", lambda *args, **kwargs: started.append(1))
    monkeypatch.setenv("LOYALSIM_THREADS", "1")
    run_replication(load_policy(ROOT / "programs" / "coffee-stars.yaml"), _small(0.6), 0)
    assert not started


def test_dated_action_rules_credit_sign_up_and_birthday_points(tmp_path: Path) -> None:
    base = {
        "type": "points",
        "points": {"name": "points", "value": 0.01, "rounding": "floor_points"},
        "earn": [{"id": "base", "kind": "spend", "rate": 1}],
        "rewards": {"catalog": [{"id": "five", "kind": "discount", "cost": 500, "face_value": 5}]},
    }
    sign_up = {"id": "welcome", "kind": "action", "action": "sign_up", "points": 100}
    birthday = {
        "id": "birthday",
        "kind": "action",
        "action": "birthday",
        "points": 200,
        "limit": {"count": 1, "per": "1 year"},
    }
    scenario = _small(0.0)
    scenario = type(scenario)(**{**scenario.__dict__, "arrivals_per_month": 0})  # everyone joins on day 0

    def run(*rules: dict[str, object]):  # type: ignore[no-untyped-def]
        (tmp_path / "program.yaml").unlink(missing_ok=True)
        policy = load_policy(_program(tmp_path, {**base, "earn": [*base["earn"], *rules]}))
        return run_replication(policy, scenario, 0).months

    plain, welcomed, both = run(), run(sign_up), run(sign_up, birthday)
    program = [[m for m in months if m.arm == "program"] for months in (plain, welcomed, both)]
    # Action points change nothing customers do, in either arm.
    assert [(m.purchases, m.revenue) for m in plain] == [(m.purchases, m.revenue) for m in both]
    extra = [w.points_issued - p.points_issued for p, w in zip(program[0], program[1], strict=True)]
    # Every member joined in the first month: 100 points each of those active at its end, then none.
    assert extra[0] == 100 * program[0][0].members and extra[0] > 0
    assert extra[1:] == [0] * (len(extra) - 1)
    birthdays = [b.points_issued - w.points_issued for w, b in zip(program[1], program[2], strict=True)]
    assert all(d % 200 == 0 and 0 <= d <= 200 * m.members for d, m in zip(birthdays, program[2], strict=True))
    # Birthdays spread over the year: each month about a twelfth of the members, none twice.
    counts = [d // 200 for d in birthdays]
    assert sum(counts) <= program[2][0].members
    assert all(
        0.5 * m.members / 12 < c < 1.5 * m.members / 12 for c, m in zip(counts, program[2], strict=True)
    )


def test_a_members_purchases_of_one_day_are_credited_in_the_order_they_happen() -> None:
    """Purchase numbers follow time; with immediate tiers the order decides which purchase is multiplied."""
    from loyalsim.compile.calendar import day_number
    from loyalsim.replay.engine import ReplayEngine
    from loyalsim.simulate.members import day_transactions as _day_transactions
    from tests.helpers import program

    policy = program(
        {
            "type": "tiered",
            "points": {"name": "p", "value": 0.01, "rounding": "floor_amount"},
            "earn": [{"id": "base", "kind": "spend", "rate": 1}],
            "rewards": {"catalog": [{"id": "five", "kind": "discount", "cost": 500, "face_value": 5}]},
            "tiers": {
                "metric": "spend",
                "window": {"kind": "calendar_year"},
                "evaluation": "immediate",
                "levels": [
                    {"id": "a", "threshold": 0},
                    {"id": "b", "threshold": 50, "benefits": {"earn_multiplier": 2}},
                ],
            },
        }
    )
    ids = np.array(["x"], dtype=object)

    def earned(amounts: list[int], numbers: list[int]) -> int:
        engine = ReplayEngine(policy, ids)
        day = np.full(len(amounts), day_number("2027-03-10"), dtype=np.int64)
        engine._process(
            _day_transactions(
                np.zeros(len(amounts), dtype=np.int64),
                day,
                np.array(amounts, dtype=np.int64) * 100,
                ids,
                np.array(numbers, dtype=np.int64),
            )
        )
        return int(engine.finish().total_earned[0])

    # $90 first reaches tier b, so the $10 after it earns double: 90 + 20. In amount order it would be 10 + 90.
    assert earned([10, 90], [4, 3]) == 110
    assert earned([10, 90], [3, 4]) == 100
