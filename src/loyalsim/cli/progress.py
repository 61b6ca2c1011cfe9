"""Progress for long runs: a live bar with completed/total and ETA on stderr when it is a terminal
(never in CI logs or under --format json), and a closing line with wall time and throughput."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def wanted(output_format: str) -> bool:
    return output_format != "json" and sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def progress(total: int, label: str, unit: str, *, enabled: bool, note: str = "") -> Iterator[Any]:
    """Yield ``advance(n=1, reused=False)``; on exit, print '<label>: N units in S s (R per second)' to stderr.

    ``note`` is shown beside the label on the live bar only (the run's estimate, for example).

    Units reused from an earlier run (``reused=True``) move the bar but not the throughput.
    """
    started = time.perf_counter()
    done = [0]
    reused_total = [0]
    bar: Any = None
    task: Any = None
    if enabled:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
            console=None,
        )
        bar.start()
        task = bar.add_task(f"{label} ({note})" if note else label, total=total)

    def advance(n: int = 1, reused: bool = False) -> None:
        if reused:
            reused_total[0] += n
        else:
            done[0] += n
        if bar is not None:
            bar.advance(task, n)

    try:
        yield advance
    finally:
        if bar is not None:
            bar.stop()
        wall = time.perf_counter() - started
        again = f"; {reused_total[0]:,} reused from an earlier run" if reused_total[0] else ""
        if done[0]:
            sys.stderr.write(
                f"{label}: {done[0]:,} {unit} in {wall:.1f} s ({done[0] / max(wall, 1e-9):,.2f} per second)"
                f"{again}\n"
            )
        elif again:
            sys.stderr.write(f"{label}: nothing to compute{again}\n")


def run_replications(
    tasks: list[Any],
    *,
    workers: int | None,
    cluster: str | None,
    folder: Any,
    output_format: str,
    label: str,
    verbose: bool = False,
) -> list[Any]:
    """Run simulation tasks on the chosen backend with checkpoints in ``folder`` and a progress bar.

    Says on stderr when a previous, interrupted run's finished replications are reused.
    """
    from loyalsim.fileio import writable_folder
    from loyalsim.run.runner import Backend, Checkpoints, run

    if folder is not None:  # before any replication runs, not after the last one
        writable_folder(folder)
    backend = Backend.choose(workers, cluster, verbose=verbose)
    checkpoints = Checkpoints(folder)
    first = [True]
    from loyalsim.run import workload

    at_once = 1 if backend.kind == "inline" else backend.workers
    bound = workload.describe(workload.total_seconds([task.scenario for task in tasks], at_once))
    with progress(
        len(tasks), label, "replications", enabled=wanted(output_format), note=f"estimate: at most {bound}"
    ) as advance:

        def done(n: int) -> None:
            if first[0]:  # the runner reports what it loaded from checkpoints first
                first[0] = False
                if n:
                    sys.stderr.write(
                        f"{label}: resuming; {n} of {len(tasks)} replication(s) were already done\n"
                    )
                    advance(n, reused=True)
            elif n:
                advance(n)

        try:
            return run(tasks, backend, checkpoints, done)
        except KeyboardInterrupt:
            where = (
                f"; they are saved in {checkpoints.folder}, run the same command to resume"
                if checkpoints.folder is not None
                else ""
            )
            sys.stderr.write(f"{label}: interrupted; {_saved(checkpoints)} replication(s) finished{where}\n")
            raise


def command_runner(
    *,
    workers: int | None,
    cluster: str | None,
    folder: Any,
    output_format: str,
    label: str | Callable[[list[Any]], str],
    verbose: bool = False,
) -> Callable[[list[Any]], list[Any]]:
    """The simulation runner a command hands to the API: its backend, checkpoints in ``folder``
    and a progress bar (``label``: the bar's text, or a function of the tasks that makes it)."""

    def run_all(tasks: list[Any]) -> list[Any]:
        return run_replications(
            tasks,
            workers=workers,
            cluster=cluster,
            folder=folder,
            output_format=output_format,
            label=label if isinstance(label, str) else label(tasks),
            verbose=verbose,
        )

    return run_all


def _saved(checkpoints: Any) -> int:
    folder = checkpoints.folder
    return len(list(folder.glob("*.json"))) if folder is not None and folder.is_dir() else 0
