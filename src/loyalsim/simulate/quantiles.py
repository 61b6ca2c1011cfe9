"""Fast inverse Gamma CDF for drawing amounts by inversion.

``scipy.special.gammaincinv`` is exact but slow (it dominated simulation time). The
logarithm of the inverse CDF is smooth as a function of the normal quantile
z = Phi^-1(u) (close to quadratic in the tails), so a table of 65,537 exact values of
log x over z in [-8.5, 8.5], interpolated linearly, reproduces the quantile to a relative
error below 1e-7 for shapes from 0.3 up (tested; about 3e-8 at worst), far below the
rounding of amounts to the cent.
Uniforms from :mod:`loyalsim.simulate.streams` never fall outside that range (|z| < 8.3).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy.special import gammaincinv, ndtr, ndtri

Array = npt.NDArray[np.float64]
_Z = np.linspace(-8.5, 8.5, 65_537)
_STEPS = (_Z.size - 1) / (_Z[-1] - _Z[0])  # table points per unit of z


@lru_cache(maxsize=64)
def _table(shape: float) -> tuple[Array, Array]:
    """log x at each table point, and the slope to the next (0 where log x is not finite)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        values: Array = np.log(gammaincinv(shape, ndtr(_Z)))
        slopes = np.append(np.diff(values), 0.0)
    slopes[~np.isfinite(slopes)] = 0.0
    return values, slopes


def gamma_quantile(shape: float, u: Array) -> Array:
    """Quantile of Gamma(shape, scale 1) at ``u``: exact table interpolation, exact fallback in the far tails."""
    values, slopes = _table(float(shape))
    z = ndtri(u)
    outside = np.abs(z) >= _Z[-1]
    # The grid is uniform, so the cell is found by arithmetic, in place (np.interp's binary
    # search per value cost four times as much).
    position = z
    position -= _Z[0]
    position *= _STEPS
    if outside.any():
        position[outside] = 0.0
    cell = position.astype(np.intp)
    position -= cell
    position *= slopes.take(cell)
    position += values.take(cell)
    result: Array = np.exp(position, out=position)
    if outside.any():
        result[outside] = gammaincinv(shape, u[outside])
    return result
