"""The Typer application behind the `futucli` command.

Each command group lives in its own module with a `register(app)` function; this module only
assembles them, so `futucli --help` lists everything in one place. Command modules import their
heavy dependencies (argon2, the OpenD client, the simulator) inside the command functions, so
`futucli --help` stays fast.
"""

from importlib.metadata import version

import typer

from futucli import audit, demo, examples, helptext, keys, ledger, mcpconfig, sim, unlock

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
ledger.register(app)
mcpconfig.register(app)
demo.register(app)
audit.register(app)
unlock.register(app)
sim.register(app)
# After every register(): each command's --help ends with its examples (futucli/examples.py).
examples.attach(app)
helptext.fill_paragraphs(app)


def main() -> None:
    """Console-script entry point."""
    app()
