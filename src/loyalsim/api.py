"""The Python API: the jobs the ``loyalsim`` command runs, as functions that return results.

Where: the front end for notebooks and scripts, beside the command line (which parses options,
calls these or the stages beneath them, renders, and maps results to exit codes). docs/api.md
has the reference and a worked example.

Inputs may be paths or loaded objects (a :class:`~loyalsim.compile.policy.Policy`, a
:class:`~loyalsim.population.scenario.Scenario`). A problem raises
:class:`~loyalsim.errors.LoyalsimError` (re-exported here as ``Error``), whose ``issues`` carry
each located problem (file, line, column, code, message, fix); ``exit_code`` is what the
command line would exit with. Figures in the result tables are in currency and points, as in
the command line's files. No function changes the caller's process (docs/architecture.md,
"Process settings"), and nothing is written unless a ``write`` method is called.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from loyalsim.compile.policy import Policy
from loyalsim.errors import InvalidDocumentError, LoyalsimError, UsageError
from loyalsim.finance.ifrs15 import PeriodResult
from loyalsim.population.fitting import Fit
from loyalsim.population.scenario import Scenario
from loyalsim.population.summary import Summary
from loyalsim.replay.engine import MonthRows, ReplayResult
from loyalsim.run.runner import Task
from loyalsim.simulate.results import Replication
from loyalsim.transactions.reader import RowError
from loyalsim.validate import ValidationReport

Error = LoyalsimError
PathLike = str | os.PathLike[str]
# Runs simulation tasks and returns their replications in task order (the command line passes one
# with a progress bar; the default runs them here, on local processes or on Dask).
Runner = Callable[[list[Task]], list[Replication]]

__all__ = [
    "ComparisonResult",
    "EarnResult",
    "Error",
    "PointsInvalid",
    "PurchaseFit",
    "RetentionFit",
    "RowsRejected",
    "SimulationResult",
    "SweepResult",
    "account",
    "compare",
    "earn",
    "fit_purchases",
    "fit_retention",
    "load_program",
    "load_scenario",
    "simulate",
    "sweep",
    "validate",
]  # fmt: skip


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
        import dataclasses

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


# -- earn ----------------------------------------------------------------------------------------
@dataclass
class EarnResult:
    """A replay of transactions through a program: ``months`` (points and tier per customer per
    month), ``totals`` (per customer), ``rejected`` (rows skipped, with file, row and column)."""

    months: pa.Table
    totals: pa.Table
    rejected: list[RowError]
    replay: ReplayResult  # the engine's own result: per-customer arrays, the ledger, cohort totals


def earn(
    program: PathLike | Policy,
    transactions: PathLike | Sequence[PathLike],
    *,
    redeem: str = "program",
    columns: dict[str, str] | None = None,
    on_error: str = "fail",
) -> EarnResult:
    """Replay transaction files (CSV or Parquet) through a program, as ``loyalsim earn`` does.

    ``columns`` maps the file's headers (``{"amount": "total_usd"}``); ``redeem`` is program,
    auto or none. With ``on_error="fail"`` rejected rows raise an Error carrying them (one issue
    per row); with ``"skip"`` the rest is replayed and they are in ``rejected``. The tables are
    held in memory (the command line streams them to a file instead).
    """
    from loyalsim.compile.calendar import month_of
    from loyalsim.replay.exact import reject_inexact
    from loyalsim.replay.parts import parts_for, replay
    from loyalsim.report.earn_output import month_table, totals_table
    from loyalsim.transactions.merge import read_many

    if on_error not in ("fail", "skip"):
        raise UsageError("on_error takes fail or skip")
    if redeem not in ("program", "auto", "none"):
        raise UsageError("redeem takes program, auto or none")
    policy = load_program(program)
    files = (
        [Path(transactions)]
        if isinstance(transactions, str | os.PathLike)
        else [Path(t) for t in transactions]
    )
    tx = reject_inexact(policy, read_many(files, policy.minor_units, dict(columns or {})))
    if tx.rejected and on_error == "fail":
        raise RowsRejected(tx.rejected)
    result = replay(policy, tx, redeem=redeem, parts=parts_for(tx))
    late = result.rejected[len(tx.rejected) :]
    if late and on_error == "fail":
        raise RowsRejected(late)
    ids = pa.array(tx.customer_ids, type=pa.string())
    span = (month_of(int(tx.day[0])), month_of(int(tx.day[-1]))) if len(tx) else None
    tables = [_plain(month_table(policy, ids, rows, span)) for rows in result.months]
    months = pa.concat_tables(tables) if tables else _plain(month_table(policy, ids, MonthRows.empty(), span))
    return EarnResult(months, _plain(totals_table(result, ids)), list(result.rejected), result)


def _plain(table: pa.Table) -> pa.Table:
    """``table`` with its dictionary-encoded text (shared code tables, for the writers) as plain text."""
    columns = {}
    for field_ in table.schema:
        column = table.column(field_.name)
        columns[field_.name] = (
            column.cast(field_.type.value_type) if pa.types.is_dictionary(field_.type) else column
        )
    return pa.table(columns)


class RowsRejected(InvalidDocumentError):
    """Transaction rows were rejected (``rows``: each with its file, row, column and reason)."""

    def __init__(self, rows: list[RowError], message: str | None = None) -> None:
        shown = "; ".join(str(row) for row in rows[:3]) + ("; ..." if len(rows) > 3 else "")
        super().__init__(
            message or f"{len(rows)} row(s) rejected ({shown}); fix them, or pass on_error='skip'"
        )
        self.rows = rows


# -- simulate and compare ------------------------------------------------------------------------
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
        from loyalsim.measure.summary import cohort_summary
        from loyalsim.measure.summary import summary as headline

        figures = headline(self.policy, self.scenario, self.monthly)
        figures["cohorts"] = cohort_summary(self.replications)
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


def _runner(workers: int | None, cluster: str | None, checkpoints: PathLike | None) -> Runner:
    """Tasks run in this process (no workers, no cluster), on local processes or on Dask; with
    ``checkpoints``, each finished replication is saved there and reused by the same call again."""
    from loyalsim.run.runner import Backend, Checkpoints, run

    def run_all(tasks: list[Task]) -> list[Replication]:
        backend = Backend.choose(workers, cluster)
        folder = Checkpoints(Path(checkpoints) if checkpoints is not None else None)
        return run(tasks, backend, folder, lambda _done: None)

    return run_all


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
    run = runner if runner is not None else _runner(workers, cluster, checkpoints)
    return SimulationResult(
        policy, loaded, run([Task(policy, loaded, i) for i in range(loaded.replications)])
    )


@dataclass
class ComparisonResult:
    """Two programs on the same customers and random numbers: each one's simulation, and the
    paired differences B - A with their intervals (compare.json)."""

    a: SimulationResult
    b: SimulationResult
    summary: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        from loyalsim.measure.compare import summarise
        from loyalsim.measure.summary import stamp

        self.summary = {
            "a": stamp(self.a.policy, self.a.scenario),
            "b": stamp(self.b.policy, self.b.scenario),
            "figures": summarise(self.a.monthly, self.b.monthly),
        }

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
    run = runner if runner is not None else _runner(workers, cluster, checkpoints)
    reps = run([Task(p, loaded, i) for p in (first, second) for i in range(count)])
    return ComparisonResult(
        SimulationResult(first, loaded, reps[:count]), SimulationResult(second, loaded, reps[count:])
    )


# -- accounting and fitting ----------------------------------------------------------------------
def account(ledger: PathLike) -> list[PeriodResult]:
    """IFRS 15 / ASC 606 accounting for points on a ledger CSV, as ``loyalsim account`` does."""
    from loyalsim.finance.ifrs15 import account as allocate
    from loyalsim.finance.ledger_csv import read_ledger

    return allocate(read_ledger(Path(ledger)))


@dataclass
class PurchaseFit:
    """A purchase model (BG/NBD or Pareto/NBD) and Gamma-Gamma spend fitted to transactions."""

    model: str
    purchases: Fit
    spend: Fit | None  # None: not fitted (``spend_problem`` says why)
    spend_problem: str | None
    summary: Summary  # per customer: x, t_x, T, mean spend (and holdout purchases)
    holdout: dict[str, float] | None  # actual and expected purchases in the holdout period
    time_unit: str


def fit_purchases(
    transactions: PathLike,
    *,
    calibration_end: str | None = None,
    holdout_end: str | None = None,
    model: str = "bgnbd",
    time_unit: str = "week",
    columns: dict[str, str] | None = None,
) -> PurchaseFit:
    """Fit purchases and spend to a transaction file by maximum likelihood, as ``loyalsim fit
    purchases`` does (``model``: bgnbd or pareto-nbd; dates as YYYY-MM-DD; calibration to the
    last day by default)."""
    from loyalsim.population.fitting import fit_purchases as fit_model
    from loyalsim.population.fitting import fit_spend
    from loyalsim.population.summary import FitDataError, summarise
    from loyalsim.report import fit_report
    from loyalsim.transactions import read_transactions

    if model not in ("bgnbd", "pareto-nbd"):
        raise UsageError(f"model {model!r}: choose bgnbd or pareto-nbd")
    path = Path(transactions)
    calibration, holdout = _day(calibration_end, "calibration_end"), _day(holdout_end, "holdout_end")
    tx = read_transactions(path, 2, dict(columns or {}))
    if tx.rejected:
        raise RowsRejected(tx.rejected, f"{len(tx.rejected)} row(s) of {path} rejected; fix them first")
    if len(tx) == 0:
        raise FitDataError("the file has no transactions")
    summary = summarise(
        tx, calibration if calibration is not None else int(tx.day.max()), holdout, time_unit, 100
    )
    fit = fit_model(model, summary.x, summary.t_x, summary.T)
    spend, problem = None, None
    try:
        spend = fit_spend(summary.x, summary.mean_spend)
    except FitDataError as exc:
        problem = str(exc)
    figures = None
    if summary.holdout is not None:
        expected = fit_report.conditional(fit, summary)
        figures = {"actual": float(summary.holdout.sum()), "expected": float(expected.sum())}
    return PurchaseFit(model, fit, spend, problem, summary, figures, time_unit)


def _day(text: str | None, name: str) -> int | None:
    """The day number of a YYYY-MM-DD date (None stays None)."""
    from loyalsim.compile.calendar import day_number

    if text is None:
        return None
    try:
        return day_number(text)
    except ValueError as exc:
        raise UsageError(f"{name} {text!r} is not a date (YYYY-MM-DD)") from exc


@dataclass
class RetentionFit:
    """The shifted-beta-geometric model fitted to survivor counts, and its survival curve."""

    fit: Fit
    survivors: list[float]  # the counts fitted, period 0 first
    survival: list[float]  # share surviving at the start of each period, period 0 first (projected beyond)


def fit_retention(counts: PathLike, *, column: str = "members", periods: int = 24) -> RetentionFit:
    """Fit paid-membership retention (sBG) to a CSV of survivor counts, as ``loyalsim fit retention``."""
    import pyarrow.csv as pacsv

    from loyalsim.errors import InputError
    from loyalsim.population import models
    from loyalsim.population.fitting import fit_retention as fit_sbg

    path = Path(counts)
    try:
        table = pacsv.read_csv(path)
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: cannot read as CSV: {str(exc).splitlines()[0]}") from exc
    if column not in table.column_names:
        raise InputError(
            f"{path}: no column {column!r} (it has: {', '.join(table.column_names)}); name it with --column"
        )
    values = table.column(column).to_pylist()
    for row, value in enumerate(values, start=2):
        if not isinstance(value, int | float) or isinstance(value, bool) or value is None or value < 0:
            raise InputError(
                f"{path}: row {row}, column '{column}': survivor counts must be non-negative numbers "
                f"(value: {value!r})"
            )
    survivors = np.array(values, dtype=np.float64)
    fit = fit_sbg(survivors)
    curve = models.sbg_survival(fit.vector, periods)
    return RetentionFit(fit, [float(v) for v in survivors], [float(v) for v in curve])


# -- sweep ---------------------------------------------------------------------------------------
class PointsInvalid(InvalidDocumentError):
    """Some points of a sweep's grid make an invalid program or scenario (``issues``: each, located)."""


@dataclass
class SweepResult:
    """A grid of program or scenario parameters, each point simulated on the same customers:
    ``rows`` (one per point: its values and headline figures, mean, P5 and P95) and ``table``."""

    axes: list[Any]  # loyalsim.run.sweep.Axis: path, target and values of each --set
    rows: list[dict[str, Any]]
    program_title: str
    scenario_name: str

    @cached_property
    def table(self) -> pa.Table:
        """The rows as a table (sweep.parquet); the parameter columns as text."""
        texts = {axis.text for axis in self.axes}
        return pa.Table.from_pylist(
            [{k: (str(v) if k in texts else v) for k, v in r.items()} for r in self.rows]
        )

    def write(self, folder: PathLike) -> Path:
        """sweep.{parquet,csv,json,html} in ``folder``."""
        import json

        from loyalsim.fileio import atomic_write_table, atomic_write_text, output_set
        from loyalsim.report.sweep_html import render

        out = Path(folder)
        axes = [{"path": a.text, "target": a.target, "values": list(a.values)} for a in self.axes]
        with output_set():
            atomic_write_table(out, "sweep", self.table)
            document = json.dumps({"axes": axes, "points": self.rows}, indent=2, default=str)
            atomic_write_text(out / "sweep.json", document + "\n")
            html = render(
                self.axes, self.rows, policy_name=self.program_title, scenario_name=self.scenario_name
            )
            atomic_write_text(out / "sweep.html", html)
        return out


def sweep(
    program: PathLike,
    scenario: PathLike,
    settings: Sequence[str],
    *,
    replications: int | None = None,
    max_runs: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    checkpoints: PathLike | None = None,
    runner: Runner | None = None,
) -> SweepResult:
    """Simulate a grid of parameters, as ``loyalsim sweep`` does: ``settings`` are its ``--set``
    texts (``"earn[0].rate=1,1.5"``), over the program or the scenario; the grid is their product.
    Every point is validated before any is simulated (PointsInvalid lists what is wrong)."""
    from loyalsim.compile import compile_document
    from loyalsim.measure.monthly import monthly_table
    from loyalsim.measure.summary import summary
    from loyalsim.population.scenario import scenario_from_document
    from loyalsim.run.sweep import (
        MAX_RUNS,
        apply,
        check_run_count,
        describe,
        invalid,
        parse_axes,
        point_row,
        points,
    )

    if not settings:
        raise UsageError("give at least one --set PATH=V1,V2,...")
    program_path, scenario_path = Path(program), Path(scenario)
    axes = parse_axes(list(settings))
    limit = MAX_RUNS if max_runs is None else max_runs
    check_run_count(axes, replications or 1, limit)  # before reading anything: a huge grid is refused at once
    bases = {"program": _valid_document(program_path), "scenario": _valid_document(scenario_path)}
    if replications is None:  # the scenario's own count (schema-valid: an integer of at least 1)
        check_run_count(axes, int(bases["scenario"].data.get("replications", 1)), limit)
    prepared = []
    problems = []
    for point in points(axes):  # validate every point before simulating any
        try:
            policy = compile_document(apply(bases["program"], axes, "program", point, str(program_path)))
            compiled = scenario_from_document(
                apply(bases["scenario"], axes, "scenario", point, str(scenario_path)),
                scenario_path.parent,
                replications=replications,
                programs=(policy,),
            )
            prepared.append((point, policy, compiled))
        except InvalidDocumentError as error:
            problems += invalid(describe(axes, point), error)
    if problems:
        raise PointsInvalid(f"{len(problems)} problem(s) in the sweep's points; nothing simulated", problems)
    run = runner if runner is not None else _runner(workers, cluster, checkpoints)
    reps = run(
        [Task(policy, compiled, i) for _, policy, compiled in prepared for i in range(compiled.replications)]
    )
    rows: list[dict[str, Any]] = []
    start = 0
    for index, (point, policy, compiled) in enumerate(prepared):
        part = reps[start : start + compiled.replications]
        start += compiled.replications
        rows.append(
            point_row(index, axes, point, summary(policy, compiled, monthly_table(policy, compiled, part)))
        )
    return SweepResult(axes, rows, prepared[0][1].title, prepared[0][2].name)


def _valid_document(path: Path) -> Any:
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
