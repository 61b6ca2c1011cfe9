"""``check`` for the API: simulate each scenario and judge its guardrails (forecast assertions)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from loyalsim.api.loading import PathLike, Runner, task_runner
from loyalsim.issues import Issue, Severity, sort_issues
from loyalsim.population.scenario import Scenario
from loyalsim.run.runner import Task
from loyalsim.validate import FileResult, ValidationReport


def check(
    scenarios: Sequence[PathLike],
    *,
    replications: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    runner: Runner | None = None,
) -> ValidationReport:
    """Simulate each scenario (files, folders or globs) with each of its programs and judge its
    guardrails, as ``loyalsim check`` does: one issue per guardrail, located at it (LS500 failed,
    LS501 passed, LS502 not measurable); ``exit_code`` 0 when all pass, 1 when one does not, 2
    when a file cannot be read."""
    from loyalsim.errors import LoyalsimError
    from loyalsim.population.scenario import load_scenario
    from loyalsim.validate import expand_paths

    run = runner if runner is not None else task_runner(workers, cluster, None)
    files, missing = expand_paths([str(path) for path in scenarios])
    results = [FileResult(issue.file, None, [issue]) for issue in missing]
    for name in files:
        try:
            scenario = load_scenario(Path(name), replications=replications)
        except LoyalsimError as exc:
            issues = exc.issues or [Issue("LS030", Severity.ERROR, str(exc), name, 1, 1)]
            results.append(FileResult(name, None, list(issues)))
            continue
        results.append(FileResult(name, "Scenario", sort_issues(_judged(name, scenario, run))))
    return ValidationReport(results, command="check")


def _judged(name: str, scenario: Scenario, run: Runner) -> list[Issue]:
    """The guardrails of one scenario, each judged on each of its programs' monthly tables."""
    from loyalsim.measure.guardrails import evaluate
    from loyalsim.measure.monthly import monthly_table

    source = scenario.source
    assert source is not None  # (a scenario loaded from a file knows where each key is)
    issues = []
    if not scenario.guardrails:
        issues.append(
            Issue(
                "LS502",
                Severity.WARNING,
                "the scenario has no guardrails to check",
                name,
                1,
                1,
                hint="add `guardrails:` to the scenario",
            )
        )
    for policy in scenario.programs:
        reps = run([Task(policy, scenario, i) for i in range(scenario.replications)])
        table = monthly_table(policy, scenario, reps)
        for outcome in evaluate(scenario.guardrails, table):
            path = ("guardrails", outcome.index)
            line, column = source.locate(path)
            code = "LS502" if outcome.passed is None else "LS501" if outcome.passed else "LS500"
            severity = Severity.INFO if outcome.passed else Severity.ERROR
            prefix = f"[{policy.name}] " if len(scenario.programs) > 1 else ""
            issues.append(Issue(code, severity, prefix + outcome.message, name, line, column, path))
    return issues
