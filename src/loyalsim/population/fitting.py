"""Maximum-likelihood fitting of the customer-base models, with standard errors.

Parameters are estimated in log space (all are positive) with L-BFGS-B, restarted from
several points; standard errors come from a numerical Hessian of the log-likelihood and
the delta method. Summaries are compressed to their distinct rows with weights, so a
million customers cost little more than their distinct (x, t_x, T) combinations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from loyalsim.population import models
from loyalsim.population.summary import FitDataError

Array = npt.NDArray[np.float64]

PARAMS = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "pareto-nbd": ("r", "alpha", "s", "beta"),
    "gamma-gamma": ("p", "q", "gamma"),
    "sbg": ("alpha", "beta"),
}


@dataclass
class Fit:
    model: str
    params: dict[str, float]
    log_likelihood: float
    standard_errors: dict[str, float | None]
    converged: bool
    message: str = ""
    extra: dict[str, object] = field(default_factory=dict)
    # The estimates' asymptotic covariance on the log scale (the inverse Hessian of the negative
    # log-likelihood in log parameters), in the order of ``params``; None when not converged.
    log_covariance: Array | None = None

    @property
    def vector(self) -> Array:
        return np.array(list(self.params.values()), dtype=np.float64)


def compress(*columns: Array) -> tuple[list[Array], Array]:
    """Distinct rows of the given columns (in lexicographic order) and how many times each occurs.

    Each column is coded by its distinct values, and the codes combined into one integer key
    where their product fits in 63 bits: a sort of one int64 array instead of rows of floats
    (which ``np.unique(axis=0)`` sorts as opaque records, several times slower)."""
    coded = [np.unique(np.asarray(c, dtype=np.float64), return_inverse=True) for c in columns]
    sizes = [values.size for values, _ in coded]
    if float(np.prod([float(n) for n in sizes])) >= 2.0**62:
        stacked = np.column_stack(columns)
        unique, counts = np.unique(stacked, axis=0, return_counts=True)
        return [unique[:, i] for i in range(unique.shape[1])], counts.astype(np.float64)
    key = np.zeros(len(coded[0][1]), dtype=np.int64)
    for (_, codes), size in zip(coded, sizes, strict=True):
        key = key * size + codes.reshape(-1)
    distinct, counts = np.unique(key, return_counts=True)
    out = []
    for (values, _), size in reversed(list(zip(coded, sizes, strict=True))):
        out.append(values[distinct % size])
        distinct = distinct // size
    return out[::-1], counts.astype(np.float64)


def _hessian(f: Callable[[Array], float], at: Array, step: float = 1e-4) -> Array:
    n = at.size
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i = np.zeros(n)
            e_j = np.zeros(n)
            e_i[i] = step
            e_j[j] = step
            value = (f(at + e_i + e_j) - f(at + e_i - e_j) - f(at - e_i + e_j) + f(at - e_i - e_j)) / (
                4 * step * step
            )
            h[i, j] = h[j, i] = value
    return h


def _hessian_of_gradient(gradient: Callable[[Array], Array], at: Array, step: float = 1e-5) -> Array:
    """The Hessian by central differences of an analytic gradient (2n gradients), symmetrised."""
    columns = [(gradient(at + e) - gradient(at - e)) / (2 * step) for e in np.eye(at.size) * step]
    h = np.column_stack(columns)
    return (h + h.T) / 2


def _uncertainty(
    hessian: Array, theta: Array, names: list[str], free: list[int], linear: tuple[int, ...] = ()
) -> tuple[Array | None, dict[str, float | None], str | None]:
    """The covariance of the fitted scale (the inverse of the negative log-likelihood's Hessian
    over the ``free`` parameters; zero rows for the others), each parameter's standard error
    (by the delta method for those fitted in logs, all but ``linear``), and what went wrong
    if the Hessian does not give them."""
    errors: dict[str, float | None] = dict.fromkeys(names)
    size = theta.size
    try:
        covariance = np.zeros((size, size))
        covariance[np.ix_(free, free)] = np.linalg.inv(hessian[np.ix_(free, free)])
    except np.linalg.LinAlgError:
        return None, errors, "the Hessian of the likelihood is singular"
    variances = np.diag(covariance)[free]
    if not (np.all(variances > 0) and np.all(np.isfinite(variances))):
        return None, errors, "the likelihood is flat or not at a maximum (Hessian not positive definite)"
    for i in free:
        scale = 1.0 if i in linear else float(np.exp(theta[i]))
        errors[names[i]] = float(scale * np.sqrt(covariance[i, i]))
    return (covariance + covariance.T) / 2, errors, None


def maximise(
    model: str,
    loglik: Callable[[Array], float],
    starts: list[Array],
    gradient: Callable[[Array], tuple[float, Array]] | None = None,
) -> Fit:
    """Maximise ``loglik`` over positive parameters from each start; keep the best.

    ``gradient``: the log-likelihood and its gradient in the parameters at once (analytic), so
    that L-BFGS-B needs one evaluation an iteration instead of one per parameter more, and the
    Hessian comes from differences of the gradient."""
    names = PARAMS[model]

    def negative(theta: Array) -> float:
        with np.errstate(all="ignore"):
            value = loglik(np.exp(theta))
        return -value if np.isfinite(value) else 1e300

    # With a gradient the objective is divided by the size of the log-likelihood at the first
    # start (about the number of customers): a sum over a million customers is too large for
    # L-BFGS-B's line search to resolve near the optimum ("ABNORMAL" stops), its mean is not.
    size = 1.0
    if gradient is not None:
        with np.errstate(all="ignore"):
            first = gradient(starts[0])[0]
        size = max(1.0, abs(first)) if np.isfinite(first) else 1.0

    def negative_and_slope(theta: Array) -> tuple[float, Array]:
        assert gradient is not None
        with np.errstate(all="ignore"):
            params = np.exp(theta)
            value, slope = gradient(params)
        if not np.isfinite(value) or not np.all(np.isfinite(slope)):
            return 1e300, np.zeros_like(theta)
        return -value / size, -slope * params / size  # d/dθ = p d/dp, with θ = log p

    def solve(start: Array) -> Any:
        options = {"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8}
        if gradient is not None:
            result = minimize(negative_and_slope, np.log(start), jac=True, method="L-BFGS-B", options=options)
            result.fun = result.fun * size if result.fun < 1e299 else result.fun
            return result
        return minimize(negative, np.log(start), method="L-BFGS-B", options=options)

    def settled(result: Any) -> bool:
        return bool(result.success and np.all(np.abs(result.x) < 20))

    best = solve(starts[0])
    if not settled(best):  # a harder surface: every start, the best that settles
        tried = [best] + [solve(start) for start in starts[1:]]
        best = min(
            (r for r in tried if settled(r)), key=lambda r: r.fun, default=min(tried, key=lambda r: r.fun)
        )
    if not settled(best):  # none settled: a derivative-free polish of the best
        polished = minimize(
            negative,
            best.x,
            method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 4000, "maxfev": 8000},
        )
        if polished.fun <= best.fun:
            best = polished
    theta = best.x
    log_likelihood = -float(best.fun)
    converged = bool(np.isfinite(log_likelihood) and log_likelihood > -1e299 and np.all(np.abs(theta) < 20))
    errors: dict[str, float | None] = dict.fromkeys(names)
    message = "converged"
    log_covariance = None
    if converged:
        hessian = (
            _hessian_of_gradient(lambda t: negative_and_slope(t)[1] * size, theta)
            if gradient is not None
            else _hessian(negative, theta)
        )
        log_covariance, errors, problem = _uncertainty(hessian, theta, list(names), list(range(theta.size)))
        if problem is not None:
            converged, message = False, problem
    else:
        message = "the optimiser did not find a finite maximum (parameters ran off to 0 or infinity)"
    params = {n: float(v) for n, v in zip(names, np.exp(theta), strict=True)}
    return Fit(model, params, log_likelihood, errors, converged, message, log_covariance=log_covariance)


def fit_purchases(model: str, x: Array, t_x: Array, T: Array) -> Fit:
    (ux, ut, uT), weights = compress(x, t_x, T)
    starts = [
        np.array([1.0, 1.0, 1.0, 1.0]),
        np.array([0.3, 5.0, 0.8, 2.5]),
        np.array([2.0, 20.0, 2.0, 20.0]),
    ]
    if model == "bgnbd":
        x_values, x_index = np.unique(ux, return_inverse=True)
        return maximise(
            model,
            lambda p: float(np.dot(weights, models.bgnbd_loglik_grouped(p, x_values, x_index, ux, ut, uT))),
            starts,
            lambda p: models.bgnbd_gradient_grouped(p, x_values, x_index, ux, ut, uT, weights),
        )
    if model == "pareto-nbd":
        return maximise(model, lambda p: float(np.dot(weights, models.pareto_loglik(p, ux, ut, uT))), starts)
    raise ValueError(model)


def fit_spend(x: Array, mean_spend: Array) -> Fit:
    keep = (x > 0) & np.isfinite(mean_spend) & (mean_spend > 0)
    if keep.sum() < 10:
        raise FitDataError("fewer than 10 repeat customers with positive spend: Gamma-Gamma cannot be fitted")
    (ux, um), weights = compress(x[keep], mean_spend[keep])
    fit = maximise(
        "gamma-gamma",
        lambda p: float(np.sum(weights * models.gamma_gamma_loglik(p, ux, um))),
        [np.array([1.0, 1.0, 1.0]), np.array([6.0, 4.0, 15.0]), np.array([2.0, 2.0, 50.0])],
        lambda p: models.gamma_gamma_gradient(p, ux, um, weights),
    )
    fit.extra["customers"] = int(keep.sum())
    fit.extra["excluded"] = int(((x > 0) & ~keep).sum())
    return fit


def fit_retention(survivors: Array) -> Fit:
    if survivors.size < 3:
        raise FitDataError("at least three periods of survivor counts (period 0 first) are needed")
    if np.any(np.diff(survivors) > 0):
        raise FitDataError("survivor counts must not increase from one period to the next")
    if survivors[0] <= 0 or survivors[-1] == survivors[0]:
        raise FitDataError("the cohort must start with members and lose some of them")
    return maximise(
        "sbg",
        lambda p: models.sbg_loglik(p, survivors),
        [np.array([1.0, 1.0]), np.array([0.5, 3.0]), np.array([3.0, 10.0])],
    )


CONCENTRATION_CAP = 1e6  # a + b at most: beyond it the dropout probabilities' spread is nil


def enrolment_params(theta: Array) -> tuple[float, float, float, float, float]:
    """(r, alpha, c, a, b) from :func:`fit_bgnbd_enrolment`'s fitted scale: log r, log alpha,
    c, logit of the mean dropout probability a / (a + b), log of the concentration a + b."""
    r, alpha, c = float(np.exp(theta[0])), float(np.exp(theta[1])), float(theta[2])
    mean, concentration = 1 / (1 + np.exp(-theta[3])), float(np.exp(theta[4]))
    return r, alpha, c, float(mean * concentration), float((1 - mean) * concentration)


def fit_bgnbd_enrolment(x: Array, t_x: Array, T: Array) -> Fit:
    """BG/NBD on members' pre-enrolment histories, with the purchase-rate prior's scale growing
    with the time each member took to enrol: rate ~ Gamma(r, alpha + c T) (``fit response``).

    Why: when heavier buyers join sooner, how long a member bought before joining says how much
    they buy, beyond their few purchases in that window. If the delay to joining is exponential
    with a mean inversely proportional to the rate, a Gamma(r0, alpha) prior becomes exactly
    Gamma(r0 + 1, alpha + c T) given T; c = 0 when joining does not depend on the rate.

    Dropout's Beta(a, b) is fitted as its mean and its concentration a + b: short windows may
    leave the spread of dropout probabilities unidentified, the concentration then runs to
    CONCENTRATION_CAP (all members dropping with the same probability), and the mean stays
    well determined. Parameters at a bound (c at 0, alpha at its floor, the concentration at its
    cap) are left out of the covariance. ``extra["theta"]`` is the fitted scale (:func:`enrolment_params`),
    ``log_covariance`` its covariance; ``extra["at_bound"]`` names the parameters at a bound.
    """
    (ux, ut, uT), weights = compress(x, t_x, T)
    x_values, x_index = np.unique(ux, return_inverse=True)
    size = float(max(x.size, 1))

    def negative_and_slope(theta: Array) -> tuple[float, Array]:
        r, alpha, c, a, b = enrolment_params(theta)
        rows = alpha + c * uT
        with np.errstate(all="ignore"):
            value, grad, d_rows = models.bgnbd_gradient_rows(
                np.array([r, a, b]), rows, x_values, x_index, ux, ut, uT, weights
            )
            d_alpha, d_c = float(d_rows.sum()), float(np.dot(d_rows, uT))
        spread = a * b / (a + b)  # d a / d logit(mean) = -d b / d logit(mean)
        slope = np.array(
            [grad[0] * r, d_alpha * alpha, d_c, (grad[1] - grad[2]) * spread, grad[1] * a + grad[2] * b]
        )
        if not np.isfinite(value) or not np.all(np.isfinite(slope)):
            return 1e300, np.zeros_like(theta)
        return -value / size, -slope / size

    def scale_of(params: Array) -> Array:
        r, alpha, a, b = params
        concentration = min(a + b, CONCENTRATION_CAP / 2)
        return np.array([np.log(r), np.log(alpha), 0.0, np.log(a / b), np.log(concentration)])

    with np.errstate(all="ignore"):
        pooled = fit_purchases("bgnbd", x, t_x, T).vector
    nudge = np.array([0.0, 0.0, 1.0, 0.0, 0.0])  # (c away from its bound)
    starts = [
        scale_of(pooled),
        scale_of(np.array([1.0, 1.0, 1.0, 1.0])) + 0.1 * nudge,
        scale_of(np.array([0.3, 5.0, 0.8, 2.5])) + nudge,
    ]
    cap = float(np.log(CONCENTRATION_CAP))
    bounds: list[tuple[float | None, float | None]] = [
        (-20, 20),
        (-20, 20),
        (0.0, None),
        (-30, 30),
        (-20, cap),
    ]
    options = {"maxiter": 4000, "ftol": 1e-13, "gtol": 1e-9}
    results = [
        minimize(negative_and_slope, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
        for start in starts
    ]
    best = min(results, key=lambda r: r.fun)
    theta = best.x
    log_likelihood = -float(best.fun) * size
    names = ["r", "alpha", "c", "mean_dropout", "concentration"]
    # At a bound: c at 0 (joining independent of buying), alpha at its floor (the prior's scale
    # all c T: long windows only), the concentration at its cap; the others must be inside.
    at_bound = [
        i
        for i, (low, high) in enumerate(bounds)
        if (low is not None and theta[i] - low < 1e-6) or (high is not None and high - theta[i] < 1e-6)
    ]
    converged = bool(best.fun < 1e299 and set(at_bound) <= {1, 2, 4})
    message, log_covariance = "converged", None
    errors: dict[str, float | None] = dict.fromkeys(names)
    if converged:
        hessian = _hessian_of_gradient(lambda t: negative_and_slope(t)[1] * size, theta)
        free = [i for i in range(5) if i not in at_bound]
        log_covariance, errors, problem = _uncertainty(hessian, theta, names, free, linear=(2, 3))
        if problem is not None:
            converged, message = False, problem
    else:
        message = "the optimiser did not find a finite maximum (parameters ran off to 0 or infinity)"
    r, alpha, c, a, b = enrolment_params(theta)
    params = {"r": r, "alpha": alpha, "c": c, "a": a, "b": b}
    fit = Fit(
        "bgnbd-enrolment", params, log_likelihood, errors, converged, message, log_covariance=log_covariance
    )
    fit.extra["theta"] = theta
    fit.extra["at_bound"] = [names[i] for i in at_bound]
    return fit
