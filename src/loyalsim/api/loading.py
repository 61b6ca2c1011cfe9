"""Loading programs and scenarios for the API, validating files, and running simulation tasks."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from loyalsim.compile.policy import Policy
from loyalsim.errors import InvalidDocumentError, LoyalsimError, UsageError
from loyalsim.population.scenario import Scenario
from loyalsim.run.runner import Task
from loyalsim.simulate.results import Replication
from loyalsim.validate import ValidationReport

Error = LoyalsimError
PathLike = str | os.PathLike[str]
# Runs simulation tasks and returns their replications in task order (the command line passes one
# with a progress bar; the default runs them here, on local processes or on Dask).
Runner = Callable[[list[Task]], list[Replication]]


def load_program(program: PathLike | Policy) -> Policy:
    """A program file loaded, validated and compiled (a Policy is returned as it is)."""
    if isinstance(program, Policy):
        return program
    from loyalsim.compile import load_policy

    return load_policy(Path(program))


def load_scenario(
    scenario: PathLike | Scenario, *, seed: int | None = None, replications: int | None = None
) -> Scenario:
    """A scenario file loaded and validated, with ``seed`` and ``replications`` overriding its own."""
    if isinstance(scenario, Scenario):
        if seed is None and replications is None:
            return scenario
        return dataclasses.replace(
            scenario,
            seed=scenario.seed if seed is None else seed,
            replications=scenario.replications if replications is None else replications,
        )
    from loyalsim.population.scenario import load_scenario as load

    return load(Path(scenario), seed=seed, replications=replications)


def validate(paths: Sequence[PathLike], *, strict: bool = False) -> ValidationReport:
    """Validate programs and scenarios (files, folders or globs), as ``loyalsim validate`` does;
    the report lists every issue with its location, and its ``exit_code`` says whether they pass."""
    from loyalsim.validate import validate_paths
    from loyalsim.validate.config import find_config

    return validate_paths([str(p) for p in paths], find_config(), strict=strict)


def task_runner(
    workers: int | None, cluster: str | None, checkpoints: PathLike | None, *, verbose: bool = False
) -> Runner:
    """Tasks run in this process (no workers, no cluster), on local processes or on Dask; with
    ``checkpoints``, each finished replication is saved there and reused by the same call again."""
    from loyalsim.run.runner import Backend, Checkpoints, run

    backend = Backend.choose(workers, cluster, verbose=verbose)  # a bad address is refused at once

    def run_all(tasks: list[Task]) -> list[Replication]:
        folder = Checkpoints(Path(checkpoints) if checkpoints is not None else None)
        return run(tasks, backend, folder, lambda _done: None)

    return run_all


def valid_document(path: Path) -> Any:
    """A program or scenario file loaded and checked whole (a --set path into a broken document,
    kind: 7, is then not a usage error): its loaded document."""
    from loyalsim.errors import load_error
    from loyalsim.issues import Severity
    from loyalsim.load import load_file
    from loyalsim.validate import validate_document

    read = load_file(path, str(path))
    if read.document is None:
        raise load_error(str(path), read.issues)
    _, issues = validate_document(read.document)
    errors = [issue for issue in issues if issue.severity is Severity.ERROR]
    if errors:
        raise InvalidDocumentError(f"cannot load {path}", errors)
    return read.document


def day(text: str | None, name: str) -> int | None:
    """The day number of a YYYY-MM-DD date (None stays None)."""
    from loyalsim.compile.calendar import day_number

    if text is None:
        return None
    try:
        return day_number(text)
    except ValueError as exc:
        raise UsageError(f"{name} {text!r} is not a date (YYYY-MM-DD)") from exc
