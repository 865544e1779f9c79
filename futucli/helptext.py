"""How futucli's help text is laid out: paragraphs filled to the terminal.

Typer's rich help keeps a docstring's line breaks after its first paragraph, so a docstring
wrapped at 100 columns shows as half-empty lines at 80. Joining each paragraph into one line
lets rich fill it to whatever width the terminal has.
"""

import inspect
import re

import typer


def one_line_paragraphs(text: str) -> str:
    """`text` with each blank-line separated paragraph joined into a single line."""
    return "\n\n".join(re.sub(r"\s*\n\s*", " ", p) for p in re.split(r"\n\s*\n", text))


def fill_paragraphs(app: typer.Typer) -> None:
    """Give every command of `app` (and of its sub-apps) help made of one-line paragraphs."""
    for command in app.registered_commands:
        if command.help is None and command.callback is not None:
            command.help = one_line_paragraphs(inspect.getdoc(command.callback) or "")
    for group in app.registered_groups:
        if group.typer_instance is not None:
            fill_paragraphs(group.typer_instance)
