"""`futu-mcp --metrics-listen`: a stdio server's metrics, scraped while the MCP session runs."""

import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.e2e.conftest import FUTU_MCP, gateway_of, server_env

METRICS_LINE = re.compile(r"futu-mcp: metrics on (http://127\.0\.0\.1:\d+/metrics)")


@asynccontextmanager
async def metrics_session(
    sim: Any, token: str, stderr_file: Path
) -> AsyncIterator[tuple[Any, str]]:
    """An MCP session with a stdio futu-mcp started with `--metrics-listen 127.0.0.1:0`, and the
    metrics URL it printed; its stderr goes to `stderr_file`."""
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(
        command=FUTU_MCP,
        args=["--gateway", gateway_of(sim), "--metrics-listen", "127.0.0.1:0"],
        env=server_env(token),
    )
    with stderr_file.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            # The line is printed before the server reads its first message, so it is there
            # once the session is initialized.
            found = METRICS_LINE.search(stderr_file.read_text())
            assert found, stderr_file.read_text()
            yield client, found.group(1)


@contextmanager
def metrics_process(sim: Any, token: str, *args: str) -> Iterator[str]:
    """A stdio futu-mcp (no MCP session: its stdin stays open and unread) started with `args`,
    and the metrics URL it printed on its first stderr line."""
    proc = subprocess.Popen(
        [FUTU_MCP, "--gateway", gateway_of(sim), *args],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=server_env(token),
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"metrics on (http://\S+/metrics)", line)
        assert found, line
        yield found.group(1)
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.anyio
async def test_stdio_server_serves_its_metrics(sim: Any, make_key: Any, tmp_path: Path) -> None:
    token = make_key("metrics-bot", "qot:read")
    stderr_file = tmp_path / "stderr.txt"
    async with metrics_session(sim, token, stderr_file) as (client, url):
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


@pytest.mark.anyio
async def test_stdio_metrics_refuse_a_foreign_host_or_origin(
    sim: Any, make_key: Any, tmp_path: Path
) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 with its own name as Host: it must not read the
    key names and call counts, exactly as on the HTTP server."""
    token = make_key("metrics-bot", "qot:read")
    stderr_file = tmp_path / "stderr.txt"
    async with metrics_session(sim, token, stderr_file) as (client, url):
        port = url.split(":")[2].split("/")[0]
        assert not (await client.call_tool("futu_get_quote", {"codes": "HK.00700"})).is_error
        counted = 'futu_mcp_calls_total{key_id="metrics-bot",outcome="ok",tool="futu_get_quote"}'
        for host in ("evil.com", f"evil.com:{port}", "127.0.0.2", f"127.0.0.1.evil.com:{port}"):
            refused = httpx2.get(url, headers={"Host": host})
            assert (refused.status_code, refused.text) == (421, "Invalid Host header"), host
        for origin in ("http://evil.com", f"http://evil.com:{port}", "null"):
            page = httpx2.get(url, headers={"Origin": origin})
            assert (page.status_code, page.text) == (403, "Invalid Origin header"), origin
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost"):
            scraped = httpx2.get(url, headers={"Host": host})
            assert scraped.status_code == 200 and counted in scraped.text, host
        same_origin = httpx2.get(url, headers={"Origin": f"http://127.0.0.1:{port}"})
        assert same_origin.status_code == 200 and counted in same_origin.text
        assert httpx2.get(url.replace("/metrics", "/other")).status_code == 404
    assert "Traceback" not in stderr_file.read_text()


def test_stdio_metrics_take_allowed_hosts(sim: Any, make_key: Any) -> None:
    """Prometheus in another container scrapes by the name it knows: `--allowed-hosts` lets
    that name in on `--metrics-listen` as it does on `--http-listen`, and no other."""
    token = make_key("metrics-bot", "qot:read")
    allowed = ("--allowed-hosts", "futu-mcp,scrape.example:9")
    with metrics_process(sim, token, "--metrics-listen", "127.0.0.1:0", *allowed) as url:
        port = url.split(":")[2].split("/")[0]

        expected = {
            "futu-mcp": 200,
            f"futu-mcp:{port}": 200,
            "scrape.example:9": 200,  # an entry with a port allows that port only
            "scrape.example:10": 421,
            "evil.com": 421,
            f"127.0.0.1:{port}": 200,  # the loopback names stay allowed
        }
        seen = {h: httpx2.get(url, headers={"Host": h}).status_code for h in expected}
        assert seen == expected


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
    with metrics_process(sim, token, "--metrics-listen", "[::1]:0") as url:
        assert url.startswith("http://[::1]:"), url
        assert "futu_mcp_gateway_connected" in httpx2.get(url).text
