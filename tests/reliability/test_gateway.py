"""A frozen OpenD under several tenants, freeze after freeze: `futucli sim` stopped with SIGSTOP
keeps its socket open and never answers. Each tenant's account read (quotes may come from the
subscription cache) says `gateway not connected` within
the 5 s request timeout, an order caught in the freeze is `outcome unknown` (or refused before
it left) and is never sent twice, `/healthz` answers at once throughout, and after SIGCONT every
tenant is served again without a restart."""

import os
import signal
import subprocess
import time
from typing import Any

import anyio
import httpx2
import pytest

from tests.e2e.conftest import http_client
from tests.e2e.test_frozen_gateway import SLACK, TIMEOUT, sim_process
from tests.e2e.test_mcp_tools import call, ok
from tests.reliability.conftest import scaled

__all__ = ["sim_process"]

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SCOPES = "qot:read,acc:read,trade:simulate"
RECOVERY = 30.0  # reconnect backoff and a busy machine; a healthy link is back far sooner


async def timed(
    into: dict[str, tuple[bool, Any, float]], client: Any, name: str, args: dict[str, Any]
) -> None:
    """Make one call; put (is_error, data, seconds) in `into` under the tool's name."""
    started = time.monotonic()
    failed, data = await call(client, name, args)
    into[name] = (failed, data, time.monotonic() - started)


async def health_at_once(url: str) -> None:
    """/healthz answers well before the request timeout (it reports the link, never waits on it)."""
    started = time.monotonic()
    async with httpx2.AsyncClient(timeout=TIMEOUT) as http:
        assert (await http.get(url)).status_code in (200, 503)
    assert time.monotonic() - started < TIMEOUT / 2, "/healthz waited on the frozen gateway"


def order_at(price: float) -> dict[str, Any]:
    """A resting HK.00700 buy at a price no other order of the test uses."""
    return {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": price}


@pytest.mark.timeout(scaled(120, 600))
async def test_freeze_after_freeze_every_tenant_hears_within_5_s_and_recovers(
    sim_process: tuple[subprocess.Popen[str], str], make_key: Any, http_server: Any
) -> None:
    proc, gateway = sim_process
    tokens = [make_key(f"tenant{n}", SCOPES) for n in range(3)]
    server = http_server("--gateway", gateway)
    not_connected = f"gateway not connected: {gateway} ("
    async with (
        http_client(server.url, tokens[0]) as reader,
        http_client(server.url, tokens[1]) as account,
        http_client(server.url, tokens[2]) as trader,
    ):
        await ok(reader, "futu_get_funds", {})
        await ok(account, "futu_get_positions", {})
        for cycle in range(scaled(1, 5)):
            price = 200.0 + cycle  # each cycle's order is told apart by its price
            os.kill(proc.pid, signal.SIGSTOP)
            results: dict[str, tuple[bool, Any, float]] = {}
            async with anyio.create_task_group() as tg:
                tg.start_soon(timed, results, reader, "futu_get_funds", {})
                tg.start_soon(timed, results, account, "futu_get_positions", {})
                tg.start_soon(timed, results, trader, "futu_place_order", order_at(price))
                tg.start_soon(health_at_once, f"{server.base}/healthz")
            for name in ("futu_get_funds", "futu_get_positions"):
                failed, text, took = results[name]
                assert failed and text.startswith(not_connected), (name, text)
                assert took < TIMEOUT + SLACK, (name, took)
            failed, text, took = results["futu_place_order"]
            assert failed and text.startswith(("outcome unknown: ", not_connected)), text
            assert took < TIMEOUT + SLACK, took
            os.kill(proc.pid, signal.SIGCONT)
            thawed = time.monotonic()
            while (await call(reader, "futu_get_funds", {}))[0]:
                assert time.monotonic() < thawed + RECOVERY, "no recovery after SIGCONT"
                await anyio.sleep(0.1)  # polling the condition: each failed call answers at once
            slowest = max(took for _, _, took in results.values())
            print(
                f"freeze {cycle + 1}: answered within {slowest:.2f} s, "
                f"served again {time.monotonic() - thawed:.2f} s after SIGCONT"
            )
            await ok(account, "futu_get_positions", {})
            orders = (await ok(trader, "futu_get_orders", {"code": "HK.00700"}))["orders"]
            # The frozen sim may place the order it had read when it wakes: once at most.
            assert sum(1 for o in orders if float(o["price"]) == price) <= 1
    assert server.proc.poll() is None
    assert "Traceback" not in server.logs()
