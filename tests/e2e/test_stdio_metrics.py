"""`futu-mcp --metrics-listen`: a stdio server's metrics, scraped while the MCP session runs."""

import re
import subprocess
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.e2e.conftest import FUTU_MCP, gateway_of, server_env

METRICS_LINE = re.compile(r"futu-mcp: metrics on (http://127\.0\.0\.1:\d+/metrics)")


@pytest.mark.anyio
async def test_stdio_server_serves_its_metrics(sim: Any, make_key: Any, tmp_path: Path) -> None:
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    token = make_key("metrics-bot", "qot:read")
    params = StdioServerParameters(
        command=FUTU_MCP,
        args=["--gateway", gateway_of(sim), "--metrics-listen", "127.0.0.1:0"],
        env=server_env(token),
    )
    stderr_file = tmp_path / "stderr.txt"
    with stderr_file.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            # The line is printed before the server reads its first message, so it is there
            # once the session is initialized.
            found = METRICS_LINE.search(stderr_file.read_text())
            assert found, stderr_file.read_text()
            url = found.group(1)
            before = httpx2.get(url).text
            assert 'tool="futu_get_quote"' not in before
            result = await client.call_tool("futu_get_quote", {"codes": "HK.00700"})
            assert not result.is_error
            denied = await client.call_tool("futu_get_funds", {})
            assert denied.is_error
            after = httpx2.get(url).text
    assert (
        'futu_mcp_calls_total{key_id="metrics-bot",outcome="ok",tool="futu_get_quote"} 1.0' in after
    )
    assert 'futu_mcp_limit_denials_total{reason="scope"} 1.0' in after
    assert "futu_mcp_gateway_connected 1.0" in after
    assert token not in after and token not in stderr_file.read_text()


def test_metrics_listen_is_refused_with_http_listen(make_key: Any) -> None:
    done = subprocess.run(
        [FUTU_MCP, "--http-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=30,
    )
    assert done.returncode == 2
    assert "metrics_listen: only for stdio" in done.stderr


def test_metrics_listen_on_a_taken_port_fails_at_start(sim: Any, make_key: Any) -> None:
    import socket

    token = make_key("metrics-bot", "qot:read")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [FUTU_MCP, "--gateway", gateway_of(sim), "--metrics-listen", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            env=server_env(token),
            stdin=subprocess.DEVNULL,
            timeout=30,
        )
    assert done.returncode == 1
    assert f"cannot serve metrics on 127.0.0.1:{port}" in done.stderr


def test_metrics_url_of_an_ipv6_address_has_brackets(sim: Any, make_key: Any) -> None:
    """The printed URL is one a browser or Prometheus takes as it is."""
    import socket

    try:
        socket.socket(socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 on this machine")
    token = make_key("metrics-bot", "qot:read")
    proc = subprocess.Popen(
        [FUTU_MCP, "--gateway", gateway_of(sim), "--metrics-listen", "[::1]:0"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=server_env(token),
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"metrics on (http://\[::1\]:\d+/metrics)", line)
        assert found, line
        assert "futu_mcp_gateway_connected" in httpx2.get(found.group(1)).text
    finally:
        proc.kill()
        proc.wait()
