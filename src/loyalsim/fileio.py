"""Writing outputs safely: never a half-written file, never a lost one.

Every file loyalsim writes goes to a temporary file in the target's folder first and is
renamed over the target in one step when complete (:class:`PendingFile`,
:func:`atomic_write_text`). A run that fails discards the temporary file, so an
existing output is left as it was.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from loyalsim.errors import OutputError

if TYPE_CHECKING:
    import pyarrow as pa


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
            raise OutputError(
                f"cannot write {target}: it is a device or a pipe, not a file; give a file name"
            )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # The writer's process id in the name tells a stale file (its writer was killed) from one
            # another live run is writing: see remove_stale_temporaries.
            handle, name = tempfile.mkstemp(
                prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
            )
        except OSError as exc:
            raise OutputError.of(target, exc) from exc
        try:
            os.fchmod(handle, _mode_for(target))
        finally:
            os.close(handle)
        self.path = Path(name)
        self.deferred = False

    def commit(self, *, now: bool = False) -> None:
        """Rename over the target now, or, inside :func:`output_set` (unless ``now``), when the
        whole set is written."""
        outputs = _CURRENT_SET.get()
        if outputs is not None and not now:
            self.deferred = True  # the set owns the temporary file now: discard() leaves it
            outputs.pending.append(self)
            return
        self.replace()

    def replace(self) -> None:
        try:
            self.path.replace(self.target)
        except OSError as exc:  # e.g. the target is a folder
            raise OutputError.of(self.target, exc) from exc

    def discard(self) -> None:
        if not self.deferred:
            self.drop()

    def drop(self) -> None:
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


class _OutputSet:
    """The files a command writes, put in place together (see :func:`output_set`)."""

    def __init__(self) -> None:
        self.pending: list[PendingFile] = []

    def discard(self) -> None:
        for pending in self.pending:
            pending.drop()

    def put_in_place(self) -> None:
        """Rename every file over its target; if one fails, put the earlier targets back."""
        try:
            for pending in self.pending:
                target = pending.target
                if target.is_dir() or (target.exists() and not target.is_file()):
                    raise OutputError(
                        f"cannot write {target}: it is a folder or a device, not a file; give a "
                        "file name (no output was replaced)"
                    )
            done: list[tuple[Path, Path | None]] = []  # (target, its previous file's second name)
            try:
                for pending in self.pending:
                    backup = _backup(pending.target)
                    try:
                        pending.replace()
                    except OutputError:
                        if backup is not None:
                            backup.unlink(missing_ok=True)
                        raise
                    done.append((pending.target, backup))
            except OutputError:
                for target, backup in reversed(done):  # as they were before this command
                    with contextlib.suppress(OSError):
                        if backup is not None:
                            backup.replace(target)
                        else:
                            target.unlink()
                raise
            for _, backup in done:
                if backup is not None:
                    with contextlib.suppress(OSError):
                        backup.unlink()
        finally:
            self.discard()


def _backup(target: Path) -> Path | None:
    """A second name for ``target``'s current file (a hard link: nothing is copied), or None."""
    if not target.is_file():
        return None
    backup = target.with_name(f".{target.name}.{os.getpid()}.previous.tmp")
    with contextlib.suppress(FileNotFoundError):
        backup.unlink()
    try:
        os.link(target, backup)
    except OSError:  # no hard links here: the new file still replaces the old one atomically
        return None
    return backup


_CURRENT_SET: contextvars.ContextVar[_OutputSet | None] = contextvars.ContextVar(
    "loyalsim_output_set", default=None
)


@contextlib.contextmanager
def output_set() -> Iterator[None]:
    """Every file committed inside is put in place only when the block ends without error.

    A command's outputs are then one consistent set: if any of them cannot be written (a full
    disk, a folder where a file was asked), every target keeps its previous file and the error
    names the file that failed. Nested sets join the outermost.
    """
    if _CURRENT_SET.get() is not None:
        yield
        return
    outputs = _OutputSet()
    token = _CURRENT_SET.set(outputs)
    try:
        yield
    except SystemExit:  # the command chose its exit code (a CLI exits so even on success): keep its files
        _CURRENT_SET.reset(token)
        outputs.put_in_place()
        raise
    except BaseException:
        _CURRENT_SET.reset(token)
        outputs.discard()
        raise
    _CURRENT_SET.reset(token)
    outputs.put_in_place()


@contextlib.contextmanager
def atomic_path(target: Path, *, now: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it over ``target`` (inside
    :func:`output_set`, when the whole set is written, unless ``now``: a checkpoint must
    be on disk at once). A failed write names ``target``."""
    pending = PendingFile(target)
    try:
        try:
            yield pending.path
        except OSError as exc:  # e.g. the disk is full: say which output, not the temporary file
            raise OutputError.of(target, exc) from exc
        pending.commit(now=now)
    finally:
        pending.discard()


def atomic_write_bytes(target: Path, data: bytes, *, now: bool = False) -> None:
    with atomic_path(target, now=now) as temporary:
        try:
            with temporary.open("wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:  # e.g. the disk is full
            raise OutputError.of(target, exc) from exc


def require_regular_file(path: Path, what: str) -> None:
    """Refuse (InputError, exit 2) a path that is a FIFO, a socket or a device: reading one
    would block until something writes to it, or never end."""
    from loyalsim.errors import InputError

    try:
        mode = path.stat().st_mode
    except OSError:
        return  # missing or unreadable: the reader says so
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise InputError(f"{path}: this is a device or a pipe, not a file; give {what} saved as a file")


def writable_folder(folder: Path, option: str = "--out") -> None:
    """Create ``folder`` if needed and check that files can be written in it, before long work starts."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".loyalsim-probe.", dir=folder)
        os.close(handle)
        Path(name).unlink()
        remove_stale_temporaries(folder)  # what a killed earlier run left half written
    except OSError as exc:
        raise OutputError(
            f"{option} {folder}: cannot write there ({exc.strerror or type(exc).__name__}); "
            "choose a folder that exists (or can be created) and that you can write to"
        ) from exc


def atomic_write_text(target: Path, text: str, *, now: bool = False) -> None:
    atomic_write_bytes(target, text.encode("utf-8"), now=now)


def atomic_write_table(folder: Path, name: str, table: pa.Table) -> None:
    """An Arrow ``table`` as ``folder/name.parquet`` and ``folder/name.csv``, each written
    atomically (inside an output set, put in place with the rest); the folder is made if needed."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / f"{name}.parquet") as temporary:
        pq.write_table(table, temporary)
    with atomic_path(folder / f"{name}.csv") as temporary:
        pacsv.write_csv(table, temporary)


def _identity(path: Path) -> tuple[str, object]:
    """What makes two paths the same file: device and inode for one that exists (links and
    other spellings included), else the resolved path it will be created at."""
    try:
        info = path.stat()
    except OSError:
        return ("path", str(path.resolve()))
    return ("file", (info.st_dev, info.st_ino))


def refuse_clashes(inputs: dict[str, Path], outputs: dict[str, Path]) -> None:
    """Raise UsageError (exit 2) when an output would overwrite an input or another output, and
    OutputError (exit 2) when an output is a folder.

    ``inputs`` and ``outputs`` map how each is named in the message (``--out``, the program)
    to its path. Compared by identity, not by name: ``in.csv``, ``./in.csv`` and a link to it
    are one file.
    """
    from loyalsim.errors import UsageError

    seen: dict[tuple[str, object], str] = {_identity(path): role for role, path in inputs.items()}
    for role, path in outputs.items():
        if path.is_dir():  # said before any work, not after it
            raise OutputError(
                f"cannot write {role} {path}: it is a folder; give a file name, such as {path / 'out'}"
            )
        key = _identity(path)
        if key in seen:
            other = seen[key]
            what = "input" if other in inputs else "output"
            raise UsageError(
                f"{role} {path} is the same file as the {what} {other}: writing it would "
                "replace it; choose another file name"
            )
        seen[key] = role
