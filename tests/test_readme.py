"""The README's troubleshooting and refusal texts are what the code really prints.

Each message in the first column of those tables (in backticks) is split at its placeholders
(`<...>`, `...`); every literal piece must occur in one string literal of our packages (an
f-string's fields count as gaps, adjacent literals as one), or, for the texts the MCP SDK
itself answers with (401, 421), in one of the SDK's. A message reworded in the code, or
invented in the README, fails here.
"""

import ast
import re
from pathlib import Path

import mcp
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PACKAGES = ("futu_mcp", "futucli", "keystore", "opend")
PLACEHOLDER = re.compile(r"<[^<>`]+>|\.\.\.|…")
SHORTEST_PIECE = 4


def _literals(path: Path) -> list[str]:
    """Every string the file's code can print. An f-string field that names a module-level
    string constant (`ENV_KEY`) is that constant; any other field is a gap (a NUL)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def field(value: ast.expr) -> str:
        if isinstance(value, ast.Constant):
            return str(value.value)
        if isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name):
            return constants.get(value.value.id, "\0")
        return "\0"

    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            out.append("".join(field(v) for v in node.values))
    return out


def _our_files() -> list[Path]:
    return [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]


def _sources() -> str:
    files = _our_files() + list(Path(mcp.__file__).parent.rglob("*.py"))
    return "\n".join(literal for p in files for literal in _literals(p))


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", text, re.M | re.S)
    assert found, f"README has no section {title!r}"
    return found.group(1)


def _first_column_messages(section: str) -> list[str]:
    messages = []
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith("| ---"):
            continue
        first = line.split(" | ")[0]
        messages += re.findall(r"`([^`]+)`", first)
    return messages


def _pieces(message: str) -> list[str]:
    return [p.strip() for p in PLACEHOLDER.split(message) if len(p.strip()) >= SHORTEST_PIECE]


COMPOSED = re.compile(r"invalid argument: ([a-z_]+): (.+)")


def _printed(piece: str) -> bool:
    """In one literal. The one text the code composes from parts, `invalid argument: <field>:
    <why>` (one template, each caller filling it), also counts when our code has that template
    and the field and the reason are each a whole string of our code."""
    if piece in SOURCES:
        return True
    composed = COMPOSED.fullmatch(piece)
    return (
        composed is not None
        and "invalid argument: \0: \0" in OURS
        and all(part in OUR_STRINGS for part in composed.groups())
    )


TROUBLESHOOTING = _first_column_messages(_section("Troubleshooting"))
REFUSALS = _first_column_messages(_section("Refusal texts"))
SOURCES = _sources()
OURS = "\n".join(literal for p in _our_files() for literal in _literals(p))
OUR_STRINGS = set(OURS.split("\n"))


def test_the_tables_hold_the_messages_the_issue_names() -> None:
    """The symptoms a newcomer hits are all there (and the parsing above found them)."""
    joined = "\n".join(TROUBLESHOOTING)
    for must in (
        "missing scope",
        "limit check failed: rate limit",
        "gateway not connected",
        "invalid_token",
        "Invalid Host header",
        "is not valid JSON",
        "keys file not found",
        "FUTU_MCP_API_KEY is not set",
        "not logged in",
    ):
        assert must in joined, f"troubleshooting has no row for {must!r}"
    assert len(REFUSALS) >= 10


def test_the_check_refuses_texts_nobody_prints() -> None:
    """Parts that exist, joined in a way no code joins them, are not printed text."""
    for invented in (
        "missing scope: rate limit",
        "gateway error: Authentication required",
        "invalid argument: order_id: rate limit",
        "invalid argument: nonsense_field: required",
    ):
        assert not all(_printed(p) for p in _pieces(invented)), invented


@pytest.mark.parametrize("message", TROUBLESHOOTING + REFUSALS)
def test_each_message_is_printed_by_the_code(message: str) -> None:
    pieces = _pieces(message)
    assert pieces, f"{message!r} has no literal text to look for"
    for piece in pieces:
        assert _printed(piece), f"README says {message!r}, but no code prints {piece!r}"
