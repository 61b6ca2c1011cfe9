"""Help text wraps at the terminal's width, not where the source was wrapped."""

from __future__ import annotations

import inspect

from loyalsim.cli.app import _reflowed, app, fit_app


def test_paragraphs_are_kept_and_their_line_breaks_joined() -> None:
    assert (
        _reflowed("First line\n    goes on.\n\n    Second paragraph\n    too.\n")
        == "First line goes on.\n\nSecond paragraph too."
    )


def test_every_command_gets_reflowed_help_from_its_docstring() -> None:
    for typer_app in (app, fit_app):
        for command in typer_app.registered_commands:
            assert command.callback is not None
            doc = inspect.cleandoc(command.callback.__doc__ or "")
            assert command.help is not None and "\n" not in command.help.replace("\n\n", ""), command.name
            assert command.help.split() == doc.split()  # the same words
