"""The `quote` toolset (`qot:read`): quotes, bars, books, tickers, snapshots, static data, broker
queues and the link to OpenD. Read-only, each a few lines over the OpenD client."""

from typing import Annotated, Any

from pydantic import Field

from futu_mcp.appstate import Call
from futu_mcp.args import (
    AuTypeName,
    Code,
    Codes,
    Date,
    KLTypeName,
    MarketName,
    SecurityTypeName,
    ToolArgs,
    num_field,
)
from futu_mcp.errors import invalid_argument
from futu_mcp.results import ID_SCHEMA, capped, list_schema, object_schema, plain
from futu_mcp.toolspec import ToolSpec
from opend.codes import QotMarket, parse_code
from opend.enums import AuType, KLType, SecurityType
from opend.errors import unreachable_advice

SCOPE = "qot:read"
MAX_KLINES = 1000
MAX_TICKERS = 1000
MAX_RT = 1000
MAX_ROWS = 500


class QuoteArgs(ToolArgs):
    """Arguments of futu_get_quote (the published schema comes from here)."""

    codes: Codes


async def _get_quote(call: Call, args: QuoteArgs) -> dict[str, Any]:
    quotes = await call.client.get_stock_quote([parse_code(c) for c in args.codes])
    return capped("quotes", quotes, len(args.codes))


class KlineArgs(ToolArgs):
    """Arguments of futu_get_kline (the published schema comes from here)."""

    code: Code
    ktype: Annotated[
        KLTypeName, Field(description="Bar length: K_1M … K_60M, K_DAY, K_WEEK, K_MON, …")
    ] = "K_DAY"
    autype: Annotated[
        AuTypeName, Field(description="Price adjustment: QFQ forward, HFQ backward, NONE")
    ] = "QFQ"
    num: Annotated[int, num_field(100, MAX_KLINES, "bars, the most recent")] = 100
    start: Annotated[Date | None, Field(description="History from this date (YYYY-MM-DD)")] = None
    end: Annotated[Date | None, Field(description="History up to this date (YYYY-MM-DD)")] = None


async def _get_kline(call: Call, args: KlineArgs) -> dict[str, Any]:
    code = parse_code(args.code)
    ktype, autype = KLType[args.ktype], AuType[args.autype]
    if args.start is None and args.end is None:
        rows = await call.client.get_cur_kline(code, args.num, ktype, autype)
        return capped("klines", rows, args.num, code=args.code, ktype=args.ktype)
    if args.start and args.end and args.start > args.end:
        raise invalid_argument("start", "is after end")
    # One more than asked, so a cut is visible as `truncated`.
    rows = await call.client.request_history_kline(
        code, args.start, args.end, ktype, autype, args.num + 1
    )
    return capped("klines", rows, args.num, keep_first=True, code=args.code, ktype=args.ktype)


class OrderBookArgs(ToolArgs):
    """Arguments of futu_get_orderbook (the published schema comes from here)."""

    code: Code
    num: Annotated[int, num_field(10, 50, "price levels per side")] = 10


async def _get_orderbook(call: Call, args: OrderBookArgs) -> dict[str, Any]:
    book = await call.client.get_order_book(parse_code(args.code), args.num)
    return {
        "code": args.code,
        "name": book.name or "",
        "bid": plain(book.bid[: args.num]),
        "ask": plain(book.ask[: args.num]),
    }


class TickerArgs(ToolArgs):
    """Arguments of futu_get_ticker (the published schema comes from here)."""

    code: Code
    num: Annotated[int, num_field(100, MAX_TICKERS, "trades, the most recent")] = 100


async def _get_ticker(call: Call, args: TickerArgs) -> dict[str, Any]:
    rows = await call.client.get_rt_ticker(parse_code(args.code), args.num)
    return capped("tickers", rows, args.num, code=args.code)


class RtArgs(ToolArgs):
    """Arguments of futu_get_rt (the published schema comes from here)."""

    code: Code
    num: Annotated[int, num_field(500, MAX_RT, "minutes, the most recent")] = 500


async def _get_rt(call: Call, args: RtArgs) -> dict[str, Any]:
    rows = await call.client.get_rt_data(parse_code(args.code))
    return capped("rt", rows, args.num, code=args.code)


class SnapshotArgs(ToolArgs):
    """Arguments of futu_get_snapshot (the published schema comes from here)."""

    codes: Codes


async def _get_snapshot(call: Call, args: SnapshotArgs) -> dict[str, Any]:
    rows = await call.client.get_market_snapshot([parse_code(c) for c in args.codes])
    return capped("snapshots", rows, len(args.codes))


class StaticArgs(ToolArgs):
    """Arguments of futu_get_static (the published schema comes from here)."""

    codes: Annotated[Codes | None, Field(description="These securities (or give market)")] = None
    market: Annotated[
        MarketName | None, Field(description="All securities of this market and stock_type")
    ] = None
    stock_type: Annotated[
        SecurityTypeName, Field(description="Kind of security when listing a market")
    ] = "STOCK"
    num: Annotated[int, num_field(100, MAX_ROWS, "securities")] = 100


async def _get_static(call: Call, args: StaticArgs) -> dict[str, Any]:
    if args.codes:
        rows = await call.client.get_stock_basicinfo(
            None, None, [parse_code(c) for c in args.codes]
        )
    elif args.market:
        rows = await call.client.get_stock_basicinfo(
            QotMarket[args.market], SecurityType[args.stock_type], None
        )
    else:
        raise invalid_argument("codes", "give codes or market")
    return capped("securities", rows, args.num)


class BrokerArgs(ToolArgs):
    """Arguments of futu_get_broker (the published schema comes from here)."""

    code: Code
    num: Annotated[int, num_field(20, 100, "broker entries per side")] = 20


async def _get_broker(call: Call, args: BrokerArgs) -> dict[str, Any]:
    code = parse_code(args.code)
    if code.market is not QotMarket.HK:
        raise invalid_argument("code", "broker queues exist only for HK securities")
    queue = await call.client.get_broker_queue(code)
    return {
        "code": args.code,
        "name": queue.name or "",
        "bid": plain(queue.bid[: args.num]),
        "ask": plain(queue.ask[: args.num]),
        "truncated": len(queue.bid) > args.num or len(queue.ask) > args.num,
    }


class PingArgs(ToolArgs):
    """Arguments of futu_ping (the published schema comes from here)."""


async def _ping(call: Call, args: PingArgs) -> dict[str, Any]:
    client = call.client
    out: dict[str, Any] = {
        "gateway": client.address,
        "connected": client.connected,
        "key_id": call.key.id,
        "scopes": sorted(call.key.scopes),
        "read_only": call.state.config.read_only,
    }
    if client.last_error:
        out["last_error"] = client.last_error
    if client.connected:
        state = await client.get_global_state()
        out["global_state"] = plain(state)
        hint = state.login_advice(client.address)
    else:
        hint = unreachable_advice(client.address, client.last_error or "connecting")
    if hint is not None:
        out["hint"] = hint
    return out


_ROW = {"type": "object"}
_STR = {"type": "string"}
TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="futu_get_quote",
        title="Real-time quotes",
        description=(
            "Latest price, open/high/low, previous close, volume and turnover for 1 to 50 "
            "securities (codes like HK.00700, US.AAPL). Use for 'what is X trading at'. "
            "Returns {quotes: [{code, name, last_price, open_price, high_price, low_price, "
            "prev_close_price, volume, turnover, update_time, ...}]}."
        ),
        args=QuoteArgs,
        output_schema=list_schema("quotes", "one quote per code"),
        handler=_get_quote,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_kline",
        title="Candlesticks (K-lines)",
        description=(
            "OHLC bars of one security: the most recent `num` bars (default 100, at most 1000), "
            "or up to `num` bars of history from `start` to `end` (YYYY-MM-DD). ktype picks the bar length "
            "(K_1M … K_DAY, K_WEEK, K_MON), autype the price adjustment. Returns {klines: "
            "[{time_key, open, close, high, low, volume, turnover, change_rate, ...}], "
            "truncated, total}."
        ),
        args=KlineArgs,
        output_schema=list_schema("klines", "bars, oldest first", {"code": _STR, "ktype": _STR}),
        handler=_get_kline,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_orderbook",
        title="Order book",
        description=(
            "Bid and ask price levels of one security (default 10 per side, at most 50). Use "
            "to judge liquidity or a limit price. Returns {code, name, bid: [{price, volume, "
            "order_num}], ask: [...]}, best level first."
        ),
        args=OrderBookArgs,
        output_schema=object_schema(
            {
                "code": {"type": "string"},
                "name": {"type": "string"},
                "bid": {"type": "array", "items": _ROW},
                "ask": {"type": "array", "items": _ROW},
            },
            ["code", "bid", "ask"],
        ),
        handler=_get_orderbook,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_ticker",
        title="Trade ticks",
        description=(
            "The most recent trades of one security (default 100, at most 1000). Returns "
            "{tickers: [{time, price, volume, turnover, ticker_direction, sequence}], "
            "truncated, total}, oldest first."
        ),
        args=TickerArgs,
        output_schema=list_schema(
            "tickers", "trades, oldest first", {"code": _STR}, ids=["sequence"]
        ),
        handler=_get_ticker,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_rt",
        title="Intraday time-sharing",
        description=(
            "Today's minute-by-minute price line of one security (default the last 500 minutes, "
            "at most 1000). Returns {rt: [{time, cur_price, avg_price, volume, turnover, "
            "last_close}], truncated, total}."
        ),
        args=RtArgs,
        output_schema=list_schema("rt", "minutes, oldest first", {"code": _STR}),
        handler=_get_rt,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_snapshot",
        title="Market snapshots",
        description=(
            "A fuller one-off picture of 1 to 50 securities without subscribing: price, bid/ask, "
            "lot size, market value, PE/PB, dividend, shares. Use for fundamentals or lot size "
            "before an order. Returns {snapshots: [{code, name, last_price, lot_size, ask_price, "
            "bid_price, pe_ratio, total_market_val, ...}]}."
        ),
        args=SnapshotArgs,
        output_schema=list_schema("snapshots", "one snapshot per code"),
        handler=_get_snapshot,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_static",
        title="Security reference data",
        description=(
            "Name, lot size, type and listing date of the given codes, or of all securities of "
            "a market and stock_type (default 100 rows, at most 500). Returns {securities: "
            "[{code, name, lot_size, stock_type, listing_date}], truncated, total}."
        ),
        args=StaticArgs,
        output_schema=list_schema("securities", "reference data rows", ids=["stock_id"]),
        handler=_get_static,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_broker",
        title="Broker queue (HK)",
        description=(
            "Which brokers sit at the bid and ask of an HK security (default 20 per side, at most "
            "100). Returns {code, name, bid: [{broker_id, broker_name, broker_pos}], ask: [...], "
            "truncated}."
        ),
        args=BrokerArgs,
        output_schema=object_schema(
            {
                "code": {"type": "string"},
                "name": {"type": "string"},
                "bid": {"type": "array", "items": _ROW},
                "ask": {"type": "array", "items": _ROW},
                "truncated": {"type": "boolean"},
            },
            ["code", "bid", "ask", "truncated"],
        ),
        handler=_get_broker,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_ping",
        title="Gateway and key status",
        description=(
            "Whether the server is connected to OpenD, OpenD's market states, and which key and "
            "scopes this session uses. Call it first when other tools say the gateway is not "
            "connected. Returns {gateway, connected, last_error, hint (what the user should do "
            "when OpenD is unreachable or not logged in), key_id, scopes, read_only, "
            "global_state}."
        ),
        args=PingArgs,
        output_schema=object_schema(
            {
                "gateway": {"type": "string"},
                "connected": {"type": "boolean"},
                "last_error": {"type": "string"},
                "hint": {"type": "string"},
                "key_id": {"type": "string"},
                "scopes": {"type": "array", "items": {"type": "string"}},
                "read_only": {"type": "boolean"},
                "global_state": {"type": "object", "properties": {"conn_id": ID_SCHEMA}},
            },
            ["gateway", "connected", "key_id", "scopes"],
        ),
        handler=_ping,
        scope=SCOPE,
    ),
)
