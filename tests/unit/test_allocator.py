"""Keeping freed memory: the glibc options are applied once, and the switch turns them off."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = "from loyalsim.allocator import keep_freed_memory as k; print(k(), k())"


def _probe(**env: str) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                          env={**os.environ, **env})
    return done.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc options")
def test_the_options_are_applied_on_glibc_and_the_answer_is_remembered() -> None:
    assert _probe(LOYALSIM_KEEP_MEMORY="1") == "True True"


def test_the_switch_leaves_the_allocator_alone() -> None:
    assert _probe(LOYALSIM_KEEP_MEMORY="0") == "False False"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc options")
def test_one_arena_follows_the_same_switch() -> None:
    probe = "from loyalsim.allocator import one_arena as a; print(a(), a())"
    on = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                        env={**os.environ, "LOYALSIM_KEEP_MEMORY": "1"})
    off = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**os.environ, "LOYALSIM_KEEP_MEMORY": "0"})
    assert on.stdout.strip() == "True True" and off.stdout.strip() == "False False"


def test_numpy_is_asked_for_small_pages_before_or_after_it_is_imported_unless_told_otherwise() -> None:
    probe = (
        "import sys\n"
        "from loyalsim.allocator import small_pages\n"
        "before = small_pages()\n"
        "import numpy\n"
        "try:\n    from numpy._core.multiarray import _get_madvise_hugepage as get, _set_madvise_hugepage as put\n"
        "except ImportError:  # numpy 1\n    from numpy.core.multiarray import _get_madvise_hugepage as get, _set_madvise_hugepage as put\n"
        "first = get()\n"
        "put(True)\n"
        "after = small_pages()\n"
        "print(before, first, after, get())\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NUMPY_MADVISE_HUGEPAGE", "LOYALSIM_HUGE_PAGES")}
    on = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    assert on.stdout.split() == ["True", "False", "True", "False"]
    kept = subprocess.run([sys.executable, "-c", probe.replace("put(True)\n", "")], capture_output=True, text=True,
                          check=True, env={**env, "LOYALSIM_HUGE_PAGES": "1"})
    assert kept.stdout.split()[0] == "False" and kept.stdout.split()[2] == "False"
    if sys.platform.startswith("linux"):  # numpy's own choice: huge pages on Linux 4.6 and later
        assert kept.stdout.split()[1] == "True"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc options")
def test_the_replay_settings_are_small_pages_and_one_arena() -> None:
    probe = (
        "from loyalsim.allocator import for_replay, one_arena\n"
        "for_replay()\n"
        "try:\n    from numpy._core.multiarray import _get_madvise_hugepage\n"
        "except ImportError:  # numpy 1\n    from numpy.core.multiarray import _get_madvise_hugepage\n"
        "print(_get_madvise_hugepage(), one_arena())\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NUMPY_MADVISE_HUGEPAGE", "LOYALSIM_HUGE_PAGES")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={**env, "LOYALSIM_KEEP_MEMORY": "1"})
    assert done.stdout.split() == ["False", "True"]


def test_the_cycle_collector_is_paused_in_the_block_and_restored_after(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from loyalsim.allocator import collector_paused

    monkeypatch.delenv("LOYALSIM_KEEP_MEMORY", raising=False)
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a failed replay")
    assert gc.isenabled()
    gc.disable()  # off before: stays off after
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    monkeypatch.setenv("LOYALSIM_KEEP_MEMORY", "0")  # the switch leaves the collector alone
    with collector_paused():
        assert gc.isenabled()


def test_earn_runs_with_the_collector_paused() -> None:
    # The command's own process: run_earn is replaced by a probe that reports the collector's state.
    probe = (
        "import gc, sys\n"
        "import loyalsim.cli.earn_cmd as earn_cmd\n"
        "earn_cmd.run_earn = lambda options: print('enabled' if gc.isenabled() else 'paused') or 0\n"
        "from loyalsim.cli.app import app\n"
        "sys.argv = ['loyalsim', 'earn', 'p.yaml', 't.csv']\n"
        "try:\n"
        "    app()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('enabled' if gc.isenabled() else 'paused')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LOYALSIM_KEEP_MEMORY"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split() == ["paused", "enabled"]
