"""Progress reporting: no live bar off a terminal, always a closing line with throughput."""

from __future__ import annotations

import pytest

from loyalsim.cli.progress import progress, wanted


def test_closing_line_reports_count_and_throughput(capsys: pytest.CaptureFixture[str]) -> None:
    with progress(3, "simulate", "replications", enabled=False) as advance:
        for _ in range(3):
            advance()
    line = capsys.readouterr().err.strip()
    assert line.startswith("simulate: 3 replications in ") and line.endswith("per second)")


def test_no_bar_under_json_or_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert not wanted("text")
    monkeypatch.delenv("CI")
    assert not wanted("json")
