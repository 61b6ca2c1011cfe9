"""Customer-base models: log-likelihoods and expectations, vectorised and computed in logs.

Where: the population stage. Used by ``loyalsim fit`` to estimate parameters and by the
simulator to draw customers. Inputs are the usual summaries per customer: ``x`` repeat
purchases, ``t_x`` time of the last purchase and ``T`` age, measured from the first
purchase in the model's time unit.

References:
- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way",
  Marketing Science 24(2); and the note "Implementing the BG/NBD model".
- Pareto/NBD: Schmittlein, Morrison & Colombo (1987); likelihood and expectations as in
  Fader & Hardie (2005), "A note on deriving the Pareto/NBD model and related expressions".
- Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV", J. Marketing Research 42(4).
- Shifted-beta-geometric: Fader & Hardie (2007), "How to project customer retention",
  J. Interactive Marketing 21(1).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import betaln, digamma, gammaln, hyp2f1

Array = npt.NDArray[np.float64]


def _log_hyp2f1(a: Array | float, b: Array | float, c: Array | float, z: Array) -> Array:
    value = np.asarray(hyp2f1(a, b, c, z), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(value)


# -- BG/NBD ------------------------------------------------------------------------------------


def bgnbd_loglik(params: Array, x: Array, t_x: Array, T: Array) -> Array:
    """Per-customer log-likelihood of BG/NBD with params (r, alpha, a, b)."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    beta_ab = betaln(a, b)
    stay = betaln(a, b + x) - beta_ab - (r + x) * np.log(alpha + T)
    with np.errstate(invalid="ignore", divide="ignore"):
        drop = np.where(
            x > 0,
            betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - beta_ab - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    result: Array = common + np.logaddexp(stay, drop)
    return result


def bgnbd_loglik_grouped(
    params: Array, x_values: Array, x_index: npt.NDArray[np.int64], x: Array, t_x: Array, T: Array
) -> Array:
    """As :func:`bgnbd_loglik`, with the terms that depend only on x computed once per distinct x."""
    r, alpha, a, b = params
    beta_ab = betaln(a, b)
    common = (gammaln(r + x_values) - gammaln(r) + r * np.log(alpha))[x_index]
    stay_x = (betaln(a, b + x_values) - beta_ab)[x_index]
    with np.errstate(invalid="ignore", divide="ignore"):
        drop_x = np.where(
            x_values > 0, betaln(a + 1, np.maximum(b + x_values - 1, 1e-300)) - beta_ab, -np.inf
        )[x_index]
    power = r + x
    stay = stay_x - power * np.log(alpha + T)
    drop = drop_x - power * np.log(alpha + t_x)
    result: Array = common + np.logaddexp(stay, drop)
    return result


def bgnbd_expected(params: Array, t: Array) -> Array:
    """E[X(t)]: expected repeat purchases in (0, t] for a customer born at 0."""
    r, alpha, a, b = params
    t = np.asarray(t, dtype=np.float64)
    z = t / (alpha + t)
    result: Array = (
        (a + b - 1)
        / (a - 1)
        * (1 - np.exp(r * np.log(alpha / (alpha + t)) + _log_hyp2f1(r, b, a + b - 1, z)))
    )
    return result


def bgnbd_conditional(params: Array, t: float, x: Array, t_x: Array, T: Array) -> Array:
    """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` time units for each customer."""
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    log_term = (r + x) * np.log((alpha + T) / (alpha + T + t)) + _log_hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (1 - np.exp(log_term))
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(
            x > 0,
            a / np.maximum(b + x - 1, 1e-300) * np.exp((r + x) * np.log((alpha + T) / (alpha + t_x))),
            0.0,
        )
    result: Array = numerator / (1 + odds)
    return result


def bgnbd_conditional_by_quadrature(
    params: tuple[float, Array | float, float, float],
    t: Array,
    x: Array,
    t_x: Array,
    T: Array,
    nodes: int = 32,
) -> Array:
    """E[Y(t) | x, t_x, T] as :func:`bgnbd_conditional`, for any a > 0 and a prior scale alpha of
    each customer's own: P(alive) times E[(1 - ((alpha + T) / (alpha + T + p t)) ** (r + x)) / p]
    over the dropout probability's posterior p ~ Beta(a, b + x), by Gauss-Jacobi quadrature.

    Why not the closed form: its hypergeometric function overflows or loses all precision when
    a < 1 with a + b + x - 1 near 0, or with a and b large (a dropout spread collapsed to its
    mean), which short pre-enrolment windows produce. Given the rate lambda and p, a customer
    alive buys (1 - exp(-lambda p t)) / p times in t (dropout comes at rate lambda p); the rate's
    posterior is Gamma(r + x, alpha + T), whose Laplace transform gives the power."""
    from scipy.special import roots_jacobi

    r, alpha, a, b = params
    alpha_rows = np.broadcast_to(np.asarray(alpha, dtype=np.float64), np.shape(x))
    alive = bgnbd_p_alive((r, alpha_rows, a, b), x, t_x, T)  # type: ignore[arg-type]
    t = np.broadcast_to(np.asarray(t, dtype=np.float64), np.shape(x))
    out = np.zeros(np.shape(x))
    values, index = np.unique(x, return_inverse=True)
    for k, value in enumerate(values.tolist()):
        rows = np.flatnonzero(index == k)
        if a + b + value < 1e4:
            u, w = roots_jacobi(nodes, b + value - 1, a - 1)  # weight (1 - u)^(b+x-1) (1 + u)^(a-1)
            p, w = (1 + u) / 2, w / w.sum()
        else:  # (a spread of p collapsed to its mean: one node there)
            p, w = np.array([a / (a + b + value)]), np.ones(1)
        base = (alpha_rows[rows] + T[rows])[:, None]
        survive = np.exp((r + value) * np.log(base / (base + p[None, :] * t[rows][:, None])))
        out[rows] = ((1 - survive) / p[None, :]) @ w
    result: Array = alive * out
    return result


def bgnbd_p_alive(params: Array, x: Array, t_x: Array, T: Array) -> Array:
    """P(alive at T | x, t_x, T) under BG/NBD (Fader, Hardie & Lee 2005, eq. 11): certain with
    no repeat purchase (dropout happens only after one)."""
    r, alpha, a, b = params
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        odds = np.where(
            x > 0,
            a / np.maximum(b + x - 1, 1e-300) * np.exp((r + x) * np.log((alpha + T) / (alpha + t_x))),
            0.0,
        )
    result: Array = 1 / (1 + odds)
    return result


# -- Pareto/NBD --------------------------------------------------------------------------------


def _pareto_log_a0(r: float, alpha: float, s: float, beta: float, x: Array, t_x: Array, T: Array) -> Array:
    """log A0 of the Pareto/NBD likelihood, choosing the convergent hypergeometric form."""
    rsx = r + s + x
    first: Array | float
    if alpha >= beta:
        first, base_tx, base_T, shift = s + 1, alpha + t_x, alpha + T, alpha - beta
    else:
        first, base_tx, base_T, shift = r + x, beta + t_x, beta + T, beta - alpha
    log_one = _log_hyp2f1(rsx, first, rsx + 1, shift / base_tx) - rsx * np.log(base_tx)
    log_two = _log_hyp2f1(rsx, first, rsx + 1, shift / base_T) - rsx * np.log(base_T)
    with np.errstate(divide="ignore", invalid="ignore"):
        result: Array = log_one + np.log1p(-np.exp(log_two - log_one))
    return result


def pareto_loglik(params: Array, x: Array, t_x: Array, T: Array) -> Array:
    """Per-customer log-likelihood of Pareto/NBD with params (r, alpha, s, beta)."""
    r, alpha, s, beta = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s / (r + s + x)) + _pareto_log_a0(r, alpha, s, beta, x, t_x, T)
    result: Array = common + np.logaddexp(alive, died)
    return result


def pareto_p_alive(params: Array, x: Array, t_x: Array, T: Array) -> Array:
    r, alpha, s, beta = params
    log_ratio = (
        np.log(s / (r + s + x))
        + (r + x) * np.log(alpha + T)
        + s * np.log(beta + T)
        + _pareto_log_a0(r, alpha, s, beta, x, t_x, T)
    )
    result: Array = 1 / (1 + np.exp(log_ratio))
    return result


def pareto_expected(params: Array, t: Array) -> Array:
    r, alpha, s, beta = params
    t = np.asarray(t, dtype=np.float64)
    result: Array = r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))
    return result


def pareto_conditional(params: Array, t: float, x: Array, t_x: Array, T: Array) -> Array:
    r, alpha, s, beta = params
    result: Array = (
        (r + x)
        * (beta + T)
        / ((alpha + T) * (s - 1))
        * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))
        * pareto_p_alive(params, x, t_x, T)
    )
    return result


# -- Gamma-Gamma -------------------------------------------------------------------------------


def bgnbd_gradient_grouped(
    params: Array,
    x_values: Array,
    x_index: npt.NDArray[np.int64],
    x: Array,
    t_x: Array,
    T: Array,
    weights: Array,
) -> tuple[float, Array]:
    """The weighted sum of :func:`bgnbd_loglik_grouped` and its gradient in (r, alpha, a, b)
    (:func:`bgnbd_gradient_rows` with one alpha for all)."""
    r, alpha, a, b = params
    value, slope, d_alpha = bgnbd_gradient_rows(
        np.array([r, a, b]), alpha, x_values, x_index, x, t_x, T, weights
    )
    return value, np.array([slope[0], float(d_alpha.sum()), slope[1], slope[2]])


def bgnbd_gradient_rows(
    params: Array,
    alpha: Array,
    x_values: Array,
    x_index: npt.NDArray[np.int64],
    x: Array,
    t_x: Array,
    T: Array,
    weights: Array,
) -> tuple[float, Array, Array]:
    """The weighted sum of :func:`bgnbd_loglik_grouped`, with a prior scale ``alpha`` of each
    row's own (or one for all; params are (r, a, b)), its gradient in (r, a, b), and its
    derivative in each row's alpha (weighted). The terms that depend only on x are computed
    once per distinct x (``x_values``, ``x_index``).

    With S and D the log terms of staying alive through T and of dropping out after t_x, and
    w = e^S / (e^S + e^D) (1 when x = 0), every derivative is w ∂S + (1 - w) ∂D plus the
    derivative of the common term; ∂ ln B(u, v) / ∂u = ψ(u) - ψ(u + v)."""
    r, a, b = params
    beta_ab = betaln(a, b)
    psi_ab = digamma(a + b)
    stay_x = betaln(a, b + x_values) - beta_ab
    repeat = x_values > 0
    shifted = np.maximum(b + x_values - 1, 1e-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        drop_x = np.where(repeat, betaln(a + 1, shifted) - beta_ab, -np.inf)
    psi_abx = digamma(a + b + x_values)
    stay_a, stay_b = psi_ab - psi_abx, digamma(b + x_values) - psi_abx - digamma(b) + psi_ab
    drop_a = np.where(repeat, digamma(a + 1) - psi_abx - digamma(a) + psi_ab, 0.0)
    drop_b = np.where(repeat, digamma(shifted) - psi_abx - digamma(b) + psi_ab, 0.0)
    power = r + x
    log_alpha, log_T, log_tx = np.log(alpha), np.log(alpha + T), np.log(alpha + t_x)
    stay = stay_x[x_index] - power * log_T
    drop = drop_x[x_index] - power * log_tx
    total = np.logaddexp(stay, drop)
    common = (gammaln(r + x_values) - gammaln(r))[x_index] + r * log_alpha
    value = float(np.dot(weights, common + total))
    w = np.exp(stay - total)
    v = weights * w
    u = weights - v
    counts_w = np.bincount(x_index, weights=v, minlength=x_values.size)
    counts_u = np.bincount(x_index, weights=u, minlength=x_values.size)
    counts = counts_w + counts_u
    d_r = float(
        np.dot(counts, digamma(r + x_values) - digamma(r))
        + np.sum(weights * log_alpha)
        - np.dot(v, log_T)
        - np.dot(u, log_tx)
    )
    d_alpha: Array = weights * r / alpha - v * power / (alpha + T) - u * power / (alpha + t_x)
    d_a = float(np.dot(counts_w, stay_a) + np.dot(counts_u, drop_a))
    d_b = float(np.dot(counts_w, stay_b) + np.dot(counts_u, drop_b))
    return value, np.array([d_r, d_a, d_b]), d_alpha


def gamma_gamma_gradient(params: Array, x: Array, mean: Array, weights: Array) -> tuple[float, Array]:
    """The weighted sum of :func:`gamma_gamma_loglik` and its gradient in (p, q, gamma)."""
    p, q, gamma = params
    px = p * x
    log_mean, log_x, log_total = np.log(mean), np.log(x), np.log(gamma + mean * x)
    psi_sum = digamma(px + q)
    value = float(
        np.dot(
            weights,
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(gamma)
            + (px - 1) * log_mean
            + px * log_x
            - (px + q) * log_total,
        )
    )
    d_p = float(np.dot(weights, x * (psi_sum - digamma(px) + log_mean + log_x - log_total)))
    d_q = float(np.dot(weights, psi_sum - digamma(q) + np.log(gamma) - log_total))
    d_gamma = float(np.dot(weights, q / gamma - (px + q) / (gamma + mean * x)))
    return value, np.array([d_p, d_q, d_gamma])


def gamma_gamma_loglik(params: Array, x: Array, mean: Array) -> Array:
    """Log-density of each repeat customer's average spend ``mean`` over ``x`` repeat purchases."""
    p, q, gamma = params
    px = p * x
    result: Array = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(mean)
        + px * np.log(x)
        - (px + q) * np.log(gamma + mean * x)
    )
    return result


# -- shifted-beta-geometric ----------------------------------------------------------------------


def sbg_loglik(params: Array, survivors: Array) -> float:
    """Log-likelihood of cohort survivor counts (period 0 first) under sBG(alpha, beta)."""
    alpha, beta = params
    periods = np.arange(1, survivors.size)
    lost = survivors[:-1] - survivors[1:]
    log_p = betaln(alpha + 1, beta + periods - 1) - betaln(alpha, beta)
    log_s = betaln(alpha, beta + periods[-1]) - betaln(alpha, beta)
    return float(np.sum(lost * log_p) + survivors[-1] * log_s)


def sbg_survival(params: Array, periods: int) -> Array:
    """S(t) for t = 0..periods: the share of a cohort still a member at the start of period t."""
    alpha, beta = params
    t = np.arange(periods + 1, dtype=np.float64)
    result: Array = np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))
    return result
