"""Outputs get the permissions a plain write would give them, not mkstemp's 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from loyalsim.fileio import atomic_write_text


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077, 0o027])
def test_a_new_file_honours_the_umask(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        atomic_write_text(tmp_path / "out.txt", "x\n")
    finally:
        os.umask(old)
    assert mode(tmp_path / "out.txt") == 0o666 & ~mask


def test_a_replaced_file_keeps_its_own_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    atomic_write_text(target, "new\n")
    assert mode(target) == 0o640 and target.read_text() == "new\n"


def test_temporaries_of_killed_writers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    import subprocess
    import sys

    from loyalsim.fileio import PendingFile, remove_stale_temporaries, writable_folder

    # A writer that dies between creating its temporary file and renaming it (SIGKILL mid-save).
    code = (
        "import os, sys; from pathlib import Path; from loyalsim.fileio import PendingFile; "
        "PendingFile(Path(sys.argv[1])); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "part.json")], check=True)
    stale = list(tmp_path.glob(".part.json.*.tmp"))
    assert len(stale) == 1
    mine = PendingFile(tmp_path / "mine.json")  # this live process's own: kept
    unrelated = tmp_path / ".notes.tmp"
    unrelated.write_text("the user's")
    assert remove_stale_temporaries(tmp_path) == 1
    assert not stale[0].exists() and mine.path.exists() and unrelated.exists()
    mine.discard()
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "monthly.csv")], check=True)
    writable_folder(tmp_path)  # an output folder is tidied before a run writes there
    assert not list(tmp_path.glob(".monthly.csv.*.tmp")) and [p.name for p in tmp_path.iterdir()] == [
        ".notes.tmp"
    ]


def test_a_resumed_run_leaves_no_stale_part_behind(tmp_path: Path) -> None:
    import subprocess
    import sys

    from loyalsim.run.runner import PARTS, Checkpoints

    parts = tmp_path / PARTS
    parts.mkdir()
    (parts / "abc.json").write_text("{}")
    code = (
        "import os, sys; from pathlib import Path; from loyalsim.fileio import PendingFile; "
        "PendingFile(Path(sys.argv[1])); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code, str(parts / "def.json")], check=True)
    Checkpoints(tmp_path).clear()  # after the resumed run wrote its outputs
    assert not parts.exists()


def test_an_output_set_is_put_in_place_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalsim.errors import OutputError
    from loyalsim.fileio import PendingFile, atomic_write_text, output_set

    names = ["monthly.csv", "summary.json", "report.html"]
    for name in names:
        (tmp_path / name).write_text(f"old {name}")
    # One target is a folder: refused before anything is replaced.
    (tmp_path / "report.html").unlink()
    (tmp_path / "report.html").mkdir()
    with pytest.raises(OutputError, match=r"report\.html: it is a folder"), output_set():
        for name in names:
            atomic_write_text(tmp_path / name, f"new {name}")
    assert [(tmp_path / n).read_text() for n in names[:2]] == ["old monthly.csv", "old summary.json"]
    (tmp_path / "report.html").rmdir()
    # A rename that fails part-way (the second file): the first is put back as it was.
    real = PendingFile.replace

    def failing(self: PendingFile) -> None:
        if self.target.name == "summary.json":
            raise OutputError(f"cannot write {self.target}: No space left on device")
        real(self)

    monkeypatch.setattr(PendingFile, "replace", failing)
    with pytest.raises(OutputError, match=r"summary\.json"), output_set():
        for name in names:
            atomic_write_text(tmp_path / name, f"new {name}")
    assert (tmp_path / "monthly.csv").read_text() == "old monthly.csv"
    assert (tmp_path / "summary.json").read_text() == "old summary.json" and not (
        tmp_path / "report.html"
    ).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monthly.csv", "summary.json"]  # no temporary left
    monkeypatch.setattr(PendingFile, "replace", real)
    # An error inside the block: nothing is replaced; a normal end: all are.
    with pytest.raises(KeyError), output_set():
        atomic_write_text(tmp_path / "monthly.csv", "new")
        raise KeyError("boom")
    assert (tmp_path / "monthly.csv").read_text() == "old monthly.csv"
    with output_set():
        for name in names:
            atomic_write_text(tmp_path / name, f"new {name}")
        atomic_write_text(tmp_path / "part.json", "now", now=True)
        assert (tmp_path / "part.json").read_text() == "now"  # a checkpoint is on disk at once
        assert (tmp_path / "monthly.csv").read_text() == "old monthly.csv"
    assert all((tmp_path / n).read_text() == f"new {n}" for n in names)
