"""The trade path in-process (the SDK's in-memory client, a real gateway client on the sim):
orders the gateway client would refuse are argument errors before any audit intent line."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from futu_mcp.appstate import AppState, Call
from futu_mcp.audit import AuditLog
from futu_mcp.errors import ToolFailure
from futu_mcp.server import build_server
from futu_mcp.tradepath import OrderPlan, execute
from opend.codes import parse_code
from tests.futu_mcp.test_server import make_state

pytestmark = pytest.mark.anyio

TRADE = "qot:read,acc:read,trade:simulate"
SIM_HK = 168880000000000201


def phases(audit: Path) -> list[str]:
    """The phase of each audit line written so far."""
    if not audit.exists():
        return []
    return [json.loads(line)["phase"] for line in audit.read_text().splitlines()]


@asynccontextmanager
async def audited_state(
    sim: Any, keys_file: Path, token: str, audit: Path
) -> AsyncIterator[AppState]:
    """A server state with an audit log and a started gateway client."""
    state = make_state(sim, keys_file, token)
    state.audit = AuditLog(audit)
    async with state.client:
        assert await state.client.wait_connected(10)
        yield state


async def test_sell_short_is_refused_as_an_argument_and_never_audited_as_intent(
    sim: Any, keys_file: Path, make_key: Any, tmp_path: Path
) -> None:
    token = make_key("shorter", TRADE)
    audit = tmp_path / "audit.jsonl"
    state = make_state(sim, keys_file, token)
    state.audit = AuditLog(audit)
    before = len(sim.state.orders)
    order = {"code": "HK.00700", "trd_side": "SELL_SHORT", "qty": 100, "price": 100.0}
    async with Client(build_server(state), mode="legacy") as client:
        for extra in ({}, {"dry_run": True}):
            result = await client.call_tool("futu_place_order", {**order, **extra})
            assert result.is_error
            assert result.content[0].text.startswith("invalid argument: trd_side: "), result
        schema = next(
            t.input_schema
            for t in (await client.list_tools()).tools
            if t.name == "futu_place_order"
        )
    assert schema["properties"]["trd_side"]["enum"] == ["BUY", "SELL"]
    assert "intent" not in phases(audit)
    assert len(sim.state.orders) == before


async def test_a_plan_the_gateway_client_refuses_is_an_argument_error_before_any_intent(
    sim: Any, keys_file: Path, make_key: Any, tmp_path: Path
) -> None:
    token = make_key("planner", TRADE, max_orders_per_minute=1)
    audit = tmp_path / "audit.jsonl"
    async with audited_state(sim, keys_file, token, audit) as state:
        assert state.stdio_key is not None
        key = state.stdio_key.current(state.verifier)
        call = Call(state, key, "stdio", None, "futu_place_order")
        acc = next(a for a in await call.accounts() if a.acc_id == SIM_HK)
        plan = OrderPlan(
            kind="place",
            trd_env="SIMULATE",
            acc=acc,
            security=parse_code("HK.00700"),
            trd_side="SELL_SHORT",
            qty=100,
            price=100.0,
            order_type="NORMAL",
            value=None,
        )
        before = len(sim.state.orders)
        with pytest.raises(ToolFailure) as refused:
            await execute(call, plan, {}, dry_run=False)
        assert (
            refused.value.text == "invalid argument: trd_side: must be BUY or SELL, got SELL_SHORT"
        )
        assert call.order_sent is False
        assert phases(audit) == []
        # Nothing was reserved: the key's one order a minute is still free.
        plan.trd_side = "BUY"
        placed = await execute(call, plan, {}, dry_run=False)
    assert placed["sent"] is True
    assert len(sim.state.orders) == before + 1
    assert phases(audit) == ["intent", "result"]
