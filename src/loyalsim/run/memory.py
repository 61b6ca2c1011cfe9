"""Refusing, before it starts, a simulation that cannot fit in this machine's memory.

Where: the runner (:func:`loyalsim.run.runner.run`), for every command that simulates.
Why: a population typed with three zeros too many would otherwise grow until the kernel's
out-of-memory killer ends the process, with no message and nothing written.

The estimate is ``BYTES_PER_CUSTOMER`` a customer (set above the measured peak of one
replication in benchmarks/README.md, bench_simulate), times the replications that run at
once on this machine. ``LOYALSIM_MEMORY_CHECK=0`` turns the check off (e.g. with
swap you mean to use).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loyalsim.durations import DAYS_PER_MONTH
from loyalsim.errors import UsageError

BYTES_PER_CUSTOMER = 1_400
# A history's rows up to as_of (population.history): held by the scenario, replayed by each
# replication (its rows, their lots and the purchases kept for matching returns). Set above
# the measured peak of benchmarks/bench_history.py (benchmarks/README.md).
BYTES_PER_HISTORY_ROW = 40


def customers(scenario: Any) -> int:
    """Everyone a replication of ``scenario`` simulates: a history's customers, the initial ones and every arrival."""
    return int(
        scenario.initial + existing(scenario) + scenario.arrivals_per_month * scenario.days / DAYS_PER_MONTH
    )


def existing(scenario: Any) -> int:
    """The customers of the scenario's history, if it has one."""
    history = getattr(scenario, "history", None)
    return int(history.size) if history is not None else 0


def history_rows(scenario: Any) -> int:
    """The rows of the scenario's history up to as_of (0 without one)."""
    history = getattr(scenario, "history", None)
    transactions = getattr(history, "transactions", None) if history is not None else None
    return len(transactions) if transactions is not None else 0


def need(scenario: Any, at_once: int) -> int:
    """The memory ``at_once`` replications of ``scenario`` need, by the estimate above: each
    replication's customers and its replay of the history, and the history the scenario holds."""
    return int(
        customers(scenario) * BYTES_PER_CUSTOMER * at_once
        + history_rows(scenario) * BYTES_PER_HISTORY_ROW * (at_once + 1)
    )


def available_bytes() -> int | None:
    """Memory this machine can give a new process now (Linux's MemAvailable), or None if unknown."""
    try:
        with Path("/proc/meminfo").open(encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return None


def check(scenarios: Sequence[Any], at_once: int) -> None:
    """Raise a UsageError if ``at_once`` replications of the largest scenario would not fit in memory."""
    if os.environ.get("LOYALSIM_MEMORY_CHECK", "1") == "0" or not scenarios:
        return
    available = available_bytes()
    if available is None:
        return
    largest = max(scenarios, key=lambda s: need(s, at_once))
    needed = need(largest, at_once)
    if needed <= available:
        return
    gb = 2**30
    rows = history_rows(largest)
    counted = f"{BYTES_PER_CUSTOMER:,} bytes a customer" + (
        f" and {BYTES_PER_HISTORY_ROW:,} a history row ({rows:,} rows)" if rows else ""
    )
    raise UsageError(
        f"{largest.file}: {customers(largest):,} customers need about {needed / gb:,.1f} GB "
        f"({counted}, {at_once} replication(s) at once), and this machine has "
        f"{available / gb:,.1f} GB available; reduce population.initial or arrivals_per_month (results scale: "
        "a representative sample forecasts per-customer figures as well), use fewer --workers, or run on a "
        "larger machine or a Dask cluster (--cluster). LOYALSIM_MEMORY_CHECK=0 skips this check."
    )
