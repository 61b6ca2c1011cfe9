"""One runner for every multi-replication job, with three backends and checkpoints.

Where: the run stage, behind ``simulate``, ``compare``, ``sweep``, ``sensitivity`` and
``check``. A job is a list of :class:`Task` (a compiled program, a scenario, a replication
index). The backend decides only *where* a task runs:

- ``inline``: in this process, one after another (the default);
- ``processes``: ``--workers N`` local worker processes (``concurrent.futures``, spawn);
- ``dask``: ``--cluster tcp://HOST:PORT`` (an existing ``dask.distributed`` scheduler) or
  ``--cluster local`` (a ``LocalCluster`` of ``--workers`` processes, default 2).

Results are identical bit for bit whatever the backend: a task's random numbers come from
the scenario's seed and the replication index alone (``SeedSequence(seed).spawn``), never
from a worker's identity or the order of completion, and results are put back in task
order.

Checkpoints: with a folder, each finished replication is written there at once (atomic
JSON, named by a hash of the loyalsim version, the program, what the simulation depends
on in the scenario, the seed and the index). A re-run of the same command loads those and
computes only what is missing, so a crash, a killed worker or Ctrl-C loses at most the
replications that were running. Identical tasks (e.g. sweep points that differ only in
economics) share one checkpoint and are simulated once.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from loyalsim import __version__
from loyalsim.compile.policy import Policy
from loyalsim.errors import UsageError, WorkersDiedError
from loyalsim.population.scenario import Scenario
from loyalsim.run import memory, workload
from loyalsim.simulate.results import MonthResult, Replication

PARTS = ".loyalsim-parts"
RESTARTS = 3  # a broken worker pool is restarted this many times before giving up


@dataclass(frozen=True)
class Task:
    policy: Policy
    scenario: Scenario
    index: int
    version: str = __version__  # of the process that made the task; a remote worker must match it
    # May the replication use a thread beside its own (simulate.engine.THREADS_FROM)? Not when
    # the replications already run one per core: the threads would only take turns.
    beside: bool = True
    # The program that ran over a running book's history, when ``policy`` is a change to it
    # (compare): the replication starts from that program's book (ReplayEngine.adopt_book).
    book_from: Policy | None = None

    @property
    def key(self) -> str:
        text = "|".join(
            (
                __version__,
                self.policy.content_hash,
                self.scenario.simulation_hash,
                str(self.scenario.seed),
                str(self.index),
            )
            + ((f"book:{self.book_from.content_hash}",) if self.book_from is not None else ())
        )
        return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Backend:
    """Where tasks run: ``inline``, ``processes`` (``workers``) or ``dask`` (``cluster``)."""

    kind: str = "inline"
    workers: int = 1
    cluster: str | None = None
    verbose: bool = False  # Dask's own log messages reach the terminal

    @classmethod
    def choose(cls, workers: int | None, cluster: str | None, *, verbose: bool = False) -> Backend:
        if cluster:
            if not (cluster == "local" or cluster.startswith(("tcp://", "tls://", "ucx://", "inproc://"))):
                raise UsageError(
                    f"--cluster {cluster!r}: give 'local' or a scheduler address such as tcp://10.0.0.5:8786"
                )
            return cls("dask", workers or 2, cluster, verbose)
        if workers and workers > 1:
            return cls("processes", workers)
        return cls()

    def describe(self) -> str:
        if self.kind == "dask":
            return f"dask {self.cluster}" + (f" ({self.workers} workers)" if self.cluster == "local" else "")
        return f"{self.workers} worker processes" if self.kind == "processes" else "in-process"


def encode(replication: Replication) -> dict[str, Any]:
    return {
        "index": replication.index,
        "customers": replication.customers,
        "months": [asdict(m) for m in replication.months],
        "cohorts": replication.cohorts,
        "cashback_cohorts": replication.cashback_cohorts,
        "dividend_cohorts": replication.dividend_cohorts,
        "opening": replication.opening,
        "history": [asdict(m) for m in replication.history],
    }


def decode(data: dict[str, Any]) -> Replication:
    return Replication(
        int(data["index"]),
        [MonthResult(**m) for m in data["months"]],
        int(data["customers"]),
        cohorts=[tuple(row) for row in data["cohorts"]],
        cashback_cohorts=[tuple(row) for row in data["cashback_cohorts"]],
        dividend_cohorts=[tuple(row) for row in data["dividend_cohorts"]],
        opening={k: int(v) for k, v in data.get("opening", {}).items()},
        history=[MonthResult(**m) for m in data.get("history", [])],
    )


class Checkpoints:
    """Finished replications on disk under ``folder/.loyalsim-parts`` (or nowhere, without a folder)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder / PARTS if folder is not None else None

    def _file(self, key: str) -> Path | None:
        return self.folder / f"{key}.json" if self.folder is not None else None

    def load(self, key: str) -> Replication | None:
        path = self._file(key)
        if path is None or not path.is_file():
            return None
        try:
            return decode(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged part is recomputed, never trusted

    def save(self, key: str, replication: Replication) -> None:
        path = self._file(key)
        if path is not None:
            from loyalsim.fileio import atomic_write_text

            # On disk at once, whatever output set the command is writing: it is what a rerun resumes from.
            atomic_write_text(path, json.dumps(encode(replication), separators=(",", ":")), now=True)

    def tidy(self) -> None:
        """Remove the half-written parts of a run that was killed while saving one."""
        if self.folder is not None:
            from loyalsim.fileio import remove_stale_temporaries

            remove_stale_temporaries(self.folder)

    def clear(self) -> None:
        if self.folder is None or not self.folder.is_dir():
            return
        self.tidy()
        for path in self.folder.glob("*.json"):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # another run's temporary files are still there: leave the folder
            self.folder.rmdir()


def run_task(task: Task) -> Replication:
    """Run one task anywhere (a worker process or a Dask worker): the replication, without per-customer detail."""
    from loyalsim.simulate.engine import run_replication

    if __version__ != task.version:
        raise RuntimeError(
            f"this worker has loyalsim {__version__}, the job was made by {task.version}; "
            "install the same version on every worker"
        )
    result = run_replication(
        task.policy, task.scenario, task.index, beside=task.beside, book_from=task.book_from
    )
    return Replication(
        result.index,
        result.months,
        result.customers,
        cohorts=result.cohorts,
        cashback_cohorts=result.cashback_cohorts,
        dividend_cohorts=result.dividend_cohorts,
        opening=result.opening,
        history=result.history,
    )


def _start_worker(parent: int) -> None:
    """A worker process's set-up: deaf to Ctrl-C, and gone within a second of ``parent``."""
    # Ctrl-C reaches the whole process group; the parent alone decides what to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(parent)


def _exit_with_parent(parent: int) -> None:
    """End this process when ``parent`` dies, even by SIGKILL (no chance to stop its pool).

    Linux delivers SIGKILL on the parent's death (prctl PR_SET_PDEATHSIG); everywhere, a daemon
    thread also checks every half second whether the process has been handed to another
    parent, which covers other systems and a worker started from a thread that has ended.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)  # the parent is gone: nobody will read this worker's result

    if os.getppid() != parent:  # it died while this worker was starting (the pid is the parent's own)
        os._exit(1)
    threading.Thread(target=watch, name="loyalsim-parent-watch", daemon=True).start()


def run(
    tasks: Sequence[Task],
    backend: Backend,
    checkpoints: Checkpoints,
    done: Callable[[int], None] = lambda n: None,
) -> list[Replication]:
    """Every task's replication, in task order; ``done(n)`` is called as tasks finish (or load)."""
    # Before anything else (looking a million checkpoints up takes a while): would this fit in
    # memory, and would it end? Replications already saved count too, for the time.
    scenarios = [task.scenario for task in tasks]
    at_once = 1 if backend.kind == "inline" else min(backend.workers, len(tasks))
    if backend.kind != "dask" or backend.cluster == "local":  # a remote cluster's memory is its own
        memory.check(list({id(s): s for s in scenarios}.values()), at_once)
    workload.check(scenarios, at_once)
    results: dict[str, Replication] = {}
    todo: dict[str, Task] = {}
    checkpoints.tidy()
    for task in tasks:
        key = task.key
        if key in results or key in todo:
            continue
        saved = checkpoints.load(key)
        if saved is not None:
            results[key] = saved
        else:
            todo[key] = task
    done(sum(1 for t in tasks if t.key in results))

    def finished(key: str, replication: Replication) -> None:
        results[key] = replication
        checkpoints.save(key, replication)
        done(sum(1 for t in tasks if t.key == key))

    if todo:
        at_once = 1 if backend.kind == "inline" else min(backend.workers, len(todo))
        local = backend.kind != "dask" or backend.cluster == "local"
        if (
            local and at_once > 1 and at_once >= (os.cpu_count() or 1)
        ):  # every core runs a replication already
            todo = {key: replace(task, beside=False) for key, task in todo.items()}
        if backend.kind == "inline":
            for key, task in todo.items():
                finished(key, run_task(task))
        elif backend.kind == "processes":
            _run_processes(todo, backend.workers, finished)
        else:
            _run_dask(todo, backend, finished)
    return [results[task.key] for task in tasks]


def _run_processes(todo: dict[str, Task], workers: int, finished: Callable[[str, Replication], None]) -> None:
    import multiprocessing

    pending = dict(todo)
    for attempt in range(RESTARTS + 1):
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(pending)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )
        futures: dict[Future[Replication], str] = {
            pool.submit(run_task, task): key for key, task in pending.items()
        }
        try:
            while futures:
                ready, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in ready:
                    key = futures.pop(future)
                    finished(key, future.result())
                    pending.pop(key)
            pool.shutdown()
            return
        except BrokenProcessPool:
            pool.shutdown(wait=False, cancel_futures=True)
            if attempt == RESTARTS:
                saved = len(todo) - len(pending)
                raise WorkersDiedError(
                    f"worker processes kept dying ({RESTARTS + 1} times), so {len(pending):,} replication(s) could "
                    f"not be run; {saved:,} finished and were saved (with --out, running the same command again "
                    "resumes from them). Processes killed from outside are most often out-of-memory kills (see "
                    "dmesg): try fewer --workers or a smaller population. From a script of your own, run under "
                    'if __name__ == "__main__": (worker processes are spawned)'
                ) from None
        except BaseException:
            _terminate(pool)
            raise


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now (Ctrl-C or an error): cancel what has not started and end the workers."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            os.kill(process.pid, signal.SIGTERM)


def _run_dask(todo: dict[str, Task], backend: Backend, finished: Callable[[str, Replication], None]) -> None:
    try:
        dask: Any = importlib.import_module("distributed")  # untyped library: used through Any
    except ImportError:
        raise UsageError("--cluster needs dask.distributed: pip install 'loyalsim[cluster]'") from None
    with _quiet_dask(backend.verbose):
        client, cluster = _connect(dask, backend)
        try:
            # retries: a task on a worker that dies is run again elsewhere (the scheduler notices the loss).
            futures = {
                client.submit(run_task, task, key=f"loyalsim-{key}", pure=False, retries=3): key
                for key, task in todo.items()
            }
            for future in dask.as_completed(futures):
                finished(futures[future], future.result())
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


# Above CRITICAL: nothing from Dask's loggers is shown (heartbeat failures at shutdown, a
# worker's Ctrl-C) unless --verbose asks for it; failures that matter reach the user as
# loyalsim's own errors.
_SILENT = logging.CRITICAL + 10


@contextlib.contextmanager
def _quiet_dask(verbose: bool) -> Iterator[None]:
    """Keep Dask's and Tornado's log records from the terminal for the run, unless ``verbose``."""
    if verbose:
        yield
        return
    loggers = [logging.getLogger(name) for name in ("distributed", "dask", "tornado", "bokeh")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(_SILENT)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _connect(dask: Any, backend: Backend) -> tuple[Any, Any]:
    """A client, and the LocalCluster it talks to when ``--cluster local`` (else None)."""
    cluster: Any = None
    try:
        if backend.cluster == "local":
            # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also fixes glibc's mmap
            # threshold at 128 KiB: every temporary array of a replication is then mmap'd and unmapped,
            # which measured 46% slower; these thresholds (64 MiB, 256 MiB) keep such arrays on the heap.
            config: Any = importlib.import_module("dask").config
            with config.set(
                {
                    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": str(2**28),
                    "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": str(2**26),
                    # each worker ignores Ctrl-C: loyalsim alone stops the cluster
                    "distributed.worker.preload": ["loyalsim.run.dask_preload"],
                }
            ):
                cluster = dask.LocalCluster(
                    n_workers=backend.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.WARNING if backend.verbose else _SILENT,
                )
            return dask.Client(cluster), cluster
        return dask.Client(backend.cluster, timeout="20s"), None
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise UsageError(f"--cluster {backend.cluster}: cannot reach the scheduler ({exc})") from None
