"""Running a command in a fresh child process and measuring it: wall time and peak memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run_child(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall time (s), peak RSS (bytes) and stderr of ``command``, run by a probe process of its
    own so that the peak is the command's alone; ``env`` is added to this process's environment."""
    probe = (
        "import resource, subprocess, sys, time, json\n"
        f"cmd = {command!r}\n"
        "t = time.perf_counter(); r = subprocess.run(cmd, capture_output=True, text=True); w = time.perf_counter() - t\n"
        "print(json.dumps({'wall': w, 'rss': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,"
        " 'code': r.returncode, 'err': r.stderr[-4000:]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    data = json.loads(done.stdout)
    if data["code"] != 0:
        raise RuntimeError(data["err"])
    return data["wall"], data["rss"], data["err"]
