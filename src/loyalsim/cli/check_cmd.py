"""``loyalsim check SCENARIO...``: simulate each scenario and judge its guardrails (called from cli.app)."""

from __future__ import annotations

from pathlib import Path

from loyalsim.issues import Issue, Severity, sort_issues
from loyalsim.validate import FileResult, ValidationReport


def check(
    paths: list[str],
    replications: int | None,
    workers: int | None = None,
    cluster: str | None = None,
    verbose: bool = False,
) -> ValidationReport:
    from loyalsim.errors import LoyalsimError
    from loyalsim.measure.guardrails import evaluate
    from loyalsim.measure.monthly import monthly_table
    from loyalsim.population.scenario import load_scenario
    from loyalsim.run.runner import Backend, Checkpoints, Task, run
    from loyalsim.validate import expand_paths

    backend = Backend.choose(workers, cluster, verbose=verbose)
    files, missing = expand_paths(paths)
    results = [FileResult(issue.file, None, [issue]) for issue in missing]
    for name in files:
        try:
            scenario = load_scenario(Path(name), replications=replications)
        except LoyalsimError as exc:
            issues = exc.issues or [Issue("LS030", Severity.ERROR, str(exc), name, 1, 1)]
            results.append(FileResult(name, None, list(issues)))
            continue
        source = scenario.source
        assert source is not None
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
            reps = run(
                [Task(policy, scenario, i) for i in range(scenario.replications)], backend, Checkpoints(None)
            )
            table = monthly_table(policy, scenario, reps)
            for outcome in evaluate(scenario.guardrails, table):
                path = ("guardrails", outcome.index)
                line, column = source.locate(path)
                code = "LS502" if outcome.passed is None else "LS501" if outcome.passed else "LS500"
                severity = Severity.INFO if outcome.passed else Severity.ERROR
                prefix = f"[{policy.name}] " if len(scenario.programs) > 1 else ""
                issues.append(Issue(code, severity, prefix + outcome.message, name, line, column, path))
        results.append(FileResult(name, "Scenario", sort_issues(issues)))
    return ValidationReport(results, command="check")
