"""Model fitting: the published CDNOW estimates, recovery of known parameters, expectations."""

from __future__ import annotations

import numpy as np
import pytest

from loyalsim.compile.calendar import day_number
from loyalsim.population import draw, models
from loyalsim.population.fitting import fit_purchases, fit_retention, fit_spend
from loyalsim.population.summary import summarise
from loyalsim.transactions import read_transactions
from tests.conftest import DATA


@pytest.fixture(scope="module")
def cdnow():  # type: ignore[no-untyped-def]
    tx = read_transactions(DATA / "cdnow" / "cdnow_sample.csv")
    return summarise(tx, day_number("1997-09-30"), day_number("1998-06-30"), "week", 100)


def close(got: dict[str, float], published: dict[str, float], tolerance: float = 0.01) -> None:
    for name, value in published.items():
        assert abs(got[name] / value - 1) < tolerance, (name, got[name], value)


@pytest.mark.slow
def test_cdnow_summary_matches_the_published_data(cdnow) -> None:  # type: ignore[no-untyped-def]
    assert cdnow.customers == 2357 and int((cdnow.x > 0).sum()) == 946 and int(cdnow.x.sum()) == 2457
    assert cdnow.T.max() == pytest.approx(38.857, abs=1e-3)


def test_cdnow_bgnbd_reproduces_the_published_estimates(cdnow) -> None:  # type: ignore[no-untyped-def]
    fit = fit_purchases("bgnbd", cdnow.x, cdnow.t_x, cdnow.T)
    close(fit.params, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1) and fit.converged
    assert all(v is not None and v > 0 for v in fit.standard_errors.values())


def test_cdnow_pareto_nbd_reproduces_the_published_estimates(cdnow) -> None:  # type: ignore[no-untyped-def]
    fit = fit_purchases("pareto-nbd", cdnow.x, cdnow.t_x, cdnow.T)
    close(fit.params, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
    assert fit.log_likelihood == pytest.approx(-9595.0, abs=0.1)


def test_cdnow_gamma_gamma_reproduces_the_published_estimates(cdnow) -> None:  # type: ignore[no-untyped-def]
    fit = fit_spend(cdnow.x, cdnow.mean_spend)
    close(fit.params, {"p": 6.25, "q": 3.74, "gamma": 15.44})


def test_sbg_reproduces_the_published_regular_cohort() -> None:
    # Fader & Hardie (2007), "How to project customer retention": the "regular" cohort.
    fit = fit_retention(np.array([1000, 869, 743, 653, 593, 551, 517, 491], dtype=float))
    close(fit.params, {"alpha": 0.668, "beta": 3.806})


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "truth"), [("bgnbd", (0.5, 6.0, 0.9, 3.0)), ("pareto-nbd", (0.7, 8.0, 0.8, 10.0))]
)
def test_purchase_models_recover_known_parameters(model: str, truth: tuple[float, ...]) -> None:
    rng = np.random.default_rng(11)
    T = rng.uniform(26, 52, 30_000)
    simulate = draw.bgnbd_summaries if model == "bgnbd" else draw.pareto_summaries
    x, t_x = simulate(rng, truth, T)  # type: ignore[arg-type]
    fit = fit_purchases(model, x, t_x, T)
    for (name, value), true in zip(fit.params.items(), truth, strict=True):
        error = fit.standard_errors[name]
        assert error is not None
        # Within four standard errors of the truth (and the errors are themselves plausible).
        assert abs(value - true) < 4 * error, (name, value, true, error)
        assert error < true


def test_gamma_gamma_and_sbg_recover_known_parameters() -> None:
    rng = np.random.default_rng(12)
    x = rng.integers(1, 12, 20_000).astype(float)
    means = draw.gamma_gamma_means(rng, (4.0, 5.0, 20.0), x)
    fit = fit_spend(x, means)
    for (name, value), true in zip(fit.params.items(), (4.0, 5.0, 20.0), strict=True):
        assert abs(value - true) < 4 * (fit.standard_errors[name] or 0), name
    survivors = draw.sbg_survivors(rng, (1.2, 4.0), 50_000, 10)
    retention = fit_retention(survivors)
    for (name, value), true in zip(retention.params.items(), (1.2, 4.0), strict=True):
        assert abs(value - true) < 4 * (retention.standard_errors[name] or 0), name


def test_bgnbd_conditional_expectation_matches_simulation() -> None:
    rng = np.random.default_rng(5)
    params = (0.2426, 4.4136, 0.7929, 2.4259)
    n, T, horizon = 30_000, 39.0, 39.0
    r, alpha, a, b = params
    rate, p = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    last = rng.geometric(p)
    calibration, future, t_x = np.zeros(n), np.zeros(n), np.zeros(n)
    for i, count in enumerate(rng.poisson(rate * (T + horizon))):
        if count:
            times = np.sort(rng.uniform(0, T + horizon, count))[: last[i]]
            seen = times[times <= T]
            calibration[i], future[i] = seen.size, times.size - seen.size
            t_x[i] = seen[-1] if seen.size else 0
    expected = models.bgnbd_conditional(np.array(params), horizon, calibration, t_x, np.full(n, T))
    assert expected.sum() == pytest.approx(future.sum(), rel=0.05)
    unconditional = models.bgnbd_expected(np.array(params), np.array([T + horizon])) * n
    assert unconditional[0] == pytest.approx(calibration.sum() + future.sum(), rel=0.05)


def test_pareto_expected_matches_simulation() -> None:
    rng = np.random.default_rng(6)
    params = (0.553, 10.578, 0.606, 11.669)
    T = np.full(100_000, 52.0)
    x, _ = draw.pareto_summaries(rng, params, T)
    assert x.mean() == pytest.approx(
        float(models.pareto_expected(np.array(params), np.array([52.0]))[0]), rel=0.03
    )


def test_grouped_bgnbd_likelihood_equals_the_plain_one() -> None:
    rng = np.random.default_rng(3)
    T = rng.uniform(1, 52, 5000)
    x, t_x = draw.bgnbd_summaries(rng, (0.5, 6.0, 0.9, 3.0), T)
    params = np.array([0.4, 5.0, 1.1, 2.5])
    values, index = np.unique(x, return_inverse=True)
    grouped = models.bgnbd_loglik_grouped(params, values, index, x, t_x, T)
    assert np.allclose(grouped, models.bgnbd_loglik(params, x, t_x, T), rtol=1e-12, atol=1e-9)


def test_a_fit_that_runs_off_to_infinity_is_reported_as_not_converged() -> None:
    from loyalsim.population.fitting import maximise

    # The likelihood keeps growing as the parameters grow: there is no maximum to find.
    fit = maximise("sbg", lambda p: float(np.log(p).sum()), [np.array([1.0, 1.0])])
    assert not fit.converged and "did not find a finite maximum" in fit.message


def _reference_summary(
    rows: list[tuple[str, int, int]], calibration_end: int, holdout_end: int
) -> dict[str, tuple]:
    """Per customer, by hand: (x, t_x, T in weeks, mean repeat spend, holdout purchases), same-day
    purchases merged, for customers whose first purchase is in calibration."""
    days: dict[str, dict[int, int]] = {}
    for customer, day, cents in rows:
        days.setdefault(customer, {}).setdefault(day, 0)
        days[customer][day] += cents
    out = {}
    for customer, spent in days.items():
        ordered = sorted(spent)
        if ordered[0] > calibration_end:
            continue
        calibration = [d for d in ordered if d <= calibration_end]
        repeats = calibration[1:]
        mean = sum(spent[d] for d in repeats) / 100 / len(repeats) if repeats else None
        holdout = sum(1 for d in ordered if calibration_end < d <= holdout_end)
        out[customer] = (
            len(repeats),
            (calibration[-1] - calibration[0]) / 7,
            (calibration_end - calibration[0]) / 7,
            mean,
            holdout,
        )
    return out


@pytest.mark.parametrize(("calibration_end", "customers"), [("1997-09-30", 2357), ("1997-02-15", 1229)])
def test_the_summary_does_not_depend_on_the_order_of_customer_ids(  # type: ignore[no-untyped-def]
    tmp_path, calibration_end: str, customers: int
) -> None:
    """CDNOW numbers its customers in the order of their first purchase; real ids are in no such
    order. With ids shuffled, every customer's summary is still what the rows say, also when
    some customers start after the calibration's end."""
    import csv

    rng = np.random.default_rng(4)
    source = list(csv.DictReader((DATA / "cdnow" / "cdnow_sample.csv").open()))
    ids = sorted({row["customer_id"] for row in source})
    renamed = dict(zip(ids, (f"k{n:05d}" for n in rng.permutation(len(ids))), strict=True))
    path = tmp_path / "shuffled.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(source[0]))
        writer.writeheader()
        for row in source:
            writer.writerow({**row, "customer_id": renamed[row["customer_id"]]})
    calibration, holdout = day_number(calibration_end), day_number("1998-06-30")
    summary = summarise(read_transactions(path), calibration, holdout, "week", 100)
    tx = read_transactions(path)
    rows = [
        (str(tx.customer_ids[c]), int(d), int(a))
        for c, d, a, back in zip(tx.customer, tx.day, tx.amount, tx.is_return, strict=True)
        if not back
    ]
    expected = _reference_summary(rows, calibration, holdout)
    assert summary.customers == len(expected) == customers
    assert summary.holdout is not None
    for i, customer in enumerate(summary.customer_ids):
        x, t_x, T, mean, later = expected[str(customer)]
        assert (summary.x[i], summary.t_x[i], summary.T[i], summary.holdout[i]) == pytest.approx(
            (x, t_x, T, later)
        )
        assert (np.isnan(summary.mean_spend[i]) and mean is None) or summary.mean_spend[i] == pytest.approx(
            mean
        )
    ordered = summarise(
        read_transactions(DATA / "cdnow" / "cdnow_sample.csv"), calibration, holdout, "week", 100
    )
    assert int(summary.x.sum()) == int(ordered.x.sum())  # as with CDNOW's own ids
