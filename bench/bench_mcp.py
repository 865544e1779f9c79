"""Benchmark futu-mcp against baselines measured in the same run; prints ratios and goals.

Baselines: a minimal MCPServer with one `echo` tool on the same SDK (start-up, memory, round
trip, HTTP throughput), and the peer `futu-stock-mcp-server` (installed by this script into its
own scratch venv with `mcp<2`) against the same simulated OpenD, which speaks protobuf for it.

    .venv/bin/python bench/bench_mcp.py [--quick] [--no-peer]

Everything runs on 127.0.0.1 with ports chosen at run time, in a temporary folder.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

BIN = Path(sys.executable).parent
FUTU_MCP = str(BIN / "futu-mcp")
PROTOCOL = "2025-11-25"

MINIMAL_SERVER = textwrap.dedent(
    '''
    """The baseline: a minimal MCPServer with one tool, stdio or HTTP (port printed to stderr)."""
    import sys

    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer("echo")


    @mcp.tool()
    async def echo(text: str = "") -> str:
        """Return the text."""
        return text


    if len(sys.argv) > 1 and sys.argv[1] == "--http":
        import anyio
        import uvicorn

        async def serve() -> None:
            app = mcp.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1")
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
            async with anyio.create_task_group() as tg:
                tg.start_soon(server.serve)
                while not server.started:
                    await anyio.sleep(0.02)
                port = server.servers[0].sockets[0].getsockname()[1]
                print(f"listening on http://127.0.0.1:{port}/mcp", file=sys.stderr, flush=True)

        anyio.run(serve)
    else:
        mcp.run()
    '''
)

SIM_RUNNER = (
    "import sys\n"
    "from opend.sim import SimulatorThread\n"
    "sim = SimulatorThread().start()\n"
    "print(sim.address[1], flush=True)\n"
    "sys.stdin.read()\n"
)


def rpc(msg_id: int | None, method: str, params: dict[str, Any] | None = None) -> str:
    """One JSON-RPC line."""
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if msg_id is not None:
        msg["id"] = msg_id
    if params is not None:
        msg["params"] = params
    return json.dumps(msg) + "\n"


INIT = rpc(
    1,
    "initialize",
    {
        "protocolVersion": PROTOCOL,
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "1"},
    },
)


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a live process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class StdioProcess:
    """A stdio MCP server driven by raw JSON-RPC lines (no client library in the measurement)."""

    def __init__(self, cmd: list[str], env: dict[str, str], cwd: str | None = None) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            text=True,
        )
        self._next = 10

    def request(self, line: str, msg_id: int) -> dict[str, Any]:
        """Send one line and read until the reply with `msg_id`."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line)
        self.proc.stdin.flush()
        while True:
            out = self.proc.stdout.readline()
            if not out:
                raise RuntimeError(f"server exited (rc {self.proc.poll()})")
            try:
                msg = json.loads(out)
            except json.JSONDecodeError:
                continue  # the peer may print non-protocol text; we only wait for our reply
            if msg.get("id") == msg_id:
                return msg

    def handshake(self) -> float:
        """initialize + initialized + tools/list; seconds from spawn to the tools/list reply."""
        self.request(INIT, 1)
        assert self.proc.stdin is not None
        self.proc.stdin.write(rpc(None, "notifications/initialized"))
        self.request(rpc(2, "tools/list"), 2)
        return time.perf_counter() - self.started

    def call(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        """One tools/call; the JSON-RPC reply."""
        self._next += 1
        return self.request(
            rpc(self._next, "tools/call", {"name": tool, "arguments": args}), self._next
        )

    def close(self) -> None:
        """Close stdin and wait; kill if it lingers."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def median_of(runs: int, fn: Callable[[], float]) -> float:
    """Median of `runs` measurements."""
    return statistics.median(fn() for _ in range(runs))


def start_up(
    cmd: list[str], env: dict[str, str], runs: int, cwd: str | None = None
) -> tuple[float, float]:
    """(median seconds spawn → tools/list reply, median peak RSS MiB after it)."""
    times, rss = [], []
    for _ in range(runs):
        proc = StdioProcess(cmd, env, cwd)
        times.append(proc.handshake())
        rss.append(peak_rss_mb(proc.proc.pid))
        proc.close()
    return statistics.median(times), statistics.median(rss)


def round_trip(proc: StdioProcess, tool: str, args: dict[str, Any], calls: int) -> float:
    """Median seconds per call over a raw stdio pipe."""
    samples = []
    for _ in range(calls):
        t = time.perf_counter()
        reply = proc.call(tool, args)
        samples.append(time.perf_counter() - t)
        assert not reply.get("result", {}).get("isError"), reply
    return statistics.median(samples)


def _drain(stream: Any) -> None:
    for _ in stream:
        pass


def start_http(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Start an HTTP server that prints `listening on URL` to stderr; (process, url)."""
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "listening on " in line:
            url = line.split("listening on ", 1)[1].strip()
            # Keep draining stderr so the server never blocks on a full pipe.
            threading.Thread(target=_drain, args=(proc.stderr,), daemon=True).start()
            return proc, url
    raise RuntimeError(f"{cmd[0]} did not start")


async def http_round_trip(
    url: str, token: str | None, tool: str, args: dict[str, Any], calls: int
) -> float:
    """Median seconds per call with the SDK's HTTP client."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
    ):
        await client.call_tool(tool, args)
        samples = []
        for _ in range(calls):
            t = time.perf_counter()
            result = await client.call_tool(tool, args)
            samples.append(time.perf_counter() - t)
            assert not result.is_error, result
    return statistics.median(samples)


async def http_throughput(
    url: str,
    tokens: list[str | None],
    tool: str,
    args: dict[str, Any],
    workers: int,
    seconds: float,
) -> float:
    """Calls per second: `workers` concurrent callers spread over one session per token."""
    from contextlib import AsyncExitStack

    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    done = 0
    async with AsyncExitStack() as stack:
        clients = []
        for token in tokens:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            http = await stack.enter_async_context(httpx2.AsyncClient(headers=headers, timeout=60))
            client = await stack.enter_async_context(
                Client(streamable_http_client(url, http_client=http), mode="legacy")
            )
            await client.call_tool(tool, args)  # warm: every key verified once before timing
            clients.append(client)
        deadline = time.perf_counter() + seconds

        async def worker(index: int) -> None:
            nonlocal done
            turn = index
            while time.perf_counter() < deadline:
                result = await clients[turn % len(clients)].call_tool(tool, args)
                assert not result.is_error, result
                done += 1
                turn += workers

        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for i in range(workers):
                tg.start_soon(worker, i)
        elapsed = time.perf_counter() - started
    return done / elapsed


async def gateway_hop(port: int, calls: int) -> float:
    """Median seconds of the OpenD request under futu_get_quote, measured with our client alone."""
    from opend.client import OpenDClient
    from opend.codes import parse_code

    codes = [parse_code("HK.00700")]
    async with OpenDClient("127.0.0.1", port) as client:
        await client.wait_connected(10)
        await client.get_stock_quote(codes)
        samples = []
        for _ in range(calls):
            t = time.perf_counter()
            await client.get_stock_quote(codes)
            samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def install_peer(root: Path) -> Path | None:
    """futu-stock-mcp-server in its own venv (it needs mcp<2); its console script, or None."""
    venv = root / "peer-venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "futu-stock-mcp-server", "mcp<2"],
            check=True,
            capture_output=True,
            timeout=900,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(f"peer not installed ({exc}); skipping the peer comparison", file=sys.stderr)
        return None
    return venv / "bin" / "futu-mcp-server"


def ratio_line(name: str, ours: float, base: float, unit: str, goal: str, ok: bool) -> str:
    """One row of the report."""
    return f"{name:<44} {ours:>10.4g} {base:>10.4g} {unit:<6} {ours / base:>6.2f}x  {goal:<14} {'ok' if ok else 'MISSED'}"


def main() -> None:
    """Run every measurement and print one table of ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-peer", action="store_true", help="skip futu-stock-mcp-server")
    opts = parser.parse_args()
    runs, calls, seconds = (3, 50, 3.0) if opts.quick else (7, 200, 6.0)

    with tempfile.TemporaryDirectory(prefix="bench-mcp-") as tmp_name:
        tmp = Path(tmp_name)
        home = tmp / "home"
        home.mkdir()
        env = dict(os.environ, HOME=str(home), FUTU_KEYS_FILE=str(home / "keys" / "keys.json"))
        os.environ.update(HOME=env["HOME"], FUTU_KEYS_FILE=env["FUTU_KEYS_FILE"])
        from keystore.issuing import issue_key
        from keystore.records import Limits
        from keystore.store import KeyStore

        store = KeyStore(Path(env["FUTU_KEYS_FILE"]))
        tokens = [
            issue_key(store, key_id=f"bench-{i}", scopes=frozenset({"qot:read"}), limits=Limits())[
                0
            ]
            for i in range(50)
        ]
        minimal = tmp / "minimal_server.py"
        minimal.write_text(MINIMAL_SERVER)
        sim = subprocess.Popen(
            [sys.executable, "-c", SIM_RUNNER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert sim.stdout is not None
        port = int(sim.stdout.readline())
        gateway = f"127.0.0.1:{port}"
        ours_cmd = [FUTU_MCP, "--gateway", gateway]
        echo_cmd = [sys.executable, str(minimal)]
        stdio_env = dict(env, FUTU_MCP_API_KEY=tokens[0])
        quote = ("futu_get_quote", {"codes": "HK.00700"})
        echo = ("echo", {"text": "HK.00700"})
        rows: list[str] = []
        try:
            ours_start, ours_rss = start_up(ours_cmd, stdio_env, runs)
            echo_start, echo_rss = start_up(echo_cmd, env, runs)
            rows.append(
                ratio_line(
                    "spawn -> tools/list reply (stdio)",
                    ours_start,
                    echo_start,
                    "s",
                    "<= 1.3x",
                    ours_start <= 1.3 * echo_start,
                )
            )
            rows.append(
                ratio_line(
                    "peak RSS after tools/list",
                    ours_rss,
                    echo_rss,
                    "MiB",
                    "<= 1.3x",
                    ours_rss <= 1.3 * echo_rss,
                )
            )

            ours = StdioProcess(ours_cmd, stdio_env)
            ours.handshake()
            base = StdioProcess(echo_cmd, env)
            base.handshake()
            ours.call(*quote)  # subscribe once, as a live session would have
            ours_rt = round_trip(ours, *quote, calls)
            echo_rt = round_trip(base, *echo, calls)
            ours.close()
            base.close()
            rows.append(
                ratio_line(
                    "round trip futu_get_quote vs echo (stdio)",
                    ours_rt * 1000,
                    echo_rt * 1000,
                    "ms",
                    "<= 1.3x",
                    ours_rt <= 1.3 * echo_rt,
                )
            )
            hop = anyio.run(gateway_hop, port, calls)
            rows.append(
                ratio_line(
                    "  same, minus the OpenD hop (info)",
                    (ours_rt - hop) * 1000,
                    echo_rt * 1000,
                    "ms",
                    "(info)",
                    True,
                )
            )

            ours_http, ours_url = start_http([*ours_cmd, "--http-listen", "127.0.0.1:0"], env)
            echo_http, echo_url = start_http([*echo_cmd, "--http"], env)
            try:
                ours_hrt = anyio.run(http_round_trip, ours_url, tokens[0], *quote, calls)
                echo_hrt = anyio.run(http_round_trip, echo_url, None, *echo, calls)
                rows.append(
                    ratio_line(
                        "round trip futu_get_quote vs echo (HTTP)",
                        ours_hrt * 1000,
                        echo_hrt * 1000,
                        "ms",
                        "<= 1.3x",
                        ours_hrt <= 1.3 * echo_hrt,
                    )
                )
                rows.append(
                    ratio_line(
                        "  same, minus the OpenD hop (info)",
                        (ours_hrt - hop) * 1000,
                        echo_hrt * 1000,
                        "ms",
                        "(info)",
                        True,
                    )
                )
                ours_tp = anyio.run(http_throughput, ours_url, tokens, *quote, 16, seconds)
                echo_tp = anyio.run(http_throughput, echo_url, [None] * 50, *echo, 16, seconds)
                rows.append(
                    ratio_line(
                        "HTTP calls/s, 16 clients, 50 keys",
                        ours_tp,
                        echo_tp,
                        "1/s",
                        ">= 0.8x",
                        ours_tp >= 0.8 * echo_tp,
                    )
                )
            finally:
                for proc in (ours_http, echo_http):
                    proc.terminate()
                    proc.wait(10)

            if not opts.no_peer:
                peer = install_peer(tmp)
                if peer is not None:
                    peer_cmd = [str(peer), "--host", "127.0.0.1", "--port", str(port)]
                    peer_dir = tmp / "peer-run"  # it leaves .pid/.lock files behind
                    peer_dir.mkdir()
                    peer_start, peer_rss = start_up(peer_cmd, env, runs, cwd=str(peer_dir))
                    rows.append(
                        ratio_line(
                            "peer: spawn -> tools/list reply",
                            ours_start,
                            peer_start,
                            "s",
                            "< 1x",
                            ours_start < peer_start,
                        )
                    )
                    rows.append(
                        ratio_line(
                            "peer: peak RSS after tools/list",
                            ours_rss,
                            peer_rss,
                            "MiB",
                            "< 1x",
                            ours_rss < peer_rss,
                        )
                    )
                    ours = StdioProcess(ours_cmd, stdio_env)
                    ours.handshake()
                    theirs = StdioProcess(peer_cmd, env, cwd=str(peer_dir))
                    theirs.handshake()
                    ours_snap = round_trip(ours, "futu_get_snapshot", {"codes": "HK.00700"}, calls)
                    peer_snap = round_trip(
                        theirs, "get_market_snapshot", {"symbols": ["HK.00700"]}, calls
                    )
                    ours.close()
                    theirs.close()
                    rows.append(
                        ratio_line(
                            "peer: snapshot round trip (stdio)",
                            ours_snap * 1000,
                            peer_snap * 1000,
                            "ms",
                            "< 1x",
                            ours_snap < peer_snap,
                        )
                    )
        finally:
            assert sim.stdin is not None
            sim.stdin.close()
            sim.wait(10)

    print(
        f"{'measure':<44} {'futu-mcp':>10} {'baseline':>10} {'unit':<6} {'ratio':>7}  {'goal':<14} result"
    )
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
