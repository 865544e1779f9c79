"""The server process itself: start-up refusals, a clean stdout, the gateway going away and
coming back, the audit chain (and a fail-closed audit), and no secret in any output."""

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from futu_mcp.audit import verify_file
from keystore.store import KeyStore
from opend.sim import SimulatorThread
from tests.conftest import console_script
from tests.e2e.conftest import (
    FUTU_MCP,
    INITIALIZE,
    gateway_of,
    http_client,
    server_env,
    stdio_client,
    wait_for,
)
from tests.e2e.test_mcp_tools import call, ok
from tests.e2e.test_mcp_trade import resting

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def spawn_stdio(token: str, gateway: str) -> "subprocess.Popen[str]":
    """futu-mcp over stdio as a live process, its three streams pipes (text)."""
    return subprocess.Popen(
        [FUTU_MCP, "--gateway", gateway],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(token),
    )


def run_stdio(token: str | None, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """futu-mcp over stdio with `stdin` as the client's whole conversation."""
    return subprocess.run(
        [FUTU_MCP, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=server_env(token),
        timeout=60,
    )


@pytest.mark.parametrize(
    ("token", "args", "says"),
    [
        (None, (), "FUTU_MCP_API_KEY is not set: create a key with `futucli gen-key"),
        ("fc_not-a-key", (), "FUTU_MCP_API_KEY is not a valid key (malformed)"),
        ("", ("--gateway", "nowhere"), "gateway: expected HOST:PORT"),
        ("", ("--max-order-value", "lots"), "max_order_value: not a number"),
    ],
)
def test_start_up_refusals_exit_2_with_one_line(
    make_key: Any, token: str | None, args: tuple[str, ...], says: str
) -> None:
    valid = make_key("ok")
    if token == "":
        token = valid
    done = run_stdio(token, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("futu-mcp: ") and says in lines[0], done.stderr


def test_a_revoked_key_cannot_start_a_stdio_server(make_key: Any, keys_file: Path) -> None:
    token = make_key("gone")
    KeyStore(keys_file).revoke("gone")
    done = run_stdio(token)
    assert done.returncode == 2 and "the key gone in FUTU_MCP_API_KEY is revoked" in done.stderr


def test_stdout_carries_only_json_rpc(sim: Any, make_key: Any) -> None:
    token = make_key("pure", "qot:read")
    messages = [
        INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "futu_get_quote", "arguments": {"codes": "HK.00700"}},
        },
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": "futu_get_quote", "arguments": {"codes": "nope"}},
        },
    ]
    # The gateway is a closed port: its warnings must go to stderr too.
    for gateway in (gateway_of(sim), "127.0.0.1:1"):
        stdin = "".join(json.dumps(m) + "\n" for m in messages)
        proc = spawn_stdio(token, gateway)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(stdin)
        proc.stdin.flush()
        replies = []
        while len(replies) < 4:
            line = proc.stdout.readline()
            assert line, "server closed stdout early"
            replies.append(json.loads(line))
        proc.stdin.close()
        rest = proc.stdout.read()
        proc.wait(30)
        assert rest.strip() == ""
        assert all(r["jsonrpc"] == "2.0" for r in replies)
        assert {r["id"] for r in replies} == {1, 2, 3, 4}


def test_stdio_answers_every_unusable_line_and_goes_on(make_key: Any) -> None:
    """Not JSON: -32700 with id null; JSON but not JSON-RPC: -32600; prompts and resources,
    which we do not serve, are not advertised and answer -32601 (never error 0)."""
    token = make_key("strict", "qot:read")
    lines = [
        json.dumps(INITIALIZE),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        "hello?",
        json.dumps({"id": 8, "question": "what is this"}),
        json.dumps({"jsonrpc": "2.0", "id": 2, "method": "prompts/get", "params": {"name": "x"}}),
        json.dumps({"jsonrpc": "2.0", "id": 3, "method": "resources/list"}),
        json.dumps({"jsonrpc": "2.0", "id": 4, "method": "tools/list"}),
    ]
    proc = spawn_stdio(token, "127.0.0.1:1")
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write("\n".join(lines) + "\n")
    proc.stdin.flush()
    # Read every answer before closing stdin (the end of input cancels calls in flight).
    replies = [json.loads(proc.stdout.readline()) for _ in range(6)]
    proc.stdin.close()
    assert proc.wait(30) == 0 and proc.stdout.read() == ""
    by_id = {(r["id"], r.get("error", {}).get("code")): r for r in replies}
    assert replies[0]["result"]["capabilities"] == {"tools": {"listChanged": False}}
    assert (None, -32700) in by_id and (8, -32600) in by_id
    assert by_id[(2, -32601)]["error"]["data"] == "prompts/get"
    assert by_id[(3, -32601)]["error"]["data"] == "resources/list"
    assert len(by_id[(4, None)]["result"]["tools"]) == 11
    assert "Traceback" not in proc.stderr.read()


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_no_empty_capabilities_in_either_protocol_era(make_key: Any, mode: str) -> None:
    token = make_key("caps", "qot:read")
    async with stdio_client(token, "--gateway", "127.0.0.1:1", mode=mode) as client:
        caps = client.server_capabilities
        assert caps.prompts is None and caps.resources is None and caps.tools is not None


async def test_gateway_down_at_start_then_up_then_down_then_back(
    make_key: Any, http_server: Any
) -> None:
    probe = SimulatorThread().start()
    port = probe.address[1]
    probe.stop()
    token = make_key("gw", "qot:read")
    server = http_server("--gateway", f"127.0.0.1:{port}")
    async with http_client(server.url, token) as client:
        started = time.monotonic()
        failed, text = await call(client, "futu_get_quote", {"codes": "HK.00700"})
        assert failed and text.startswith(f"gateway not connected: 127.0.0.1:{port} (")
        assert time.monotonic() - started < 2
        assert (await ok(client, "futu_ping", {}))["connected"] is False
        assert httpx2.get(f"{server.base}/healthz").json()["gateway_connected"] is False
        with SimulatorThread(port=port):
            wait_for(
                lambda: httpx2.get(f"{server.base}/healthz").json()["gateway_connected"],
                30,
                "reconnect",
            )
            quotes = await ok(client, "futu_get_quote", {"codes": "HK.00700"})
            assert quotes["quotes"][0]["code"] == "HK.00700"
        wait_for(
            lambda: not httpx2.get(f"{server.base}/healthz").json()["gateway_connected"], 30, "drop"
        )
        failed, text = await call(client, "futu_get_quote", {"codes": "HK.00700"})
        assert failed and text.startswith("gateway not connected:")
        with SimulatorThread(port=port):
            wait_for(
                lambda: httpx2.get(f"{server.base}/healthz").json()["gateway_connected"],
                30,
                "reconnect",
            )
            await ok(client, "futu_get_quote", {"codes": "HK.00700"})
    metrics = httpx2.get(f"{server.base}/metrics").text
    assert (
        "futu_mcp_gateway_connected 0.0" in metrics or "futu_mcp_gateway_connected 1.0" in metrics
    )
    assert "futu_mcp_gateway_reconnects_total 1.0" in metrics


async def test_audit_chain_verifies_and_an_edit_is_found_at_its_line(
    sim: Any, make_key: Any, keys_file: Path, tmp_path: Path
) -> None:
    token = make_key("audited", "qot:read,acc:read,trade:simulate")
    audit = tmp_path / "audit.jsonl"
    async with stdio_client(
        token, "--gateway", gateway_of(sim), "--audit-log", str(audit)
    ) as client:
        await ok(client, "futu_get_quote", {"codes": "HK.00700"})
        placed = await ok(client, "futu_place_order", resting())
        await ok(client, "futu_cancel_order", {"order_id": placed["order_id"]})
        await call(client, "futu_get_quote", {"codes": "bad"})
    lines = audit.read_text().splitlines()
    records = [json.loads(x) for x in lines]
    assert [(r["tool"], r["phase"]) for r in records] == [
        ("futu_get_quote", "call"),
        ("futu_place_order", "intent"),
        ("futu_place_order", "result"),
        ("futu_cancel_order", "intent"),
        ("futu_cancel_order", "result"),
        ("futu_get_quote", "call"),
    ]
    assert records[2]["result"]["order_id"] == placed["order_id"]
    assert all(r["key_id"] == "audited" and r["transport"] == "stdio" for r in records)
    futucli = console_script("futucli")
    good = subprocess.run(
        [futucli, "audit", "verify", str(audit)], capture_output=True, text=True, env=server_env()
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert verify_file(audit).ok
    lines[2] = lines[2].replace('"status":"SUBMITTED"', '"status":"CANCELLED"')
    audit.write_text("\n".join(lines) + "\n")
    bad = subprocess.run(
        [futucli, "audit", "verify", str(audit)], capture_output=True, text=True, env=server_env()
    )
    assert bad.returncode == 1
    assert "line 3" in bad.stdout + bad.stderr
    stored_hash = json.loads(keys_file.read_text())["keys"][0]["hash"]
    text = audit.read_text()
    assert token not in text and stored_hash not in text


async def test_unwritable_audit_refuses_orders_and_keeps_reads(
    sim: Any, make_key: Any, http_server: Any, tmp_path: Path
) -> None:
    token = make_key("failclosed", "qot:read,trade:simulate")
    server = http_server("--gateway", gateway_of(sim), "--audit-log", str(tmp_path))  # a folder
    before = len(sim.state.orders)
    async with http_client(server.url, token) as client:
        await ok(client, "futu_get_quote", {"codes": "HK.00700"})
        assert await call(client, "futu_place_order", resting()) == (
            True,
            "audit log not writable: order refused (see server log)",
        )
    assert len(sim.state.orders) == before
    metrics = httpx2.get(f"{server.base}/metrics").text
    failures = [
        x for x in metrics.splitlines() if x.startswith("futu_mcp_audit_write_failures_total ")
    ]
    assert failures and float(failures[0].split()[1]) >= 2
    assert token not in server.logs() and "Traceback" not in server.logs()


async def test_http_host_origin_body_checks_and_the_allowed_hosts_fix(
    sim: Any, make_key: Any, http_server: Any
) -> None:
    token = make_key("web", "qot:read")
    init = INITIALIZE
    auth = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    plain = http_server("--gateway", gateway_of(sim))
    port = plain.url.split(":")[2].split("/")[0]
    assert httpx2.post(plain.url, json=init, headers=auth).status_code == 200
    assert (
        httpx2.post(
            plain.url, json=init, headers={**auth, "Host": f"mcp.example:{port}"}
        ).status_code
        == 421
    )
    assert (
        httpx2.post(
            plain.url, json=init, headers={**auth, "Origin": "http://evil.example"}
        ).status_code
        == 403
    )
    big = httpx2.post(
        plain.url, content=b"x" * (2 << 20), headers={**auth, "Content-Type": "application/json"}
    )
    assert big.status_code == 413
    proxied = http_server("--gateway", gateway_of(sim), "--allowed-hosts", "mcp.example")
    port = proxied.url.split(":")[2].split("/")[0]
    headers = {**auth, "Host": f"mcp.example:{port}", "Origin": "https://mcp.example"}
    assert httpx2.post(proxied.url, json=init, headers=headers).status_code == 200
    assert (
        httpx2.post(proxied.url, json=init, headers={**auth, "Host": "other.example"}).status_code
        == 421
    )
    assert token not in plain.logs() + proxied.logs()


async def test_config_file_settings_and_flags_on_top(
    sim: Any, make_key: Any, http_server: Any, tmp_path: Path
) -> None:
    token = make_key("configured", "qot:read,trade:simulate")
    config = tmp_path / "futu-mcp.toml"
    config.write_text(f'gateway = "{gateway_of(sim)}"\nmax_order_value = 1000\nread_only = false\n')
    server = http_server("--config", str(config))
    async with http_client(server.url, token) as client:
        assert await call(client, "futu_place_order", resting()) == (
            True,
            f"limit check failed: order value {100 * resting()['price']:.0f} exceeds 1000",
        )
    overridden = http_server("--config", str(config), "--max-order-value", "HK=50000")
    async with http_client(overridden.url, token) as client:
        failed, placed = await call(client, "futu_place_order", resting())
    assert not failed and placed["sent"] is True


def test_a_taken_http_port_is_one_line_and_exit_1(make_key: Any) -> None:
    make_key("any")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [FUTU_MCP, "--http-listen", f"127.0.0.1:{port}", "--gateway", "127.0.0.1:1"],
            capture_output=True,
            text=True,
            env=server_env(),
            timeout=60,
        )
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        == f"futu-mcp: cannot listen on 127.0.0.1:{port}: Address already in use"
    )


async def test_a_stdio_key_revoked_mid_session_is_refused_on_the_next_call(
    sim: Any, make_key: Any, keys_file: Path
) -> None:
    token = make_key("desk", "qot:read,trade:simulate")
    async with stdio_client(token, "--gateway", gateway_of(sim)) as client:
        await ok(client, "futu_get_quote", {"codes": "HK.00700"})
        KeyStore(keys_file).revoke("desk")
        assert await call(client, "futu_get_quote", {"codes": "HK.00700"}) == (True, "key revoked")
        before = len(sim.state.orders)
        assert await call(client, "futu_place_order", resting()) == (True, "key revoked")
        assert len(sim.state.orders) == before


def test_both_transports_serve_on_uvloop(make_key: Any, http_server: Any) -> None:
    """The measured choice of event loop (futu_mcp/cli.py): a serving process, stdio or HTTP,
    has uvloop's loop mapped in (anyio loads it only to run on it)."""
    token = make_key("loop", "qot:read")
    proc = spawn_stdio(token, "127.0.0.1:1")
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(json.dumps(INITIALIZE) + "\n")
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["id"] == 1
        assert "/uvloop/" in Path(f"/proc/{proc.pid}/maps").read_text()
    finally:
        proc.stdin.close()
        proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()
    server = http_server("--gateway", "127.0.0.1:1")
    assert "/uvloop/" in Path(f"/proc/{server.proc.pid}/maps").read_text()
