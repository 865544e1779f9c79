"""Account tools (`acc:read`): accounts, funds, positions, orders, deals. Read-only."""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from futu_mcp.appstate import Call, trd_header
from futu_mcp.args import (
    AccIdArg,
    Code,
    CurrencyName,
    OrderIdArg,
    OrderStatusNames,
    ToolArgs,
    TrdEnvArg,
    num_field,
)
from futu_mcp.results import capped, list_schema, object_schema, plain
from futu_mcp.toolspec import ToolSpec
from opend.enums import Currency, OrderStatus

if TYPE_CHECKING:
    from opend.models import TrdAcc, TrdAccount

SCOPE = "acc:read"
MAX_ROWS = 500
MAX_ORDERS = 200


class ListAccountsArgs(ToolArgs):
    """Arguments of futu_list_accounts (the published schema comes from here)."""

    trd_env: Annotated[
        TrdEnvArg | None, Field(description="Only SIMULATE or only REAL accounts")
    ] = None


async def _list_accounts(call: Call, args: ListAccountsArgs) -> dict[str, Any]:
    allowed = call.key.limits.allowed_acc_ids
    rows = [
        a
        for a in await call.accounts()
        if (args.trd_env is None or a.trd_env == args.trd_env)
        and (allowed is None or a.acc_id in allowed)
    ]
    return capped("accounts", rows, len(rows) or 1)


class FundsArgs(ToolArgs):
    """Arguments of futu_get_funds (the published schema comes from here)."""

    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None
    currency: Annotated[CurrencyName | None, Field(description="Report in this currency")] = None


async def _get_funds(call: Call, args: FundsArgs) -> dict[str, Any]:
    acc = await _account(call, args.trd_env, args.acc_id)
    currency = Currency[args.currency] if args.currency else None
    funds = await call.client.accinfo_query(trd_header(acc), currency)
    return {"acc_id": acc.acc_id, "trd_env": args.trd_env, "funds": plain(funds)}


class PositionsArgs(ToolArgs):
    """Arguments of futu_get_positions (the published schema comes from here)."""

    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None
    code: Annotated[Code | None, Field(description="Only this security")] = None
    num: Annotated[int, num_field(100, MAX_ROWS, "positions")] = 100


async def _get_positions(call: Call, args: PositionsArgs) -> dict[str, Any]:
    codes = [args.code] if args.code else []
    acc, rows = await _account_rows(
        call,
        args.trd_env,
        args.acc_id,
        "position_id",
        lambda header: call.client.position_list_query(header, codes),
    )
    return capped("positions", rows, args.num, acc_id=acc.acc_id, trd_env=args.trd_env)


class OrdersArgs(ToolArgs):
    """Arguments of futu_get_orders (the published schema comes from here)."""

    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None
    order_id: Annotated[OrderIdArg | None, Field(description="Only this order")] = None
    code: Annotated[Code | None, Field(description="Only orders for this security")] = None
    status: Annotated[OrderStatusNames | None, Field(description="Only orders in these states")] = (
        None
    )
    num: Annotated[int, num_field(50, MAX_ORDERS, "orders, the most recent")] = 50


async def _get_orders(call: Call, args: OrdersArgs) -> dict[str, Any]:
    ids = [args.order_id] if args.order_id else []
    states = [OrderStatus[s] for s in args.status or []]
    acc, rows = await _account_rows(
        call,
        args.trd_env,
        args.acc_id,
        "order_id",
        lambda header: call.client.order_list_query(header, ids, states),
    )
    if args.code:
        rows = [r for r in rows if r.code == args.code]
    rows.sort(key=lambda r: r.create_time or "")
    return capped("orders", rows, args.num, acc_id=acc.acc_id, trd_env=args.trd_env)


class DealsArgs(ToolArgs):
    """Arguments of futu_get_deals (the published schema comes from here)."""

    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None
    code: Annotated[Code | None, Field(description="Only deals in this security")] = None
    num: Annotated[int, num_field(50, MAX_ORDERS, "deals, the most recent")] = 50


async def _get_deals(call: Call, args: DealsArgs) -> dict[str, Any]:
    codes = [args.code] if args.code else []
    acc, rows = await _account_rows(
        call,
        args.trd_env,
        args.acc_id,
        "deal_id",
        lambda header: call.client.deal_list_query(header, codes),
    )
    rows.sort(key=lambda r: r.create_time or "")
    return capped("deals", rows, args.num, acc_id=acc.acc_id, trd_env=args.trd_env)


async def _account(call: Call, trd_env: str, acc_id: int | None) -> "TrdAcc":
    """The account a call names (default: the first one the key may use), refused when the
    key's `allowed_acc_ids` leaves it out."""
    acc = await call.account_for(trd_env, acc_id, None)
    call.check_account(int(acc.acc_id or 0), SCOPE)
    return acc


async def _account_rows(
    call: Call,
    trd_env: str,
    acc_id: int | None,
    unique_by: str,
    query: Callable[["TrdAccount"], Awaitable[list[Any]]],
) -> tuple["TrdAcc", list[Any]]:
    """The checked account and `query`'s rows for every market it trades, each row once."""
    acc = await _account(call, trd_env, acc_id)
    rows: list[Any] = []
    for market in acc.trdmarket_authority or [None]:
        rows += await query(trd_header(acc, market))
    return acc, _unique(rows, unique_by)


def _unique(rows: list[Any], key: str) -> list[Any]:
    # An account trading several markets answers the same order under each market header.
    seen: set[Any] = set()
    out = []
    for row in rows:
        ident = getattr(row, key)
        if ident is None or ident not in seen:
            seen.add(ident)
            out.append(row)
    return out


_ACC = {"acc_id": {"type": "integer"}, "trd_env": {"type": "string"}}
TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="futu_list_accounts",
        title="Trading accounts",
        description=(
            "The trading accounts this key may use, REAL and SIMULATE, with the markets each can "
            "trade. Use the acc_id in other account and trade tools. Returns {accounts: [{acc_id, "
            "trd_env, trdmarket_authority, acc_type, security_firm, acc_status}]}."
        ),
        args=ListAccountsArgs,
        output_schema=list_schema("accounts", "trading accounts"),
        handler=_list_accounts,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_funds",
        title="Account funds",
        description=(
            "Cash, buying power, total assets, market value and P/L of one account (trd_env "
            "default SIMULATE; acc_id default the first account). Returns {acc_id, trd_env, "
            "funds: {power, cash, total_assets, market_val, currency, ...}}."
        ),
        args=FundsArgs,
        output_schema=object_schema(
            {**_ACC, "funds": {"type": "object"}}, ["acc_id", "trd_env", "funds"]
        ),
        handler=_get_funds,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_positions",
        title="Positions",
        description=(
            "Holdings of one account (default 100, at most 500), optionally for one code. Returns "
            "{positions: [{code, stock_name, qty, can_sell_qty, cost_price, nominal_price, "
            "market_val, pl_val, pl_ratio, currency}], truncated, total}."
        ),
        args=PositionsArgs,
        output_schema=list_schema("positions", "holdings", _ACC),
        handler=_get_positions,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_orders",
        title="Orders",
        description=(
            "Today's orders of one account, newest last (default 50, at most 200), filtered by "
            "order_id, code or status. Check here after an order whose outcome was unknown. "
            "Returns {orders: [{order_id, code, trd_side, order_type, order_status, qty, price, "
            "dealt_qty, dealt_avg_price, create_time, remark}], truncated, total}."
        ),
        args=OrdersArgs,
        output_schema=list_schema("orders", "orders, oldest first", _ACC),
        handler=_get_orders,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_deals",
        title="Deals (fills)",
        description=(
            "Today's fills of one account, newest last (default 50, at most 200), optionally for "
            "one code. Returns {deals: [{deal_id, order_id, code, trd_side, qty, price, "
            "create_time}], truncated, total}."
        ),
        args=DealsArgs,
        output_schema=list_schema("deals", "fills, oldest first", _ACC),
        handler=_get_deals,
        scope=SCOPE,
    ),
)
