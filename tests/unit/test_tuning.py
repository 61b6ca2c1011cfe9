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
    [
        ("", set(tuning.SETTINGS)),
        ("all", set(tuning.SETTINGS)),
        ("none", set()),
        ("keep_memory,small_pages", {"keep_memory", "small_pages"}),
        ("-one_arena, -collector", set(tuning.SETTINGS) - {"one_arena", "collector"}),
    ],
)
def test_the_switch_chooses_the_settings(text: str, expected: set[str]) -> None:
    assert tuning.chosen({"LOYALSIM_TUNING": text}) == expected


@pytest.mark.parametrize(
    ("text", "message"), [("hugepages", "hugepages is not a setting"), ("keep_memory,-collector", "not both")]
)
def test_a_bad_switch_says_what_the_settings_are(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as error:
        tuning.chosen({"LOYALSIM_TUNING": text})
    assert "keep_memory" in str(error.value) or message == "not both"


def test_a_library_call_leaves_the_process_as_it_found_it() -> None:
    """A notebook's replay and simulation: no collector paused, no switch interval changed, no
    page setting, no allocator options."""
    code = (
        "import gc, os, sys\n"
        "from pathlib import Path\n"
        "interval = sys.getswitchinterval()\n"
        "from loyalsim import tuning\n"
        "from loyalsim.compile import load_policy\n"
        "from loyalsim.population.scenario import load_scenario\n"
        "from loyalsim.replay.parts import replay\n"
        "from loyalsim.simulate import run_replication\n"
        "from loyalsim.transactions.reader import read_transactions\n"
        "policy = load_policy(Path('programs/coffee-stars.yaml'))\n"
        "replay(policy, read_transactions(Path('tests/data/cdnow/cdnow_sample.csv')), parts=2)\n"
        "scenario = load_scenario(Path('scenarios/coffee-baseline.yaml'), replications=1)\n"
        "run_replication(policy, type(scenario)(**{**scenario.__dict__, 'initial': 500, 'days': 60}), 0)\n"
        "print(gc.isenabled(), sys.getswitchinterval() == interval, 'NUMPY_MADVISE_HUGEPAGE' in os.environ,\n"
        "      tuning.keep_freed_memory.cache_info().currsize, tuning.one_arena.cache_info().currsize)\n"
    )
    assert _run(code) == "True True False 0 0"


def test_the_replay_door_applies_its_settings_for_the_command_and_puts_back_the_rest() -> None:
    code = (
        "import gc, os, sys\n"
        "from loyalsim import tuning\n"
        "before = sys.getswitchinterval()\n"
        "with tuning.applied('replay') as names:\n"
        "    inside = (gc.isenabled(), round(sys.getswitchinterval(), 6), os.environ.get('NUMPY_MADVISE_HUGEPAGE'))\n"
        "print(sorted(names), inside, gc.isenabled(), sys.getswitchinterval() == before)\n"
    )
    linux = sys.platform.startswith("linux")
    out = _run(code)
    assert out.startswith("['collector', 'keep_memory', 'one_arena', 'small_pages', 'switch_interval']")
    assert "(False, 0.0001, '0') True True" in out
    if linux:
        assert (
            _run("from loyalsim import tuning; print(tuning.keep_freed_memory(), tuning.one_arena())")
            == "True True"
        )


def test_the_door_puts_the_collector_and_interval_back_after_an_error() -> None:
    code = (
        "import gc, sys\nfrom loyalsim import tuning\nbefore = sys.getswitchinterval()\n"
        "try:\n    with tuning.applied('replay'):\n        raise RuntimeError\nexcept RuntimeError:\n    pass\n"
        "print(gc.isenabled(), sys.getswitchinterval() == before)\n"
    )
    assert _run(code) == "True True"


def test_the_switch_leaves_out_what_it_names() -> None:
    code = (
        "import gc, os\nfrom loyalsim import tuning\nwith tuning.applied('replay') as names:\n"
        "    print(sorted(names), gc.isenabled(), 'NUMPY_MADVISE_HUGEPAGE' in os.environ)\n"
    )
    assert (
        _run(code, LOYALSIM_TUNING="-collector,-small_pages")
        == "['keep_memory', 'one_arena', 'switch_interval'] True False"
    )
    assert _run(code, LOYALSIM_TUNING="none") == "[] True False"


def test_small_pages_only_before_numpy_is_imported() -> None:
    assert _run("import numpy\nfrom loyalsim import tuning\nprint(tuning.small_pages())") == "False"
    assert _run("from loyalsim import tuning\nprint(tuning.small_pages())\nimport numpy") == "True"


def test_the_command_refuses_a_bad_switch_with_exit_2(tmp_path: object) -> None:
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
