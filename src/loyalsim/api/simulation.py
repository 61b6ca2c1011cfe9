"""``simulate`` and ``compare`` for the API: a program (or two) on a scenario's customers."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa

from loyalsim.api.loading import PathLike, Runner, load_program, load_scenario, task_runner
from loyalsim.compile.policy import Policy
from loyalsim.errors import UsageError
from loyalsim.population.scenario import Scenario
from loyalsim.run.runner import Task
from loyalsim.simulate.results import Replication


@dataclass
class SimulationResult:
    """A simulation's replications, and the tables and summary ``loyalsim simulate`` writes."""

    policy: Policy
    scenario: Scenario
    replications: list[Replication]

    @cached_property
    def monthly(self) -> pa.Table:
        """One row per replication, month and arm (monthly.parquet's columns; docs/finance.md)."""
        from loyalsim.measure.monthly import monthly_table

        return monthly_table(self.policy, self.scenario, self.replications)

    @cached_property
    def cohorts(self) -> pa.Table:
        """The run-off by earn cohort (cohorts.parquet)."""
        from loyalsim.measure.monthly import cohort_table

        return cohort_table(self.policy, self.replications)

    @cached_property
    def summary(self) -> dict[str, Any]:
        """The headline figures with mean and P5/P50/P95 (summary.json)."""
        from loyalsim.measure.summary import cohort_summary, drawn_summary, opening_summary
        from loyalsim.measure.summary import summary as headline

        figures = headline(self.policy, self.scenario, self.monthly)
        figures["cohorts"] = cohort_summary(self.replications)
        opening = opening_summary(self.policy, self.replications)
        if opening is not None:
            figures["opening"] = opening
        drawn = drawn_summary(self.scenario)
        if drawn:
            figures["drawn_responses"] = drawn
        return figures

    def write(self, folder: PathLike) -> Path:
        """monthly.{csv,parquet}, cohorts.{csv,parquet}, summary.json and report.html in ``folder``,
        each replaced whole (as ``loyalsim simulate --out`` writes them)."""
        from loyalsim.fileio import output_set
        from loyalsim.report.simulation_output import write_files

        out = Path(folder)
        with output_set():
            write_files(out, self.policy, self.scenario, self.monthly, self.cohorts, self.summary)
        return out


def simulate(
    program: PathLike | Policy,
    scenario: PathLike | Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    checkpoints: PathLike | None = None,
    runner: Runner | None = None,
) -> SimulationResult:
    """Simulate a program on a scenario's customers with a no-program control, as ``loyalsim
    simulate`` does: the same results for the same seed, whatever runs the replications
    (``workers`` local processes, or ``cluster``: "local" or a Dask scheduler's address)."""
    policy = load_program(program)
    loaded = load_scenario(scenario, seed=seed, replications=replications)
    run = runner if runner is not None else task_runner(workers, cluster, checkpoints)
    return SimulationResult(
        policy, loaded, run([Task(policy, loaded, i) for i in range(loaded.replications)])
    )


def write_transactions(
    program: PathLike | Policy,
    scenario: PathLike | Scenario,
    folder: PathLike,
    *,
    file_format: str = "csv",
    replication: int = 0,
    seed: int | None = None,
) -> dict[str, Path]:
    """Synthetic data, as ``simulate --transactions`` writes it: replication ``replication``'s
    program-arm purchases (``transactions``) and enrolments (``members``) in ``folder``, as CSV
    or Parquet; their paths. The replication is the one ``simulate`` runs with the same seed."""
    from loyalsim.report import synthetic
    from loyalsim.simulate.engine import synthetic_transactions

    if file_format not in synthetic.FORMATS:
        raise UsageError(f"--transactions-format {file_format!r}: choose csv or parquet")
    policy = load_program(program)
    loaded = load_scenario(scenario, seed=seed)
    if not 0 <= replication < loaded.replications:
        raise UsageError(f"replication {replication}: the scenario has {loaded.replications}")
    _, drawn = synthetic_transactions(policy, loaded, replication)
    return synthetic.write(Path(folder), drawn, policy.money_unit, file_format)


def book_source(running: Policy, changed: Policy, scenario: Scenario) -> Policy | None:
    """On a running program's book (a history ``running`` ran over), a ``changed`` program starts
    from the book ``running``'s replay gives: returns ``running`` then, None when there is no
    such book or the programs are the same. Points counted in different units are refused."""
    history = scenario.history
    if history is None or not history.program_running or changed.content_hash == running.content_hash:
        return None

    def ledgers(policy: Policy) -> tuple[bool, bool, bool]:
        dividends = policy.value is not None and policy.value.dividend is not None
        return policy.cashback is not None, dividends, policy.membership is not None

    for name, theirs, mine in zip(
        ("cashback", "dividends", "paid membership"), ledgers(running), ledgers(changed), strict=True
    ):
        if theirs != mine:
            raise UsageError(
                f"{running.name} and {changed.name} differ in having {name}: a changed program takes "
                f"over the running one's {name} balances only when both have {name}"
            )
    if running.scale != changed.scale:
        raise UsageError(
            f"{running.name} and {changed.name} count points in different units "
            f"(1/{running.scale} and 1/{changed.scale} of a point): one cannot take over the "
            "other's book; give both programs the same points decimals"
        )
    return running


@dataclass
class ComparisonResult:
    """Two programs on the same customers and random numbers: each one's simulation, and the
    paired differences B - A with their intervals (compare.json)."""

    a: SimulationResult
    b: SimulationResult
    carried: bool = False  # whether B started from A's book (a change to a running program)
    summary: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        from loyalsim.measure.compare import summarise
        from loyalsim.measure.summary import stamp

        self.summary = {
            "a": stamp(self.a.policy, self.a.scenario),
            "b": stamp(self.b.policy, self.b.scenario),
            "figures": summarise(self.a.monthly, self.b.monthly),
        }
        history = self.a.scenario.history
        if self.carried and history is not None:
            from loyalsim.compile.calendar import to_date

            self.summary["book"] = {"from": self.a.policy.name, "as_of": to_date(history.as_of).isoformat()}

    def write(self, folder: PathLike) -> Path:
        """compare.json, compare.html and each program's simulation (a/, b/) in ``folder``."""
        import json

        from loyalsim.fileio import atomic_write_text, output_set
        from loyalsim.report.compare_html import render

        out = Path(folder)
        with output_set():
            for label, part in (("a", self.a), ("b", self.b)):
                part.write(out / label)
            atomic_write_text(out / "compare.json", json.dumps(self.summary, indent=2) + "\n")
            atomic_write_text(out / "compare.html", render(self.a.monthly, self.b.monthly, self.summary))
        return out


def compare(
    program_a: PathLike | Policy,
    program_b: PathLike | Policy,
    scenario: PathLike | Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    checkpoints: PathLike | None = None,
    runner: Runner | None = None,
) -> ComparisonResult:
    """Compare two programs on the same customers and random numbers, as ``loyalsim compare`` does."""
    first, second = load_program(program_a), load_program(program_b)
    loaded = load_scenario(scenario, seed=seed, replications=replications)
    count = loaded.replications
    run = runner if runner is not None else task_runner(workers, cluster, checkpoints)
    book = book_source(first, second, loaded)
    reps = run(
        [Task(first, loaded, i) for i in range(count)]
        + [Task(second, loaded, i, book_from=book) for i in range(count)]
    )
    return ComparisonResult(
        SimulationResult(first, loaded, reps[:count]),
        SimulationResult(second, loaded, reps[count:]),
        carried=book is not None,
    )


@dataclass
class Trace:
    """One synthetic customer's story in one replication: ``events`` in day order (each a dict
    with its day, arm, kind and figures), as ``loyalsim trace --format json`` prints them."""

    policy: Policy
    scenario: Scenario
    customer: int
    replication: int
    events: list[dict[str, Any]]


def trace(
    program: PathLike | Policy,
    scenario: PathLike | Scenario,
    *,
    customer: int = 0,
    replication: int = 0,
    seed: int | None = None,
) -> Trace:
    """Follow one of the scenario's initial customers through one replication, with and without
    the program, as ``loyalsim trace`` does (the same draws as ``simulate`` with that seed)."""
    from loyalsim.errors import UsageError
    from loyalsim.simulate import run_replication

    policy = load_program(program)
    loaded = load_scenario(scenario, seed=seed)
    if not 0 <= replication < loaded.replications:
        raise UsageError(
            f"--replication {replication}: the scenario has {loaded.replications} replication(s)"
        )
    if not 0 <= customer < loaded.starting:
        raise UsageError(
            f"--customer {customer}: choose one of the {loaded.starting:,} initial customers (0 to "
            f"{loaded.starting - 1})"
        )
    result = run_replication(policy, loaded, replication, watch=customer)
    return Trace(policy, loaded, customer, replication, list(result.story))
