"""Shared test helpers: run the real installed ``loyalsim`` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw new examples on every local run (that is how they find bugs); CI
# sets HYPOTHESIS_PROFILE=ci and draws the same ones every time, so that what passed
# before a change still passes after it unless the change broke it.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
PROGRAMS = sorted((ROOT / "programs").glob("*.yaml"))
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def loyalsim_executable() -> str:
    """The console script installed in the same environment as the test interpreter."""
    candidate = Path(sys.executable).parent / "loyalsim"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("loyalsim")
    if not found:
        raise RuntimeError("the loyalsim command is not installed; run `make install`")
    return found


def run_cli(
    *args: str,
    cwd: Path | None = None,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")}
    environment.update(env or {})
    result = subprocess.run(
        [loyalsim_executable(), *args],
        cwd=cwd or ROOT,
        input=stdin,
        capture_output=True,
        env=environment,
        timeout=timeout,
        check=False,
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )


@pytest.fixture
def cli():
    return run_cli
