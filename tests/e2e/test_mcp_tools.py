"""Every tool over stdio and over HTTP, against the simulator: valid calls agree with the sim's
own state, bad calls get the contract's `invalid argument: <field>: <why>` texts."""

import json
from pathlib import Path
from typing import Any

import pytest

from opend.sim.universe import PLATES, SECURITIES
from tests.e2e.conftest import gateway_of, http_client, space_writes, stdio_client, wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ALL_SCOPES = "qot:read,acc:read,trade:simulate,trade:real"
SNAPSHOT = Path(__file__).resolve().parents[1] / "futu_mcp" / "snapshots" / "tools.json"
SNAPSHOT_FIELDS = {"name", "title", "description", "input_schema", "output_schema", "annotations"}
SIM_HK = 168880000000000201  # the simulator's SIMULATE account for HK
OUTPUT_SCHEMAS = {
    t["name"]: t["outputSchema"] for t in json.loads(SNAPSHOT.read_text(encoding="utf-8"))
}
JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
}


async def call(client: Any, name: str, args: dict[str, Any]) -> tuple[bool, Any]:
    """(is_error, structured content or error text)."""
    result = await client.call_tool(name, args)
    if result.is_error:
        return True, result.content[0].text
    return False, result.structured_content


async def ok(client: Any, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """A call that must succeed; its structured content, checked against the tool's schema."""
    failed, data = await call(client, name, args)
    assert not failed, f"{name}: {data}"
    check_output(name, data)
    return data


def check_output(name: str, data: dict[str, Any]) -> None:
    """The result has every field its output schema requires and none it does not list, and
    each listed field (in rows too) has the listed JSON type: what a client reads is what the
    schema promised."""
    schema = OUTPUT_SCHEMAS[name]
    props = schema["properties"]
    assert set(data) <= set(props), f"{name}: unlisted {set(data) - set(props)}"
    assert set(schema["required"]) <= set(data), (
        f"{name}: missing {set(schema['required']) - set(data)}"
    )
    _check_type(props, data, name)


def _check_type(props: dict[str, Any], data: dict[str, Any], where: str) -> None:
    for field, value in data.items():
        prop = props.get(field)
        if prop is None or "type" not in prop:
            continue
        kind = prop["type"]
        good = isinstance(value, JSON_TYPES[kind]) and not (
            isinstance(value, bool) and kind in ("integer", "number")
        )
        assert good, f"{where}.{field}: {value!r} is not {kind}"
        if kind == "object" and "properties" in prop:
            _check_type(prop["properties"], value, f"{where}.{field}")
        if kind == "array" and "properties" in prop.get("items", {}):
            for row in value:
                _check_type(prop["items"]["properties"], row, f"{where}.{field}[]")


async def exercise_every_tool(client: Any, sim: Any) -> None:
    """One session: every tool with valid input, checked against the simulator."""
    listed = (await client.list_tools()).tools
    wire = [t.model_dump(by_alias=True, exclude_none=True, include=SNAPSHOT_FIELDS) for t in listed]
    assert wire == json.loads(SNAPSHOT.read_text(encoding="utf-8"))  # what clients see

    ping = await ok(client, "futu_ping", {})
    assert ping["connected"] is True and ping["key_id"] == "all"

    quotes = (await ok(client, "futu_get_quote", {"codes": "HK.00700,US.AAPL"}))["quotes"]
    assert {q["code"]: q["name"] for q in quotes} == {
        "HK.00700": SECURITIES["HK.00700"].name,
        "US.AAPL": SECURITIES["US.AAPL"].name,
    }
    assert all(q["last_price"] > 0 for q in quotes)
    # Times say their market's zone, as OpenD reports them (local exchange time).
    offsets = {q["code"]: q["update_time"][19:] for q in quotes}
    assert offsets["HK.00700"] == "+08:00" and offsets["US.AAPL"] in ("-05:00", "-04:00")

    klines = await ok(client, "futu_get_kline", {"code": "HK.00700", "num": 5})
    assert klines["count"] == 5 and len(klines["klines"]) == 5
    assert all(k["low"] <= k["close"] <= k["high"] for k in klines["klines"])

    days = [k["time_key"][:10] for k in klines["klines"]]
    history = await ok(
        client, "futu_get_kline", {"code": "HK.00700", "start": days[0], "end": days[-1], "num": 3}
    )
    assert history["count"] == 3 and history["truncated"] is True
    assert [k["time_key"][:10] for k in history["klines"]] == days[:3]

    book = await ok(client, "futu_get_orderbook", {"code": "HK.00700", "num": 5})
    assert 0 < len(book["bid"]) <= 5 and 0 < len(book["ask"]) <= 5
    assert book["bid"][0]["price"] < book["ask"][0]["price"]

    ticks = await ok(client, "futu_get_ticker", {"code": "HK.00700", "num": 10})
    assert 0 < ticks["count"] <= 10

    rt = await ok(client, "futu_get_rt", {"code": "HK.00700"})
    assert rt["count"] > 0 and rt["rt"][0]["cur_price"] > 0

    snaps = (await ok(client, "futu_get_snapshot", {"codes": ["HK.00005", "US.TSLA"]}))["snapshots"]
    assert {s["code"]: s["lot_size"] for s in snaps} == {
        "HK.00005": SECURITIES["HK.00005"].lot_size,
        "US.TSLA": SECURITIES["US.TSLA"].lot_size,
    }

    hsbc = (await ok(client, "futu_get_static", {"codes": "HK.00005"}))["securities"]
    assert [(s["code"], s["lot_size"]) for s in hsbc] == [
        ("HK.00005", SECURITIES["HK.00005"].lot_size)
    ]
    static = await ok(client, "futu_get_static", {"market": "HK", "num": 3})
    hk_stocks = [
        s
        for s in SECURITIES.values()
        if s.security.market.name == "HK" and s.sec_type.name == "STOCK"
    ]
    assert (
        static["count"] == 3 and static["truncated"] is True and static["total"] == len(hk_stocks)
    )

    broker = await ok(client, "futu_get_broker", {"code": "HK.00700", "num": 3})
    assert len(broker["bid"]) <= 3 and len(broker["ask"]) <= 3

    plates = await ok(client, "futu_list_plates", {"market": "HK", "num": 500})
    assert {p["code"] for p in plates["plates"]} >= {c for c in PLATES if c.startswith("HK.")}
    members = await ok(client, "futu_plate_stocks", {"plate_code": "HK.BK1001"})
    assert {s["code"] for s in members["securities"]} == set(PLATES["HK.BK1001"].members)

    accounts = (await ok(client, "futu_list_accounts", {}))["accounts"]
    assert {a["acc_id"] for a in accounts} == {str(i) for i in sim.state.accounts}
    funds = await ok(client, "futu_get_funds", {"acc_id": str(SIM_HK)})
    assert [f["acc_id"] for f in funds["funds"]] == [str(SIM_HK)]
    assert funds["funds"][0]["cash"] == pytest.approx(sim.state.accounts[SIM_HK].cash, abs=0.01)

    # A resting buy far below the market: placed, listed, modified, cancelled.
    price = round(SECURITIES["HK.00700"].base_price * 0.5, 1)
    placed = await ok(
        client,
        "futu_place_order",
        {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": price},
    )
    assert placed["sent"] is True and placed["acc_id"] == str(SIM_HK)
    assert placed["name"] == SECURITIES["HK.00700"].name
    assert placed["value"] == pytest.approx(100 * price)
    order_id = placed["order_id"]
    sim_order = sim.state.orders[int(order_id)]
    assert (sim_order.qty, sim_order.price, sim_order.side.name) == (100, price, "BUY")

    orders = await ok(client, "futu_get_orders", {"order_id": order_id})
    assert [o["order_id"] for o in orders["orders"]] == [order_id]
    waiting = await ok(client, "futu_get_orders", {"status": "SUBMITTED,FILLED_PART"})
    assert order_id in {o["order_id"] for o in waiting["orders"]}
    assert all(o["order_status"] in ("SUBMITTED", "FILLED_PART") for o in waiting["orders"])

    new_price = round(price + 1, 1)
    modified = await ok(client, "futu_modify_order", {"order_id": order_id, "price": new_price})
    assert modified["sent"] is True
    assert sim.state.orders[int(order_id)].price == pytest.approx(new_price)

    space_writes(sim)
    cancelled = await ok(client, "futu_cancel_order", {"order_id": order_id})
    assert cancelled["sent"] is True
    assert sim.state.orders[int(order_id)].status.name.startswith("CANCELLED")

    space_writes(sim)
    # A marketable buy at the best ask fills: positions and deals agree with the sim's books.
    ask = (await ok(client, "futu_get_orderbook", {"code": "HK.00700", "num": 1}))["ask"][0][
        "price"
    ]
    await ok(
        client,
        "futu_place_order",
        {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": ask},
    )
    wait_for(lambda: any(d.order.acc_id == SIM_HK for d in sim.state.deals), what="a fill")
    positions = await ok(client, "futu_get_positions", {"acc_id": SIM_HK})
    held = {c: p.qty for c, p in sim.state.accounts[SIM_HK].positions.items() if p.qty}
    assert {p["code"]: p["qty"] for p in positions["positions"] if p["qty"]} == held
    for p in positions["positions"]:  # no float noise: ratios 4 places, money cents
        assert p["acc_id"] == str(SIM_HK)
        assert p["pl_ratio"] == round(p["pl_ratio"], 4) and p["pl_val"] == round(p["pl_val"], 2)
    deals = await ok(client, "futu_get_deals", {"acc_id": SIM_HK})
    assert deals["count"] == len([d for d in sim.state.deals if d.order.acc_id == SIM_HK])
    await exercise_history_and_calendar(client, sim)


async def exercise_history_and_calendar(client: Any, sim: Any) -> None:
    """The history and calendar toolsets (served with --toolsets all): each answers, and its
    result matches its schema; tests/e2e/test_mcp_history.py checks the figures."""
    past = await ok(client, "futu_get_history_orders", {"code": "HK.00700"})
    assert past["acc_ids"] == [str(SIM_HK)] and past["count"] > 0
    assert {o["code"] for o in past["orders"]} == {"HK.00700"}
    assert past["end"] >= past["start"]
    qtys = await ok(client, "futu_get_max_trd_qtys", {"code": "HK.00700", "price": 300})
    assert qtys["max_cash_buy"] > 0 and qtys["acc_id"] == str(SIM_HK)
    real = {"trd_env": "REAL"}
    fills = await ok(client, "futu_get_history_deals", {**real, "code": "US.AAPL"})
    assert fills["count"] > 0 and {d["code"] for d in fills["deals"]} == {"US.AAPL"}
    margin = await ok(client, "futu_get_margin_ratio", {**real, "codes": "HK.00700,US.AAPL"})
    assert [m["code"] for m in margin["margin_ratios"]] == ["HK.00700", "US.AAPL"]
    assert len(margin["acc_ids"]) == 2  # each code in the account trading its market
    day = fills["deals"][-1]["create_time"][:10]
    flows = await ok(client, "futu_get_cash_flow", {**real, "clearing_date": day})
    assert flows["count"] > 0
    order_ex = past["orders"][-1]["order_id_ex"]
    # Paper accounts: OpenD's refusal, passed on.
    failed, text = await call(client, "futu_get_order_fee", {"order_id_list": order_ex})
    assert failed and text.startswith("gateway error: ") and "paper trading" in text, text
    states = await ok(client, "futu_get_market_state", {"codes": "HK.00700,US.AAPL"})
    assert {s["code"] for s in states["states"]} == {"HK.00700", "US.AAPL"}
    days = await ok(client, "futu_get_trading_days", {"market": "US", "start": "2026-11-23"})
    assert "2026-11-26" not in [d["time"][:10] for d in days["trading_days"]]  # Thanksgiving


BAD_INPUT: list[tuple[str, dict[str, Any], str]] = [
    ("futu_get_quote", {"codes": "HK"}, "invalid argument: codes: 'HK' is not MARKET.CODE"),
    (
        "futu_get_kline",
        {"code": "HK.00700", "ktype": "DAY"},
        "invalid argument: ktype: Input should be",
    ),
    (
        "futu_get_orderbook",
        {"code": "HK.00700", "num": 0},
        "invalid argument: num: Input should be greater than or equal to 1",
    ),
    ("futu_get_ticker", {"code": "ZZ.1"}, "invalid argument: code: unknown market 'ZZ'"),
    ("futu_get_rt", {}, "invalid argument: code: required"),
    (
        "futu_get_snapshot",
        {"codes": []},
        "invalid argument: codes: Value should have at least 1 item",
    ),
    ("futu_get_static", {}, "invalid argument: codes: give codes or market"),
    (
        "futu_get_broker",
        {"code": "US.AAPL"},
        "invalid argument: code: broker queues exist only for HK",
    ),
    ("futu_ping", {"verbose": True}, "invalid argument: verbose: unknown argument"),
    ("futu_list_plates", {"market": "XX"}, "invalid argument: market: Input should be"),
    ("futu_plate_stocks", {"plate_code": 7}, "invalid argument: plate_code: must be a string"),
    ("futu_list_accounts", {"trd_env": "PAPER"}, "invalid argument: trd_env: Input should be"),
    ("futu_get_funds", {"acc_id": 12345}, "invalid argument: acc_id: no SIMULATE account 12345"),
    (
        "futu_get_positions",
        {"num": 501},
        "invalid argument: num: Input should be less than or equal to 500",
    ),
    (
        "futu_get_orders",
        {"order_id": "abc"},
        "invalid argument: order_id: must be a decimal id",
    ),
    ("futu_get_positions", {"acc_id": "12a"}, "invalid argument: acc_id: must be a decimal id"),
    (
        "futu_get_deals",
        {"code": "HK.00700", "codes": "x"},
        "invalid argument: codes: unknown argument",
    ),
    (
        "futu_place_order",
        {"code": "HK.00700", "trd_side": "BUY", "qty": 100},
        "invalid argument: price: required for a NORMAL (limit) order",
    ),
    ("futu_modify_order", {"order_id": "1"}, "invalid argument: qty: give a new qty or price"),
    (
        "futu_cancel_order",
        {"order_id": "999999"},
        "invalid argument: order_id: not an order placed with this key",
    ),
    (
        "futu_get_history_orders",
        {"start": "2026-02-30"},
        "invalid argument: start: 2026-02-30 is not a calendar date",
    ),
    (
        "futu_get_history_deals",
        {"start": "2026-03-02", "end": "2026-03-01"},
        "invalid argument: start: 2026-03-02 is after end 2026-03-01",
    ),
    (
        "futu_get_max_trd_qtys",
        {"code": "HK.00700", "order_type": "MARKET", "price": 1},
        "invalid argument: price: must be omitted for a MARKET order",
    ),
    ("futu_get_order_fee", {"order_id_list": []}, "invalid argument: order_id_list: "),
    ("futu_get_margin_ratio", {"codes": "HK"}, "invalid argument: codes: 'HK' is not MARKET.CODE"),
    ("futu_get_cash_flow", {}, "invalid argument: clearing_date: required"),
    ("futu_get_market_state", {"code": "HK.00700"}, "invalid argument: code: unknown argument"),
    ("futu_get_trading_days", {}, "invalid argument: market: give a market or a code"),
]


async def exercise_bad_input(client: Any, sim: Any) -> None:
    """Each tool refuses bad input with its contract text; nothing reaches the sim's order book."""
    before = len(sim.state.orders)
    for name, args, text in BAD_INPUT:
        failed, message = await call(client, name, args)
        assert failed, name
        assert message.startswith(text), f"{name}: {message}"
        assert "Traceback" not in message and "Error executing tool" not in message
    # OpenD's own refusal (a price off the tick grid) comes back as `gateway error: <its message>`.
    off_tick = {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": 240.1}
    space_writes(sim)
    failed, message = await call(client, "futu_place_order", off_tick)
    assert (
        failed and message.startswith("gateway error: ") and len(message) > len("gateway error: ")
    )
    assert len(sim.state.orders) == before


async def test_every_tool_over_stdio(sim: Any, make_key: Any) -> None:
    token = make_key("all", ALL_SCOPES)
    async with stdio_client(token, "--gateway", gateway_of(sim), "--toolsets", "all") as client:
        await exercise_every_tool(client, sim)
        await exercise_bad_input(client, sim)


async def test_every_tool_over_http(sim: Any, make_key: Any, http_server: Any, era: str) -> None:
    token = make_key("all", ALL_SCOPES)
    server = http_server("--gateway", gateway_of(sim), "--toolsets", "all")
    async with http_client(server.url, token, era) as client:
        await exercise_every_tool(client, sim)
        await exercise_bad_input(client, sim)
    assert token not in server.logs()
