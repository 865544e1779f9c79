"""End-to-end fixtures: the simulator in a thread, real keys, futu-mcp as a real subprocess.

Nothing of ours is mocked: keys are issued through the keystore into the test's keys.json,
the simulator speaks the OpenD protocol on a port chosen at run time, and futu-mcp is spawned
over stdio (by the MCP SDK's client) or HTTP (reading the bound address from its stderr).
"""

import os
import queue
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import console_script

FUTU_MCP = console_script("futu-mcp")
START_TIMEOUT = 20.0
# A handshake-era initialize, as raw HTTP and stdio tests send it.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


@pytest.fixture
def keys_file(isolated_home: Path) -> Path:
    """The keys.json every spawned process uses (through FUTU_KEYS_FILE)."""
    return Path(os.environ["FUTU_KEYS_FILE"])


@pytest.fixture
def make_key(keys_file: Path) -> Callable[..., str]:
    """Issue a key with the real keystore; returns the token (shown once, kept in memory)."""
    from keystore.issuing import issue_key
    from keystore.records import Limits
    from keystore.store import KeyStore

    store = KeyStore(keys_file)

    def make(
        key_id: str,
        scopes: str = "qot:read",
        *,
        confirm_orders: str | None = None,
        expires_at: Any = None,
        **limits: Any,
    ) -> str:
        token, _ = issue_key(
            store,
            key_id=key_id,
            scopes=frozenset(scopes.split(",")),
            limits=Limits.from_json(limits),
            confirm_orders=confirm_orders,  # type: ignore[arg-type]
            expires_at=expires_at,
        )
        return token

    return make


@pytest.fixture
def sim() -> Iterator[Any]:
    """A simulated OpenD on 127.0.0.1, port chosen at run time."""
    from opend.sim import SimulatorThread

    with SimulatorThread(seed=1) as simulator:
        yield simulator


def space_writes(simulator: Any) -> None:
    """Step the simulator's clock past OpenD's minimum gap between two order writes to one
    account (0.02 s place, 0.04 s modify), as a person's calls would be; no sleeping."""
    simulator.advance(0.05)


def gateway_of(simulator: Any) -> str:
    """`host:port` of a simulator for --gateway."""
    host, port = simulator.address
    return f"{host}:{port}"


def server_env(token: str | None = None) -> dict[str, str]:
    """The environment for a spawned futu-mcp (HOME and keys file point at the test's folder)."""
    env = dict(os.environ)
    env.pop("FUTU_MCP_API_KEY", None)
    if token is not None:
        env["FUTU_MCP_API_KEY"] = token
    return env


def futucli(*args: str) -> "subprocess.CompletedProcess[str]":
    """Run `futucli ARGS` as a person would, with the test's keys.json."""
    return subprocess.run(
        [console_script("futucli"), *args],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
    )


@asynccontextmanager
async def stdio_client(
    token: str, *args: str, mode: str = "legacy", **client_kwargs: Any
) -> AsyncIterator[Any]:
    """The MCP SDK's client spawning `futu-mcp` over stdio (legacy era by default, like today's
    clients; `mode="auto"` negotiates the 2026-07-28 era)."""
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=FUTU_MCP, args=list(args), env=server_env(token))
    async with Client(params, mode=mode, **client_kwargs) as client:
        yield client


@pytest.fixture(params=["legacy", "auto"])
def era(request: pytest.FixtureRequest) -> str:
    """The MCP protocol era an HTTP test's clients speak: `legacy` (the handshake and sessions
    of 2025-11-25, what today's clients negotiate) or `auto` (the SDK client's default, the
    sessionless 2026-07-28)."""
    return str(request.param)


@asynccontextmanager
async def http_client(
    url: str, token: str, mode: str = "legacy", **client_kwargs: Any
) -> AsyncIterator[Any]:
    """The MCP SDK's streamable-HTTP client with a Bearer key, in protocol era `mode`."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode, **client_kwargs) as client,
    ):
        yield client


class HttpServer:
    """A `futu-mcp --http-listen 127.0.0.1:0` subprocess; its stderr is collected for checks."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            [FUTU_MCP, "--http-listen", "127.0.0.1:0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=server_env(),
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = self._wait_listening()
        self.base = self.url.removesuffix("/mcp")

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._lines.put(line)

    def _wait_listening(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.log.append(line)
            if "listening on " in line:
                return line.split("listening on ", 1)[1].strip()
        self.stop()
        raise AssertionError(f"futu-mcp did not start: {''.join(self.log)}")

    def logs(self) -> str:
        """Everything the server wrote to stderr so far."""
        while True:
            try:
                self.log.append(self._lines.get_nowait())
            except queue.Empty:
                return "".join(self.log)

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.logs()


@pytest.fixture
def http_server() -> Iterator[Callable[..., HttpServer]]:
    """Start futu-mcp HTTP servers for a test; all are stopped at the end."""
    started: list[HttpServer] = []

    def start(*args: str) -> HttpServer:
        server = HttpServer(*args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll `condition` until true or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
