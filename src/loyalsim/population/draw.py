"""Drawing synthetic customers from the models (vectorised, from a numpy Generator).

Where: the population stage. The simulator draws each replication's customers here
(:func:`draw_customers`, :func:`draw_population`); recovery tests and benchmarks of ``fit``
use the summaries' draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loyalsim.population.scenario import Scenario

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DAYS_PER_MONTH = 30.436875  # a Gregorian month on average: arrivals are spread over months of this length


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

    FIELDS = (
        "birth",
        "segment",
        "rate",
        "dropout_u",
        "dropout_p",
        "death",
        "spend_shape",
        "spend_scale",
        "lognormal",
        "enrol_u",
    )

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
        order = np.concatenate(
            (
                np.argsort(-self.rate[:initial], kind="stable"),
                initial + np.argsort(-self.rate[initial:], kind="stable"),
            )
        )
        return Customers(*(getattr(self, f)[order] for f in self.FIELDS))


def draw_customers(scenario: Scenario, rng: np.random.Generator) -> Customers:
    """Initial customers and monthly arrivals, with their segment's heterogeneity."""
    months = int(np.ceil(scenario.days / DAYS_PER_MONTH))
    arrivals = (
        rng.poisson(scenario.arrivals_per_month, months) if scenario.arrivals_per_month else np.zeros(0, int)
    )
    births = [np.zeros(scenario.initial, dtype=np.int64)]
    for m, count in enumerate(arrivals.tolist()):
        births.append(
            np.minimum(
                (m * DAYS_PER_MONTH + rng.uniform(0, DAYS_PER_MONTH, count)).astype(np.int64),
                scenario.days - 1,
            )
        )
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
    return Customers(
        birth, segment, rate, rng.random(n), dropout_p, death + birth, shape, scale, lognormal, rng.random(n)
    )


def bgnbd_summaries(
    rng: np.random.Generator, params: tuple[float, float, float, float], T: Array
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


def pareto_summaries(
    rng: np.random.Generator, params: tuple[float, float, float, float], T: Array
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
