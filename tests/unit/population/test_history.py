"""A population from transaction history (population.history): each existing customer drawn
from their posterior, the forecast starting from a running program's book as `earn` has it,
and bad histories refused with located errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from loyalsim import api
from loyalsim.population import models
from loyalsim.population.draw import draw_existing
from loyalsim.population.scenario import load_scenario
from tests.conftest import ROOT

CDNOW = ROOT / "tests" / "data" / "cdnow" / "cdnow_sample.csv"
CLASSIC = ROOT / "programs" / "classic-rewards.yaml"
# Published CDNOW estimates (Fader, Hardie & Lee 2005): BG/NBD per week, and Gamma-Gamma.
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def scenario(tmp_path: Path, *, running: bool = True, **history: Any) -> Path:
    """A 39-week forecast of the CDNOW sample as of 1997-09-30, with no behavioural response."""
    data: dict[str, Any] = {
        "apiVersion": "loyalsim/v1",
        "kind": "Scenario",
        "metadata": {"name": "cdnow-book"},
        "programs": [str(CLASSIC)],
        "horizon": "39 weeks",
        "seed": 11,
        "replications": 2,
        "population": {
            "history": {
                "transactions": str(CDNOW),
                "as_of": "1997-09-30",
                "purchase": {"model": "bgnbd", "time_unit": "week", "params": BGNBD},
                "spend": {"model": "gamma_gamma", "params": GAMMA_GAMMA},
                "program_running": running,
                "response": {"enrolment_rate": 1.0},
                **history,
            },
            "arrivals_per_month": 0,
        },
        "economics": {"gross_margin": 0.3},
    }
    path = tmp_path / "book.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_the_forecast_starts_the_day_after_as_of_with_every_customer_of_the_history(tmp_path: Path) -> None:
    loaded = load_scenario(scenario(tmp_path))
    assert loaded.history is not None and loaded.history.size == 2357  # every CDNOW customer
    assert loaded.start == loaded.history.as_of + 1 and loaded.days == 273
    assert loaded.starting == 2357 and loaded.initial == 0


def test_existing_customers_buy_as_their_conditional_expectations_say(tmp_path: Path) -> None:
    """With no response, the 39 holdout weeks' simulated repeat purchases (the control arm) match
    the sum of the customers' BG/NBD conditional expectations: 1,653.9 with the published
    parameters (Fader, Hardie & Lee 2005 report 1,653.4 from their rounded ones)."""
    loaded = load_scenario(scenario(tmp_path, running=False), replications=40)
    summary = loaded.history.summary  # type: ignore[union-attr]
    expected = models.bgnbd_conditional(
        np.array(list(BGNBD.values())), 39.0, summary.x, summary.t_x, summary.T
    )
    assert expected.sum() == pytest.approx(1653.9, abs=0.1)
    result = api.simulate(CLASSIC, loaded)
    totals = np.zeros(40)
    for row in result.monthly.to_pylist():
        if row["arm"] == "control":
            totals[row["replication"]] += row["purchases"]
    error = totals.std(ddof=1) / np.sqrt(totals.size)
    assert abs(totals.mean() - expected.sum()) < 3.5 * error, (totals.mean(), error)
    assert 5 < error < 40  # (the check has teeth: about 15 purchases of Monte Carlo error)


def test_under_pareto_nbd_too(tmp_path: Path) -> None:
    """The same check under Pareto/NBD, with the model fitted to the history up to as_of."""
    path = scenario(
        tmp_path,
        running=False,
        purchase={"model": "pareto_nbd", "time_unit": "week"},
        parameter_uncertainty=False,  # (the estimates themselves: the expectation is at them)
    )
    loaded = load_scenario(path, replications=40)
    history = loaded.history
    assert history is not None and history.summary is not None and history.purchase_fitted
    s = history.summary
    expected = models.pareto_conditional(np.array(history.purchase_params), 39.0, s.x, s.t_x, s.T).sum()
    totals = np.zeros(40)
    for row in api.simulate(CLASSIC, loaded).monthly.to_pylist():
        if row["arm"] == "control":
            totals[row["replication"]] += row["purchases"]
    error = totals.std(ddof=1) / np.sqrt(totals.size)
    assert abs(totals.mean() - expected) < 3.5 * error, (totals.mean(), expected, error)


def test_posterior_draws_follow_p_alive_rates_and_spend(tmp_path: Path) -> None:
    history = load_scenario(scenario(tmp_path)).history
    assert history is not None and history.summary is not None
    s = history.summary
    params = np.array(list(BGNBD.values()))
    alive_p = models.bgnbd_p_alive(params, s.x, s.t_x, s.T)
    draws = [draw_existing(history, 0, np.random.default_rng(seed)) for seed in range(20)]
    alive = np.array([(d.death > -1).sum() for d in draws])
    spread = np.sqrt((alive_p * (1 - alive_p)).sum() / len(draws))
    assert abs(alive.mean() - alive_p.sum()) < 4 * spread
    # Given alive, the rate's posterior mean is (r + x) / (alpha + T) per week.
    rate = np.mean([d.rate * 7 for d in draws], axis=0)
    live = np.mean([d.death > -1 for d in draws], axis=0)
    mean_rate = (BGNBD["r"] + s.x) / (BGNBD["alpha"] + s.T)
    assert np.sum(rate) == pytest.approx(np.sum(alive_p * mean_rate), rel=0.02)
    assert np.all(live[s.x == 0] == 1.0)  # no repeat purchase: certainly alive under BG/NBD
    # Gamma-Gamma: E[p / nu | x, m_x] = p (gamma + x m_x) / (p x + q - 1), the conditional mean spend.
    p, q, gamma = GAMMA_GAMMA.values()
    spent = np.nan_to_num(s.mean_spend) * s.x
    mean_spend = np.mean([p / d.spend_scale for d in draws], axis=0)
    assert np.mean(mean_spend) == pytest.approx(np.mean(p * (gamma + spent) / (p * s.x + q - 1)), rel=0.02)


def test_month_zero_is_earn_at_as_of_and_the_book_runs_on_from_it(tmp_path: Path) -> None:
    result = api.simulate(CLASSIC, scenario(tmp_path))
    replayed = api.earn(CLASSIC, CDNOW)
    at_as_of = [m for m in replayed.book if m.month == result.replications[0].opening["month"]]
    assert len(at_as_of) == 1 and result.summary["opening"]["month"] == "1997-09"
    assert result.replications[0].opening["points_outstanding"] == at_as_of[0].points_outstanding
    assert result.summary["opening"]["customers"] == 2357
    for replication in result.replications:  # the same book in every replication; then conserved
        assert replication.opening == result.replications[0].opening
        held = replication.opening["points_outstanding"]
        for month in (m for m in replication.months if m.arm == "program"):
            held += month.points_issued - month.points_redeemed - month.points_expired
            assert month.points_outstanding == held
    # Every existing customer is a member of a running program.
    first = next(m for m in result.replications[0].months if m.arm == "program")
    assert first.members == first.customers


def test_a_launch_starts_every_customer_with_nothing(tmp_path: Path) -> None:
    result = api.simulate(CLASSIC, scenario(tmp_path, running=False))
    assert "opening" not in result.summary and result.replications[0].opening == {}
    first = next(m for m in result.replications[0].months if m.arm == "program")
    assert first.points_outstanding == first.points_issued - first.points_redeemed - first.points_expired


def test_the_same_answer_on_worker_processes(tmp_path: Path) -> None:
    path = scenario(tmp_path)
    assert api.simulate(CLASSIC, path).monthly.equals(api.simulate(CLASSIC, path, workers=2).monthly)


def test_a_history_with_other_rows_is_another_simulation(tmp_path: Path) -> None:
    first = load_scenario(scenario(tmp_path))
    other = tmp_path / "other.csv"
    lines = CDNOW.read_text().splitlines()
    other.write_text("\n".join(lines[:-1]) + "\n")  # one purchase fewer
    second = load_scenario(scenario(tmp_path, transactions=str(other)))
    assert (
        first.simulation_hash != second.simulation_hash
    )  # (checkpoints of one are never reused for the other)


def test_the_models_are_fitted_to_the_history_up_to_as_of(tmp_path: Path) -> None:
    path = scenario(
        tmp_path, purchase={"model": "bgnbd", "time_unit": "week"}, spend={"model": "gamma_gamma"}
    )
    history = load_scenario(path).history
    assert history is not None and history.purchase_fitted and history.spend_fitted
    fitted = api.fit_purchases(CDNOW, calibration_end="1997-09-30")
    assert history.purchase_params == pytest.approx(
        tuple(fitted.purchases.params[k] for k in ["r", "alpha", "a", "b"])
    )
    assert fitted.spend is not None
    assert history.spend_params == pytest.approx(tuple(fitted.spend.params[k] for k in ("p", "q", "gamma")))


def _issue(path: Path) -> tuple[str, int, str]:
    report = api.validate([path])
    if report.issues:
        issue = report.issues[0]
        return issue.code, issue.line, issue.message
    with pytest.raises(api.Error) as error:
        load_scenario(path)
    issue = error.value.issues[0]
    return issue.code, issue.line, issue.message


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (lambda d: d["population"]["history"].update(transactions="nowhere.csv"), "LS312", "does not exist"),
        (lambda d: d.update(start="1997-10-02"), "LS310", "the day after, 1997-10-01"),
        (lambda d: d["population"].update(initial=100), "LS311", "no segments"),
        (lambda d: d["population"]["history"].update(as_of="1999-01-01"), "LS313", "outside the data"),
        (lambda d: d["population"]["history"].pop("as_of"), "LS102", "as_of"),
    ],
    ids=["missing-file", "start", "initial-without-segments", "as-of-outside", "no-as-of"],
)
def test_a_bad_history_is_refused_where_it_is_written(
    tmp_path: Path, change: Any, code: str, words: str
) -> None:
    path = scenario(tmp_path)
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    found, line, message = _issue(path)
    assert found == code and words in message, (found, message)
    assert line > 1


def test_rejected_history_rows_are_named_by_row_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(CDNOW.read_text() + "00001,1997-13-01,1,5.00\n")
    path = scenario(tmp_path, transactions=str(bad))
    with pytest.raises(api.Error) as error:
        load_scenario(path)
    issue = error.value.issues[0]
    assert error.value.exit_code == 1 and issue.code == "LS313"
    assert (issue.file, issue.line) == (str(bad), 6921) and "column 'date'" in issue.message


def test_the_trace_of_an_existing_customer_has_no_first_purchase(tmp_path: Path) -> None:
    loaded = dataclasses.replace(load_scenario(scenario(tmp_path)), replications=1)
    story = api.trace(CLASSIC, loaded, customer=0)
    purchases = [e for e in story.events if e["event"] == "purchase"]
    assert purchases and all(e["number"] >= 1 for e in purchases)  # repeat purchases only


def test_fitted_parameters_are_drawn_per_replication_unless_switched_off(tmp_path: Path) -> None:
    """With a fit, each replication draws its parameters from the fit's asymptotic sampling
    distribution (normal on the log scale), which widens the bands; with it off, or with given
    parameters, every replication uses the same ones."""
    fitted = {"purchase": {"model": "bgnbd", "time_unit": "week"}, "spend": {"model": "gamma_gamma"}}
    history = load_scenario(scenario(tmp_path, **fitted)).history
    assert history is not None and history.purchase_log_covariance is not None
    draws = np.array([history.parameters(np.random.default_rng(seed))[0] for seed in range(400)])
    logs = np.log(draws)
    assert np.allclose(logs.mean(axis=0), np.log(history.purchase_params), atol=0.03)
    want = history.purchase_log_covariance
    got = np.cov(logs.T)
    assert np.allclose(np.diag(got), np.diag(want), rtol=0.2)  # variances: 400 draws, about 7% noise
    scale = np.sqrt(np.outer(np.diag(want), np.diag(want)))
    assert np.allclose(got / scale, want / scale, atol=0.15)  # correlations (a and b: about 0.95)
    spend = np.array([history.parameters(np.random.default_rng(seed))[1] for seed in range(50)])
    assert len({tuple(row) for row in spend.tolist()}) == 50  # spend parameters drawn too
    off = load_scenario(scenario(tmp_path, parameter_uncertainty=False, **fitted)).history
    given = load_scenario(scenario(tmp_path)).history
    for fixed in (off, given):
        assert fixed is not None
        assert fixed.parameters(np.random.default_rng(1)) == (fixed.purchase_params, fixed.spend_params)
    # The bands: replication-to-replication spread of the 39 weeks' purchases is wider with it on.
    spreads = []
    for uncertain in (True, False):
        path = scenario(tmp_path, running=False, parameter_uncertainty=uncertain, **fitted)
        table = api.simulate(CLASSIC, load_scenario(path, replications=60)).monthly.to_pylist()
        totals, revenue = np.zeros(60), np.zeros(60)
        for row in table:
            if row["arm"] == "control":
                totals[row["replication"]] += row["purchases"]
                revenue[row["replication"]] += row["revenue"]
        spreads.append(totals.std(ddof=1))
        # Spend per purchase stays what the data say (the Gamma-Gamma mean is well determined):
        # each purchase is drawn with its replication's p, not the estimate's.
        per_purchase = revenue / totals
        assert per_purchase.std(ddof=1) < 0.06 * per_purchase.mean(), (uncertain, per_purchase)
    assert spreads[0] > 1.2 * spreads[1], spreads


def test_a_launch_with_paid_membership_offers_it_to_the_existing_members(tmp_path: Path) -> None:
    path = scenario(tmp_path, running=False, response={"enrolment_rate": 1.0, "membership_take_up": 0.5})
    data = yaml.safe_load(path.read_text())
    data["programs"] = [str(ROOT / "programs" / "paid-membership.yaml")]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = api.simulate(ROOT / "programs" / "paid-membership.yaml", path)
    first = next(m for m in result.replications[0].months if m.arm == "program")
    # About half of the customers alive at the launch (1,917 expected) take it up there.
    assert 800 < first.memberships_started < 1100 and first.subscribers > 0


def _program(tmp_path: Path, name: str, source: Path, *edits: tuple[str, str]) -> Path:
    """A copy of ``source`` with text ``edits`` made (a changed program)."""
    text = source.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


def _expiring(tmp_path: Path, name: str, months: int) -> Path:
    return _program(
        tmp_path,
        name,
        CLASSIC,
        (
            "  redemption: {policy: choice}\n",
            f"  redemption: {{policy: choice}}\nexpiry:\n  - {{kind: rolling, after: {months} months}}\n",
        ),
    )


def _program_months(result: Any, replication: int = 0) -> list[Any]:
    return [m for m in result.replications[replication].months if m.arm == "program"]


def test_a_change_to_a_running_program_starts_from_its_book(tmp_path: Path) -> None:
    book = scenario(tmp_path)
    six = _expiring(tmp_path, "six.yaml", 6)
    # The same rules under another name: taking A's book over must change nothing at all.
    again = _program(tmp_path, "again.yaml", six, ("name: classic-rewards", "name: classic-rewards-again"))
    same = api.compare(six, again, book)
    assert [m.months for m in same.a.replications] == [m.months for m in same.b.replications]
    assert same.a.summary["cohorts"] == same.b.summary["cohorts"]
    # A longer and a shorter expiry, on the book six months' expiry left.
    longer = api.compare(six, _expiring(tmp_path, "twelve.yaml", 12), book)
    shorter = api.compare(six, _expiring(tmp_path, "three.yaml", 3), book)
    opening = api.simulate(six, book).summary["opening"]
    for result in (longer, shorter):
        assert result.b.summary["opening"] == result.a.summary["opening"] == opening
        for a, b in zip(result.a.replications, result.b.replications, strict=True):
            held = b.opening["points_outstanding"]  # B runs on from A's book, point for point
            for month in (m for m in b.months if m.arm == "program"):
                held += month.points_issued - month.points_redeemed - month.points_expired
                assert month.points_outstanding == held
            assert [m.points_issued for m in a.months] == [m.points_issued for m in b.months]
    expired = {
        label: sum(m.points_expired for m in _program_months(part))
        for label, part in (("6", longer.a), ("12", longer.b), ("3", shorter.b))
    }
    assert expired["12"] < expired["6"] < expired["3"]
    # Lots the 3-month rule would already have expired (earned before 1997-07-01) expire on the
    # first forecast day: October's expiry under B is at least what A's book holds of them.
    from loyalsim.compile import load_policy
    from loyalsim.compile.calendar import day_number
    from loyalsim.population.draw import draw_customers
    from loyalsim.replay.engine import ReplayEngine
    from loyalsim.simulate.engine import _history_rows

    loaded = load_scenario(book)
    customers = draw_customers(loaded, np.random.default_rng(0))
    engine = ReplayEngine(load_policy(six), np.arange(customers.size), track_lot_days=True)
    engine.replay_history(_history_rows(loaded.history, customers), loaded.start)  # type: ignore[arg-type]
    ledger = engine.ledger
    live = ledger.lot_remaining[: ledger.size] > 0
    old = live & (ledger.lot_day[: ledger.size] < day_number("1997-07-01"))  # type: ignore[index]
    assert int(ledger.lot_remaining[: ledger.size][live].sum()) == opening["points_outstanding"]
    october = _program_months(shorter.b)[0]
    assert october.month == _program_months(shorter.a)[0].month
    assert october.points_expired >= int(ledger.lot_remaining[: ledger.size][old].sum()) > 0


def test_tiers_are_carried_by_id(tmp_path: Path) -> None:
    beauty = ROOT / "programs" / "beauty-insider.yaml"
    text = beauty.read_text()
    rouge = text[text.index("    - id: rouge") : text.index("  downgrade:")]
    without = _program(tmp_path, "no-rouge.yaml", beauty, (rouge, ""))
    data = yaml.safe_load(scenario(tmp_path).read_text())
    data["programs"] = [str(beauty)]
    book = tmp_path / "beauty-book.yaml"
    book.write_text(yaml.safe_dump(data, sort_keys=False))
    result = api.compare(beauty, without, book, replications=2)
    for a, b in zip(result.a.replications, result.b.replications, strict=True):
        months = zip(
            (m for m in a.months if m.arm == "program"),
            (m for m in b.months if m.arm == "program"),
            strict=True,
        )
        for month_a, month_b in months:
            # Rouge members hold VIB under B; VIB's threshold is the same in both, so every month's
            # counts add up exactly (no response: the same customers buy the same).
            insider, vib, top = month_a.tier_counts
            assert month_b.tier_counts == [insider, vib + top]
    # A higher VIB threshold: members A made VIB keep it under B; B's own replay would not.
    higher = _program(tmp_path, "vib-600.yaml", without, ("threshold: 350", "threshold: 600"))
    carried = api.compare(beauty, higher, book, replications=1).b.replications[0]
    own = api.simulate(higher, book, replications=1).replications[0]
    first_carried, first_own = _program_months_of(carried)[0], _program_months_of(own)[0]
    assert first_carried.tier_counts[1] > first_own.tier_counts[1]


def _program_months_of(replication: Any) -> list[Any]:
    return [m for m in replication.months if m.arm == "program"]


def test_carried_tiers_match_by_id_and_fall_to_the_highest_shared_level_below() -> None:
    from loyalsim.compile import load_policy
    from loyalsim.replay.engine import carried_tiers

    beauty = load_policy(ROOT / "programs" / "beauty-insider.yaml")
    classic = load_policy(CLASSIC)
    levels = np.array([0, 1, 2, 2, 0], dtype=np.int64)
    own = np.array([1, 1, 0, 1, 0], dtype=np.int64)
    assert carried_tiers(beauty, beauty, levels, own).tolist() == levels.tolist()
    assert carried_tiers(beauty, classic, levels, own).tolist() == [0, 0, 0, 0, 0]  # B has no tiers
    assert carried_tiers(classic, beauty, np.zeros(5, dtype=np.int64), own).tolist() == own.tolist()
    tiers = beauty.tiers
    assert tiers is not None
    # B without VIB: Rouge stays Rouge (now level 1), VIB falls to Insider.
    import dataclasses

    no_vib = dataclasses.replace(
        beauty, tiers=dataclasses.replace(tiers, levels=(tiers.levels[0], tiers.levels[2]))
    )
    assert carried_tiers(beauty, no_vib, levels, own).tolist() == [0, 0, 1, 1, 0]


def test_a_sweep_over_a_running_book_starts_every_point_from_the_program_that_ran(tmp_path: Path) -> None:
    book = scenario(tmp_path)
    six = _expiring(tmp_path, "six.yaml", 6)
    swept = api.sweep(six, book, ["expiry[0].after=6 months,12 months"])
    compared = api.compare(six, _expiring(tmp_path, "twelve.yaml", 12), book)
    at_six, at_twelve = swept.rows
    for row, part in ((at_six, compared.a), (at_twelve, compared.b)):
        assert row["points_expired_mean"] == part.summary["program_arm"]["points_expired"]["mean"]
    # B's own replay of the history would have expired less before as_of: more would be outstanding
    own = api.simulate(_expiring(tmp_path, "twelve.yaml", 12), book).summary["opening"]
    assert own["points_outstanding"] > compared.b.summary["opening"]["points_outstanding"]


def _book_of(tmp_path: Path, program: Path, name: str = "money-book.yaml", **response: float) -> Path:
    data = yaml.safe_load(scenario(tmp_path).read_text())
    data["programs"] = [str(program)]
    data["population"]["history"]["response"].update(response)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_running_cashback_book_opens_with_what_members_are_owed(tmp_path: Path) -> None:
    pharmacy = ROOT / "programs" / "pharmacy-cashback.yaml"
    result = api.simulate(pharmacy, _book_of(tmp_path, pharmacy, redemption_propensity=0.0))
    replayed = {m.month: m for m in api.earn(pharmacy, CDNOW).book}
    opening = result.replications[0].opening
    at_as_of = replayed[opening["month"]]
    # No claims in a transaction file and no 12-month expiry yet: all accrued is owed.
    accrued = sum(m.cashback_accrued for m in replayed.values() if m.month <= opening["month"])
    assert opening["cashback_payable"] == at_as_of.cashback_payable == accrued > 0
    assert result.summary["opening"]["cashback_payable"] == accrued / 100
    for replication in result.replications:  # and runs on from there, month by month
        owed = replication.opening["cashback_payable"]
        for month in (m for m in replication.months if m.arm == "program"):
            owed += month.cashback_accrued - month.cashback_paid - month.cashback_expired
            assert month.cashback_payable == owed
    # Nobody claims here: the 12-month expiry of the history's first cohort (1997-01) is all of it,
    # in the forecast's 1998-01, as in the replay of the whole file.
    january = next(
        m for m in result.replications[0].months if m.arm == "program" and m.month == at_as_of.month + 4
    )
    assert (
        january.cashback_expired
        == replayed[at_as_of.month - 8].cashback_accrued
        == replayed[january.month].cashback_expired
    )
    # Members who claim (propensity 1, the default) are paid in the forecast, never in the history.
    claiming = api.simulate(pharmacy, _book_of(tmp_path, pharmacy, "claims.yaml"))
    assert claiming.summary["opening"] == result.summary["opening"]
    assert sum(m.cashback_paid for m in claiming.replications[0].months) > 0


def test_a_running_dividend_book_pays_last_years_accrual_in_the_forecast(tmp_path: Path) -> None:
    coop = ROOT / "programs" / "coop-dividend.yaml"
    text = coop.read_text()
    membership = text[text.index("membership:\n") : text.index("value:\n")]
    dividend = _program(tmp_path, "dividend.yaml", coop, (membership, ""))
    result = api.simulate(dividend, _book_of(tmp_path, dividend))
    replayed = {m.month: m for m in api.earn(dividend, CDNOW).book}
    opening = result.replications[0].opening
    history_1997 = sum(m.dividend_accrued for m in replayed.values() if m.month <= opening["month"])
    assert opening["dividend_payable"] == replayed[opening["month"]].dividend_payable == history_1997 > 0
    for replication in result.replications:
        months = [m for m in replication.months if m.arm == "program"]
        forecast_1997 = sum(m.dividend_accrued for m in months if m.month <= opening["month"] + 3)
        march = next(m for m in months if m.month == opening["month"] + 6)  # 1998-03: paid_in_month 3
        assert march.dividend_paid == history_1997 + forecast_1997
        assert sum(m.dividend_paid for m in months) == march.dividend_paid


def test_a_change_to_a_cashback_program_takes_over_what_members_are_owed(tmp_path: Path) -> None:
    pharmacy = ROOT / "programs" / "pharmacy-cashback.yaml"
    book = _book_of(tmp_path, pharmacy, redemption_propensity=0.0)
    richer = _program(tmp_path, "richer.yaml", pharmacy, ("    - rate: 0.01\n", "    - rate: 0.02\n"))
    result = api.compare(pharmacy, richer, book)
    assert result.b.summary["opening"] == result.a.summary["opening"]  # A's history, A's rates
    for a, b in zip(result.a.replications, result.b.replications, strict=True):
        first_a, first_b = (next(m for m in r.months if m.arm == "program") for r in (a, b))
        assert first_b.cashback_accrued > first_a.cashback_accrued  # B's rate from the first day
    with pytest.raises(api.Error, match="differ in having cashback"):
        api.compare(pharmacy, CLASSIC, book)


def test_the_forecasts_finance_runs_on_from_the_books_history(tmp_path: Path) -> None:
    """The liability at cost, the IFRS 15 contract liability and the costs of a running book's
    forecast continue the history's: the first month is charged the change in the liability,
    not the whole opening book, and every figure is the finance of history and forecast as one
    sequence (hybrid-rewards redeems automatically, so its history has a redemption rate)."""
    from loyalsim.finance.forecast import forecast

    hybrid = ROOT / "programs" / "hybrid-rewards.yaml"
    result = api.simulate(hybrid, _book_of(tmp_path, hybrid, "hybrid-book.yaml"), replications=1)
    replication = result.replications[0]
    assert [m.month for m in replication.history] == list(range(324, 333))  # 1997-01 to 1997-09
    book = {m.month: m for m in api.earn(hybrid, CDNOW).book}
    for month in replication.history:  # the history's months are earn's book
        mine, theirs = month, book[month.month]
        assert (mine.points_issued, mine.points_redeemed, mine.points_outstanding, mine.revenue) == (
            theirs.points_issued,
            theirs.points_redeemed,
            theirs.points_outstanding,
            theirs.revenue,
        )
    whole = forecast(
        result.policy,
        replication.history + replication.months,
        result.scenario.economics,
        replication.cohorts,
    )
    table = [row for row in result.monthly.to_pylist() if row["arm"] == "program"]
    tail = whole[len(replication.history) :]
    for row, expected in zip(table, tail, strict=True):
        assert row["liability_at_cost"] == pytest.approx(expected.liability_at_cost)
        assert row["contract_liability"] == pytest.approx(expected.contract_liability)
        assert row["program_cost"] == pytest.approx(expected.program_cost)
    opening_liability = whole[len(replication.history) - 1].liability_at_cost
    assert opening_liability > 0
    first = table[0]
    assert first["program_cost"] == pytest.approx(
        first["reward_cost"]
        + first["liability_at_cost"]
        - opening_liability
        + first["referral_cost"]
        + first["reminder_cost"]
        + first["perk_cost"]
        + first["fixed_costs"]
        + first["donations"]
    )
    assert first["discount_factor"] == pytest.approx(
        1.0 / (1 + result.scenario.economics.get("discount_rate", 0)) ** (1 / 12)
    )


def test_a_running_paid_program_opens_with_its_subscribers_and_deferred_fees(tmp_path: Path) -> None:
    """Every customer of the history subscribed at their first purchase and renewed monthly
    since: the period covering as_of was billed in the history, its unearned part is the
    opening deferred fee revenue, and fees run on from it by sBG renewal."""
    paid = ROOT / "programs" / "paid-membership.yaml"
    result = api.simulate(paid, _book_of(tmp_path, paid, "paid-book.yaml"))
    fee = 1499  # the default plan (the trial converts to monthly), in cents
    for replication in result.replications:
        billed = sum(m.fees_billed for m in replication.history)
        recognised = sum(m.fees_recognised for m in replication.history)
        assert billed == 2357 * fee and 0 < billed - recognised < billed
        months = [m for m in replication.months if m.arm == "program"]
        assert months[0].subscribers + months[0].memberships_cancelled == 2357  # nobody new, none lapsed yet
        assert months[0].memberships_started == 0
        table = [
            row
            for row in result.monthly.to_pylist()
            if row["arm"] == "program" and row["replication"] == replication.index
        ]
        deferred = (billed - recognised) / 100
        for month, row in zip(months, table, strict=True):
            deferred += (month.fees_billed - month.fees_recognised) / 100
            assert row["deferred_fee_revenue"] == pytest.approx(deferred)
        assert months[-1].subscribers < months[0].subscribers  # renewal is not certain


def test_the_text_summary_gives_a_running_books_money_owed(tmp_path: Path, cli: Any) -> None:
    pharmacy = ROOT / "programs" / "pharmacy-cashback.yaml"
    done = cli(
        "simulate",
        str(pharmacy),
        str(_book_of(tmp_path, pharmacy)),
        "--replications",
        "1",
        "--out",
        str(tmp_path / "o"),
    )
    assert done.returncode == 0, done.stderr
    assert "cashback payable, 1997-09" in done.stdout and "1,698.50" in done.stdout
