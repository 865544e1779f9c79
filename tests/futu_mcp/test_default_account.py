"""The default account of a call is the first one the key may use (`allowed_acc_ids`)."""

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from futu_mcp.server import build_server
from tests.futu_mcp.test_server import make_state

pytestmark = pytest.mark.anyio


async def test_a_key_limited_to_the_second_simulate_account_gets_it_by_default(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    simulate = [i for i, a in sim.state.accounts.items() if a.env.name == "SIMULATE"]
    assert len(simulate) >= 2
    second = simulate[1]
    token = make_key("second", "acc:read,trade:simulate", allowed_acc_ids=[second])
    state = make_state(sim, keys_file, token)
    async with Client(build_server(state), mode="legacy") as client:
        assert await state.client.wait_connected(10)
        listed = [a.acc_id for a in await state.client.get_acc_list() if a.trd_env == "SIMULATE"]
        assert listed.index(second) > 0  # the gateway's first SIMULATE account is another one
        funds = await client.call_tool("futu_get_funds", {})
        orders = await client.call_tool("futu_get_orders", {})
    assert not funds.is_error, funds
    assert funds.structured_content["acc_id"] == second
    assert not orders.is_error and orders.structured_content["acc_id"] == second
