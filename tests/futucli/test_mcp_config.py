"""`futucli mcp-config` prints a snippet that points at this installation and never leaks via argv."""

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import console_script


def run_mcp_config(*args: str, stdin: str = "", env_key: str | None = None) -> str:
    env = dict(os.environ)
    if env_key is not None:
        env["FUTU_MCP_API_KEY"] = env_key
    done = subprocess.run(
        [console_script("futucli"), "mcp-config", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_stdio_snippet_uses_absolute_command_and_placeholder() -> None:
    config = json.loads(
        run_mcp_config("--gateway", "127.0.0.1:22222", "--keys-file", "/tmp/k.json")
    )
    entry = config["mcpServers"]["futu"]
    assert Path(entry["command"]) == Path(console_script("futu-mcp")).resolve()
    assert Path(entry["command"]).exists()
    assert entry["args"] == ["--gateway", "127.0.0.1:22222", "--keys-file", "/tmp/k.json"]
    assert entry["env"]["FUTU_MCP_API_KEY"].startswith("<paste")


def test_key_from_stdin_or_environment() -> None:
    from_stdin = json.loads(run_mcp_config("--key-stdin", stdin="fc_canary_from_stdin\n"))
    assert from_stdin["mcpServers"]["futu"]["env"]["FUTU_MCP_API_KEY"] == "fc_canary_from_stdin"
    from_env = json.loads(run_mcp_config(env_key="fc_canary_from_env"))
    assert from_env["mcpServers"]["futu"]["env"]["FUTU_MCP_API_KEY"] == "fc_canary_from_env"


def test_http_snippet_carries_bearer_header() -> None:
    config = json.loads(
        run_mcp_config("--http-url", "http://127.0.0.1:38765/mcp", "--name", "desk", env_key="fc_k")
    )
    assert config["mcpServers"]["desk"] == {
        "type": "http",
        "url": "http://127.0.0.1:38765/mcp",
        "headers": {"Authorization": "Bearer fc_k"},
    }


def test_continue_yaml() -> None:
    text = run_mcp_config("--client", "continue", env_key="fc_k")
    assert text.splitlines()[:2] == ["mcpServers:", "  - name: futu"]
    assert '      FUTU_MCP_API_KEY: "fc_k"' in text.splitlines()
