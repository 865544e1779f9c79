"""The README's tools table is the one the server renders from its tool table."""

import re
from pathlib import Path

from futu_mcp.docs import tools_markdown
from futu_mcp.tools.registry import all_tools

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_tools_table_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(
        r"<!-- futu-mcp tools: [^\n]*-->\n(.*?)<!-- end of futu-mcp tools -->", text, re.S
    )
    assert match, "README has no generated tools table"
    assert match.group(1) == tools_markdown(), (
        "run `futu-mcp --list-tools` and paste it into README.md"
    )


def test_the_table_names_every_tool_and_its_required_arguments() -> None:
    table = tools_markdown()
    for spec in all_tools():
        assert f"`{spec.name}`" in table
    assert (
        "| `futu_place_order` | trade | `trade:simulate / trade:real (by trd_env)` | destructive | **code**, **trd_side**, **qty**"
        in table
    )
    assert "dry_run=false" in table
