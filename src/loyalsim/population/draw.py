"""Drawing synthetic customers from the models (vectorised, from a numpy Generator).

Where: recovery tests and benchmarks of ``fit`` use these; the simulator draws its
customers the same way.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


def bgnbd_summaries(rng: np.random.Generator, params: tuple[float, float, float, float], T: Array
                    ) -> tuple[Array, Array]:
    """(x, t_x) for customers observed for ``T``: Poisson purchases at rate ~ Gamma(r, alpha),
    dropping out after each repeat purchase with probability ~ Beta(a, b)."""
    r, alpha, a, b = params
    rate = rng.gamma(r, 1 / alpha, T.size)
    p = rng.beta(a, b, T.size)
    purchases = rng.poisson(rate * T)
    last_repeat = rng.geometric(p)  # the repeat purchase after which the customer drops out
    x = np.minimum(purchases, last_repeat)
    # The x-th of n uniform arrival times on (0, T) is T * Beta(x, n - x + 1).
    k = np.maximum(x, 1)
    t_x = np.where(x > 0, T * rng.beta(k, np.maximum(purchases - k + 1, 1)), 0.0)
    return x.astype(np.float64), t_x


def pareto_summaries(rng: np.random.Generator, params: tuple[float, float, float, float], T: Array
                     ) -> tuple[Array, Array]:
    """(x, t_x) under Pareto/NBD: rate ~ Gamma(r, alpha), lifetime ~ Exp(mu), mu ~ Gamma(s, beta)."""
    r, alpha, s, beta = params
    rate = rng.gamma(r, 1 / alpha, T.size)
    mu = rng.gamma(s, 1 / beta, T.size)
    with np.errstate(divide="ignore", over="ignore"):  # mu drawn as 0: never dies (inf, then capped at T)
        alive = np.minimum(rng.exponential(1 / mu), T)
    x = rng.poisson(rate * alive)
    t_x = np.where(x > 0, alive * rng.uniform(size=T.size) ** (1 / np.maximum(x, 1)), 0.0)
    return x.astype(np.float64), t_x


def gamma_gamma_means(rng: np.random.Generator, params: tuple[float, float, float], x: Array) -> Array:
    """Average spend of ``x`` transactions: z ~ Gamma(p, nu), nu ~ Gamma(q, gamma) per customer."""
    p, q, gamma = params
    nu = rng.gamma(q, 1 / gamma, x.size)
    total = rng.gamma(p * np.maximum(x, 1), 1 / nu)
    result: Array = np.where(x > 0, total / np.maximum(x, 1), np.nan)
    return result


def sbg_survivors(rng: np.random.Generator, params: tuple[float, float], cohort: int, periods: int) -> Array:
    """Survivor counts at the start of periods 0..periods for a cohort under sBG(alpha, beta)."""
    alpha, beta = params
    churn = rng.beta(alpha, beta, cohort)
    lifetime = rng.geometric(churn)  # the period in which each member leaves
    result: Array = np.array([(lifetime > t).sum() for t in range(periods + 1)], dtype=np.float64)
    return result
