"""Writing outputs safely: never a half-written file, never a lost one.

Every file loyalsim writes goes to a temporary file in the target's folder first and is
renamed over the target in one step when complete (:class:`PendingFile`,
:func:`atomic_write_text`). A run that fails discards the temporary file, so an
existing output is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from loyalsim.errors import OutputError


def _umask() -> int:
    """The process's umask now: from /proc on Linux (a read that changes nothing), else by setting
    it and straight back (the only portable way to read it)."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(target: Path) -> int:
    """Permission bits for a new ``target``: an existing file's own, else what ``open`` would give
    a new file under the umask (mkstemp's temporary files are 0600 whatever the umask)."""
    try:
        return stat.S_IMODE(target.stat().st_mode) if target.is_file() else 0o666 & ~_umask()
    except OSError:
        return 0o666 & ~_umask()


class PendingFile:
    """A temporary file beside ``target``: ``commit()`` renames it over the target, ``discard()`` removes it."""

    def __init__(self, target: Path) -> None:
        self.target = target
        if target.exists() and not target.is_file() and not target.is_dir():
            # A device node or a FIFO: renaming over it would replace it (as root, /dev/null itself).
            raise OutputError(f"cannot write {target}: it is a device or a pipe, not a file; give a file name")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # The writer's process id in the name tells a stale file (its writer was killed) from one
            # another live run is writing: see remove_stale_temporaries.
            handle, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp",
                                            dir=target.parent)
        except OSError as exc:
            raise OutputError.of(target, exc) from exc
        try:
            os.fchmod(handle, _mode_for(target))
        finally:
            os.close(handle)
        self.path = Path(name)

    def commit(self) -> None:
        try:
            self.path.replace(self.target)
        except OSError as exc:  # e.g. the target is a folder
            raise OutputError.of(self.target, exc) from exc

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


# .{target name}.{pid}.{mkstemp's 8 random characters}.tmp
_TEMPORARY = re.compile(r"\..+\.(\d+)\.[A-Za-z0-9_]{8}\.tmp")


def remove_stale_temporaries(folder: Path) -> int:
    """Remove the temporary files in ``folder`` whose writing process no longer runs (it was
    killed between creating and renaming them); returns how many. Files of live processes stay."""
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.glob(".*.tmp"):
        found = _TEMPORARY.fullmatch(path.name)
        if found is None:
            continue
        pid = int(found.group(1))
        if pid != os.getpid() and not _running(pid):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it over ``target``."""
    pending = PendingFile(target)
    try:
        yield pending.path
        pending.commit()
    finally:
        pending.discard()


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as temporary:
        try:
            with temporary.open("wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:  # e.g. the disk is full
            raise OutputError.of(target, exc) from exc


def writable_folder(folder: Path, option: str = "--out") -> None:
    """Create ``folder`` if needed and check that files can be written in it, before long work starts."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".loyalsim-probe.", dir=folder)
        os.close(handle)
        Path(name).unlink()
        remove_stale_temporaries(folder)  # what a killed earlier run left half written
    except OSError as exc:
        raise OutputError(f"{option} {folder}: cannot write there ({exc.strerror or type(exc).__name__}); "
                          "choose a folder that exists (or can be created) and that you can write to") from exc


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def _identity(path: Path) -> tuple[str, object]:
    """What makes two paths the same file: device and inode for one that exists (links and
    other spellings included), else the resolved path it will be created at."""
    try:
        info = path.stat()
    except OSError:
        return ("path", str(path.resolve()))
    return ("file", (info.st_dev, info.st_ino))


def refuse_clashes(inputs: dict[str, Path], outputs: dict[str, Path]) -> None:
    """Raise UsageError (exit 2) when an output would overwrite an input or another output.

    ``inputs`` and ``outputs`` map how each is named in the message (``--out``, the program)
    to its path. Compared by identity, not by name: ``in.csv``, ``./in.csv`` and a link to it
    are one file.
    """
    from loyalsim.errors import UsageError

    seen: dict[tuple[str, object], str] = {_identity(path): role for role, path in inputs.items()}
    for role, path in outputs.items():
        key = _identity(path)
        if key in seen:
            other = seen[key]
            what = "input" if other in inputs else "output"
            raise UsageError(f"{role} {path} is the same file as the {what} {other}: writing it would "
                             "replace it; choose another file name")
        seen[key] = role
