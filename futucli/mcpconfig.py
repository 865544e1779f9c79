"""`futucli mcp-config`: print the snippet that connects an MCP client to futu-mcp.

Most first-run failures of peer servers are client-config mistakes ("command not found" because
a GUI client does not see the virtualenv's PATH, keys pasted into the wrong place), so the snippet
uses the absolute path of this installation's `futu-mcp` and is valid JSON (or YAML for
Continue) ready to paste. The key is never taken from a flag (it would show in the process
list): it comes from `--key-stdin` or `FUTU_MCP_API_KEY`, else a placeholder is printed.
"""

import json
import os
import sys
from enum import StrEnum
from pathlib import Path

import typer

PLACEHOLDER = "<paste the key printed by futucli gen-key>"


class ClientKind(StrEnum):
    """MCP clients whose configuration format the snippet follows."""

    claude = "claude"
    cursor = "cursor"
    continue_ = "continue"


def futu_mcp_command() -> str:
    """Absolute path of the futu-mcp script next to the running futucli."""
    return str(Path(sys.argv[0]).resolve().parent / "futu-mcp")


def stdio_entry(command: str, gateway: str, keys_file: str | None, key: str) -> dict[str, object]:
    """The server entry of a stdio client config."""
    args = ["--gateway", gateway]
    if keys_file:
        args += ["--keys-file", keys_file]
    return {"command": command, "args": args, "env": {"FUTU_MCP_API_KEY": key}}


def http_entry(url: str, key: str) -> dict[str, object]:
    """The server entry for a futu-mcp already running with --http-listen."""
    return {"type": "http", "url": url, "headers": {"Authorization": f"Bearer {key}"}}


def render(client: ClientKind, name: str, entry: dict[str, object]) -> str:
    """The snippet as the client's config file wants it."""
    if client is ClientKind.continue_:
        lines = ["mcpServers:", f"  - name: {name}"]
        for field, value in entry.items():
            if isinstance(value, dict):
                lines.append(f"    {field}:")
                lines += [f"      {k}: {json.dumps(v)}" for k, v in value.items()]
            else:
                lines.append(f"    {field}: {json.dumps(value)}")
        return "\n".join(lines)
    return json.dumps({"mcpServers": {name: entry}}, indent=2)


def mcp_config(
    client: ClientKind = typer.Option(
        ClientKind.claude, "--client", help="Config format to print."
    ),
    gateway: str = typer.Option(
        "127.0.0.1:11111", "--gateway", help="OpenD address futu-mcp connects to."
    ),
    keys_file: str = typer.Option(
        None, "--keys-file", help="keys.json futu-mcp should read (default: its own default)."
    ),
    http_url: str = typer.Option(
        None,
        "--http-url",
        help="Connect to a running futu-mcp over HTTP (e.g. http://127.0.0.1:38765/mcp) instead of spawning it.",
    ),
    name: str = typer.Option("futu", "--name", help="Server name in the client's config."),
    key_stdin: bool = typer.Option(
        False, "--key-stdin", help="Read the API key from standard input."
    ),
) -> None:
    """Print an MCP client config snippet for futu-mcp (Claude Desktop, Cursor or Continue).

    The key comes from --key-stdin or FUTU_MCP_API_KEY; without either, a placeholder is printed.
    """
    key = sys.stdin.readline().strip() if key_stdin else os.environ.get("FUTU_MCP_API_KEY", "")
    key = key or PLACEHOLDER
    if http_url:
        entry = http_entry(http_url, key)
    else:
        entry = stdio_entry(futu_mcp_command(), gateway, keys_file, key)
    typer.echo(render(client, name, entry))


def register(app: typer.Typer) -> None:
    """Add `mcp-config` to the futucli app."""
    app.command("mcp-config")(mcp_config)
