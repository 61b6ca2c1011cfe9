"""What a simulated purchase is: its amount, category and channel, drawn from the customer's own streams.

Where: the simulate stage, for both arms. A purchase's draws key on the customer and the
purchase's number in their life, never on the arm or the day, so the control and the
program arm see the same amounts (common random numbers) and a lifted rate only adds
purchases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

from loyalsim.population.draw import Customers
from loyalsim.population.scenario import Scenario
from loyalsim.simulate import streams
from loyalsim.simulate.quantiles import gamma_quantile

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Spend:
    """Amounts in minor units of purchases, by customer and purchase number (0 = first)."""

    customers: Customers
    key: int
    unit: int  # minor units per unit of the models' money
    one_gamma_shape: float | None  # every customer's spend is Gamma-Gamma with this p (one fast path)

    @classmethod
    def of(cls, scenario: Scenario, customers: Customers, key: int, unit: int) -> Spend:
        # From the customers, not the segments: a history's customers carry their replication's
        # drawn p (parameter uncertainty), which may differ from its segment's estimate.
        gamma = ~customers.lognormal
        shapes = np.unique(customers.spend_shape[gamma]) if gamma.all() else np.zeros(0)
        one = float(shapes[0]) if shapes.size == 1 else None
        return cls(customers, key, unit, one)

    def __call__(self, who: IntArray, purchase: IntArray) -> IntArray:
        """Amount of purchase number ``purchase`` of each customer: the same in both arms."""
        u = streams.uniforms(self.key, streams.AMOUNT, who, purchase)
        customers = self.customers
        if self.one_gamma_shape is not None:
            amount = gamma_quantile(self.one_gamma_shape, u)
            amount /= customers.spend_scale[who]
        else:
            shape, scale = customers.spend_shape[who], customers.spend_scale[who]
            normal = customers.lognormal[who]
            amount = np.empty(who.size)
            gamma = ~normal
            if gamma.any():
                for value in np.unique(shape[gamma]).tolist():  # one shape per segment
                    sel = gamma & (shape == value)
                    amount[sel] = gamma_quantile(value, u[sel]) / scale[sel]
            amount[normal] = np.exp(shape[normal] + scale[normal] * ndtri(u[normal]))
        amount *= self.unit
        return np.maximum(np.rint(amount, out=amount), 1).astype(np.int64)


@dataclass(frozen=True)
class Basket:
    """Each segment's mix of categories and channels, as cumulative shares over shared code tables."""

    categories: npt.NDArray[np.object_]
    channels: npt.NDArray[np.object_]
    category_cdf: Array  # [segment, category]
    channel_cdf: Array

    @classmethod
    def of(cls, scenario: Scenario) -> Basket | None:
        if not any(s.basket_category or s.basket_channel for s in scenario.segments):
            return None
        categories = sorted({name for s in scenario.segments for name, _ in s.basket_category})
        channels = sorted({name for s in scenario.segments for name, _ in s.basket_channel})

        def cdf(table: list[str], mixes: list[tuple[tuple[str, float], ...]]) -> Array:
            out = np.zeros((len(mixes), max(len(table), 1)))  # a row of zeros: no mix, code -1
            for row, mix in enumerate(mixes):
                shares = np.array([dict(mix).get(name, 0.0) for name in table])
                if shares.sum() > 0:
                    out[row] = np.cumsum(shares) / shares.sum()
            return out

        return cls(
            np.array(categories, dtype=object),
            np.array(channels, dtype=object),
            cdf(categories, [s.basket_category for s in scenario.segments]),
            cdf(channels, [s.basket_channel for s in scenario.segments]),
        )

    def draw(self, key: int, segment: IntArray, who: IntArray, number: IntArray) -> tuple[IntArray, IntArray]:
        """Category and channel codes of purchase ``number`` of each customer (-1: the segment has no mix)."""
        codes = []
        for stream, table, cdf in (
            (streams.CATEGORY, self.categories, self.category_cdf),
            (streams.CHANNEL, self.channels, self.channel_cdf),
        ):
            u = streams.uniforms(key, stream, who, number)
            rows = cdf[segment]
            code = (u[:, None] > rows).sum(axis=1)
            has_mix = rows[:, -1] > 0 if table.size else np.zeros(who.size, dtype=bool)
            codes.append(np.where(has_mix, np.minimum(code, max(table.size - 1, 0)), -1).astype(np.int64))
        return codes[0], codes[1]
