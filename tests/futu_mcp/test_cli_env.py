"""futu-mcp takes the stdio key out of its environment once it has read it."""

import os
from typing import Any

import pytest

import futu_mcp.stdio
from futu_mcp.cli import main


def test_the_stdio_key_leaves_the_environment_once_read(
    sim: Any, make_key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = make_key("env-reader", "qot:read")
    monkeypatch.setenv("FUTU_MCP_API_KEY", token)
    seen: list[bool] = []

    async def fake_serve(server: Any) -> None:
        seen.append("FUTU_MCP_API_KEY" in os.environ)

    monkeypatch.setattr(futu_mcp.stdio, "serve_stdio", fake_serve)
    host, port = sim.address
    main(["--gateway", f"{host}:{port}"])
    assert seen == [False]
    assert "FUTU_MCP_API_KEY" not in os.environ
