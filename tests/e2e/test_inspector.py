"""An independent client: the MCP Inspector CLI (TypeScript SDK) lists the tools and gets a quote,
over stdio and over HTTP with a Bearer header."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from opend.sim.universe import SECURITIES
from tests.e2e.conftest import FUTU_MCP, gateway_of, server_env
from tests.e2e.npm import bin_path

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def inspector() -> Path:
    """The Inspector CLI, at its pinned version in .ci/node (installed there if missing)."""
    return bin_path("@modelcontextprotocol/inspector", "mcp-inspector")


def run_inspector(inspector: Path, *args: str) -> tuple[int, Any]:
    """(exit code, parsed JSON output) of one Inspector CLI command."""
    done = subprocess.run(
        [str(inspector), "--cli", *args],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=120,
    )
    try:
        return done.returncode, json.loads(done.stdout)
    except json.JSONDecodeError:
        return done.returncode, done.stdout + done.stderr


def check_listing_and_quote(inspector: Path, target: list[str]) -> None:
    """tools/list and futu_get_quote (good and bad) through the Inspector against `target`."""
    code, listing = run_inspector(inspector, *target, "--method", "tools/list")
    assert code == 0, listing
    tools = {t["name"]: t for t in listing["tools"]}
    assert len(tools) == 11 and "futu_place_order" not in tools
    assert tools["futu_get_quote"]["annotations"]["readOnlyHint"] is True
    assert tools["futu_get_quote"]["outputSchema"]["type"] == "object"
    code, result = run_inspector(
        inspector,
        *target,
        "--method",
        "tools/call",
        "--tool-name",
        "futu_get_quote",
        "--tool-arg",
        "codes=HK.00700",
    )
    assert code == 0, result
    assert result["isError"] is False
    quote = result["structuredContent"]["quotes"][0]
    assert (quote["code"], quote["name"]) == ("HK.00700", SECURITIES["HK.00700"].name)
    code, result = run_inspector(
        inspector,
        *target,
        "--method",
        "tools/call",
        "--tool-name",
        "futu_get_quote",
        "--tool-arg",
        "codes=HK",
    )
    assert code == 5 and result["isError"] is True  # 2.12.0 exits 5 on a tool error
    assert result["content"][0]["text"].startswith("invalid argument: codes: ")


def test_inspector_over_stdio(inspector: Path, sim: Any, make_key: Any, tmp_path: Path) -> None:
    token = make_key("inspector", "qot:read")
    # The key reaches futu-mcp through its environment, never through a command line.
    key_file = tmp_path / "key"
    key_file.write_text(token)
    key_file.chmod(0o600)
    launch = f'FUTU_MCP_API_KEY="$(cat {key_file})" exec {FUTU_MCP} --gateway {gateway_of(sim)}'
    target = ["sh", "-c", launch]
    check_listing_and_quote(inspector, target)


def test_inspector_over_http_with_a_bearer_header(
    inspector: Path, sim: Any, make_key: Any, http_server: Any
) -> None:
    token = make_key("inspector", "qot:read")
    server = http_server("--gateway", gateway_of(sim))
    check_listing_and_quote(inspector, [server.url, "--header", f"Authorization: Bearer {token}"])
    # A 401 makes the Inspector try OAuth: what it prints is what README Troubleshooting explains.
    code, out = run_inspector(
        inspector,
        server.url,
        "--header",
        "Authorization: Bearer fc_wrong",
        "--method",
        "tools/list",
    )
    assert code != 0 and "Interactive OAuth requires a TTY" in json.dumps(out)
