"""Process-wide settings that make loyalsim's own processes faster, applied only at the doors.

Where: shared. Called by the command line's entry points (``loyalsim earn`` and the
simulation commands) before numpy is imported. No library function calls this module, so a
notebook or a shared Dask worker that calls loyalsim keeps its process as it was.
docs/architecture.md has the table of settings; benchmarks/README.md their measured gains
(``benchmarks/bench_tuning.py``), and the settings measured and not kept.

``LOYALSIM_TUNING`` chooses them: unset or ``all`` (every setting of the job), ``none``, a
comma-separated list of the settings to apply, or of settings to leave out, each with a
leading ``-`` (``-small_pages``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Literal

from loyalsim.errors import UsageError

Job = Literal["replay", "simulate"]
# Every setting, and the jobs it is applied for.
SETTINGS: dict[str, tuple[Job, ...]] = {
    "small_pages": ("replay", "simulate"),  # numpy does not ask for transparent huge pages
}


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
    """Apply the chosen settings of ``job`` for the rest of the process; returns their names."""
    names = frozenset(name for name in chosen() if job in SETTINGS[name])
    if "small_pages" in names:
        small_pages()
    return names


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
