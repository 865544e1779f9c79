"""Order ownership: a key modifies and cancels only the orders it placed itself, even when
several tenants share one account; over HTTP, against the simulator."""

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from keystore.issuing import rotate_key
from keystore.store import KeyStore
from tests.e2e.conftest import gateway_of, http_client, space_writes
from tests.e2e.test_mcp_tools import call, ok
from tests.e2e.test_mcp_trade import resting

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TRADE = "qot:read,acc:read,trade:simulate"
NOT_OWNED = "invalid argument: order_id: not an order placed with this key"


async def test_another_key_cannot_modify_or_cancel_an_order_it_did_not_place(
    sim: Any, make_key: Any, http_server: Any, era: str, keys_file: Path
) -> None:
    alice = make_key("alice", TRADE)
    bob = make_key("bob", TRADE)
    server = http_server("--gateway", gateway_of(sim))
    async with http_client(server.url, alice, era) as a:
        placed = await ok(a, "futu_place_order", resting())
    order_id = placed["order_id"]
    sim_order = sim.state.orders[int(order_id)]
    before = (sim_order.qty, sim_order.price, sim_order.status)
    space_writes(sim)
    async with http_client(server.url, bob, era) as b:
        for dry_run in (False, True):
            modify = {"order_id": order_id, "qty": 400, "dry_run": dry_run}
            assert await call(b, "futu_modify_order", modify) == (True, NOT_OWNED)
        assert await call(b, "futu_cancel_order", {"order_id": order_id}) == (True, NOT_OWNED)
        explicit = {"order_id": order_id, "acc_id": placed["acc_id"]}
        assert await call(b, "futu_cancel_order", explicit) == (True, NOT_OWNED)
    after = sim.state.orders[int(order_id)]
    assert (after.qty, after.price, after.status) == before
    # Ownership is by key id: it survives rotate-key and a server restart.
    server.stop()
    alice, _ = rotate_key(KeyStore(keys_file), "alice")
    restarted = http_server("--gateway", gateway_of(sim))
    async with http_client(restarted.url, alice, era) as a:
        cancelled = await ok(a, "futu_cancel_order", {"order_id": order_id})
    assert cancelled["sent"] is True
    assert sim.state.orders[int(order_id)].status.name.startswith("CANCELLED")


async def test_a_narrowed_key_can_still_cancel_its_own_order(
    sim: Any, make_key: Any, http_server: Any, keys_file: Path
) -> None:
    token = make_key("narrowed", TRADE, allowed_symbols=["HK.00700"], allowed_trd_sides=["BUY"])
    server = http_server("--gateway", gateway_of(sim))
    async with http_client(server.url, token) as client:
        placed = await ok(client, "futu_place_order", resting())
        # The person narrows the key to other symbols and sides while the order rests.
        KeyStore(keys_file).update(
            lambda records: [
                replace(
                    r,
                    limits=replace(
                        r.limits,
                        allowed_symbols=frozenset({"US.AAPL"}),
                        allowed_trd_sides=frozenset({"SELL"}),
                    ),
                )
                for r in records
            ]
        )
        assert await call(client, "futu_place_order", resting()) == (
            True,
            "symbol not allowed: HK.00700",
        )
        space_writes(sim)
        cancelled = await ok(client, "futu_cancel_order", {"order_id": placed["order_id"]})
    assert cancelled["sent"] is True
    assert sim.state.orders[int(placed["order_id"])].status.name.startswith("CANCELLED")
