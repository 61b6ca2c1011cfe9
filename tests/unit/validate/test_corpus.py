"""The invalid-program corpus: each file beside its expected (code, line, column) list."""

from __future__ import annotations

from pathlib import Path

import pytest

from loyalsim.validate import validate_paths
from tests.conftest import DATA, PROGRAMS, SCENARIOS

CORPUS = sorted((DATA / "invalid").glob("*.yaml"))


def expected(path: Path) -> list[tuple[str, int, int]]:
    rows = path.with_suffix(".expect").read_text().split("\n")
    return [(code, int(line), int(col)) for code, line, col in (row.split() for row in rows if row.strip())]


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_invalid_program_yields_its_documented_issues(path: Path) -> None:
    report = validate_paths([str(path)])
    got = [(i.code, i.line, i.column) for i in report.issues]
    assert got == expected(path)
    has_errors = any(i.severity.value == "error" for i in report.issues)
    assert report.exit_code == (1 if has_errors else 0)
    assert validate_paths([str(path)], strict=True).exit_code == 1


def test_the_corpus_covers_every_program_rule() -> None:
    from loyalsim.validate.rules import RULES, program  # noqa: F401  (registers the rules)

    covered = {code for path in CORPUS for code, _, _ in expected(path)}
    program_rules = {rule.code for rule in RULES if rule.kind == "Program"}
    assert program_rules <= covered, sorted(program_rules - covered)


@pytest.mark.parametrize("path", PROGRAMS + SCENARIOS, ids=lambda p: p.name)
def test_canonical_files_are_valid(path: Path) -> None:
    report = validate_paths([str(path)])
    assert report.issues == [], [(i.code, i.message) for i in report.issues]
    assert report.files[0].kind in ("Program", "Scenario")


def test_every_issue_has_a_location_code_and_severity() -> None:
    report = validate_paths([str(p) for p in CORPUS])
    for issue in report.issues:
        assert issue.line >= 1 and issue.column >= 1
        assert issue.code.startswith("LS") and len(issue.code) == 5
        assert issue.message


def test_errors_come_before_warnings_within_a_file() -> None:
    report = validate_paths([str(DATA / "invalid" / "bands.yaml")])
    ranks = [i.severity.rank for i in report.issues]
    assert ranks == sorted(ranks)
