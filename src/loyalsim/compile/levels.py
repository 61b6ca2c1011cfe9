"""Which tier level a qualification metric reaches: the one implementation, compiled.

Where: :meth:`loyalsim.compile.mechanics.Tiers.level_for` (requalification, month-end
upgrades) and the replay engine's compiled round bookkeeping (immediate upgrades) both
call :func:`level_of`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from loyalsim.compiled import kernel

IntArray = npt.NDArray[np.int64]


@kernel
def level_of(thresholds: IntArray, metric: int) -> int:
    """The highest level whose threshold ``metric`` reaches (thresholds ascending); 0 if none."""
    level = 0
    for j in range(1, thresholds.size):
        if thresholds[j] <= metric:
            level = j
    return level


@kernel
def levels_of(thresholds: IntArray, metrics: IntArray) -> IntArray:
    """:func:`level_of` for each metric."""
    out = np.empty(metrics.size, dtype=np.int64)
    for i in range(metrics.size):
        out[i] = level_of(thresholds, metrics[i])
    return out
