"""The one exception hierarchy of loyalsim.

Problems in the user's files are data (:class:`loyalsim.issues.Issue`), not exceptions;
exceptions are for the cases where a stage cannot produce a result at all. Every one
carries the issues that explain it, so the CLI can print them with locations.
"""

from __future__ import annotations

from collections.abc import Sequence
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
