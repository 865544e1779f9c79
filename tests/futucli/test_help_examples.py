"""Every futucli command's --help ends with examples, and every example is a valid command line.

The examples live in futucli/examples.py. Each is parsed against the real command tree (the one
`futucli` runs), so renaming a flag or a command without fixing its example fails here; the key
examples are also run, since their values (limits, hours, expiry) are checked by the commands.
"""

import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main

# Typer vendors its own Click; its commands and errors are those, not the `click` package's.
from typer._click import Command, Context
from typer._click.exceptions import UsageError
from typer.testing import CliRunner

from futucli.app import app
from futucli.examples import EXAMPLES, LINE_WIDTH, Example
from tests.conftest import console_script

ROOT = typer.main.get_command(app)
# Files the examples name that the commands insist exist; a trader has them, the test makes them.
FILES_THE_EXAMPLES_NAME = ("opend_rsa.pem", "audit.jsonl")
# The key examples run in this order, each line once: keys first, then what uses them.
RUN_ORDER = ("futucli gen-key", "futucli list-keys", "futucli rotate-key", "futucli revoke-key")


def _is_group(command: Command) -> bool:
    return hasattr(command, "commands")


def _tree(command: Command, path: str) -> Iterator[tuple[str, Command]]:
    yield path, command
    if _is_group(command):
        for name, sub in command.commands.items():
            yield from _tree(sub, f"{path} {name}")


COMMANDS = dict(_tree(ROOT, "futucli"))
ALL_EXAMPLES = [(path, example) for path, examples in EXAMPLES.items() for example in examples]


def stages(command_line: str) -> list[list[str]]:
    """The words of each command of a shell pipeline (`a | b`), as the shell splits them."""
    out: list[list[str]] = [[]]
    for word in shlex.split(command_line):
        if word == "|":
            out.append([])
        else:
            out[-1].append(word)
    return out


def parse(words: list[str]) -> tuple[str, Context]:
    """Parse one command as `futucli` would, without running it: (command path, its context).

    Raises UsageError (BadParameter is one) for an unknown command, option or value.
    """
    program, *args = words
    assert program == "futucli", f"{shlex.join(words)!r} does not run futucli"
    command, parent, name, path = ROOT, None, program, program
    while _is_group(command):
        ctx = command.context_class(command, info_name=name, parent=parent)
        # A group parses its own options and returns what follows its subcommand's name; that
        # name is the word just before (options end at the first word, so the rest is a suffix).
        after = command.parse_args(ctx, list(args))
        sub_name, sub, args = command.resolve_command(ctx, args[len(args) - len(after) - 1 :])
        assert sub_name is not None and sub is not None
        command, parent, name, path = sub, ctx, sub_name, f"{path} {sub_name}"
    return path, command.make_context(name, args, parent=parent)


@pytest.fixture
def trader_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding the files the examples name."""
    folder = tmp_path / "work"
    folder.mkdir()
    for name in FILES_THE_EXAMPLES_NAME:
        (folder / name).write_text("", encoding="utf-8")
    monkeypatch.chdir(folder)
    return folder


def test_the_tree_has_every_command() -> None:
    # A broken walk would make the per-command tests below vacuous.
    for path in ("futucli", "futucli gen-key", "futucli audit", "futucli audit verify"):
        assert path in COMMANDS
    assert len(COMMANDS) >= 13


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_help_shows_examples_whole_at_80_columns(path: str) -> None:
    examples = EXAMPLES.get(path)
    assert examples, f"`{path}` has no examples: add them to futucli/examples.py"
    assert 1 <= len(examples) <= 3
    result = CliRunner().invoke(app, [*path.split()[1:], "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    shown = [line.strip() for line in result.stdout.splitlines()]
    assert "Examples" in shown, result.stdout
    for example in examples:
        # Each line whole on its own line: a wrapped command would break a paste into a shell.
        for line in [f"# {example.what}", *example.shell_lines()]:
            assert line.strip() in shown, f"{path} --help at 80 columns:\n{result.stdout}"


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_help_prose_is_filled_to_the_terminal(path: str) -> None:
    """No paragraph keeps the docstring's line breaks: at 80 columns those show as half-empty
    lines. Every paragraph of the help text is one line, for rich to fill."""
    help_text = COMMANDS[path].help or ""
    assert help_text, f"`{path}` has no help text"
    for paragraph in help_text.split("\n\n"):
        assert "\n" not in paragraph.strip(), f"`{path}` help keeps a line break: {paragraph!r}"


def test_examples_are_only_for_existing_commands() -> None:
    assert set(EXAMPLES) <= set(COMMANDS), set(EXAMPLES) - set(COMMANDS)


@pytest.mark.parametrize(
    ("path", "example"), ALL_EXAMPLES, ids=[e.command for _, e in ALL_EXAMPLES]
)
def test_example_parses_against_the_command(trader_dir: Path, path: str, example: Example) -> None:
    resolved = [parse(words)[0] for words in stages(example.command)]
    if _is_group(COMMANDS[path]):
        # A group's examples show its commands.
        assert all(p.startswith(path + " ") for p in resolved), f"{example.command!r} not {path}"
    else:
        assert resolved[0] == path, f"{example.command!r} is listed under {path}"
    assert all(len(line) <= LINE_WIDTH for line in example.shell_lines()), example.shell_lines()


@pytest.mark.parametrize(
    "bad",
    [
        "futucli gen-key --no-such-flag",
        "futucli no-such-command",
        "futucli audit",
        "futucli audit tail -n many",
        "futucli sim --latency-ms -1",
        "futucli unlock-trade --rsa-key missing.pem",
        "futucli revoke-key",
    ],
)
def test_parse_rejects_what_futucli_rejects(trader_dir: Path, bad: str) -> None:
    with pytest.raises(UsageError):
        parse(shlex.split(bad))
    assert CliRunner().invoke(app, shlex.split(bad)[1:]).exit_code == 2


def test_key_examples_run_as_written(
    trader_dir: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each line once, gen-key first; a pipeline's stages get the previous one's output."""
    # As when run from a shell: mcp-config finds futu-mcp beside the futucli being run.
    monkeypatch.setattr(sys, "argv", [console_script("futucli")])
    by_first_command: dict[str, list[str]] = {}
    for _, example in ALL_EXAMPLES:
        lines = by_first_command.setdefault(parse(stages(example.command)[0])[0], [])
        if example.command not in lines:
            lines.append(example.command)
    ran = 0
    for command in RUN_ORDER:
        for line in by_first_command.get(command, []):
            piped = None
            for words in stages(line):
                result = CliRunner().invoke(app, words[1:], input=piped, env={"COLUMNS": "200"})
                assert result.exit_code == 0, f"{line}: {shlex.join(words)}\n{result.output}"
                piped = result.stdout
            ran += 1
    assert ran >= 6
    # The root's pipeline put the new key into Claude Desktop's config without printing it.
    config = isolated_home / ".config" / "Claude" / "claude_desktop_config.json"
    assert '"FUTU_MCP_API_KEY": "fc_' in config.read_text(encoding="utf-8")
