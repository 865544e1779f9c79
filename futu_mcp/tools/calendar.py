"""The `calendar` toolset (`qot:read`): which session each market is in now, and the trading
days of a market. Read-only."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from futu_mcp.appstate import Call
from futu_mcp.args import Code, Codes, ToolArgs
from futu_mcp.errors import invalid_argument
from futu_mcp.results import capped, list_schema
from futu_mcp.tools.history import Day, window
from futu_mcp.toolspec import ToolSpec
from opend import c2s
from opend.codes import QotMarket, parse_code
from opend.enums import TradeDateMarket
from opend.market_rules import MARKET_TZ

SCOPE = "qot:read"
TRADING_DAYS = 365
# The calendars futu-mcp offers (opend.enums.TradeDateMarket; NT: northbound Stock Connect,
# ST: southbound).
TradeDateMarketName = Literal["HK", "US", "CN", "NT", "ST"]
# Whose date is "today" for each calendar (northbound Stock Connect: the mainland's; southbound:
# Hong Kong's), as OpenD's span of served years turns over at its market's New Year.
_CALENDAR_MARKET: dict[str, QotMarket] = {
    "HK": QotMarket.HK,
    "US": QotMarket.US,
    "CN": QotMarket.SH,
    "NT": QotMarket.SH,
    "ST": QotMarket.HK,
}


class MarketStateArgs(ToolArgs):
    """Arguments of futu_get_market_state (the published schema comes from here)."""

    codes: Codes


async def _market_state(call: Call, args: MarketStateArgs) -> dict[str, Any]:
    rows = await call.client.get_market_state([parse_code(c) for c in args.codes])
    return capped("states", rows, len(rows) or 1)


class TradingDaysArgs(ToolArgs):
    """Arguments of futu_get_trading_days (the published schema comes from here)."""

    market: Annotated[
        TradeDateMarketName | None,
        Field(
            description="Whose calendar: HK, US, CN (A shares), NT (northbound Stock Connect), "
            "ST (southbound); or give code"
        ),
    ] = None
    code: Annotated[Code | None, Field(description="The calendar of this security's market")] = None
    start: Annotated[Day, Field(description="From this date (default a year before end)")] = None
    end: Annotated[Day, Field(description="Up to this date, included (default today)")] = None


def days_window(args: TradingDaysArgs) -> tuple[str, str]:
    """(start, end) of a trading-days question, refused with `invalid argument` outside the
    span OpenD serves (its "this year" is the calendar's market's)."""
    if args.code:
        market = parse_code(args.code).market
    elif args.market:
        market = _CALENDAR_MARKET[args.market]
    else:
        raise invalid_argument("market", "give a market or a code")
    today = datetime.now(MARKET_TZ[market]).date()
    start, end = window(args.start, args.end, TRADING_DAYS, today)
    first, last = c2s.trade_date_span(today)
    span = (
        f"OpenD serves trading days from {first} to {last} only (1 January "
        f"{c2s.TRADE_DATE_YEARS_BACK} years back to 31 December this year)"
    )
    if start < first.isoformat():
        raise invalid_argument("start", f"{start} is too early: {span}")
    if end > last.isoformat():
        raise invalid_argument("end", f"{end} is too late: {span}")
    return start, end


async def _trading_days(call: Call, args: TradingDaysArgs) -> dict[str, Any]:
    start, end = days_window(args)
    market = TradeDateMarket[args.market] if args.market else None
    code = parse_code(args.code) if args.code else None
    days = await call.client.request_trading_days(market, start, end, code)
    days.sort(key=lambda d: d.time or "")
    asked = {"market": args.market, "code": args.code}
    echo = {k: v for k, v in asked.items() if v is not None}
    return capped("trading_days", days, len(days) or 1, **echo, start=start, end=end)


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="futu_get_market_state",
        title="Market state now",
        description=(
            "The session each security's market is in now: MORNING, AFTERNOON (trading), REST "
            "(lunch break), CLOSED, PRE_MARKET_BEGIN, AFTER_HOURS_BEGIN, WAITING_OPEN, "
            "AUCTION... Answers 'is the US market open?'. Returns {states: [{code, stock_name, "
            "market_state}]}."
        ),
        args=MarketStateArgs,
        output_schema=list_schema("states", "one row per code"),
        handler=_market_state,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_trading_days",
        title="Trading days",
        description=(
            "The trading days of a market's calendar between start and end (YYYY-MM-DD, "
            f"default the {TRADING_DAYS} days up to today; OpenD serves from 1 January "
            f"{c2s.TRADE_DATE_YEARS_BACK} years back to 31 December this year); weekends and "
            "exchange holidays are left out, half days say MORNING or AFTERNOON. Answers 'is "
            "Monday a trading day in Hong Kong?'. Returns {trading_days: [{time, "
            "trade_date_type}], start, end}."
        ),
        args=TradingDaysArgs,
        output_schema=list_schema(
            "trading_days",
            "trading days, oldest first; trade_date_type WHOLE, MORNING or AFTERNOON",
            {
                "market": {"type": "string"},
                "code": {"type": "string"},
                "start": {"type": "string"},
                "end": {"type": "string"},
            },
        ),
        handler=_trading_days,
        scope=SCOPE,
    ),
)
