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
