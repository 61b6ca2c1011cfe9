"""Keeping freed memory in the process for reuse (glibc's malloc options), once per process,
numpy's arrays in small pages (:func:`small_pages`), and Python's cycle collector paused
through a replay (:func:`collector_paused`).

Where: called by the simulator (each replication, in whatever process runs it) and by the
transaction replay (``loyalsim earn``) before their work starts.
Why: both allocate and free arrays of up to millions of elements over and over (a day's
purchases, a month's statements, a file's columns). By default glibc hands a freed block
of 128 KiB or more back to the kernel and trims the top of its heap, so the next array of
that size takes fresh pages: a page fault each, plus zeroing, and on a virtual machine the
hypervisor may have to back the page again. Measured on the 2-core CI-like machine
(benchmarks/README.md): 100,000 simulated customers over a year took 13,000-36,000 fresh
pages per replication and 0.27-0.35 s, and 1,000-14,000 pages and 0.23-0.29 s with freed
memory kept; replaying 10M rows went from 9.9-10.8 s to 7.9-9.1 s. The cost is a peak
about 5-10% higher (memory freed is not handed back until the process ends).

``LOYALSIM_KEEP_MEMORY=0`` leaves the allocator's defaults alone. Other platforms and C
libraries (macOS, musl) are left alone too.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
from collections.abc import Callable, Iterator
from functools import cache
from typing import cast

_M_TRIM_THRESHOLD = -1  # from glibc's malloc.h
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
_TRIM_ABOVE = 1 << 30  # free memory at the top of the heap beyond this (1 GiB) is still handed back


@cache
def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt`` (returns 1 on success, 0 on error), or None: not Linux, not glibc,
    or ``LOYALSIM_KEEP_MEMORY=0``."""
    if not sys.platform.startswith("linux") or os.environ.get("LOYALSIM_KEEP_MEMORY", "1") == "0":
        return None
    try:
        mallopt = ctypes.CDLL("libc.so.6", use_errno=True).mallopt
    except (OSError, AttributeError):  # not glibc
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return cast(Callable[[int, int], int], mallopt)


@cache
def keep_freed_memory() -> bool:
    """Ask glibc to keep freed blocks for reuse (no mmap for large blocks, little trimming).

    Returns whether the options are in force. The work is done once per process (remembered).
    """
    mallopt = _mallopt()
    return mallopt is not None and mallopt(_M_MMAP_MAX, 0) == 1 and mallopt(_M_TRIM_THRESHOLD, _TRIM_ABOVE) == 1


@cache
def one_arena() -> bool:
    """Ask glibc to serve every thread from one heap (before threads allocate), so that a block
    freed by one thread is reused by any other instead of staying in the freeing thread's heap.

    For the replay's engines on threads (``replay.parts``): peak 1.61-1.64 GB → 1.40-1.46 GB
    on 10M rows. ``loyalsim earn`` asks first of all, before pyarrow is imported: asked after
    that import (even before reading), the replay of 10M rows took 50-120 thousand page
    faults; asked before, 31-34 thousand, in 0.35-0.5 s of system time on a quiet machine.
    Not for simulations: their thread beside measured about 5% slower with it.
    Same conditions and switch as :func:`keep_freed_memory`, whose options it applies too.
    """
    mallopt = _mallopt()
    return keep_freed_memory() and mallopt is not None and mallopt(_M_ARENA_MAX, 1) == 1


def small_pages() -> bool:
    """Ask numpy not to request transparent huge pages (2 MiB) for its large arrays.

    Why: numpy asks the kernel for huge pages for every array of 4 MiB or more. On the
    2-core virtual machine like CI's, the first touch of such memory is slow: 160 MB of new
    array first touched in 0.32-0.38 s with huge pages, 0.065 s without (each 2 MiB page is
    zeroed, and the host backs it, in one go). ``loyalsim earn`` on 10M rows touches about
    1.2 GB once: 4.6-5.9 s with huge pages (1.9-2.3 s of system time), 4.2-4.3 s without
    (0.8 s), measured alternately in the same hour. ``loyalsim simulate`` of a million
    customers over a year: 4.8-5.3 s with huge pages (1.5-2.0 s of system time), 4.2-4.3 s
    without (0.9 s). Random reads would gain from fewer TLB misses on huge pages, but less
    than the faults cost here. Asked before numpy is imported, the setting is an environment
    variable, which worker processes inherit.

    ``LOYALSIM_HUGE_PAGES=1`` keeps numpy's choice (machines whose huge pages fault quickly).
    Works best before numpy is imported (it then reads ``NUMPY_MADVISE_HUGEPAGE``); after,
    numpy's own switch is used. Returns whether huge pages are now off for numpy's arrays.
    """
    if os.environ.get("LOYALSIM_HUGE_PAGES") == "1":
        return False
    if "numpy" not in sys.modules:
        os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
        return True
    import importlib

    for where in ("numpy._core.multiarray", "numpy.core.multiarray"):  # numpy 2, numpy 1
        try:
            switch = importlib.import_module(where)._set_madvise_hugepage
        except (ImportError, AttributeError):
            continue
        switch(False)
        return True
    return False


def for_replay() -> None:
    """The memory settings of ``loyalsim earn``: small pages and one arena (see both). Best
    called before numpy and pyarrow are imported; calling again does nothing more."""
    small_pages()
    one_arena()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with Python's cycle collector off (back on after, if it was on).

    For ``loyalsim earn``, from before its imports to its last file. Why: a replay makes
    few reference cycles but many small container objects (per day and per month), enough to
    start collections, and every full collection walks every object alive: the modules
    imported (numba and pyarrow bring about a hundred thousand) and the array of a million
    customer ids, while holding the interpreter lock the other engine needs. Measured on
    10M rows, alternating runs: 3.81-3.97 s with the collector, 3.67-3.81 s without
    (0.1-0.3 s less CPU). Whatever cycles the block leaves are collected after it.
    ``LOYALSIM_KEEP_MEMORY=0`` leaves the collector alone too.
    """
    pause = gc.isenabled() and os.environ.get("LOYALSIM_KEEP_MEMORY", "1") != "0"
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause:
            gc.enable()
