"""A command's outputs are one set: all replaced together, or none, and the failing file named."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.helpers import small_scenario

CLASSIC = ROOT / "programs" / "classic-rewards.yaml"
SALES = "customer_id,date,amount\na,2027-01-10,19.99\nb,2027-01-11,abc\n"


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


@pytest.mark.parametrize("folder_at", ["--rejects", "totals"])
def test_earn_refuses_a_folder_target_before_writing_anything(tmp_path: Path, folder_at: str) -> None:
    # earn exited 2 after replacing s.csv and s.totals.csv when the rejects file could not be written.
    (tmp_path / "t.csv").write_text(SALES)
    for name in ("s.csv", "s.totals.csv"):
        (tmp_path / name).write_text("previous\n")
    extra = ["--rejects", str(tmp_path / "r")] if folder_at == "--rejects" else []
    if folder_at == "--rejects":
        (tmp_path / "r").mkdir()
    else:
        (tmp_path / "s.totals.csv").unlink()
        (tmp_path / "s.totals.csv").mkdir()
    result = run_cli(
        "earn",
        str(CLASSIC),
        str(tmp_path / "t.csv"),
        "--out",
        str(tmp_path / "s.csv"),
        "--on-error",
        "skip",
        *extra,
    )
    assert result.returncode == 2 and "it is a folder" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "s.csv").read_text() == "previous\n"
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 400 KiB file system (tmpfs), where the machine lets the tests mount one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a small file system here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
def test_simulate_on_a_full_disk_keeps_the_previous_set_and_names_the_file(
    tmp_path: Path, small_disk: Path
) -> None:
    # simulate --out on a nearly full disk left monthly, cohorts and summary from the new seed
    # beside the report from the old one, with an error that named no file.
    scenario = small_scenario(tmp_path, initial=300, arrivals=5, horizon="3 months", replications=2)
    program = str(ROOT / "programs" / "coffee-stars.yaml")
    out = small_disk / "o"
    assert run_cli("simulate", program, str(scenario), "--out", str(out), "--seed", "1").returncode == 0
    before = _digests(out)
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    (small_disk / "fill").write_bytes(b"\0" * max(0, free - 20_000))  # room for a part, not for a set
    result = run_cli("simulate", program, str(scenario), "--out", str(out), "--seed", "2")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "No space left on device" in result.stderr and str(out) in result.stderr
    assert _digests(out) == before  # the previous set, whole
    (small_disk / "fill").unlink()
    again = run_cli("simulate", program, str(scenario), "--out", str(out), "--seed", "2")
    assert again.returncode == 0 and _digests(out) != before
