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
        params = np.exp(theta)
        with np.errstate(all="ignore"):
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
        try:
            covariance = np.linalg.inv(hessian)
            variances = np.diag(covariance)
            if np.all(variances > 0) and np.all(np.isfinite(variances)):
                log_covariance = (covariance + covariance.T) / 2
                errors = {
                    n: float(np.exp(t) * np.sqrt(v)) for n, t, v in zip(names, theta, variances, strict=True)
                }
            else:
                converged, message = (
                    False,
                    "the likelihood is flat or not at a maximum (Hessian not positive definite)",
                )
        except np.linalg.LinAlgError:
            converged, message = False, "the Hessian of the likelihood is singular"
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
