"""The `derivatives` toolset (`qot:read`): option expiries and chains, HK warrants and CBBCs,
futures terms, and what refers to what (an underlying's warrants, a future's months). Read-only;
quotes of a contract itself come from the quote tools, which take these codes as they are."""

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from futu_mcp.appstate import Call
from futu_mcp.args import Code, Codes, ToolArgs, split_list
from futu_mcp.errors import invalid_argument
from futu_mcp.results import PAGE_FIELDS, capped, list_schema, page_result
from futu_mcp.tools.history import Day
from futu_mcp.toolspec import ToolSpec
from opend import c2s
from opend.codes import QotMarket, parse_code
from opend.enums import Issuer, WrtType
from opend.market_rules import MARKET_TZ

SCOPE = "qot:read"
OptionTypeName = Literal["ALL", "CALL", "PUT"]
OptionCondName = Literal["ALL", "WITHIN", "OUTSIDE"]
_OPTION_TYPE = {"ALL": 0, "CALL": 1, "PUT": 2}
_OPTION_COND = {"ALL": 0, "WITHIN": 1, "OUTSIDE": 2}
# Qot_Common.SortField, SDK spelling, in its order (number = position + 1).
_SORT_FIELDS = (
    "CODE",
    "CUR_PRICE",
    "PRICE_CHANGE_VAL",
    "CHANGE_RATE",
    "STATUS",
    "BID_PRICE",
    "ASK_PRICE",
    "BID_VOL",
    "ASK_VOL",
    "VOLUME",
    "TURNOVER",
    "SCORE",
    "PREMIUM",
    "EFFECTIVE_LEVERAGE",
    "DELTA",
    "IMPLIED_VOLATILITY",
    "TYPE",
    "STRIKE_PRICE",
    "BREAK_EVEN_POINT",
    "MATURITY_TIME",
    "LIST_TIME",
    "LAST_TRADE_TIME",
    "LEVERAGE",
    "IN_OUT_MONEY",
    "RECOVERY_PRICE",
    "CHANGE_PRICE",
    "CHANGE",
    "STREET_RATE",
    "STREET_VOL",
    "AMPLITUDE",
    "WARRANT_NAME",
    "ISSUER",
    "LOT_SIZE",
    "ISSUE_SIZE",
)
SortFieldName = Literal[_SORT_FIELDS]  # type: ignore[valid-type]
WrtTypeName = Literal["CALL", "PUT", "BULL", "BEAR", "INLINE"]
IssuerName = Literal[tuple(i.name for i in Issuer if i is not Issuer.UNKNOWN)]  # type: ignore[valid-type]
# Qot_GetOptionChain.DataFilter ranges: argument prefix → the .proto name's prefix.
_GREEK_FILTERS = {
    "implied_volatility": "impliedVolatility",
    "delta": "delta",
    "gamma": "gamma",
    "vega": "vega",
    "theta": "theta",
    "rho": "rho",
    "open_interest": "openInterest",
    "vol": "vol",
}
MAX_CHAIN_ROWS = 400
MAX_REFERENCE_ROWS = 500
Bound = Annotated[float | None, Field(description="Range bound, inclusive")]


class ExpirationArgs(ToolArgs):
    """Arguments of futu_get_option_expirations (the published schema comes from here)."""

    code: Annotated[Code, Field(description="The underlying, e.g. US.AAPL, HK.00700")]


async def _expirations(call: Call, args: ExpirationArgs) -> dict[str, Any]:
    rows = await call.client.get_option_expiration_date(parse_code(args.code))
    return capped("expirations", rows, len(rows) or 1, keep_first=True, code=args.code)


class ChainArgs(ToolArgs):
    """Arguments of futu_get_option_chain (the published schema comes from here)."""

    code: Annotated[Code, Field(description="The underlying, e.g. US.AAPL, HK.00700")]
    start: Annotated[Day, Field(description="Expiries from this date (default today)")] = None
    end: Annotated[
        Day, Field(description="Expiries up to this date, at most 30 days after start")
    ] = None
    option_type: Annotated[OptionTypeName, Field(description="CALL, PUT or ALL")] = "ALL"
    option_cond_type: Annotated[
        OptionCondName,
        Field(description="WITHIN (in the money), OUTSIDE (out of the money) or ALL"),
    ] = "ALL"
    strike_min: Annotated[float | None, Field(description="Lowest strike price kept")] = None
    strike_max: Annotated[float | None, Field(description="Highest strike price kept")] = None
    implied_volatility_min: Bound = None
    implied_volatility_max: Bound = None
    delta_min: Bound = None
    delta_max: Bound = None
    gamma_min: Bound = None
    gamma_max: Bound = None
    vega_min: Bound = None
    vega_max: Bound = None
    theta_min: Bound = None
    theta_max: Bound = None
    rho_min: Bound = None
    rho_max: Bound = None
    open_interest_min: Bound = None
    open_interest_max: Bound = None
    vol_min: Bound = None
    vol_max: Bound = None


def chain_window(start: str | None, end: str | None, market: QotMarket) -> tuple[date, date]:
    """The expiry window: start (today where the underlying trades, so a series expiring today
    is in) to end (start + 30 days, OpenD's widest)."""
    begin = date.fromisoformat(start) if start else datetime.now(MARKET_TZ[market]).date()
    last = date.fromisoformat(end) if end else begin + timedelta(days=c2s.MAX_OPTION_CHAIN_DAYS)
    if last < begin:
        raise invalid_argument("start", f"{begin} is after end {last}")
    if (last - begin).days > c2s.MAX_OPTION_CHAIN_DAYS:
        raise invalid_argument(
            "end", f"at most {c2s.MAX_OPTION_CHAIN_DAYS} days after start (OpenD's limit)"
        )
    return begin, last


async def _chain(call: Call, args: ChainArgs) -> dict[str, Any]:
    owner = parse_code(args.code)
    begin, end = chain_window(args.start, args.end, owner.market)
    ranges: dict[str, float] = {}
    for name, proto in _GREEK_FILTERS.items():
        for side in ("min", "max"):
            bound = getattr(args, f"{name}_{side}")
            if bound is not None:
                ranges[f"{proto}{side.capitalize()}"] = bound
    rows = await call.client.get_option_chain(
        owner,
        begin,
        end,
        _OPTION_TYPE[args.option_type],
        _OPTION_COND[args.option_cond_type],
        ranges or None,
    )
    low = args.strike_min if args.strike_min is not None else float("-inf")
    high = args.strike_max if args.strike_max is not None else float("inf")
    kept = [r for r in rows if r.strike_price is None or low <= r.strike_price <= high]
    kept.sort(key=lambda r: (r.strike_time or "", r.strike_price or 0.0, r.option_type or ""))
    return capped(
        "options",
        kept,
        MAX_CHAIN_ROWS,
        keep_first=True,
        start=begin.isoformat(),
        end=end.isoformat(),
    )


class WarrantArgs(ToolArgs):
    """Arguments of futu_get_warrant (the published schema comes from here)."""

    stock_owner: Annotated[
        Code | None, Field(description="The underlying, e.g. HK.00700 (default: all HK)")
    ] = None
    type_list: Annotated[
        tuple[WrtTypeName, ...],
        BeforeValidator(split_list),
        Field(description="Only these kinds: CALL, PUT (warrants), BULL, BEAR (CBBCs), INLINE"),
    ] = ()
    issuer_list: Annotated[
        tuple[IssuerName, ...],
        BeforeValidator(split_list),
        Field(description="Only these issuers (SDK codes: SG, GS, HS, JP, BI, UB, ...)"),
    ] = ()
    sort_field: Annotated[SortFieldName, Field(description="Sort by this field")] = "CODE"
    ascend: Annotated[bool, Field(description="Ascending (default) or descending")] = True
    begin: Annotated[int, Field(ge=0, description="First row of the page, from 0")] = 0
    num: Annotated[
        int, Field(ge=1, le=c2s.MAX_WARRANT_PAGE, description="Rows per page (at most 200)")
    ] = 50


async def _warrant(call: Call, args: WarrantArgs) -> dict[str, Any]:
    page = await call.client.get_warrant(
        parse_code(args.stock_owner) if args.stock_owner else None,
        args.begin,
        args.num,
        _SORT_FIELDS.index(args.sort_field) + 1,
        args.ascend,
        [int(WrtType[t]) for t in args.type_list],
        [int(Issuer[i]) for i in args.issuer_list],
    )
    return page_result("warrants", page.rows, args.num, page)


class FutureInfoArgs(ToolArgs):
    """Arguments of futu_get_future_info (the published schema comes from here)."""

    code_list: Annotated[
        Codes, Field(description="Futures, e.g. HK.HSImain, HK.MHImain, US.ESmain")
    ]


async def _future_info(call: Call, args: FutureInfoArgs) -> dict[str, Any]:
    rows = await call.client.get_future_info([parse_code(c) for c in args.code_list])
    return capped("futures", rows, len(args.code_list))


ReferenceTypeName = Literal["WARRANT", "FUTURE"]


class ReferenceArgs(ToolArgs):
    """Arguments of futu_get_reference (the published schema comes from here)."""

    code: Annotated[
        Code, Field(description="An HK stock (its warrants) or a future's main contract")
    ]
    reference_type: Annotated[
        ReferenceTypeName,
        Field(description="WARRANT: the stock's warrants and CBBCs; FUTURE: the contract months"),
    ]


async def _reference(call: Call, args: ReferenceArgs) -> dict[str, Any]:
    kind = 1 if args.reference_type == "WARRANT" else 2
    rows = await call.client.get_referencestock_list(parse_code(args.code), kind)
    return capped("securities", rows, MAX_REFERENCE_ROWS, keep_first=True, code=args.code)


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="futu_get_option_expirations",
        title="Option expiry dates",
        description=(
            "The listed expiry dates of an underlying's options, nearest first, with days left "
            "and the cycle (WEEK, MONTH, QUARTER...). Start here to find 'AAPL's nearest monthly "
            "expiry', then call futu_get_option_chain with start=end=that date. Returns "
            "{expirations: [{strike_time, option_expiry_date_distance, expiration_cycle}], code}."
        ),
        args=ExpirationArgs,
        output_schema=list_schema(
            "expirations", "expiry dates, nearest first", {"code": {"type": "string"}}
        ),
        handler=_expirations,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_option_chain",
        title="Option chain",
        description=(
            "The option series of an underlying expiring between start and end (at most 30 "
            "days apart; default the next 30 days): code (e.g. US.AAPL260116C200000), "
            "option_type CALL/PUT, strike_time, strike_price, lot_size. Narrow by option_type, "
            "option_cond_type (WITHIN/OUTSIDE the money), strike_min/max and greeks ranges "
            "(delta_min, implied_volatility_max in percent, open_interest_min, ...). Prices and "
            "greeks of a series come from futu_get_snapshot with its code. Returns {options: "
            "[...], start, end}, sorted by expiry then strike."
        ),
        args=ChainArgs,
        output_schema=list_schema(
            "options",
            "option series: code, name, option_type, strike_time, strike_price, lot_size",
            {"start": {"type": "string"}, "end": {"type": "string"}},
        ),
        handler=_chain,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_warrant",
        title="HK warrants and CBBCs",
        description=(
            "A page of Hong Kong warrants (CALL/PUT) and CBBCs (BULL/BEAR) of an underlying, "
            "or of all HK, filtered by type_list and issuer_list and sorted by sort_field "
            "(e.g. VOLUME, EFFECTIVE_LEVERAGE, PREMIUM). Each row: stock (the warrant's code), "
            "issuer, type, strike_price, recovery_price (CBBC call level), conversion_ratio, "
            "maturity_time, cur_price, premium, leverage, effective_leverage, "
            "implied_volatility, delta, street_rate. Page with begin/num; all_count is the "
            "number matching. Returns {warrants: [...], all_count, last_page}."
        ),
        args=WarrantArgs,
        output_schema=list_schema(
            "warrants",
            "warrants and CBBCs in the asked order",
            PAGE_FIELDS,
        ),
        handler=_warrant,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_future_info",
        title="Futures contract terms",
        description=(
            "Contract terms of futures (HK.HSImain, HK.MHImain, US.ESmain, or a month such as "
            "HK.HSI2612): size and its unit (the contract multiplier: index points × size = "
            "value), price currency, min_change (tick), trading sessions (trade_time, minutes "
            "of the local day), last_trade_time, owner (the index). Returns {futures: [...]}."
        ),
        args=FutureInfoArgs,
        output_schema=list_schema("futures", "one row per future"),
        handler=_future_info,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_reference",
        title="Related securities",
        description=(
            "What refers to a security: reference_type WARRANT lists an HK stock's warrants and "
            "CBBCs (codes and static data; details from futu_get_warrant), FUTURE lists a "
            "futures main contract's months (e.g. HK.HSImain → HK.HSI2612, HK.HSI2701). Returns "
            "{securities: [{code, name, lot_size, stock_type, ...}], code}."
        ),
        args=ReferenceArgs,
        output_schema=list_schema(
            "securities", "related securities' static data", {"code": {"type": "string"}}
        ),
        handler=_reference,
        scope=SCOPE,
    ),
)
