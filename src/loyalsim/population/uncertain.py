"""Response parameters stated as distributions, drawn once per replication.

Where: the population stage (scenario loading) and the simulator's per-replication draw.
A behavioural response may be a number or a distribution:

- ``{low, mode, high}``: triangular (the usual three-point estimate of an assumption);
- ``{mean, sd}``: normal, truncated to the parameter's range (lifts at 0, shares at 0 and 1).

Each replication draws every uncertain parameter of every segment once, by the inverse CDF of
one uniform from the replication's own stream, so a forecast's bands carry the assumption's
uncertainty beside Monte Carlo noise, and the program arm, the control and every program of a
``compare`` see the same value (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

# Each response's range (the schema's bounds): truncation of a normal, clipping of nothing else.
UNIT = (0.0, 1.0)
NONNEGATIVE = (0.0, math.inf)
BOUNDS: dict[str, tuple[float, float]] = {
    "enrolment_rate": UNIT,
    "frequency_lift": NONNEGATIVE,
    "enrolment_delay": NONNEGATIVE,
    "enrolment_selection": NONNEGATIVE,
    "lift_duration": NONNEGATIVE,
    "churn_reduction": UNIT,
    "redemption_propensity": UNIT,
    "goal_gradient": NONNEGATIVE,
    "post_reward_lift": NONNEGATIVE,
    "membership_take_up": UNIT,
    "trial_conversion": UNIT,
    "referral_rate": NONNEGATIVE,
    "referee_conversion": UNIT,
    "cashback_lift": NONNEGATIVE,
    "community_retention": UNIT,
    "reminder_response": UNIT,
    "value_affinity": UNIT,
    "donation_propensity": UNIT,
}
_STANDARD = NormalDist()


@dataclass(frozen=True)
class Uncertain:
    """One response parameter's distribution: ``triangular`` (a, b, c = low, mode, high) or
    ``normal`` (a, b = mean, sd; truncated to [lower, upper])."""

    kind: str
    a: float
    b: float
    c: float = 0.0
    lower: float = 0.0
    upper: float = math.inf

    @property
    def central(self) -> float:
        """The stated central value (mode or mean): what a run without draws would use."""
        return self.b if self.kind == "triangular" else self.a

    def quantile(self, p: float) -> float:
        """The value below which a share ``p`` of draws fall (the inverse CDF)."""
        if self.kind == "triangular":
            low, mode, high = self.a, self.b, self.c
            if high <= low:
                return low
            split = (mode - low) / (high - low)
            if p <= split:
                return low + math.sqrt(p * (high - low) * (mode - low))
            return high - math.sqrt((1.0 - p) * (high - low) * (high - mode))
        mean, sd = self.a, self.b
        if sd <= 0:
            return min(max(mean, self.lower), self.upper)
        below = _STANDARD.cdf((self.lower - mean) / sd) if math.isfinite(self.lower) else 0.0
        above = _STANDARD.cdf((self.upper - mean) / sd) if math.isfinite(self.upper) else 1.0
        q = below + p * (above - below)
        q = min(max(q, 1e-15), 1.0 - 1e-15)  # inv_cdf is undefined at 0 and 1
        return min(max(mean + sd * _STANDARD.inv_cdf(q), self.lower), self.upper)

    def describe(self) -> dict[str, Any]:
        """The distribution as the scenario states it (for summaries)."""
        if self.kind == "triangular":
            return {"distribution": "triangular", "low": self.a, "mode": self.b, "high": self.c}
        return {"distribution": "normal", "mean": self.a, "sd": self.b}


def parse(name: str, value: Any) -> float | Uncertain:
    """A validated response value: a number, or a distribution mapping (schema-checked)."""
    if isinstance(value, dict):
        lower, upper = BOUNDS.get(name, NONNEGATIVE)
        if "mode" in value:
            return Uncertain(
                "triangular", float(value["low"]), float(value["mode"]), float(value["high"]), lower, upper
            )
        return Uncertain("normal", float(value["mean"]), float(value["sd"]), 0.0, lower, upper)
    return float(value)
