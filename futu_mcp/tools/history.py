"""The `history` toolset (`acc:read`): past orders and fills, buying power, order fees, margin
terms and cash flow. Read-only. Accounts are chosen as by the account tools (acc_id; else the
account trading the code's market; else every account of trd_env the key may use), each row
carrying its acc_id.

OpenD serves fills, fees, margin ratios and cash flow for real accounts only; for a paper account
its refusal is passed on as `gateway error: ...` (these tools say so in their descriptions).
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field

from futu_mcp.appstate import Call, trd_header
from futu_mcp.args import (
    AccIdArg,
    Code,
    Codes,
    Date,
    OrderIdArg,
    OrderStatusNames,
    OrderTypeName,
    Price,
    ToolArgs,
    TrdEnvArg,
    num_field,
    split_list,
)
from futu_mcp.errors import invalid_argument
from futu_mcp.presentation import instant
from futu_mcp.results import ID_SCHEMA, capped, list_schema, object_schema, plain
from futu_mcp.tools.account import (
    ACCOUNTS_RULE,
    COVERED,
    SCOPE,
    account_rows,
    accounts_for,
    covered,
)
from futu_mcp.toolspec import ToolSpec
from opend.codes import TRD_MARKET_OF, parse_code
from opend.enums import CashFlowDirection, OrderStatus, OrderType
from opend.errors import OpenDError

CashFlowDirectionName = Literal["NONE", "IN", "OUT"]  # opend.enums.CashFlowDirection
HISTORY_DAYS = 30
MAX_HISTORY = 500
MAX_FEE_ORDERS = 50
# "Today" ends where it ends last: a window ending today in UTC+14 leaves out no market's today
# (HK and Tokyo are ahead of UTC, so a UTC date would cut their evening's orders).
LATEST_ZONE = ZoneInfo("Pacific/Kiritimati")

START = f"From this date, YYYY-MM-DD (default {HISTORY_DAYS} days before end)"
Day = Annotated[Date | None, Field(description="A date, YYYY-MM-DD")]


def today() -> date:
    """Today's date where it is latest: the end of every default window."""
    return datetime.now(LATEST_ZONE).date()


def window(
    start: str | None, end: str | None, days: int, until: date | None = None
) -> tuple[str, str]:
    """(start, end) dates of a history question: `end` today (`until`, else where it is
    latest), `start` `days` before `end`."""
    last = date.fromisoformat(end) if end else until or today()
    first = date.fromisoformat(start) if start else last - timedelta(days=days)
    if first > last:
        raise invalid_argument("start", f"{first} is after end {last}")
    return first.isoformat(), last.isoformat()


def _market_of(code: str) -> str:
    """The trading market of `code`."""
    return TRD_MARKET_OF[parse_code(code).market].name


class HistoryOrdersArgs(ToolArgs):
    """Arguments of futu_get_history_orders (the published schema comes from here)."""

    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None
    code: Annotated[Code | None, Field(description="Only orders for this security")] = None
    status_filter_list: Annotated[
        OrderStatusNames | None, Field(description="Only orders in these states")
    ] = None
    start: Annotated[Day, Field(description=START)] = None
    end: Annotated[
        Day, Field(description="Up to this date, included, YYYY-MM-DD (default today)")
    ] = None
    num: Annotated[int, num_field(100, MAX_HISTORY, "orders, the most recent")] = 100


async def _history_orders(call: Call, args: HistoryOrdersArgs) -> dict[str, Any]:
    start, end = window(args.start, args.end, HISTORY_DAYS)
    states = [OrderStatus[s] for s in args.status_filter_list or []]
    codes = [parse_code(args.code)] if args.code else []
    accounts, rows = await account_rows(
        call,
        args,
        "order_id",
        lambda header: call.client.history_order_list_query(header, start, end, states, codes),
    )
    rows.sort(key=lambda r: instant(r["create_time"], r["code"]))
    note = covered(args.trd_env, accounts)
    return capped("orders", rows, args.num, **note, start=start, end=end)


class HistoryDealsArgs(ToolArgs):
    """Arguments of futu_get_history_deals (the published schema comes from here)."""

    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None
    code: Annotated[Code | None, Field(description="Only fills in this security")] = None
    start: Annotated[Day, Field(description=START)] = None
    end: Annotated[
        Day, Field(description="Up to this date, included, YYYY-MM-DD (default today)")
    ] = None
    num: Annotated[int, num_field(100, MAX_HISTORY, "fills, the most recent")] = 100


async def _history_deals(call: Call, args: HistoryDealsArgs) -> dict[str, Any]:
    start, end = window(args.start, args.end, HISTORY_DAYS)
    codes = [parse_code(args.code)] if args.code else []
    accounts, rows = await account_rows(
        call,
        args,
        "deal_id",
        lambda header: call.client.history_deal_list_query(header, start, end, codes),
    )
    rows.sort(key=lambda r: instant(r["create_time"], r["code"]))
    note = covered(args.trd_env, accounts)
    return capped("deals", rows, args.num, **note, start=start, end=end)


class MaxTrdQtysArgs(ToolArgs):
    """Arguments of futu_get_max_trd_qtys (the published schema comes from here)."""

    code: Code
    price: Annotated[
        Price, Field(description="Limit price of the order in mind (MARKET: leave out)")
    ] = None
    order_type: Annotated[
        OrderTypeName, Field(description="NORMAL (limit, needs price) or MARKET")
    ] = "NORMAL"
    order_id: Annotated[
        OrderIdArg | None, Field(description="For modifying this open order: what it could become")
    ] = None
    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None


async def _max_trd_qtys(call: Call, args: MaxTrdQtysArgs) -> dict[str, Any]:
    if args.order_type == "NORMAL" and args.price is None:
        raise invalid_argument("price", "required for a NORMAL (limit) order")
    if args.order_type == "MARKET" and args.price is not None:
        raise invalid_argument("price", "must be omitted for a MARKET order")
    [acc] = await accounts_for(call, args.trd_env, args.acc_id, args.code)
    security = parse_code(args.code)
    header = trd_header(acc, TRD_MARKET_OF[security.market].name)
    qtys = await call.client.acctradinginfo_query(
        header, OrderType[args.order_type], security, args.price or 0.0, args.order_id
    )
    return {
        "acc_id": acc.acc_id,
        "trd_env": args.trd_env,
        "code": args.code,
        "order_type": args.order_type,
        **({"price": args.price} if args.price is not None else {}),
        **{k: v for k, v in plain(qtys).items() if v is not None},  # none: OpenD left it out
    }


class OrderFeeArgs(ToolArgs):
    """Arguments of futu_get_order_fee (the published schema comes from here)."""

    order_id_list: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")]],
        BeforeValidator(split_list),
        Field(
            min_length=1,
            max_length=MAX_FEE_ORDERS,
            description=(
                f"1 to {MAX_FEE_ORDERS} orders by their order_id_ex (from futu_get_orders or "
                "futu_get_history_orders); a list or a comma-separated string"
            ),
        ),
    ]
    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None


async def _order_fee(call: Call, args: OrderFeeArgs) -> dict[str, Any]:
    accounts = await accounts_for(call, args.trd_env, args.acc_id, None)
    rows: list[dict[str, Any]] = []
    refusal: OpenDError | None = None
    for acc in accounts:
        try:
            fees = await call.client.order_fee_query(trd_header(acc), args.order_id_list)
        except OpenDError as exc:
            # Without acc_id every account is asked; one not holding the orders refuses. A
            # link, rate or reply problem is no refusal: it ends the call.
            if type(exc) is not OpenDError or len(accounts) == 1:
                raise
            refusal = exc
            continue
        rows += _with_acc(acc, fees)
    if not rows and refusal is not None:
        raise refusal
    return capped("fees", rows, MAX_FEE_ORDERS, **covered(args.trd_env, accounts))


def _with_acc(acc: Any, rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Each row as a dict carrying its account's acc_id first."""
    return [{"acc_id": acc.acc_id, **plain(r)} for r in rows]


class MarginRatioArgs(ToolArgs):
    """Arguments of futu_get_margin_ratio (the published schema comes from here)."""

    codes: Codes
    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None


async def _margin_ratio(call: Call, args: MarginRatioArgs) -> dict[str, Any]:
    by_market: dict[str, list[str]] = {}
    for code in args.codes:
        by_market.setdefault(_market_of(code), []).append(code)
    rows: list[dict[str, Any]] = []
    accounts = []
    for market, codes in by_market.items():
        # Each market's codes in the account trading it (or the acc_id given).
        [acc] = await accounts_for(call, args.trd_env, args.acc_id, codes[0])
        header = trd_header(acc, market)
        rows += _with_acc(
            acc, await call.client.get_margin_ratio(header, [parse_code(c) for c in codes])
        )
        accounts.append(acc)
    return capped("margin_ratios", rows, len(rows) or 1, **covered(args.trd_env, accounts))


class CashFlowArgs(ToolArgs):
    """Arguments of futu_get_cash_flow (the published schema comes from here)."""

    clearing_date: Annotated[Date, Field(description="The clearing day, YYYY-MM-DD")]
    cashflow_direction: Annotated[
        CashFlowDirectionName,
        Field(description="IN: money in only, OUT: money out only, NONE: both"),
    ] = "NONE"
    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None
    num: Annotated[int, num_field(200, MAX_HISTORY, "cash movements")] = 200


async def _cash_flow(call: Call, args: CashFlowArgs) -> dict[str, Any]:
    accounts = await accounts_for(call, args.trd_env, args.acc_id, None)
    direction = CashFlowDirection[args.cashflow_direction]
    rows: list[dict[str, Any]] = []
    for acc in accounts:
        flows = await call.client.get_acc_cash_flow(trd_header(acc), args.clearing_date, direction)
        rows += _with_acc(acc, flows)
    note = covered(args.trd_env, accounts)
    return capped(
        "cash_flows", rows, args.num, keep_first=True, **note, clearing_date=args.clearing_date
    )


_REAL_ONLY = (
    " OpenD serves this for REAL accounts only (trd_env=REAL); for a SIMULATE account it "
    "answers with a gateway error saying so."
)
_WINDOW = {"start": {"type": "string"}, "end": {"type": "string"}}
TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="futu_get_history_orders",
        title="Past orders",
        description=(
            "Orders of one account created in a date range (start/end YYYY-MM-DD, default the "
            f"last {HISTORY_DAYS} days up to today), oldest first (default 100, at most "
            f"{MAX_HISTORY}, the most recent kept), by code and status_filter_list. Answers "
            "'what did I trade last month?'; today's orders are also in futu_get_orders. "
            + ACCOUNTS_RULE
            + "Returns {orders: [{acc_id, order_id, "
            "order_id_ex, code, stock_name, trd_side, order_type, order_status, qty, price, "
            "dealt_qty, dealt_avg_price, create_time, updated_time, currency}], start, end, "
            "truncated, total}."
        ),
        args=HistoryOrdersArgs,
        output_schema=list_schema(
            "orders", "orders, oldest first", {**COVERED, **_WINDOW}, ids=["acc_id", "order_id"]
        ),
        handler=_history_orders,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_history_deals",
        title="Past fills",
        description=(
            "Fills (executions) of one account in a date range (start/end YYYY-MM-DD, default "
            f"the last {HISTORY_DAYS} days), oldest first (default 100, at most {MAX_HISTORY}, "
            "the most recent kept), optionally for one code. "
            + ACCOUNTS_RULE
            + "Returns {deals: [{acc_id, deal_id, order_id, code, stock_name, trd_side, qty, "
            "price, create_time}], start, end, "
            "truncated, total}." + _REAL_ONLY
        ),
        args=HistoryDealsArgs,
        output_schema=list_schema(
            "deals",
            "fills, oldest first",
            {**COVERED, **_WINDOW},
            ids=["acc_id", "deal_id", "order_id"],
        ),
        handler=_history_deals,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_max_trd_qtys",
        title="Buying power for an order",
        description=(
            "How many shares of code one order could trade at a price: max_cash_buy (with cash "
            "only), max_cash_and_margin_buy (using margin too; equal on a cash account), "
            "max_position_sell (held and sellable), max_sell_short, max_buy_back. Answers 'how "
            "many can I buy with my cash?' before futu_place_order (an order above these is "
            "refused). NORMAL needs price; MARKET takes none. With order_id: what that open "
            "order could be modified to. Returns {code, max_cash_buy, max_cash_and_margin_buy, "
            "max_position_sell, max_sell_short, max_buy_back, acc_id, trd_env}."
        ),
        args=MaxTrdQtysArgs,
        output_schema=object_schema(
            {
                "acc_id": ID_SCHEMA,
                "trd_env": {"type": "string"},
                "code": {"type": "string"},
                "order_type": {"type": "string"},
                "price": {"type": "number"},
                "max_cash_buy": {"type": "number"},
                "max_cash_and_margin_buy": {"type": "number"},
                "max_position_sell": {"type": "number"},
                "max_sell_short": {"type": "number"},
                "max_buy_back": {"type": "number"},
                "long_required_im": {"type": "number", "description": "initial margin of a buy"},
                "short_required_im": {"type": "number"},
                "session": {"type": "string"},
            },
            ["acc_id", "trd_env", "code", "max_cash_buy", "max_position_sell"],
        ),
        handler=_max_trd_qtys,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_order_fee",
        title="Fees of orders",
        description=(
            "The fees charged on orders (commission, platform fee, stamp duty, levies, "
            "settlement...), by the order_id_ex shown by futu_get_orders or "
            "futu_get_history_orders. Answers 'what did this order cost in fees?'. Returns "
            "{fees: [{order_id, fee_amount, fee_details: [{title, value}]}]}." + _REAL_ONLY
        ),
        args=OrderFeeArgs,
        output_schema=list_schema(
            "fees", "one row per order: total and items", COVERED, ids=["acc_id"]
        ),
        handler=_order_fee,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_margin_ratio",
        title="Margin requirements",
        description=(
            "Margin terms of 1 to 50 HK or US stocks in one account: may it be bought on margin "
            "(is_long_permit) or sold short, and the initial (im_long_ratio), maintenance "
            "(mm_long_ratio), margin-call and alert ratios in percent. Returns {margin_ratios: "
            "[{code, is_long_permit, is_short_permit, im_long_ratio, mm_long_ratio, ...}]}."
            + _REAL_ONLY
        ),
        args=MarginRatioArgs,
        output_schema=list_schema("margin_ratios", "one row per code", COVERED, ids=["acc_id"]),
        handler=_margin_ratio,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_cash_flow",
        title="Cash flow of a day",
        description=(
            "Every movement of cash in one account on a clearing day (YYYY-MM-DD): deposits, "
            "each fill's amount and each of its fees, with its settlement date; "
            "cashflow_direction IN or OUT keeps one side. Without acc_id: every account of "
            "trd_env this key may use. Returns {cash_flows: [{acc_id, cashflow_type, "
            "cashflow_direction, cashflow_amount, currency, cashflow_remark, clearing_date, "
            "settlement_date}], truncated, total}." + _REAL_ONLY
        ),
        args=CashFlowArgs,
        output_schema=list_schema(
            "cash_flows",
            "cash movements",
            {**COVERED, "clearing_date": {"type": "string"}},
            ids=["acc_id", "cashflow_id"],
        ),
        handler=_cash_flow,
        scope=SCOPE,
    ),
)
