"""Writing outputs safely: never a half-written file, never a lost one.

Every file loyalsim writes goes to a temporary file in the target's folder first and is
renamed over the target in one step when complete (:class:`PendingFile`,
:func:`atomic_write_text`). A run that fails discards the temporary file, so an
existing output is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


class PendingFile:
    """A temporary file beside ``target``: ``commit()`` renames it over the target, ``discard()`` removes it."""

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(handle)
        self.path = Path(name)

    def commit(self) -> None:
        self.path.replace(self.target)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


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
    with atomic_path(target) as temporary, temporary.open("wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))
