"""Drawing synthetic customers from the models (vectorised, from a numpy Generator).

Where: the population stage. The simulator draws each replication's customers here
(:func:`draw_customers`, :func:`draw_population`); recovery tests and benchmarks of ``fit``
use the summaries' draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loyalsim.population.history import History
from loyalsim.population.scenario import Scenario

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DAYS_PER_MONTH = 30.436875  # a Gregorian month on average: arrivals are spread over months of this length


@dataclass
class Customers:
    """Everyone who will exist in one replication, drawn up front (initial customers and arrivals)."""

    birth: IntArray  # day offset of the first purchase (-1: an existing customer, before day 0)
    segment: IntArray
    rate: Array  # purchases per day
    dropout_u: Array  # uniform behind the number of repeat purchases before dropping out (BG/NBD)
    dropout_p: Array  # BG/NBD dropout probability after each repeat purchase (0 for Pareto/NBD)
    death: Array  # Pareto/NBD: day offset of death (inf for BG/NBD)
    spend_shape: Array
    spend_scale: Array
    lognormal: npt.NDArray[np.bool_]
    enrol_u: Array
    # Existing customers (a history population): their index in the history's summary; -1 for
    # customers drawn from a segment. They make no first purchase: their purchase clock starts
    # at the beginning of day 0 (time -1), as if just observed alive.
    origin: IntArray

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
        "origin",
    )

    @property
    def existing(self) -> npt.NDArray[np.bool_]:
        """Customers of the history (no first purchase in the forecast)."""
        found: npt.NDArray[np.bool_] = self.origin >= 0
        return found

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
    """The history's customers (if any), then initial customers and monthly arrivals, with their
    segment's heterogeneity."""
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
    drawn = draw_population(scenario, rng, np.concatenate(births))
    if scenario.history is None:
        return drawn
    return draw_existing(scenario.history, len(scenario.segments) - 1, rng).extended(drawn)


def draw_population(scenario: Scenario, rng: np.random.Generator, birth: IntArray) -> Customers:
    """Customers born on ``birth`` (day offsets), each with a segment and that segment's heterogeneity."""
    n = birth.size
    if n == 0:  # (a history alone may have no segment to draw from)
        empty = np.zeros(0)
        return Customers(
            birth,
            birth.copy(),
            empty,
            empty,
            empty,
            empty,
            empty,
            empty,
            np.zeros(0, bool),
            empty,
            birth.copy(),
        )
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
        birth,
        segment,
        rate,
        rng.random(n),
        dropout_p,
        death + birth,
        shape,
        scale,
        lognormal,
        rng.random(n),
        np.full(n, -1, dtype=np.int64),
    )


def draw_existing(history: History, segment: int, rng: np.random.Generator) -> Customers:
    """The history's customers, each drawn from their posterior given (x, t_x, T) and their
    average spend (docs/forecast.md has the derivations):

    - BG/NBD: alive with P(alive | x, t_x, T); if alive, rate ~ Gamma(r + x, alpha + T) and
      dropout probability ~ Beta(a, b + x) (each future purchase may be their last);
    - Pareto/NBD: alive with P(alive | x, t_x, T); if alive, rate ~ Gamma(r + x, alpha + T)
      and death rate ~ Gamma(s, beta + T), the remaining lifetime exponential (memoryless);
    - Gamma-Gamma: spend scale nu ~ Gamma(q + p x, gamma + x m_x) (m_x their average repeat
      spend; the prior for x = 0).

    The parameters are the replication's (``History.parameters``: the estimates, or a draw from
    the fit's sampling distribution). A customer drawn dead never buys again (their points, if
    any, still expire or stay).
    Times are in days from the beginning of day 0 (time -1, the day after ``as_of``)."""
    from loyalsim.population import models

    summary = history.summary
    assert summary is not None
    n = summary.customers
    x, t_x, T = summary.x, summary.t_x, summary.T
    purchase_params, spend_params = history.parameters(rng)
    r, alpha, third, fourth = purchase_params
    params = np.array(purchase_params)
    if history.purchase_model == "bgnbd":
        alive_p = models.bgnbd_p_alive(params, x, t_x, T)
    else:
        alive_p = models.pareto_p_alive(params, x, t_x, T)
    alive = rng.random(n) < alive_p
    rate_units = rng.gamma(r + x, 1 / (alpha + T))
    rate = np.where(alive, rate_units / history.days_per_unit, 0.0)
    dropout_p = np.zeros(n)
    death = np.where(alive, np.inf, -1.0)
    if history.purchase_model == "bgnbd":
        dropout_p = rng.beta(third, fourth + x)
    else:
        with np.errstate(divide="ignore", over="ignore"):  # a death rate of 0: never dies (inf)
            lifetime = rng.exponential(1 / rng.gamma(third, 1 / (fourth + T))) * history.days_per_unit
        death = np.where(alive, lifetime - 1.0, -1.0)
    p, q, gamma = spend_params
    spent = np.where(x > 0, np.nan_to_num(summary.mean_spend) * x, 0.0)
    scale = rng.gamma(q + p * x, 1 / (gamma + spent))
    return Customers(
        np.full(n, -1, dtype=np.int64),  # born before the forecast: no first purchase in it
        np.full(n, segment, dtype=np.int64),
        rate,
        rng.random(n),
        dropout_p,
        death,
        np.full(n, p),
        scale,
        np.zeros(n, dtype=bool),
        rng.random(n),
        np.arange(n, dtype=np.int64),
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
