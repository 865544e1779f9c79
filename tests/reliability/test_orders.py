"""Twenty orders at once against a key allowed three a minute: over twenty HTTP sessions of one
server, and over separate stdio server processes sharing the ledger (twenty in the long run;
six in the short one, as each process costs about a second of start-up on a small machine).
Exactly three are admitted, and the simulator holds exactly the orders placed (OPEND_GAP says
when OpenD itself refuses one)."""

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
# One order per market in turn, so the orders spread over the sim's three paper accounts.
# OpenD wants 0.02 s between two orders' arrivals at one account. Separate processes cannot
# space theirs, and one server's spacing is measured at sending: a busy machine (the sim is a
# thread of the test process) can deliver two closer together. OpenD refuses the second, its
# reservation goes back (see assert_exactly_allowed).
OPEND_GAP = "gateway error: Request too frequent: Trd_PlaceOrder requests per account"
ORDERS = [order(), order("US.AAPL", qty=1, price=100.0), order("SH.600519", price=900.0)]


async def race(
    connect: Callable[[], AbstractAsyncContextManager[Any]], sessions: int, sim: Any
) -> list[tuple[bool, Any]]:
    """Open `sessions` sessions, then have every one place an order at the same moment; once all
    have answered, each cancels what it placed, one after the other at a person's pace (this
    frees the paper account's buying power for the next round; a cancel is never rate limited,
    but OpenD wants 0.04 s between two to one account, which separate processes cannot see)."""
    results: list[tuple[bool, Any]] = []
    ready = 0
    go, answered = anyio.Event(), anyio.Event()
    one_at_a_time = anyio.Lock()

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
                async with one_at_a_time:
                    space_writes(sim)
                    await ok(client, "futu_cancel_order", {"order_id": data["order_id"]})

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for index in range(sessions):
                tg.start_soon(one, index)
    return results


def assert_exactly_allowed(
    results: list[tuple[bool, Any]], sessions: int, sim: Any, before: int
) -> None:
    """ALLOWED placed and the rest refused by the rate limit, the sim holding every order placed.

    The one exception is OPEND_GAP: OpenD's refusal gives the admitted order's reservation back
    (as the contract says), so one more may be admitted in its place, or, if every other order
    was already refused, one fewer is placed. Either way never more than ALLOWED.
    """
    placed = [r for failed, r in results if not failed]
    refused = [r for failed, r in results if failed]
    gap = [r for r in refused if r.startswith(OPEND_GAP)]
    rate = f"limit check failed: rate limit {ALLOWED}/min"
    assert all(r.startswith(rate) for r in refused if r not in gap), refused
    assert len(placed) + len(refused) == sessions
    assert len(placed) == ALLOWED or (gap and ALLOWED - len(gap) <= len(placed) < ALLOWED)
    assert all(r["sent"] is True for r in placed)
    assert all(
        sim.state.orders[int(r["order_id"])].status is OrderStatus.CANCELLED_ALL for r in placed
    )
    assert len(sim.state.orders) == before + len(placed)
    print(f"orders: {len(placed)} of {sessions} placed, {len(gap)} refused by OpenD's gap")


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
        results = await race(lambda token=token: http_client(server.url, token), 20, sim)
        assert_exactly_allowed(results, 20, sim, before)


async def test_separate_stdio_processes_at_once_admit_three(sim: Any, make_key: Any) -> None:
    processes = scaled(6, 20)
    for round_ in range(scaled(1, 3)):
        token = make_key(f"stdio{round_}", TRADE, max_orders_per_minute=ALLOWED)
        space_writes(sim)
        before = len(sim.state.orders)
        results = await race(
            lambda token=token: stdio_client(token, "--gateway", gateway_of(sim)), processes, sim
        )
        assert_exactly_allowed(results, processes, sim, before)
