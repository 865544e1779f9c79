"""The `research` toolset (`qot:read`): money flow, which plates a stock is in, coming IPOs, a
stock screen, and corporate actions. Read-only."""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from futu_mcp.appstate import Call
from futu_mcp.args import Code, Codes, MarketName, ToolArgs, split_list
from futu_mcp.results import PAGE_FIELDS, capped, list_schema, object_schema, page_result, plain
from futu_mcp.tools.history import Day, window
from futu_mcp.toolspec import ToolSpec
from opend import c2s
from opend.codes import QotMarket, parse_code
from opend.enums import AccumulateField, FinancialField, FinancialQuarter, SortDir, StockField
from opend.researchmodels import FilteredStock

SCOPE = "qot:read"
CAPITAL_FLOW_DAYS = 365
MAX_FLOW_ROWS = 500
PeriodTypeName = Literal["INTRADAY", "DAY", "WEEK", "MONTH"]
_PERIOD = {"INTRADAY": 1, "DAY": 2, "WEEK": 3, "MONTH": 4}

# Qot_StockFilter's fields by SDK name: (kind, number), from the enums the simulator computes
# too. Base figures are today's; accumulate ones are over the last `days` trading days;
# financial ones are of a report (`quarter`).
FILTER_FIELDS: dict[str, tuple[str, int]] = {
    **{f.name: ("base", f.value) for f in StockField},
    **{f.name: ("accumulate", f.value) for f in AccumulateField},
    **{f.name: ("financial", f.value) for f in FinancialField},
}
_FIELD_NAMES = {value: name for name, value in FILTER_FIELDS.items()}
FilterFieldName = Literal[tuple(FILTER_FIELDS)]  # type: ignore[valid-type]
QuarterName = Literal[  # type: ignore[valid-type]
    tuple(q.name for q in FinancialQuarter if q is not FinancialQuarter.NONE)
]
MAX_CONDITIONS = 10


class CapitalFlowArgs(ToolArgs):
    """Arguments of futu_get_capital_flow (the published schema comes from here)."""

    stock_code: Annotated[Code, Field(description="The security, e.g. HK.00700, US.AAPL")]
    period_type: Annotated[
        PeriodTypeName,
        Field(description="INTRADAY (today by minute, default), or one row per DAY/WEEK/MONTH"),
    ] = "INTRADAY"
    start: Annotated[Day, Field(description="From this date (DAY/WEEK/MONTH only)")] = None
    end: Annotated[Day, Field(description="Up to this date (DAY/WEEK/MONTH only)")] = None


async def _capital_flow(call: Call, args: CapitalFlowArgs) -> dict[str, Any]:
    begin = end = None
    if args.period_type != "INTRADAY":
        first, last = window(args.start, args.end, CAPITAL_FLOW_DAYS)
        begin, end = date.fromisoformat(first), date.fromisoformat(last)
    rows = await call.client.get_capital_flow(
        parse_code(args.stock_code), _PERIOD[args.period_type], begin, end
    )
    return capped(
        "flows", rows, MAX_FLOW_ROWS, stock_code=args.stock_code, period_type=args.period_type
    )


class CapitalDistributionArgs(ToolArgs):
    """Arguments of futu_get_capital_distribution (the published schema comes from here)."""

    stock_code: Annotated[Code, Field(description="The security, e.g. HK.00700, US.AAPL")]


async def _capital_distribution(call: Call, args: CapitalDistributionArgs) -> dict[str, Any]:
    dist = await call.client.get_capital_distribution(parse_code(args.stock_code))
    return {"stock_code": args.stock_code, **plain(dist)}


class OwnerPlateArgs(ToolArgs):
    """Arguments of futu_get_owner_plate (the published schema comes from here)."""

    code_list: Codes


async def _owner_plate(call: Call, args: OwnerPlateArgs) -> dict[str, Any]:
    rows = await call.client.get_owner_plate([parse_code(c) for c in args.code_list])
    return capped("plates", rows, len(rows) or 1)


class IpoArgs(ToolArgs):
    """Arguments of futu_get_ipo_list (the published schema comes from here)."""

    market: Annotated[MarketName, Field(description="HK, US, or SH/SZ (A shares)")]


async def _ipo_list(call: Call, args: IpoArgs) -> dict[str, Any]:
    rows = await call.client.get_ipo_list(QotMarket[args.market])
    return capped("ipos", rows, len(rows) or 1, market=args.market)


class FilterCondition(ToolArgs):
    """One screen condition: a field, an inclusive range (none: only show the figure), a sort."""

    stock_field: Annotated[
        FilterFieldName,
        Field(
            description="The figure: CUR_PRICE, MARKET_VAL, PE_TTM, PB_RATE, VOLUME_RATIO, ... "
            "(today); CHANGE_RATE, AMPLITUDE, VOLUME, TURNOVER, TURNOVER_RATE (over days); "
            "NET_PROFIT, RETURN_ON_EQUITY_RATE, ... (of a report, see quarter)"
        ),
    ]
    filter_min: Annotated[float | None, Field(description="Lowest value kept, inclusive")] = None
    filter_max: Annotated[float | None, Field(description="Highest value kept, inclusive")] = None
    sort: Annotated[
        Literal["ASCEND", "DESCEND"] | None, Field(description="Order the rows by this figure")
    ] = None
    days: Annotated[
        int, Field(ge=1, le=250, description="Trading days of an accumulate figure")
    ] = 1
    quarter: Annotated[QuarterName, Field(description="Report of a financial figure")] = "ANNUAL"


class StockFilterArgs(ToolArgs):
    """Arguments of futu_get_stock_filter (the published schema comes from here)."""

    market: Annotated[MarketName, Field(description="Screen this market: HK, US, SH, SZ")]
    filter_list: Annotated[
        list[FilterCondition],
        BeforeValidator(split_list),
        Field(
            min_length=1,
            max_length=MAX_CONDITIONS,
            description="Conditions a row must all meet, e.g. [{stock_field: PE_TTM, "
            "filter_min: 5, filter_max: 20}, {stock_field: MARKET_VAL, sort: DESCEND}]",
        ),
    ]
    plate_code: Annotated[
        Code | None, Field(description="Only stocks of this plate, e.g. HK.BK1001")
    ] = None
    begin: Annotated[int, Field(ge=0, description="First row of the page, from 0")] = 0
    num: Annotated[
        int, Field(ge=1, le=c2s.MAX_FILTER_PAGE, description="Rows per page (at most 200)")
    ] = 50


def _condition(cond: FilterCondition) -> dict[str, Any]:
    kind, number = FILTER_FIELDS[cond.stock_field]
    out: dict[str, Any] = {"kind": kind, "field": number}
    if cond.filter_min is not None:
        out["min"] = cond.filter_min
    if cond.filter_max is not None:
        out["max"] = cond.filter_max
    if cond.sort:
        out["sort"] = SortDir[cond.sort].value
    if kind == "accumulate":
        out["days"] = cond.days
    if kind == "financial":
        out["quarter"] = FinancialQuarter[cond.quarter].value
    return out


def screen_row(row: FilteredStock) -> dict[str, Any]:
    """A screened stock as {code, name, <field>: value}, each figure under its lower-case SDK
    name (what the model asked for, not a field number)."""
    out: dict[str, Any] = {"code": row.code, "name": row.name}
    for v in row.values:
        out[_FIELD_NAMES[(v.kind, v.field)].lower()] = v.value
    return out


async def _stock_filter(call: Call, args: StockFilterArgs) -> dict[str, Any]:
    page = await call.client.get_stock_filter(
        QotMarket[args.market],
        [_condition(c) for c in args.filter_list],
        parse_code(args.plate_code) if args.plate_code else None,
        args.begin,
        args.num,
    )
    rows = [screen_row(r) for r in page.rows]
    return page_result("stocks", rows, args.num, page)


class RehabArgs(ToolArgs):
    """Arguments of futu_get_rehab (the published schema comes from here)."""

    code: Annotated[Code, Field(description="The security, e.g. HK.00700, US.AAPL")]


async def _rehab(call: Call, args: RehabArgs) -> dict[str, Any]:
    rows = await call.client.get_rehab(parse_code(args.code))
    return capped("rehabs", rows, len(rows) or 1, code=args.code)


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="futu_get_capital_flow",
        title="Capital flow",
        description=(
            "Net money flowing into a stock: INTRADAY (today, one row per minute, cumulative) or "
            "one row per DAY/WEEK/MONTH between start and end; in_flow is the net inflow, split "
            "by order size into super/big/mid/sml_in_flow (main_in_flow = super + big). Answers "
            "'is money flowing into Tencent today?'. Returns {flows: [{capital_flow_item_time, "
            "in_flow, main_in_flow, ...}]}."
        ),
        args=CapitalFlowArgs,
        output_schema=list_schema(
            "flows",
            "net inflow per minute or period, oldest first",
            {"stock_code": {"type": "string"}, "period_type": {"type": "string"}},
        ),
        handler=_capital_flow,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_capital_distribution",
        title="Capital distribution",
        description=(
            "Today's money into and out of a stock by order size: capital_in_super/big/mid/"
            "small and capital_out_super/big/mid/small (turnover, in the stock's currency), as "
            "of update_time. Answers 'are big players buying or selling?'."
        ),
        args=CapitalDistributionArgs,
        output_schema=object_schema(
            {
                "stock_code": {"type": "string"},
                **{
                    f"capital_{side}_{size}": {"type": "number"}
                    for side in ("in", "out")
                    for size in ("super", "big", "mid", "small")
                },
                "update_time": {"type": "string"},
            },
            ["stock_code"],
        ),
        handler=_capital_distribution,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_owner_plate",
        title="Plates a stock belongs to",
        description=(
            "The plates (industries, concepts, regions) each stock belongs to, one row per "
            "(stock, plate): code, name, plate_code, plate_name, plate_type. A plate's members "
            "come from futu_get_plate_stocks. Answers 'which sector is 00700 in?'."
        ),
        args=OwnerPlateArgs,
        output_schema=list_schema("plates", "one row per stock and plate"),
        handler=_owner_plate,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_ipo_list",
        title="IPO calendar",
        description=(
            "A market's coming and recent IPOs: code, name, list_time, and the market's own "
            "terms under ex (HK: price range, lot size, subscription dates, ...; US: price "
            "range, shares offered). Answers 'which IPOs list in Hong Kong this month?'."
        ),
        args=IpoArgs,
        output_schema=list_schema("ipos", "one row per IPO", {"market": {"type": "string"}}),
        handler=_ipo_list,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_stock_filter",
        title="Stock screen",
        description=(
            "Screen a market's stocks: every row meets every condition of filter_list (each a "
            "stock_field with an inclusive filter_min/filter_max; one with no bounds only adds "
            "its figure; sort orders the rows). Percentages are in percent (CHANGE_RATE 5 = 5%). "
            "Page with begin/num; all_count is how many match. Each row: code, name and each "
            "asked figure under its lower-case name (pe_ttm, market_val, ...). Returns "
            "{stocks: [...], all_count, last_page}."
        ),
        args=StockFilterArgs,
        output_schema=list_schema(
            "stocks",
            "matching stocks with the asked figures",
            PAGE_FIELDS,
        ),
        handler=_stock_filter,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_rehab",
        title="Dividends and splits",
        description=(
            "A security's corporate actions, oldest first: ex_div_date, per_cash_div (cash "
            "dividend per share), special_dividend, split_base/split_ert (a split of base into "
            "ert shares), and the forward/backward adjustment factors (price × A + B) that "
            "adjusted klines use. Answers 'when did AAPL last split?'. Returns {rehabs: [...]}."
        ),
        args=RehabArgs,
        output_schema=list_schema(
            "rehabs", "corporate actions, oldest first", {"code": {"type": "string"}}
        ),
        handler=_rehab,
        scope=SCOPE,
    ),
)
