"""The program's effect on its members, measured from a company's own data: ``loyalsim fit response``.

Where: the population stage (beside ``fit purchases``). docs/fit.md, "The program's effect",
gives the method, its assumptions and when not to trust it. In short, a model-based
counterfactual:

1. Each member's history is cut at their enrolment day: before it, they bought as a customer
   without the program; from it on, as a member.
2. BG/NBD is fitted to the members' pre-enrolment histories (x, t_x, T) alone, so its prior
   is the members' own population: customers who chose to join, with whatever they bought
   more than the others. The Gamma-Gamma spend model likewise, on their pre-enrolment amounts.
3. Each member's expected purchases after enrolment, had they not joined, is BG/NBD's
   conditional expectation given their own pre-enrolment history, over their own post-
   enrolment window; the expected spend per purchase, Gamma-Gamma's conditional mean.
4. frequency_lift = actual / expected post-enrolment purchases (summed over members) - 1;
   spend_lift = actual post-enrolment spend / (actual purchases x expected spend each) - 1;
   and the same quarter by quarter since enrolment, so a fading effect shows.

Intervals (95%): a customer-level bootstrap (Poisson(1) weights per member, so a member's
purchases move together), with the fitted parameters' own uncertainty added by the delta
method in each replicate (their asymptotic normal on the log scale, linearised): percentile
intervals of the two together. Purchases on one day are one purchase, as in ``fit purchases``.

The naive comparison beside it: members' purchase rate after enrolment over non-members'
repeat-purchase rate, minus one (what the obvious member-vs-non-member comparison reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from loyalsim.compiled import kernel
from loyalsim.population import models
from loyalsim.population.fitting import Fit, enrolment_params, fit_bgnbd_enrolment, fit_spend
from loyalsim.population.summary import UNITS, FitDataError

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
QUARTER = 91  # days: a quarter since enrolment (13 weeks)
NONE = np.iinfo(np.int64).max
MINIMUM_MEMBERS = 30  # with a pre-enrolment history: fewer cannot pin down the members' own prior
MINIMUM_OTHERS = 30  # non-members, for the naive comparison
MINIMUM_EXPECTED = 10.0  # purchases expected in a quarter, for its lift to be shown


@dataclass(frozen=True)
class Estimate:
    estimate: float
    ci_low: float
    ci_high: float

    def as_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "ci_low": self.ci_low, "ci_high": self.ci_high}


@dataclass
class ResponseFit:
    """What ``fit response`` estimates, with the counts behind it."""

    frequency_lift: Estimate
    spend_lift: Estimate | None  # None: too few members with purchases before and after
    naive_frequency_lift: float
    naive_spend_lift: float | None
    by_quarter: list[dict[str, Any]]
    members: int  # in the members file and the transactions
    measured: int  # members with a pre-enrolment history (enrolled after their first purchase day)
    enrolled_at_first: int  # members enrolled on or before their first purchase day: left out
    non_members: int
    actual: float  # post-enrolment purchases of the measured members
    expected: float  # their expected purchases without the program
    purchase_fit: Fit  # BG/NBD on members' pre-enrolment histories, rate prior scale alpha + c T
    spend_fit: Fit | None
    time_unit: str
    data_end: int  # the last day of the transactions
    bootstrap: int
    quarters: int  # the headline's window: this many quarters after enrolment
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        from loyalsim.compile.calendar import to_date

        return {
            "frequency_lift": self.frequency_lift.as_dict(),
            "spend_lift": self.spend_lift.as_dict() if self.spend_lift is not None else None,
            "naive": {"frequency_lift": self.naive_frequency_lift, "spend_lift": self.naive_spend_lift},
            "by_quarter": self.by_quarter,
            "churn_reduction": None,
            "members": self.members,
            "measured_members": self.measured,
            "enrolled_at_first_purchase": self.enrolled_at_first,
            "non_members": self.non_members,
            "post_enrolment_purchases": {"actual": self.actual, "expected": self.expected},
            "purchase_model": {
                "model": "bgnbd",
                "time_unit": self.time_unit,
                "params": self.purchase_fit.params,
                "at_bound": self.purchase_fit.extra.get("at_bound", []),
            },
            "spend_model": {"model": "gamma_gamma", "params": self.spend_fit.params}
            if self.spend_fit is not None
            else None,
            "data_end": str(to_date(self.data_end)),
            "bootstrap": self.bootstrap,
            "window_quarters": self.quarters,
            "notes": self.notes,
        }


@kernel
def _split(
    customer: IntArray, day: IntArray, amount: IntArray, codes: int, cut: IntArray, quarters: int
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Per customer code, from purchase rows in day order, each customer's history cut at
    ``cut[c]`` (their enrolment day; NONE: never): the first purchase day; the purchase days
    before the cut (the first included), the last of them and the minor units of those after
    the first; the purchase days from the cut on, their minor units, and their count by
    quarter since the cut (``quarters`` columns); and the last purchase day."""
    first = np.full(codes, NONE, dtype=np.int64)
    pre_days = np.zeros(codes, dtype=np.int64)
    pre_last = np.full(codes, NONE, dtype=np.int64)
    pre_cents = np.zeros(codes, dtype=np.int64)
    post_days = np.zeros(codes, dtype=np.int64)
    post_cents = np.zeros(codes, dtype=np.int64)
    by_quarter = np.zeros((codes, max(quarters, 1)), dtype=np.int64)
    seen = np.full(codes, NONE, dtype=np.int64)
    for i in range(customer.size):
        c, d = customer[i], day[i]
        new = d != seen[c]
        seen[c] = d
        if first[c] == NONE:
            first[c] = d
        if d < cut[c]:
            if new:
                pre_days[c] += 1
                pre_last[c] = d
            if d != first[c]:
                pre_cents[c] += amount[i]
        else:
            if new:
                post_days[c] += 1
                q = (d - cut[c]) // 91
                if q < quarters:
                    by_quarter[c, q] += 1
            post_cents[c] += amount[i]
    return first, pre_days, pre_last, pre_cents, post_days, post_cents, by_quarter, seen


@dataclass(frozen=True)
class _Members:
    """The measured members' pre-enrolment summaries and post-enrolment figures (one row each)."""

    x: Array
    t_x: Array
    T: Array
    window: Array  # post-enrolment window length (time units)
    since: Array  # days from enrolment to the data's end, plus one (the window in days)
    actual: Array  # post-enrolment purchase days
    pre_mean: Array  # average pre-enrolment repeat spend (currency units; nan when x = 0)
    post_spend: Array  # post-enrolment spend (currency units)
    quarters: npt.NDArray[np.int64]  # post-enrolment purchase days by quarter since enrolment


def fit_response(
    customer: IntArray,
    day: IntArray,
    amount: IntArray,
    is_return: npt.NDArray[np.bool_],
    codes: int,
    enrolled: IntArray,
    *,
    money_unit: int,
    time_unit: str = "week",
    bootstrap: int = 200,
    seed: int = 0,
    quarters: int = 4,
    min_history: int = 91,
) -> ResponseFit:
    """Estimate the program's effect (module docstring) from purchase rows (codes, days, minor
    units, returns) and each code's enrolment day (``enrolled``; NONE: never enrolled). The
    headline lifts cover each member's first ``quarters`` quarters after enrolment (up to the
    data's end); ``by_quarter`` goes on to the data's end."""
    scale = UNITS[time_unit]
    buy = ~is_return
    customer, day, amount = customer[buy], day[buy], amount[buy]
    if customer.size == 0:
        raise FitDataError("the file has no purchases")
    if np.any(day[1:] < day[:-1]):
        order = np.argsort(day, kind="stable")
        customer, day, amount = customer[order], day[order], amount[order]
    data_end = int(day.max())
    member = enrolled < NONE
    spans = int(np.ceil((data_end - int(enrolled[member].min()) + 1) / QUARTER)) if member.any() else 0
    first, pre_days, pre_last, pre_cents, post_days, post_cents, by_quarter, _ = _split(
        customer, day, amount, codes, enrolled, spans
    )
    bought = first < NONE
    members = member & bought
    measured = members & (enrolled - first > min_history)  # (a pre-enrolment window of min_history days)
    others = bought & ~member
    notes: list[str] = []
    if int(measured.sum()) < MINIMUM_MEMBERS:
        raise FitDataError(
            f"only {int(measured.sum())} members bought for more than {min_history} days before enrolling "
            f"(a pre-enrolment history to predict from); at least {MINIMUM_MEMBERS} are needed: a member who "
            "joined sooner cannot show what they would have bought without the program (a smaller "
            "--min-history measures more of them, on less history each)"
        )
    if int(others.sum()) < MINIMUM_OTHERS:
        raise FitDataError(
            f"only {int(others.sum())} customers never enrolled; at least {MINIMUM_OTHERS} are needed "
            "for the naive member-vs-non-member comparison shown beside the estimate"
        )
    m = _members(
        measured,
        first,
        enrolled,
        pre_days,
        pre_last,
        pre_cents,
        post_days,
        post_cents,
        by_quarter,
        data_end,
        scale,
        money_unit,
    )
    rng = np.random.default_rng(seed)
    weights = rng.poisson(1.0, (bootstrap, m.x.size)).astype(np.float64)
    prior, purchase_fit = _prior(m, rng, bootstrap, notes)
    within = (np.zeros(m.x.size), np.minimum(m.since, quarters * QUARTER) / scale)
    actual = m.quarters[:, :quarters].sum(axis=1).astype(np.float64)
    expected = _expected(prior.theta, m, *within)
    frequency = _lift(actual, prior, m, weights, within)
    spend, spend_fit = _spend(m, weights, rng, bootstrap, notes)
    quarterly = _quarters(m, prior, weights, scale)
    naive_frequency, naive_spend = _naive(
        members, others, first, enrolled, pre_days, pre_cents, post_days, post_cents, data_end, money_unit
    )
    return ResponseFit(
        frequency,
        spend,
        naive_frequency,
        naive_spend,
        quarterly,
        int(members.sum()),
        int(measured.sum()),
        int((members & ~measured).sum()),
        int(others.sum()),
        float(actual.sum()),
        float(expected.sum()),
        purchase_fit,
        spend_fit,
        time_unit,
        data_end,
        bootstrap,
        quarters,
        notes,
    )


def _members(
    measured: npt.NDArray[np.bool_],
    first: IntArray,
    enrolled: IntArray,
    pre_days: IntArray,
    pre_last: IntArray,
    pre_cents: IntArray,
    post_days: IntArray,
    post_cents: IntArray,
    by_quarter: npt.NDArray[np.int64],
    data_end: int,
    scale: float,
    money_unit: int,
) -> _Members:
    """The measured members' rows: the pre-enrolment window ends the day before enrolment (T
    counts from the first purchase day to it), the post-enrolment window runs from the
    enrolment day to the data's last day."""
    f, e = first[measured], enrolled[measured]
    x = (pre_days[measured] - 1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        pre_mean = np.where(x > 0, pre_cents[measured] / money_unit / np.maximum(x, 1), np.nan)
    since = (data_end - e + 1).astype(np.float64)
    return _Members(
        x,
        (pre_last[measured] - f) / scale,
        (e - 1 - f) / scale,
        since / scale,
        since,
        post_days[measured].astype(np.float64),
        pre_mean,
        post_cents[measured] / money_unit,
        by_quarter[measured],
    )


@dataclass(frozen=True)
class _Prior:
    """The members' BG/NBD prior given their time to enrol (``fitting.fit_bgnbd_enrolment``),
    on the scale fitted (log r, log alpha, c, log a, log b), with a draw of its deviations for
    each bootstrap replicate."""

    theta: Array
    shifts: Array


def _expected(theta: Array, m: _Members, start: Array, stop: Array) -> Array:
    """Each member's expected purchases without the program between ``start`` and ``stop``
    (time units after enrolment), given their pre-enrolment history: BG/NBD's conditional
    expectation with their own prior scale alpha + c T."""
    r, alpha, c, a, b = enrolment_params(theta)
    params = (r, alpha + c * m.T, a, b)
    later = models.bgnbd_conditional_by_quadrature(params, stop, m.x, m.t_x, m.T)
    if not np.any(start):
        return later
    sooner = models.bgnbd_conditional_by_quadrature(params, start, m.x, m.t_x, m.T)
    result: Array = later - sooner
    return result


def _lift(
    actual: Array,
    prior: _Prior,
    m: _Members,
    weights: Array,
    window: tuple[Array, Array],
    keep: npt.NDArray[np.bool_] | None = None,
) -> Estimate:
    """sum(actual) / sum(expected) - 1 over the members ``keep`` (all by default), with the
    percentile interval of the bootstrap replicates: customers reweighted (``weights``), the
    expected sum moved by the replicate's drawn parameter deviation (linearised)."""
    chosen = np.ones(m.x.size, dtype=bool) if keep is None else keep

    def total(theta: Array) -> float:
        return float(np.sum(np.where(chosen, _expected(theta, m, *window), 0.0)))

    expected = np.where(chosen, _expected(prior.theta, m, *window), 0.0)
    point = float(actual[chosen].sum() / expected.sum() - 1)
    slope = _log_slope(prior.theta, total)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        replicates = (weights @ np.where(chosen, actual, 0.0)) / (
            (weights @ expected) * np.exp(prior.shifts @ slope)
        ) - 1
    replicates = replicates[np.isfinite(replicates)]
    low, high = np.percentile(replicates, [2.5, 97.5]) if replicates.size else (np.nan, np.nan)
    return Estimate(point, float(low), float(high))


def _prior(m: _Members, rng: np.random.Generator, replicates: int, notes: list[str]) -> tuple[_Prior, Fit]:
    """The members' prior, fitted to their pre-enrolment histories, and its replicate deviations."""
    fit = fit_bgnbd_enrolment(m.x, m.t_x, m.T)
    if not fit.converged:
        raise FitDataError(f"BG/NBD on the members' pre-enrolment histories did not converge: {fit.message}")
    at_bound = list(fit.extra["at_bound"])  # type: ignore[call-overload]
    if "concentration" in at_bound:
        notes.append(
            "the pre-enrolment histories do not tell how dropout probabilities differ between members: "
            "all are taken to drop out with the same probability (BG/NBD's Beta(a, b) at its limit)"
        )
    theta = np.asarray(fit.extra["theta"], dtype=np.float64)
    return _Prior(theta, _parameter_shifts(fit, rng, replicates)), fit


def _parameter_shifts(fit: Fit, rng: np.random.Generator, replicates: int) -> Array:
    """Draws of the log parameters' deviations from the estimate (their asymptotic normal), one
    row per bootstrap replicate; zeros when the fit has no covariance."""
    size = len(fit.params)
    covariance = fit.log_covariance
    if covariance is None or not np.all(np.isfinite(covariance)):
        return np.zeros((replicates, size))
    try:
        factor = np.linalg.cholesky(covariance + 1e-12 * np.eye(size))
    except np.linalg.LinAlgError:
        return np.zeros((replicates, size))
    shifts: Array = rng.standard_normal((replicates, size)) @ factor.T
    return shifts


def _log_slope(theta: Array, total: Any, step: float = 1e-4) -> Array:
    """d log(``total(theta)``) / d theta, by central differences."""
    slope = np.zeros(theta.size)
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        slope[i] = (np.log(np.sum(total(up))) - np.log(np.sum(total(down)))) / (2 * step)
    return slope


def _ratio_estimate(actual: Array, expected: Array, weights: Array, log_shift: Array | float) -> Estimate:
    """sum(actual) / sum(expected) - 1, with the percentile interval of its bootstrap replicates
    (``weights``: one row of customer weights per replicate; ``log_shift``: each replicate's
    change of log sum(expected) from the parameters' uncertainty)."""
    point = float(actual.sum() / expected.sum() - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        replicates = (weights @ actual) / ((weights @ expected) * np.exp(log_shift)) - 1
    replicates = replicates[np.isfinite(replicates)]
    low, high = np.percentile(replicates, [2.5, 97.5]) if replicates.size else (np.nan, np.nan)
    return Estimate(point, float(low), float(high))


def _spend(
    m: _Members, weights: Array, rng: np.random.Generator, replicates: int, notes: list[str]
) -> tuple[Estimate | None, Fit | None]:
    """Spend per purchase after enrolment against Gamma-Gamma's conditional mean given the
    pre-enrolment purchases (members with purchases after enrolment; the prior mean for those
    with no repeat purchase before)."""
    try:
        spend_fit = fit_spend(m.x, m.pre_mean)
    except FitDataError as exc:
        notes.append(f"spend_lift not estimated: {exc}")
        return None, None
    if not spend_fit.converged:
        notes.append(f"spend_lift not estimated: Gamma-Gamma did not converge ({spend_fit.message})")
        return None, spend_fit
    q = spend_fit.vector[1]
    x, mean = m.x, np.nan_to_num(m.pre_mean)

    def conditional(params: Array) -> Array:
        p, q, gamma = params
        prior = gamma * p / (q - 1)
        weight = p * x / (p * x + q - 1)
        value: Array = (1 - weight) * prior + weight * mean
        return value

    if q <= 1:
        notes.append("spend_lift not estimated: Gamma-Gamma's q <= 1 (the mean spend is not finite)")
        return None, spend_fit
    buyers = m.actual > 0
    expected = m.actual * conditional(spend_fit.vector)
    slope = _log_slope(
        np.log(spend_fit.vector), lambda theta: m.actual[buyers] * conditional(np.exp(theta))[buyers]
    )
    shifts = _parameter_shifts(spend_fit, rng, replicates)
    return _ratio_estimate(
        m.post_spend[buyers], expected[buyers], weights[:, buyers], shifts @ slope
    ), spend_fit


def _quarters(m: _Members, prior: _Prior, weights: Array, scale: float) -> list[dict[str, Any]]:
    """The frequency lift quarter by quarter since enrolment (members whose window reaches the
    quarter; the last one may be partial), with its interval."""
    out: list[dict[str, Any]] = []
    for q in range(m.quarters.shape[1]):
        reached = m.since > q * QUARTER
        if int(reached.sum()) < MINIMUM_MEMBERS:
            break
        window = (np.full(m.x.size, q * QUARTER / scale), np.minimum(m.since, (q + 1) * QUARTER) / scale)
        if _expected(prior.theta, m, *window)[reached].sum() < MINIMUM_EXPECTED:
            break  # (a last quarter too short, or too few members, to say anything)
        actual = np.where(reached, m.quarters[:, q], 0).astype(np.float64)
        estimate = _lift(actual, prior, m, weights, window, reached)
        out.append(
            {
                "quarter": q + 1,
                "members": int(reached.sum()),
                "actual": float(actual.sum()),
                "expected": float(_expected(prior.theta, m, *window)[reached].sum()),
                "frequency_lift": estimate.as_dict(),
            }
        )
    return out


def _naive(
    members: npt.NDArray[np.bool_],
    others: npt.NDArray[np.bool_],
    first: IntArray,
    enrolled: IntArray,
    pre_days: IntArray,
    pre_cents: IntArray,
    post_days: IntArray,
    post_cents: IntArray,
    data_end: int,
    money_unit: int,
) -> tuple[float, float | None]:
    """Every member's purchase rate from their enrolment on (or their first purchase, if later)
    over non-members' repeat-purchase rate from their first purchase, and the same for spend per
    purchase, each minus one: the comparison that ignores who chose to join."""
    start = np.maximum(enrolled[members], first[members])
    late = enrolled[members] <= first[members]  # (enrolled by their first purchase: it is not counted)
    bought = post_days[members] - late
    exposure = data_end - start
    repeats = pre_days[others] - 1
    other_exposure = data_end - first[others]
    if exposure.sum() <= 0 or other_exposure.sum() <= 0 or repeats.sum() <= 0:
        return float("nan"), None
    frequency = float((bought.sum() / exposure.sum()) / (repeats.sum() / other_exposure.sum()) - 1)
    spend = None
    if post_days[members].sum() > 0:
        member_spend = post_cents[members].sum() / post_days[members].sum()
        spend = float(member_spend / (pre_cents[others].sum() / repeats.sum()) - 1)
    return frequency, spend
