"""Compiled loops: numba's numpy support loads without scipy's linear algebra, which still
imports as usual afterwards; loops run at once on threads give their results in order."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from loyalsim.compiled import kernel, on_threads


@pytest.mark.slow
def test_the_first_kernel_call_does_not_import_scipy_linear_algebra_which_still_works_after() -> None:
    probe = (
        "import sys\n"
        "import numpy as np\n"
        "from loyalsim.transactions.plain_csv import _count_breaks\n"
        "print('breaks', _count_breaks(np.frombuffer(b'a\\nb\\n', dtype=np.uint8), 0, 4))\n"
        "print('linalg loaded', 'scipy.linalg' in sys.modules)\n"
        "import scipy.linalg\n"
        "print('inverse', scipy.linalg.inv([[4.0]])[0][0])\n"
        "import numba\n"
        "@numba.njit\n"
        "def dot(a, b):\n"
        "    return np.dot(a, b)\n"
        "print('dot', dot(np.arange(3.0), np.arange(3.0)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == ["breaks 2", "linalg loaded False", "inverse 0.25", "dot 5.0"]


@kernel
def _fill(out: np.ndarray, start: int, stop: int, value: int) -> int:  # type: ignore[type-arg]
    for i in range(start, stop):
        out[i] = value
    return stop - start


def test_on_threads_runs_each_call_and_keeps_their_order() -> None:
    out = np.zeros(10, dtype=np.int64)
    counts = on_threads([(_fill, (out, 0, 3, 1)), (_fill, (out, 3, 10, 2))])
    assert counts == [3, 7]
    assert out.tolist() == [1] * 3 + [2] * 7
    assert on_threads([(_fill, (out, 0, 10, 5))]) == [10]
    assert out.tolist() == [5] * 10
