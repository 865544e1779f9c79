"""The man pages: committed pages match the command definitions, cover them, and render cleanly.

When a command or option changes, regenerate: `.venv/bin/python man/generate.py`.
"""

import difflib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAN = ROOT / "man"
PAGES = ("futucli.1", "futu-mcp.1")
REGENERATE = "regenerate with: .venv/bin/python man/generate.py"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("man")
    subprocess.run(
        [sys.executable, str(MAN / "generate.py"), "--out", str(out)],
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    return out


@pytest.mark.parametrize("page", PAGES)
def test_committed_page_matches_the_cli(generated: Path, page: str) -> None:
    committed = (MAN / page).read_text(encoding="utf-8")
    fresh = (generated / page).read_text(encoding="utf-8")
    if committed != fresh:
        diff = difflib.unified_diff(
            committed.splitlines(), fresh.splitlines(), f"man/{page}", "from the CLI", lineterm=""
        )
        raise AssertionError(
            f"man/{page} is out of date; {REGENERATE}\n" + "\n".join(list(diff)[:40])
        )


def _render(path: Path) -> tuple[str, str]:
    """(text, warnings) from groff, or from man -l when only man is installed."""
    if shutil.which("groff"):
        cmd = ["groff", "-man", "-Tutf8", "-ww", "-rLL=200n", str(path)]
    elif shutil.which("man"):
        cmd = ["man", "--warnings", "-l", str(path)]
    else:
        pytest.skip("neither groff nor man is installed: the render check cannot run here")
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"MANWIDTH": "200", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    # Undo overstrike bold/underline and soft hyphenation so plain substrings can be searched.
    text = re.sub(r".\x08", "", proc.stdout)
    text = re.sub(r"\x1b\[[0-9;]*m", "", text).replace("\u2010", "-").replace("\u2212", "-")
    return text, proc.stderr


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_warnings(generated: Path, page: str) -> None:
    text, warnings = _render(generated / page)
    assert warnings == ""
    for section in (
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "FILES",
        "ENVIRONMENT",
        "EXIT STATUS",
        "SECURITY",
    ):
        assert re.search(rf"^{section}$", text, re.M), f"{page}: no {section} section"
    for variable in ("FUTU_KEYS_FILE", "FUTU_MCP_API_KEY"):
        assert variable in text


def _joined(text: str) -> str:
    return " ".join(text.split())


def test_futucli_page_covers_every_command_and_option(generated: Path) -> None:
    import typer.main

    from futucli.app import app

    text = _joined(_render(generated / "futucli.1")[0])
    assert "COMMANDS" in text

    def walk(group, path: str):
        for name, command in group.commands.items():
            if command.hidden:
                continue
            if hasattr(command, "commands"):
                yield from walk(command, f"{path} {name}")
            else:
                yield f"{path} {name}", command

    commands = list(walk(typer.main.get_command(app), "futucli"))
    assert len(commands) >= 4
    for path, command in commands:
        assert f"{path} [OPTIONS]" in text, f"{path} missing"
        for param in command.params:
            for opt in param.opts if param.param_type_name == "option" else ():
                assert opt in text, f"{path}: {opt} missing"


def test_futu_mcp_page_covers_every_option_and_tool(generated: Path) -> None:
    from futu_mcp.cli import build_parser
    from futu_mcp.toolspec import all_tools

    text = _joined(_render(generated / "futu-mcp.1")[0])
    for action in build_parser()._actions:
        for opt in action.option_strings:
            assert opt in text, f"{opt} missing"
    for spec in all_tools():
        assert spec.name in text


def test_unlock_warning_is_in_the_page(generated: Path) -> None:
    text = _joined(_render(generated / "futucli.1")[0])
    assert "applies to the WHOLE OpenD" in text
    assert "any program that can reach the OpenD port" in text
