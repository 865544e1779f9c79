"""The Typer application behind the `futucli` command.

Each command group lives in its own module with a `register(app)` function; this module only
assembles them, so `futucli --help` lists everything in one place. Command modules import their
heavy dependencies (argon2, the OpenD client, the simulator) inside the command functions, so
`futucli --help` stays fast.
"""

import inspect
import re
from importlib.metadata import version

import typer

from futucli import audit, demo, examples, keys, mcpconfig, sim, unlock

app = typer.Typer(
    name="futucli",
    help="Manage futu-mcp API keys, unlock trading on OpenD, read the audit log, run the simulator.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"futucli {version('futu-mcp')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Manage futu-mcp API keys, unlock trading on OpenD, read the audit log, run the simulator."""


# One line per command module; the order is the order of `futucli --help`.
keys.register(app)
mcpconfig.register(app)
demo.register(app)
audit.register(app)
unlock.register(app)
sim.register(app)
# After every register(): each command's --help ends with its examples (futucli/examples.py).
examples.attach(app)


def _one_line_paragraphs(text: str) -> str:
    """Docstring paragraphs joined into single lines: Typer's rich help keeps the source's line
    breaks after the first paragraph, which at 80 columns leaves half-empty lines."""
    return "\n\n".join(re.sub(r"\s*\n\s*", " ", p) for p in re.split(r"\n\s*\n", text))


def _reflow(group: typer.Typer) -> None:
    for command in group.registered_commands:
        if command.help is None and command.callback is not None:
            command.help = _one_line_paragraphs(inspect.getdoc(command.callback) or "")
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _reflow(sub.typer_instance)


_reflow(app)


def main() -> None:
    """Console-script entry point."""
    app()
