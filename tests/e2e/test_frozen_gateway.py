"""A frozen OpenD, for real: `futucli sim` stopped with SIGSTOP keeps its socket open and never
answers. Read calls say `gateway not connected: <host:port> (no reply within 5 s)` within the
default 5 s, the unanswered KeepAlive drops the link so later calls answer at once, and after
SIGCONT the server is back on its own. `--request-timeout` sets that wait."""

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from tests.conftest import console_script
from tests.e2e.conftest import gateway_of, stdio_client
from tests.e2e.test_mcp_tools import call, ok

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

BANNER = re.compile(r"^OpenD simulator listening on (127\.0\.0\.1:\d+) ")
TIMEOUT = 5.0  # futu-mcp's default --request-timeout
SLACK = 1.0  # process and scheduling time on a busy machine


@pytest.fixture
def sim_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A `futucli sim` process on a port chosen at run time, and its `host:port`."""
    proc = subprocess.Popen(
        [console_script("futucli"), "sim", "--listen", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        match = BANNER.match(proc.stdout.readline())
        assert match, "futucli sim did not start"
        yield proc, match.group(1)
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _timed(client: Any, name: str, args: dict[str, Any]) -> tuple[bool, Any, float]:
    started = time.monotonic()
    failed, data = await call(client, name, args)
    return failed, data, time.monotonic() - started


async def test_a_frozen_gateway_is_reported_within_5_s_dropped_and_recovered(
    sim_process: tuple[subprocess.Popen[str], str], make_key: Any
) -> None:
    proc, gateway = sim_process
    token = make_key("frozen", "qot:read,acc:read")
    async with stdio_client(token, "--gateway", gateway) as client:
        await ok(client, "futu_get_positions", {})
        os.kill(proc.pid, signal.SIGSTOP)
        failed, text, took = await _timed(client, "futu_get_positions", {})
        assert failed and text == f"gateway not connected: {gateway} (no reply within 5 s)"
        assert TIMEOUT - 0.5 < took < TIMEOUT + SLACK, took
        # That timeout sent a KeepAlive; unanswered, it drops the link: calls then answer at once.
        deadline = time.monotonic() + 2 * TIMEOUT + SLACK
        while True:
            failed, text, took = await _timed(client, "futu_get_quote", {"codes": "HK.00700"})
            assert failed and text.startswith(f"gateway not connected: {gateway} ("), text
            assert took < TIMEOUT + SLACK, took
            if took < 1.0:
                break
            assert time.monotonic() < deadline, "the link to the frozen gateway was not dropped"
        os.kill(proc.pid, signal.SIGCONT)
        deadline = time.monotonic() + 30
        while (await call(client, "futu_get_positions", {}))[0]:
            assert time.monotonic() < deadline, "no recovery after SIGCONT"
            await anyio.sleep(0.1)  # polling the condition: each failed call answers at once
        await ok(client, "futu_get_quote", {"codes": "HK.00700"})


async def test_request_timeout_flag_sets_how_long_a_read_waits(sim: Any, make_key: Any) -> None:
    token = make_key("impatient", "qot:read,acc:read")
    gateway = gateway_of(sim)
    async with stdio_client(token, "--gateway", gateway, "--request-timeout", "1.5") as client:
        await ok(client, "futu_get_positions", {})
        sim.stall()  # every reply held: OpenD frozen, as the server sees it
        try:
            failed, text, took = await _timed(client, "futu_get_positions", {})
        finally:
            sim.unstall()
    assert failed and text == f"gateway not connected: {gateway} (no reply within 1.5 s)"
    assert 1.0 < took < 1.5 + SLACK, took
