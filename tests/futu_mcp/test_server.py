"""The tool wrapper in-process (the SDK's in-memory client, a real gateway client on the sim):
failures reach the client as contract texts only, never a traceback or internal detail."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from futu_mcp.appstate import AppState, Call
from futu_mcp.args import ToolArgs
from futu_mcp.config import DEFAULT_TOOLSETS, Config
from futu_mcp.errors import ToolFailure
from futu_mcp.metrics import Metrics
from futu_mcp.results import object_schema
from futu_mcp.server import build_server
from futu_mcp.startup import stdio_key
from futu_mcp.tools.registry import all_tools
from futu_mcp.toolspec import ToolSpec
from keystore.ledger import SqliteLedger
from keystore.paths import ledger_path
from keystore.policy import ServerCaps
from keystore.verify import KeyVerifier
from opend.client import OpenDClient

pytestmark = pytest.mark.anyio

SECRET_DETAIL = "db password is hunter2 at /srv/secret"


class NoArgs(ToolArgs):
    """A test tool without arguments."""


async def crash(call: Call, args: NoArgs) -> dict[str, Any]:
    """A handler with a bug whose message must never reach the client."""
    raise RuntimeError(SECRET_DETAIL)


async def refuse(call: Call, args: NoArgs) -> dict[str, Any]:
    """A handler that refuses with a contract text."""
    raise ToolFailure("symbol not allowed: HK.00700", "symbol")


def spec(name: str, handler: Any) -> ToolSpec:
    """A read tool for the test table."""
    return ToolSpec(
        name=name,
        title=name,
        description="a test tool " * 10,
        args=NoArgs,
        output_schema=object_schema({}),
        handler=handler,
        scope="qot:read",
        toolset="quote",
    )


def make_state(sim: Any, keys_file: Path, token: str) -> AppState:
    """A server's state as `futu-mcp` builds it, for the stdio key `token`."""
    verifier = KeyVerifier(keys_file)
    key, _ = stdio_key(verifier, token)
    host, port = sim.address
    return AppState(
        config=Config(gateway=f"{host}:{port}"),
        client=OpenDClient(host, port),
        verifier=verifier,
        ledger=SqliteLedger(ledger_path(keys_file)),
        audit=None,
        metrics=Metrics(enabled=True),
        caps=ServerCaps(),
        stdio_key=key,
    )


@asynccontextmanager
async def in_memory(
    sim: Any, keys_file: Path, token: str, table: Any = None
) -> AsyncIterator[Client]:
    """The SDK's in-memory client on a server built like futu-mcp builds it."""
    server = build_server(make_state(sim, keys_file, token), table)
    async with Client(server, mode="legacy") as client:
        yield client


async def test_a_crash_reaches_the_client_as_a_generic_text_and_the_log_in_full(
    sim: Any, keys_file: Path, make_key: Any, caplog: pytest.LogCaptureFixture
) -> None:
    token = make_key("crashy", "qot:read")
    table = [spec("t_crash", crash), spec("t_refuse", refuse)]
    with caplog.at_level(logging.ERROR, logger="futu_mcp"):
        async with in_memory(sim, keys_file, token, table) as client:
            crashed = await client.call_tool("t_crash", {})
            refused = await client.call_tool("t_refuse", {})
            unknown = await client.call_tool("t_crash", {"x": 1})
    assert crashed.is_error and crashed.content[0].text == "internal error (see server log)"
    assert SECRET_DETAIL not in str(crashed.model_dump())
    assert SECRET_DETAIL in caplog.text and "Traceback" in caplog.text
    assert refused.is_error and refused.content[0].text == "symbol not allowed: HK.00700"
    assert unknown.content[0].text == "invalid argument: x: unknown argument"


class TradeArgs(ToolArgs):
    """A trade tool's arguments: where the order goes."""

    code: str
    trd_side: str
    trd_env: str = "SIMULATE"


async def test_a_trade_tool_only_plans_and_cannot_skip_the_checks(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    """A trade tool's handler is never reached before the trade wrapper's scope and policy
    checks pass, and what it returns (the plan) is checked, reserved and sent by the wrapper,
    not by the tool."""
    planned: list[str] = []

    async def plan(call: Call, args: TradeArgs) -> Any:
        planned.append(args.code)
        raise ToolFailure("planned, stopped here", "error")

    trade = ToolSpec(
        name="t_trade",
        title="t_trade",
        description="a test trade tool " * 10,
        args=TradeArgs,
        output_schema=object_schema({}),
        handler=plan,
        kind="trade",
        toolset="trade",
    )
    quote_only = make_key("quotes", "qot:read")
    async with in_memory(sim, keys_file, quote_only, [trade]) as client:
        no_scope = await client.call_tool("t_trade", {"code": "HK.00700", "trd_side": "BUY"})
    hk_only = make_key("hk", "trade:simulate", allowed_markets=["HK"])
    async with in_memory(sim, keys_file, hk_only, [trade]) as client:
        us = await client.call_tool("t_trade", {"code": "US.AAPL", "trd_side": "BUY"})
        hk = await client.call_tool("t_trade", {"code": "HK.00700", "trd_side": "BUY"})
    assert no_scope.content[0].text == "missing scope: trade:simulate"
    assert us.is_error and "US" in us.content[0].text
    assert hk.content[0].text == "planned, stopped here"
    assert planned == ["HK.00700"]


async def test_tools_list_is_filtered_by_the_stdio_key(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    token = make_key("accounts", "acc:read")
    async with in_memory(sim, keys_file, token) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        default = {t.name for t in all_tools() if t.toolset in DEFAULT_TOOLSETS}
        assert names == {t.name for t in all_tools() if t.scope == "acc:read"} & default
        result = await client.call_tool("futu_get_quote", {"codes": "HK.00700"})
    assert result.is_error and result.content[0].text == "missing scope: qot:read"


async def test_confirmation_in_the_2026_protocol_era(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    """The SDK client's default era asks through InputRequiredResult; the answer binds the order."""
    from mcp.types import ElicitResult

    token = make_key("modern", "qot:read,trade:simulate", confirm_orders="all")
    answers: list[str] = []
    asked: list[str] = []

    async def person(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        action = answers.pop(0)
        return ElicitResult(
            action=action, content={"confirm": True} if action == "accept" else None
        )  # type: ignore[arg-type]

    order = {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": 240.0}
    before = len(sim.state.orders)
    server = build_server(make_state(sim, keys_file, token))
    async with Client(server, elicitation_callback=person) as client:
        assert client.session.protocol_version >= "2026-07-28"
        answers.append("accept")
        placed = await client.call_tool("futu_place_order", order)
        assert not placed.is_error, placed.content[0].text
        assert "BUY 100 HK.00700" in asked[0]
        answers.append("decline")
        declined = await client.call_tool("futu_place_order", order)
        assert declined.is_error and declined.content[0].text == "confirmation declined"
    assert len(sim.state.orders) == before + 1
    assert sim.state.orders[int(placed.structured_content["order_id"])].qty == 100


async def test_key_use_is_recorded_once_per_interval_and_never_fails_a_call(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    """`futucli list-keys` sees a key's first use at once; repeats within the interval cost no
    SQLite write (an fsync each); a ledger that cannot be written does not fail the call."""
    import sqlite3

    from futu_mcp.appstate import USE_WRITE_INTERVAL

    token = make_key("counted", "qot:read")
    state = make_state(sim, keys_file, token)
    writes: list[str] = []

    class CountingLedger(SqliteLedger):
        def record_use(self, key_id: str, now: Any = None) -> None:
            writes.append(key_id)
            super().record_use(key_id, now)

    state.ledger = CountingLedger(ledger_path(keys_file))
    await state.note_use("counted")
    assert "counted" in SqliteLedger(ledger_path(keys_file)).last_used()
    for _ in range(5):
        await state.note_use("counted")
    assert writes == ["counted"] and USE_WRITE_INTERVAL >= 5

    class BrokenLedger(SqliteLedger):
        def record_use(self, key_id: str, now: Any = None) -> None:
            raise sqlite3.OperationalError("disk I/O error")

    state.ledger = BrokenLedger(ledger_path(keys_file))
    await state.note_use("other")  # logged, not raised
