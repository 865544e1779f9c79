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


async def test_modify_refuses_a_market_order_and_an_order_without_code_or_side(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    import dataclasses
    import sqlite3

    from futu_mcp.appstate import trd_header
    from futu_mcp.tools.trade import _code_and_side
    from keystore.paths import ledger_path
    from opend.enums import OrderType

    token = make_key("marketeer", TRADE, max_order_value=50_000)
    state = make_state(sim, keys_file, token)
    order = {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": 100.0}
    async with Client(build_server(state), mode="legacy") as client:
        placed = await client.call_tool("futu_place_order", order)
        assert not placed.is_error, placed
        order_id = placed.structured_content["order_id"]
        # The gateway reports it as a market order (price 0), as OpenD does for one.
        resting = sim.state.orders[int(order_id)]
        resting.order_type, resting.price = OrderType.MARKET, 0.0
        sim.advance(0.05)
        for args in ({"qty": 400}, {"qty": 400, "dry_run": True}):
            result = await client.call_tool("futu_modify_order", {"order_id": order_id, **args})
            assert result.is_error
            assert (
                result.content[0].text
                == "invalid argument: order_id: only limit orders can be modified"
            )
        acc = next(a for a in await state.client.get_acc_list() if a.acc_id == SIM_HK)
        (row,) = await state.client.order_list_query(trd_header(acc, "HK"), [order_id])
    assert resting.qty == 100
    with sqlite3.connect(ledger_path(keys_file)) as db:
        (reserved,) = db.execute(
            "SELECT COUNT(*) FROM reservations WHERE key_id = 'marketeer'"
        ).fetchone()
    assert reserved == 1  # the place only
    assert _code_and_side(row, order_id)[1] == "BUY"
    for missing in ({"trd_side": None}, {"code": None}, {"code": "nonsense"}):
        with pytest.raises(ToolFailure) as refused:
            _code_and_side(dataclasses.replace(row, **missing), order_id)
        assert refused.value.text == f"gateway error: order {order_id} has no code/side"


async def test_a_client_order_id_reused_for_another_order_is_refused(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    token = make_key("reuser", TRADE)
    state = make_state(sim, keys_file, token)
    first = {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": 100.0}
    other = {"code": "US.AAPL", "trd_side": "BUY", "qty": 5, "price": 10.0}
    before = len(sim.state.orders)
    async with Client(build_server(state), mode="legacy") as client:
        placed = await client.call_tool("futu_place_order", {**first, "client_order_id": "x"})
        assert not placed.is_error, placed
        sim.advance(0.05)
        reused = await client.call_tool("futu_place_order", {**other, "client_order_id": "x"})
        # The same order spelt with its defaults is still a retry.
        same = {**first, "order_type": "NORMAL", "trd_env": "SIMULATE", "client_order_id": "x"}
        retry = await client.call_tool("futu_place_order", same)
    assert reused.is_error
    assert (
        reused.content[0].text
        == "invalid argument: client_order_id: already used for a different order"
    )
    assert not retry.is_error and retry.structured_content["repeat"] is True
    assert retry.structured_content["order_id"] == placed.structured_content["order_id"]
    assert len(sim.state.orders) == before + 1


def test_a_contract_order_says_contracts_and_its_multiplier_in_the_summary_and_audit() -> None:
    """The confirmation a person reads and the order the audit line records carry the value
    with the multiplier and say what one unit of qty is."""
    from types import SimpleNamespace

    from futu_mcp.tradepath import Contract

    call = Contract(lot=1, multiplier=100, name="AAPL 260116 200.00 Call")
    plan = OrderPlan(
        kind="place",
        trd_env="SIMULATE",
        acc=SimpleNamespace(acc_id=SIM_HK),
        security=parse_code("US.AAPL260116C200000"),
        trd_side="BUY",
        qty=2,
        price=5.1,
        order_type="NORMAL",
        value=call.value(2, 5.1),
        name=call.name,
        multiplier=call.multiplier,
    )
    assert plan.summary() == (
        "Place order: BUY 2 contracts (x100) of US.AAPL260116C200000 (AAPL 260116 200.00 Call) "
        f"at 5.1, value about 1,020.00 USD; account {SIM_HK}, SIMULATE"
    )
    assert plan.describe()["value"] == 1020.0 and plan.describe()["multiplier"] == 100
    shares = Contract(lot=100, multiplier=1, name="TENCENT")
    assert shares.value(100, 400.2) == 40020
    assert "multiplier" not in OrderPlan(**{**vars(plan), "multiplier": 1}).describe()
