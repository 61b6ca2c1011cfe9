"""Validation speed: one file (process start to exit) and 1,000 files in one invocation,
side by side with check-jsonschema on the same files and the same schema.

check-jsonschema does schema validation only; loyalsim also runs its semantic rules, so
the comparison is conservative for loyalsim. Targets: one file < 0.3 s, 1,000 files < 3 s.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _time(command: list[str], repeat: int) -> float:
    """Median wall time of ``command`` over ``repeat`` runs (after one warm-up run)."""
    subprocess.run(command, capture_output=True, check=False)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
        if result.returncode not in (0, 1):
            raise RuntimeError(f"{command[0]} failed: {result.stderr.decode()[:500]}")
    return statistics.median(times)


def _corpus(folder: Path, count: int) -> list[str]:
    programs = sorted((ROOT / "programs").glob("*.yaml"))
    files = []
    for i in range(count):
        source = programs[i % len(programs)]
        target = folder / f"{source.stem}-{i:04d}.yaml"
        target.write_text(source.read_text().replace("../schemas/", str(ROOT / "schemas") + "/"))
        files.append(str(target))
    return files


def run(quick: bool = False) -> dict[str, Any]:
    loyalsim = str(BIN / "loyalsim")
    checker = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which("check-jsonschema")
    schema = str(ROOT / "schemas" / "program.schema.json")
    count = 100 if quick else 1000
    repeat = 3 if quick else 7
    out: dict[str, Any] = {"files": count}
    with tempfile.TemporaryDirectory() as tmp:
        files = _corpus(Path(tmp), count)
        one = files[0]
        out["loyalsim_one_file_s"] = _time([loyalsim, "validate", one], repeat)
        out["loyalsim_many_files_s"] = _time([loyalsim, "validate", tmp], max(1, repeat // 2))
        if checker:
            out["check_jsonschema_one_file_s"] = _time([checker, "--schemafile", schema, one], repeat)
            out["check_jsonschema_many_files_s"] = _time(
                [checker, "--schemafile", schema, *files], max(1, repeat // 2)
            )
    print(f"{'case':<28}{'loyalsim':>12}{'check-jsonschema':>18}{'ratio':>9}   target")
    for case, target in (("one_file", 0.3), ("many_files", 3.0 * count / 1000)):
        mine = out[f"loyalsim_{case}_s"]
        theirs = out.get(f"check_jsonschema_{case}_s")
        ratio = f"{theirs / mine:.2f}x" if theirs else "n/a"
        label = "1 file" if case == "one_file" else f"{count} files"
        verdict = "met" if mine < target else "MISSED"
        print(
            f"{label:<28}{mine:>11.3f}s{(f'{theirs:.3f}s' if theirs else 'n/a'):>18}{ratio:>9}   < {target:g} s: {verdict}"
        )
        out[f"{case}_speedup_vs_check_jsonschema"] = round(theirs / mine, 2) if theirs else None
        out[f"{case}_target_met"] = mine < target
    print("(ratio = check-jsonschema time / loyalsim time; above 1 means loyalsim is faster)")
    return out
