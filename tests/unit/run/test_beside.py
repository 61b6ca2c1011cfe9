"""A replication uses a thread beside its own only when a core is free for it."""

from __future__ import annotations

from typing import Any

import pytest

from loyalsim.compile import load_policy
from loyalsim.population.scenario import load_scenario
from loyalsim.run import runner
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("workers", "cores", "expected"), [(1, 2, True), (2, 4, True), (2, 2, False), (4, 2, False)]
)
def test_threads_beside_are_left_out_when_every_core_runs_a_replication(
    monkeypatch: pytest.MonkeyPatch, workers: int, cores: int, expected: bool
) -> None:
    policy = load_policy(ROOT / "programs" / "coffee-stars.yaml")
    scenario = load_scenario(ROOT / "scenarios" / "coffee-baseline.yaml", replications=4)
    seen: list[bool] = []

    def record(todo: dict[str, runner.Task], *args: Any) -> None:
        seen.extend(task.beside for task in todo.values())
        raise StopIteration  # nothing to run: only who was given a thread beside

    monkeypatch.setattr(runner.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(runner, "_run_processes", record)
    monkeypatch.setattr(runner, "run_task", lambda task: record({"k": task}))
    backend = runner.Backend.choose(workers, None)
    with pytest.raises(StopIteration):
        runner.run([runner.Task(policy, scenario, i) for i in range(4)], backend, runner.Checkpoints(None))
    assert seen and set(seen) == {expected}


def test_the_key_does_not_depend_on_it() -> None:
    policy = load_policy(ROOT / "programs" / "coffee-stars.yaml")
    scenario = load_scenario(ROOT / "scenarios" / "coffee-baseline.yaml")
    assert runner.Task(policy, scenario, 0).key == runner.Task(policy, scenario, 0, beside=False).key
