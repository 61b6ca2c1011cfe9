"""Process tuning happens at the doors: the switch's grammar, the command's settings, and a
library call that leaves the caller's process as it found it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from loyalsim import tuning
from loyalsim.errors import UsageError
from tests.conftest import ROOT, run_cli


def _run(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("NUMPY_MADVISE_HUGEPAGE", "LOYALSIM_TUNING")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**clean, **env},
        cwd=ROOT,
    )
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", {"small_pages"}), ("all", {"small_pages"}), ("none", set()), ("small_pages", {"small_pages"}),
     (" -small_pages ", set())],
)  # fmt: skip
def test_the_switch_chooses_the_settings(text: str, expected: set[str]) -> None:
    assert tuning.chosen({"LOYALSIM_TUNING": text}) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("hugepages", "hugepages is not a setting; choose from all, none, or small_pages"),
     ("small_pages,-small_pages", "not both")],
)  # fmt: skip
def test_a_bad_switch_says_what_the_settings_are(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        tuning.chosen({"LOYALSIM_TUNING": text})


def test_a_library_call_leaves_the_process_as_it_found_it() -> None:
    """A notebook's replay and simulation set no page setting (nor anything else of the process's)."""
    code = (
        "import gc, os, sys\n"
        "from pathlib import Path\n"
        "interval = sys.getswitchinterval()\n"
        "from loyalsim.compile import load_policy\n"
        "from loyalsim.population.scenario import load_scenario\n"
        "from loyalsim.replay.parts import replay\n"
        "from loyalsim.simulate import run_replication\n"
        "from loyalsim.transactions.reader import read_transactions\n"
        "policy = load_policy(Path('programs/coffee-stars.yaml'))\n"
        "replay(policy, read_transactions(Path('tests/data/cdnow/cdnow_sample.csv')), parts=2)\n"
        "scenario = load_scenario(Path('scenarios/coffee-baseline.yaml'), replications=1)\n"
        "run_replication(policy, type(scenario)(**{**scenario.__dict__, 'initial': 500, 'days': 60}), 0)\n"
        "print(gc.isenabled(), sys.getswitchinterval() == interval, 'NUMPY_MADVISE_HUGEPAGE' in os.environ)\n"
    )
    assert _run(code) == "True True False"


def test_the_door_applies_the_job_s_settings_before_numpy() -> None:
    code = (
        "import os\nfrom loyalsim import tuning\nnames = tuning.apply('replay')\n"
        "import numpy\nprint(sorted(names), os.environ.get('NUMPY_MADVISE_HUGEPAGE'))\n"
    )
    assert _run(code) == "['small_pages'] 0"
    assert _run(code, LOYALSIM_TUNING="none") == "[] None"
    assert _run(code, LOYALSIM_TUNING="-small_pages") == "[] None"


def test_small_pages_only_before_numpy_is_imported() -> None:
    assert _run("import numpy\nfrom loyalsim import tuning\nprint(tuning.small_pages())") == "False"
    assert _run("from loyalsim import tuning\nprint(tuning.small_pages())\nimport numpy") == "True"


def test_the_command_applies_the_setting_and_its_workers_inherit_it() -> None:
    """A worker process (spawned) starts with the variable its command set before numpy."""
    code = (
        "import sys\nfrom loyalsim import tuning\ntuning.apply('simulate')\n"
        "from concurrent.futures import ProcessPoolExecutor\nimport multiprocessing, os\n"
        "if __name__ == '__main__':\n"
        "    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn')) as pool:\n"
        "        print(pool.submit(os.getenv, 'NUMPY_MADVISE_HUGEPAGE').result())\n"
    )
    assert _run(code) == "0"


def test_the_command_refuses_a_bad_switch_with_exit_2() -> None:
    result = run_cli(
        "simulate",
        str(ROOT / "programs" / "coffee-stars.yaml"),
        str(ROOT / "scenarios" / "coffee-baseline.yaml"),
        "--replications",
        "1",
        env={"LOYALSIM_TUNING": "fast"},
    )
    assert result.returncode == 2, result.stderr
    assert "LOYALSIM_TUNING: fast is not a setting" in result.stderr and "Traceback" not in result.stderr
