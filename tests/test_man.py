"""The man pages: committed pages match the command definitions, cover them, and render cleanly.

When a command or option changes, regenerate: `.venv/bin/python man/generate.py`.
"""

import difflib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import missing_tool

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


def _render(path: Path, width: int = 200) -> tuple[str, str]:
    """(text, warnings) from groff, or from man -l when only man is installed."""
    if shutil.which("groff"):
        cmd = ["groff", "-man", "-Tutf8", "-ww", f"-rLL={width}n", str(path)]
    elif shutil.which("man"):
        cmd = ["man", "--warnings", "-l", str(path)]
    else:
        missing_tool("neither groff nor man is installed: the render check cannot run here")
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"MANWIDTH": str(width), "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"},
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
    from futu_mcp.tools.registry import all_tools

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


def _examples_section(page: Path) -> list[str]:
    """The EXAMPLES section as a reader at 80 columns sees it, one stripped line per line."""
    text, warnings = _render(page, width=80)
    assert warnings == ""
    match = re.search(r"^EXAMPLES\n(.*?)^\S", text, re.M | re.S)
    assert match, f"{page.name}: no EXAMPLES section"
    lines = match.group(1).splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    return [line.strip() for line in lines]


def test_futucli_examples_section_has_every_example(generated: Path) -> None:
    from futucli.examples import EXAMPLES

    shown = _examples_section(generated / "futucli.1")
    for path, examples in EXAMPLES.items():
        assert path in shown, f"no {path} subsection"
        for example in examples:
            # Whole lines, in a no-fill block: what the reader copies is what the shell runs.
            for line in example.shell_lines():
                assert line.strip() in shown, f"{path}: {line!r} missing or wrapped"


def test_futu_mcp_examples_section_has_every_epilog_example(generated: Path) -> None:
    import shlex

    from futu_mcp.cli import build_parser

    commands = [
        line.strip()
        for line in (build_parser().epilog or "").splitlines()
        if line.strip().startswith("futu-mcp ")
    ]
    assert commands, "futu-mcp --help shows no examples"
    shown = _examples_section(generated / "futu-mcp.1")
    for command in commands:
        assert command in shown, f"{command!r} missing or wrapped"
        try:
            build_parser().parse_args(shlex.split(command)[1:])
        except SystemExit as exc:
            raise AssertionError(f"futu-mcp rejects its own example {command!r}") from exc


def _generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("man_generate", MAN / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_epilog_examples_reads_the_argparse_block() -> None:
    epilog_examples = _generator().epilog_examples
    assert epilog_examples("", "futu-mcp") == ("", [])
    assert epilog_examples("Only prose.\n", "futu-mcp") == ("Only prose.\n", [])
    prose, examples = epilog_examples(
        "Some prose.\n\nexamples:\n"
        "  futu-mcp --read-only\n      hide the trade tools\n      for every key\n"
        "  futu-mcp --http-listen 127.0.0.1:0 \\\n      --audit-log a.jsonl\n      two lines\n"
        "  futu-mcp --list-tools\n",
        "futu-mcp",
    )
    assert prose.strip() == "Some prose."
    assert [(e.what, e.lines) for e in examples] == [
        ("hide the trade tools for every key", ("futu-mcp --read-only",)),
        ("two lines", ("futu-mcp --http-listen 127.0.0.1:0", "--audit-log a.jsonl")),
        ("", ("futu-mcp --list-tools",)),
    ]


def test_epilog_examples_refuses_a_description_without_a_command() -> None:
    with pytest.raises(ValueError, match="comes before any"):
        _generator().epilog_examples("examples:\n  serve stdio\n  futu-mcp\n", "futu-mcp")


def test_wheel_installs_the_committed_pages(tmp_path: Path) -> None:
    """A wheel of the tracked files carries both pages to PREFIX/share/man/man1, where man looks."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    # A copy, so the build's build/ and *.egg-info litter stays out of the real tree.
    src = tmp_path / "src"
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file():  # not a file deleted in the working tree
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index"]
    proc = subprocess.run(
        [*build, "--no-build-isolation", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        "building needs setuptools>=70.1 in this environment (the test extra)\n" + proc.stderr
    )
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for page in PAGES:
            (name,) = [
                n for n in archive.namelist() if n.endswith(f".data/data/share/man/man1/{page}")
            ]
            assert archive.read(name) == (MAN / page).read_bytes(), (
                f"{name} differs from man/{page}"
            )
