"""`loyalsim init`: a starter project whose every file works as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loyalsim.load import load_text
from tests.conftest import run_cli


@pytest.mark.slow
def test_the_starter_validates_checks_and_carries_ci_files(tmp_path: Path) -> None:
    made = run_cli("init", str(tmp_path))
    assert made.returncode == 0, made.stderr
    assert (
        run_cli("validate", "--strict", str(tmp_path / "programs"), str(tmp_path / "scenarios")).returncode
        == 0
    )
    checked = run_cli("check", str(tmp_path / "scenarios"))
    assert checked.returncode == 0 and "passed" in checked.stdout, checked.stdout + checked.stderr
    # The editor's view: the starter files against the schemas written beside them.
    for kind in ("program", "scenario"):
        editor = subprocess.run(
            [
                str(Path(sys.executable).parent / "check-jsonschema"),
                "--schemafile",
                str(tmp_path / "schemas" / f"{kind}.schema.json"),
                str(tmp_path / f"{kind}s" / "starter.yaml"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert editor.returncode == 0, editor.stdout + editor.stderr
    # The workflow, read as YAML 1.2 (where `on` is a key, not true): triggers, and the SARIF uploaded.
    workflow = load_text((tmp_path / ".github" / "workflows" / "loyalty.yml").read_text(), "loyalty.yml")
    assert workflow.document is not None, workflow.issues
    data = workflow.document.data
    assert set(data["on"]) == {"push", "pull_request"} and data["permissions"]["security-events"] == "write"
    steps = data["jobs"]["validate"]["steps"]
    sarif = next(s for s in steps if "--format sarif" in s.get("run", ""))
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["sarif_file"] in sarif["run"] and upload["if"] == "always()"
    assert "rev:" in (tmp_path / ".pre-commit-config.yaml").read_text()


@pytest.mark.slow
def test_init_replaces_nothing_unless_forced(tmp_path: Path) -> None:
    program = tmp_path / "programs" / "starter.yaml"
    program.parent.mkdir()
    program.write_text("mine\n")
    refused = run_cli("init", str(tmp_path))
    assert refused.returncode == 2 and "nothing was written" in refused.stderr
    assert program.read_text() == "mine\n" and not (tmp_path / "scenarios").exists()
    assert run_cli("init", str(tmp_path), "--force").returncode == 0
    assert program.read_text().startswith("# yaml-language-server")


def test_the_readme_shows_the_workflow_init_writes() -> None:
    from loyalsim.scaffold import starter_files
    from tests.conftest import ROOT

    workflow = starter_files(requirement="loyalsim")[".github/workflows/loyalty.yml"]
    body = workflow.split("\n", 1)[1]  # the file's first line is a comment of its own
    assert body in (ROOT / "README.md").read_text()
