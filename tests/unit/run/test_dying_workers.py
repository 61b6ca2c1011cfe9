"""Worker processes that keep dying end in WorkersDiedError (exit 4), saying what was saved."""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from loyalsim.errors import WorkersDiedError
from loyalsim.run import runner


class _DyingPool:
    """A pool whose every worker is killed before it returns (as the OOM killer does)."""

    started = 0

    def __init__(self, **_: Any) -> None:
        _DyingPool.started += 1

    def submit(self, *_: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(BrokenProcessPool("a child process terminated abruptly"))
        return future

    def shutdown(self, **_: Any) -> None:
        pass


def test_a_pool_that_keeps_breaking_is_restarted_then_reported_not_a_bug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner, "ProcessPoolExecutor", _DyingPool)
    finished: list[str] = []
    with pytest.raises(
        WorkersDiedError,
        match=r"kept dying \(4 times\), so 3 replication\(s\) could not be run; 0 "
        r"finished",
    ) as died:
        runner._run_processes(
            {"a": None, "b": None, "c": None},
            2,  # type: ignore[dict-item]
            lambda key, _: finished.append(key),
        )
    assert _DyingPool.started == runner.RESTARTS + 1 and not finished
    assert died.value.exit_code == 4 and "out-of-memory" in str(died.value)
