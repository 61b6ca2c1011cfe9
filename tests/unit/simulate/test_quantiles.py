"""The tabulated inverse Gamma CDF against scipy's exact one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaincinv

from loyalsim.simulate.quantiles import gamma_quantile
from loyalsim.simulate.streams import uniforms


@pytest.mark.parametrize("shape", [0.3, 1.0, 2.0, 6.25, 40.0])
def test_table_matches_the_exact_quantile(shape: float) -> None:
    u = np.concatenate((uniforms(9, 2, np.arange(200_000), np.zeros(200_000)), [1e-15, 0.5, 1 - 1e-15]))
    exact = gammaincinv(shape, u)
    approx = gamma_quantile(shape, u)
    relative = np.abs(approx - exact) / np.maximum(exact, 1e-300)
    assert relative.max() < 1e-7
    # Amounts of about $50 rounded to the cent: identical in practically every draw.
    cents_exact = np.rint(exact / exact.mean() * 5000)
    cents_table = np.rint(approx / exact.mean() * 5000)
    assert (cents_exact != cents_table).mean() < 1e-4
