"""The one exception hierarchy of loyalsim.

Problems in the user's files are data (:class:`loyalsim.issues.Issue`), not exceptions;
exceptions are for the cases where a stage cannot produce a result at all. Every one
carries the issues that explain it, so the CLI can print them with locations.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loyalsim.issues import Issue


class LoyalsimError(Exception):
    """Base of every error loyalsim raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, issues: Sequence[Issue] = ()) -> None:
        super().__init__(message)
        self.issues = list(issues)


class InputError(LoyalsimError):
    """An input file could not be read or parsed into a document (exit code 2)."""

    exit_code = 2


class InvalidDocumentError(LoyalsimError):
    """A document has validation errors, so a later stage cannot use it (exit code 1)."""


class UsageError(LoyalsimError):
    """The command was called with options that do not fit together (exit code 2)."""

    exit_code = 2


class OutputError(LoyalsimError):
    """An output cannot be written where it was asked for (exit code 2)."""

    exit_code = 2

    @classmethod
    def of(cls, target: object, exc: OSError) -> OutputError:
        """Why ``target`` could not be written, from the system's refusal ``exc``."""
        if Path(str(target)).is_dir():
            return cls(
                f"cannot write {target}: it is a folder; give a file name, such as {Path(str(target)) / 'out'}"
            )
        reason = exc.strerror or type(exc).__name__
        # The path the system names, unless it is the temporary file beside the target.
        culprit = str(exc.filename) if exc.filename else ""
        where = f" ({culprit})" if culprit and culprit != str(target) and not culprit.endswith(".tmp") else ""
        return cls(
            f"cannot write {target}: {reason}{where}; choose a folder that exists (or can be created) "
            "and that you can write to, on a disk with room"
        )


class WorkersDiedError(LoyalsimError):
    """Worker processes kept dying (killed from outside, usually for memory): not a bug in
    loyalsim, and not the user's files either (exit code 4)."""

    exit_code = 4


def load_error(name: str, issues: Sequence[Issue]) -> LoyalsimError:
    """The one error for a file that did not load: InputError (exit 2) when it cannot be read at
    all (missing, too large, binary, bad encoding: LS001-LS004), InvalidDocumentError (exit 1)
    for what it says (YAML errors, LS010-LS021), whichever command reads it."""
    from loyalsim.issues import UNREADABLE_CODES

    unreadable = any(issue.code in UNREADABLE_CODES for issue in issues)
    return (InputError if unreadable else InvalidDocumentError)(f"cannot load {name}", issues)
