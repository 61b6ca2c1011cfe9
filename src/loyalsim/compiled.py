"""Compiled loops (numba) for the per-purchase and per-lot work of the simulator and replay.

Where: the points ledger, the replay engine's per-round bookkeeping, the simulator's
random streams and scheduling, and the transaction reader (day sort, within-day ranks,
amounts, blank ids) — so ``earn``, ``explain`` and ``simulate`` load numba, and
``loyalsim validate`` never does (a test checks). Why: those loops touch each purchase or
lot a handful of times; as numpy operations they cost a few dozen passes over
million-element arrays (or, at small sizes, a few dozen calls' fixed cost) per day.
Compiled, one pass does it.

Each kernel is compiled once per machine and cached beside its module (numba's
``cache=True``; ``NUMBA_CACHE_DIR`` moves the cache): the first run after installing
pays a few seconds of compilation, later runs none. numba checks a cached kernel against
its own source file only: a kernel that calls one from another module (``_earn`` calls
``round_div``) keeps its cached copy when only the callee's file is edited. Installing a
release rewrites every file, so this concerns editable installs only: ``make clean-kernels``
after such an edit. Kernels hold no state of their own and
do exact integer arithmetic (or the same float operations numpy would do), so compiling
changes no result. :func:`on_threads` runs several at once (a large file's halves).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

F = TypeVar("F", bound=Callable[..., Any])

_BLAS = "scipy.linalg.cython_blas"


def _load_numpy_support() -> None:
    """Load numba's numpy support now, without its check for a BLAS.

    Why: the first call of any kernel loads numba's numpy support, whose module checks that
    a BLAS is there by importing all of scipy's linear algebra (a noticeable part of a short
    ``loyalsim earn``: benchmarks/README.md), for nothing, since no kernel here does linear
    algebra.
    (Were one to call ``np.dot``, numba would compile its own loop instead of calling BLAS.)
    Unless scipy's linear algebra is loaded already (then the check is free and runs as
    usual), its BLAS module is marked as missing while numba's numpy support loads, and
    unmarked after: a later ``import scipy.linalg`` works as always.
    """
    if _BLAS in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    # None in sys.modules means "not importable" to the import system.
    sys.modules[_BLAS] = None  # type: ignore[assignment]
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if sys.modules.get(_BLAS, 0) is None:
            del sys.modules[_BLAS]


_load_numpy_support()


def kernel(function: F) -> F:
    """Compile ``function`` with numba (no Python objects inside; cached on disk; releases the GIL)."""
    return cast(F, numba.njit(cache=True, nogil=True)(function))


def on_threads(calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[Any]:
    """Run compiled loops (they release the interpreter) at once, one thread each (the last on
    this one); their results, in order. For loops that write disjoint ranges, or the same
    value to a shared slot (a mark): running them at once then gives what running them in
    turn gives."""
    if len(calls) == 1:
        function, arguments = calls[0]
        return [function(*arguments)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(calls) - 1) as pool:
        futures = [pool.submit(function, *arguments) for function, arguments in calls[:-1]]
        function, arguments = calls[-1]
        last = function(*arguments)
        return [future.result() for future in futures] + [last]
