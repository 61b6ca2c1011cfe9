"""Process-wide settings that make loyalsim's own processes faster, applied only at the doors.

Where: shared. Called by the command line's entry points (``loyalsim earn`` and the
simulation commands, before numpy is imported) and by the initialisers of the worker
processes loyalsim starts (local workers, ``--cluster local``). No library function calls
this module, so a notebook or a shared Dask worker that calls loyalsim keeps its process as
it was. docs/architecture.md has the table of settings; benchmarks/README.md their measured
gains (``benchmarks/bench_tuning.py``).

``LOYALSIM_TUNING`` chooses them: unset or ``all`` (every setting of the job), ``none``, a
comma-separated list of the settings to apply, or of settings to leave out, each with a
leading ``-`` (``-one_arena,-collector``).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Literal, cast

from loyalsim.errors import UsageError

Job = Literal["replay", "simulate"]
# Every setting, and the jobs it is applied for.
SETTINGS: dict[str, tuple[Job, ...]] = {
    "keep_memory": ("replay", "simulate"),  # glibc keeps freed blocks for reuse
    "small_pages": ("replay", "simulate"),  # numpy does not ask for transparent huge pages
    "one_arena": ("replay",),  # glibc serves every thread from one heap
    "collector": ("replay",),  # Python's cycle collector is paused while the command runs
    "switch_interval": ("replay",),  # the interpreter switches threads every 0.1 ms
}
SWITCH_INTERVAL = 0.0001
_M_TRIM_THRESHOLD = -1  # from glibc's malloc.h
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
_TRIM_ABOVE = 1 << 30  # free memory at the top of the heap beyond this (1 GiB) is still handed back


def chosen(environ: Mapping[str, str] = os.environ) -> frozenset[str]:
    """The settings ``LOYALSIM_TUNING`` allows (UsageError on a name that is not a setting)."""
    text = environ.get("LOYALSIM_TUNING", "all").strip()
    if text in ("", "all"):
        return frozenset(SETTINGS)
    if text == "none":
        return frozenset()
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name.lstrip("-") not in SETTINGS]
    if unknown:
        raise UsageError(
            f"LOYALSIM_TUNING: {', '.join(unknown)} is not a setting; choose from all, none, or "
            f"{', '.join(SETTINGS)} (a leading '-' leaves one out)"
        )
    if all(name.startswith("-") for name in names):
        return frozenset(SETTINGS) - {name[1:] for name in names}
    if any(name.startswith("-") for name in names):
        raise UsageError(
            "LOYALSIM_TUNING: list the settings to apply, or those to leave out with '-', not both"
        )
    return frozenset(names)


def apply(job: Job) -> frozenset[str]:
    """Apply the settings of ``job`` that stay for the process's life (glibc's options and
    numpy's page setting: each is read once); returns the names of all the job's chosen settings."""
    names = frozenset(name for name in chosen() if job in SETTINGS[name])
    if "small_pages" in names:
        small_pages()
    if "keep_memory" in names:
        keep_freed_memory()
    if "one_arena" in names:
        one_arena()
    return names


@contextlib.contextmanager
def applied(job: Job) -> Iterator[frozenset[str]]:
    """:func:`apply` ``job``, then run the block with the collector paused and the switch
    interval short where chosen (both put back after it); yields the settings applied."""
    names = apply(job)
    pause = "collector" in names and gc.isenabled()
    interval = sys.getswitchinterval()
    if pause:
        gc.disable()
    if "switch_interval" in names:
        sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
    try:
        yield names
    finally:
        sys.setswitchinterval(interval)
        if pause:
            gc.enable()


def for_worker() -> frozenset[str]:
    """A worker process's settings (a replication's): glibc keeps freed memory. Small pages
    reach a worker through the environment its command set before numpy was imported."""
    names = frozenset(name for name in chosen() if name == "keep_memory")
    if names:
        keep_freed_memory()
    return names


@cache
def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt`` (returns 1 on success, 0 on error), or None: not Linux or not glibc."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        mallopt = ctypes.CDLL("libc.so.6", use_errno=True).mallopt
    except (OSError, AttributeError):  # not glibc
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return cast(Callable[[int, int], int], mallopt)


@cache
def keep_freed_memory() -> bool:
    """Ask glibc to keep freed blocks for reuse: no mmap for large blocks, little trimming.

    Why: the replay and the simulator allocate and free arrays of millions of elements over
    and over (a day's purchases, a month's statements). By default glibc hands a freed block
    of 128 KiB or more back to the kernel, so the next array of that size takes fresh,
    zeroed pages. The cost is a higher peak: memory freed is kept until the process ends.
    Returns whether the options are in force; done once per process.
    """
    mallopt = _mallopt()
    return (
        mallopt is not None and mallopt(_M_MMAP_MAX, 0) == 1 and mallopt(_M_TRIM_THRESHOLD, _TRIM_ABOVE) == 1
    )


@cache
def one_arena() -> bool:
    """Ask glibc to serve every thread from one heap (before threads allocate), so that a block
    freed by one thread is reused by any other instead of staying in the freeing thread's heap
    (the replay's engines run on threads: ``replay.parts``). Needs :func:`keep_freed_memory`'s
    conditions; asked before pyarrow is imported, as ``loyalsim earn`` does."""
    mallopt = _mallopt()
    return mallopt is not None and mallopt(_M_ARENA_MAX, 1) == 1


def small_pages() -> bool:
    """Ask numpy not to request transparent huge pages (2 MiB) for its large arrays.

    Why: on a virtual machine like CI's, the first touch of a huge page is slow (each is
    zeroed, and the host backs it, in one go), and the replay and the simulator touch most
    of their memory once. numpy reads ``NUMPY_MADVISE_HUGEPAGE`` as it is imported, so this
    works only before that (it returns False after); worker processes inherit the variable.
    """
    if "numpy" in sys.modules:
        return False
    os.environ["NUMPY_MADVISE_HUGEPAGE"] = "0"
    return True
