"""Twenty orders at once against a key allowed three a minute: over twenty HTTP sessions of one
server, and over separate stdio server processes sharing the ledger (twenty in the long run;
six in the short one, as each process costs about a second of start-up on a small machine).
Exactly three are admitted, and the simulator holds exactly three more orders."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import pytest

from opend.enums import OrderStatus
from tests.e2e.conftest import gateway_of, http_client, space_writes, stdio_client
from tests.e2e.test_mcp_policy import TRADE, order
from tests.e2e.test_mcp_tools import call, ok
from tests.reliability.conftest import scaled

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ALLOWED = 3
# One order per market in turn (three sim accounts): the admitted ones never meet OpenD's
# per-account gap between writes.
ORDERS = [order(), order("US.AAPL", qty=1, price=100.0), order("SH.600519", price=900.0)]


async def race(
    connect: Callable[[], AbstractAsyncContextManager[Any]], sessions: int
) -> list[tuple[bool, Any]]:
    """Open `sessions` sessions, then have every one place an order at the same moment; once all
    have answered, each cancels what it placed (freeing the paper account's buying power for
    the next round; a cancel is never rate limited)."""
    results: list[tuple[bool, Any]] = []
    ready = 0
    go, answered = anyio.Event(), anyio.Event()

    async def one(index: int) -> None:
        nonlocal ready
        async with connect() as client:
            ready += 1
            if ready == sessions:
                go.set()
            await go.wait()
            failed, data = await call(client, "futu_place_order", ORDERS[index % len(ORDERS)])
            results.append((failed, data))
            if len(results) == sessions:
                answered.set()
            await answered.wait()
            if not failed:
                await ok(client, "futu_cancel_order", {"order_id": data["order_id"]})

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for index in range(sessions):
                tg.start_soon(one, index)
    return results


def assert_exactly_allowed(
    results: list[tuple[bool, Any]], sessions: int, sim: Any, before: int
) -> None:
    """ALLOWED placed, the rest refused by the rate limit, and the sim saw ALLOWED orders."""
    placed = [r for failed, r in results if not failed]
    refused = [r for failed, r in results if failed]
    assert len(placed) == ALLOWED, refused
    assert all(r["sent"] is True for r in placed)
    assert all(
        sim.state.orders[int(r["order_id"])].status is OrderStatus.CANCELLED_ALL for r in placed
    )
    assert len(refused) == sessions - ALLOWED
    assert all(r.startswith(f"limit check failed: rate limit {ALLOWED}/min") for r in refused)
    assert len(sim.state.orders) == before + ALLOWED


async def test_twenty_http_sessions_at_once_admit_three(
    sim: Any, make_key: Any, http_server: Any
) -> None:
    tokens = [
        make_key(f"http{n}", TRADE, max_orders_per_minute=ALLOWED) for n in range(scaled(1, 5))
    ]
    # Twenty sessions of one key: above the default cap of 16 per key.
    server = http_server("--gateway", gateway_of(sim), "--max-sessions-per-key", "20")
    for token in tokens:
        space_writes(sim)
        before = len(sim.state.orders)
        results = await race(lambda token=token: http_client(server.url, token), 20)
        assert_exactly_allowed(results, 20, sim, before)


async def test_separate_stdio_processes_at_once_admit_three(sim: Any, make_key: Any) -> None:
    processes = scaled(6, 20)
    for round_ in range(scaled(1, 3)):
        token = make_key(f"stdio{round_}", TRADE, max_orders_per_minute=ALLOWED)
        space_writes(sim)
        before = len(sim.state.orders)
        results = await race(
            lambda token=token: stdio_client(token, "--gateway", gateway_of(sim)), processes
        )
        assert_exactly_allowed(results, processes, sim, before)
