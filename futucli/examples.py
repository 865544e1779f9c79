"""Example command lines for every futucli command: the Examples of each `--help` and of futucli(1).

One table feeds both, so the help and the man page never disagree, and
tests/futucli/test_help_examples.py parses every line against the real command definitions, so an
example cannot keep a flag that was renamed. A command longer than LINE_WIDTH is split with shell
continuations here rather than left to the help formatter or man, which would wrap it where a
paste into a shell breaks it in two.
"""

from typing import NamedTuple

import typer
import typer.main
from rich.markup import escape
from typer.models import CommandInfo, DefaultPlaceholder, TyperInfo

# Both pages are read at 80 columns, where a longer line would wrap: futucli(1) indents an example
# by 7 + 4 (man/generate.py), `--help` by 1 + 2 (padding and indent) and leaves 1 at the right.
LINE_WIDTH = 80 - 7 - 4
CONTINUATION_INDENT = "    "


class Example(NamedTuple):
    """One command line a trader would type, and what it does in a few words."""

    what: str
    lines: tuple[str, ...]

    @property
    def command(self) -> str:
        """The whole command on one line, as the shell sees it after joining continuations."""
        return " ".join(self.lines)

    def shell_lines(self) -> list[str]:
        """The command as printed: continued lines end in ` \\` and are indented."""
        last = len(self.lines) - 1
        return [
            (CONTINUATION_INDENT if i else "") + line + (" \\" if i < last else "")
            for i, line in enumerate(self.lines)
        ]


def _ex(what: str, *lines: str) -> Example:
    return Example(what, lines)


# Keyed by command path, in the order of the man page. Every command and group has an entry
# (the test fails otherwise); the root's examples are a newcomer's first session.
EXAMPLES: dict[str, tuple[Example, ...]] = {
    "futucli": (
        _ex("See everything work against the simulator (no Futu account needed)", "futucli demo"),
        _ex(
            "A read-only key for Claude Desktop, put into its config (never shown)",
            "futucli gen-key --id desktop --scopes qot:read,acc:read",
            "| futucli mcp-config --client claude --install --key-stdin",
        ),
        _ex("Watch what the agent does, call by call", "futucli audit tail -f"),
    ),
    "futucli gen-key": (
        _ex(
            "Quotes and account views for an LLM client; it cannot trade",
            "futucli gen-key --id claude --scopes qot:read,acc:read",
        ),
        _ex(
            "Paper trading only, in HK: at most 50000 an order, 3 orders a minute",
            "futucli gen-key --id paper",
            "--scopes qot:read,acc:read,trade:simulate --allowed-markets HK",
            "--max-order-value 50000 --max-orders-per-minute 3",
        ),
        _ex(
            "Real US trading, small: 2000 an order, 10000 a day, market hours, 30 days",
            "futucli gen-key --id live --scopes qot:read,acc:read,trade:real",
            "--allowed-markets US --max-order-value 2000",
            "--max-daily-value 10000 --expires 30d",
            "--hours-window 09:30-16:00@America/New_York",
        ),
    ),
    "futucli list-keys": (
        _ex("Every key with its scopes, limits and status", "futucli list-keys"),
        _ex("The same as JSON, for scripts", "futucli list-keys --json"),
    ),
    "futucli revoke-key": (
        _ex(
            "Cut the key off: a running futu-mcp refuses it from its next request on",
            "futucli revoke-key claude",
        ),
    ),
    "futucli rotate-key": (
        _ex(
            "A new secret, same scopes and limits; paste it into the client again",
            "futucli rotate-key claude",
        ),
    ),
    "futucli revoke-kid": (
        _ex(
            "Record the old kid a rotate-key --ledger could not (Redis was down)",
            "futucli revoke-kid Q2bT9xKe --ledger redis://10.0.0.7:6379/0",
        ),
    ),
    "futucli ledger": (
        _ex("Who is near a cap: orders this minute, value today", "futucli ledger"),
        _ex(
            "The same from the Redis ledger several replicas share",
            "futucli ledger --ledger redis://10.0.0.7:6379/0",
        ),
        _ex("As JSON, for scripts and alerts", "futucli ledger --json"),
    ),
    "futucli mcp-config": (
        _ex(
            "Add the entry to ~/.cursor/mcp.json (paste the key at the hidden prompt)",
            "futucli mcp-config --client cursor --install --key-stdin",
        ),
        _ex(
            "Add futu to this folder's .vscode/mcp.json (VS Code asks for the key)",
            "futucli mcp-config --client vscode --install",
        ),
        _ex(
            "The entry for a futu-mcp already running with --http-listen",
            "futucli mcp-config --client http --url http://127.0.0.1:38765/mcp",
        ),
    ),
    "futucli demo": (
        _ex("The guided tour; nothing outside a temporary folder is touched", "futucli demo"),
        _ex("The same tour in another simulated market", "futucli demo --seed 7"),
    ),
    "futucli audit": (
        _ex("Check the log futu-mcp --audit-log writes", "futucli audit verify audit.jsonl"),
        _ex("Watch the default log as calls come in", "futucli audit tail -f"),
    ),
    "futucli audit verify": (
        _ex(
            "Check the chain; keep the head line it prints somewhere else",
            "futucli audit verify audit.jsonl",
        ),
        _ex(
            "Also catch a log rewritten or cut short: SEQ:HASH is that head line",
            "futucli audit verify audit.jsonl --anchor SEQ:HASH",
        ),
    ),
    "futucli audit tail": (
        _ex("The last 20 lines of the default log", "futucli audit tail"),
        _ex("The last 50 calls of one key", "futucli audit tail audit.jsonl -n 50 --key claude"),
        _ex(
            "Watch orders as they are placed",
            "futucli audit tail audit.jsonl -f --tool place_order",
        ),
    ),
    "futucli unlock-trade": (
        _ex(
            "Prompt for the trading password and unlock the OpenD on this machine",
            "futucli unlock-trade --gateway 127.0.0.1:11111",
        ),
        _ex(
            "OpenD on another machine: the link must be RSA-encrypted",
            "futucli unlock-trade --gateway 10.0.0.5:11111 --rsa-key opend_rsa.pem",
        ),
        _ex(
            "Name the broker entity when OpenD's own choice is wrong",
            "futucli unlock-trade --security-firm futusecurities",
        ),
    ),
    "futucli lock-trade": (
        _ex("Lock real trading again when you are done", "futucli lock-trade"),
        _ex(
            "The same for an OpenD on another machine",
            "futucli lock-trade --gateway 10.0.0.5:11111 --rsa-key opend_rsa.pem",
        ),
    ),
    "futucli sim": (
        _ex(
            "A simulated OpenD where futu-mcp and unlock-trade look by default",
            "futucli sim --listen 127.0.0.1:11111",
        ),
        _ex(
            "A free port (printed on the first line) and another market",
            "futucli sim --listen 127.0.0.1:0 --seed 7",
        ),
        _ex("Replies 250 ms late, to see how a client copes", "futucli sim --latency-ms 250"),
    ),
}


def help_epilog(examples: tuple[Example, ...]) -> str:
    """Rich markup for a command's `--help`: each line kept whole, comments in shell syntax.

    Typer strips the indentation common to the lines after the first; the first line is left
    empty so the heading, flush left, keeps the examples' indentation.
    """
    blocks = []
    for example in examples:
        lines = [f"# {example.what}", *example.shell_lines()]
        blocks.append("\n".join("  " + line for line in lines))
    return "\n[b]Examples[/b]\n" + escape("\n\n".join(blocks))


def attach(app: typer.Typer, path: str = "futucli") -> None:
    """Set the examples of `path` and of every command under it as their help epilogs."""
    if path in EXAMPLES:
        app.info.epilog = help_epilog(EXAMPLES[path])
    for command in app.registered_commands:
        _attach_command(command, path)
    for group in app.registered_groups:
        sub_app = group.typer_instance
        if sub_app is None:
            continue
        name = _name(group) or _name(sub_app.info)
        attach(sub_app, f"{path} {name}")


def _attach_command(command: CommandInfo, parent: str) -> None:
    name = command.name or typer.main.get_command_name(command.callback.__name__)
    examples = EXAMPLES.get(f"{parent} {name}")
    if examples:
        command.epilog = help_epilog(examples)


def _name(info: TyperInfo) -> str | None:
    return None if isinstance(info.name, DefaultPlaceholder) else info.name
