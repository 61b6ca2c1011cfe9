"""The statistics of a figure across replications: its mean and percentiles.

Where: the measure stage; every summary, comparison, guardrail and sweep row uses these, so a
figure's P5 means the same everywhere (numpy's default linear interpolation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt


def band(
    values: Sequence[float] | npt.NDArray[np.float64], percentiles: tuple[int, ...] = (5, 50, 95)
) -> dict[str, float]:
    """``{"mean": ..., "p5": ..., "p50": ..., "p95": ...}`` of ``values`` (the percentiles asked)."""
    array = np.asarray(values, dtype=float)
    out = {"mean": float(array.mean())}
    out.update({f"p{p}": float(np.percentile(array, p)) for p in percentiles})
    return out
