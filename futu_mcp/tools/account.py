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
from futu_mcp.errors import invalid_argument
from futu_mcp.presentation import instant
from futu_mcp.results import ID_SCHEMA, capped, list_schema, plain
from futu_mcp.toolspec import ToolSpec
from opend.codes import TRD_MARKET_OF, parse_code
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
    accounts = await accounts_for(call, args.trd_env, args.acc_id, None)
    currency = Currency[args.currency] if args.currency else None
    rows = [
        {
            "acc_id": acc.acc_id,
            "trdmarket_authority": acc.trdmarket_authority,
            **plain(await call.client.accinfo_query(trd_header(acc), currency)),
        }
        for acc in accounts
    ]
    return capped("funds", rows, len(rows), **covered(args.trd_env, accounts))


class PositionsArgs(ToolArgs):
    """Arguments of futu_get_positions (the published schema comes from here)."""

    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None
    code: Annotated[Code | None, Field(description="Only this security")] = None
    num: Annotated[int, num_field(100, MAX_ROWS, "positions")] = 100


async def _get_positions(call: Call, args: PositionsArgs) -> dict[str, Any]:
    codes = [args.code] if args.code else []
    accounts, rows = await account_rows(
        call,
        args,
        "position_id",
        lambda header: call.client.position_list_query(header, codes),
    )
    return capped("positions", rows, args.num, **covered(args.trd_env, accounts))


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
    accounts, rows = await account_rows(
        call,
        args,
        "order_id",
        lambda header: call.client.order_list_query(header, ids, states),
    )
    if args.code:
        rows = [r for r in rows if r["code"] == args.code]
    rows.sort(key=lambda r: instant(r["create_time"], r["code"]))
    return capped("orders", rows, args.num, **covered(args.trd_env, accounts))


class DealsArgs(ToolArgs):
    """Arguments of futu_get_deals (the published schema comes from here)."""

    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None
    code: Annotated[Code | None, Field(description="Only deals in this security")] = None
    num: Annotated[int, num_field(50, MAX_ORDERS, "deals, the most recent")] = 50


async def _get_deals(call: Call, args: DealsArgs) -> dict[str, Any]:
    codes = [args.code] if args.code else []
    accounts, rows = await account_rows(
        call,
        args,
        "deal_id",
        lambda header: call.client.deal_list_query(header, codes),
    )
    rows.sort(key=lambda r: instant(r["create_time"], r["code"]))
    return capped("deals", rows, args.num, **covered(args.trd_env, accounts))


async def accounts_for(
    call: Call, trd_env: str, acc_id: int | None, code: str | None
) -> list["TrdAcc"]:
    """The accounts a call covers: the one it names; else the one trading its code's market;
    else every account of `trd_env` the key may use (never a silent subset). Each is checked
    against the key's `allowed_acc_ids`."""
    if acc_id is not None or code is not None:
        market = TRD_MARKET_OF[parse_code(code).market].name if code else None
        accounts = [await call.account_for(trd_env, acc_id, market)]
    else:
        allowed = call.key.limits.allowed_acc_ids
        accounts = [
            a
            for a in await call.accounts()
            if a.trd_env == trd_env and (allowed is None or a.acc_id in allowed)
        ]
        if not accounts:
            where = " that this key may use" if allowed is not None else ""
            raise invalid_argument(
                "acc_id", f"no {trd_env} account{where} (see futu_list_accounts)"
            )
    for acc in accounts:
        call.check_account(int(acc.acc_id or 0), SCOPE)
    return accounts


def covered(trd_env: str, accounts: list["TrdAcc"]) -> dict[str, Any]:
    """The result's note of what it covers: the environment and every account asked."""
    return {"trd_env": trd_env, "acc_ids": [str(a.acc_id) for a in accounts]}


async def account_rows(
    call: Call,
    args: Any,
    unique_by: str,
    query: Callable[["TrdAccount"], Awaitable[list[Any]]],
) -> tuple[list["TrdAcc"], list[dict[str, Any]]]:
    """The covered accounts (by `args`' trd_env, acc_id and code) and `query`'s rows for every
    market each trades, each row once and carrying its account's `acc_id`."""
    accounts = await accounts_for(call, args.trd_env, args.acc_id, args.code)
    rows: list[dict[str, Any]] = []
    for acc in accounts:
        found: list[Any] = []
        for market in acc.trdmarket_authority or [None]:
            found += await query(trd_header(acc, market))
        rows += ({"acc_id": acc.acc_id, **plain(r)} for r in _unique(found, unique_by))
    return accounts, rows


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


COVERED = {
    "trd_env": {"type": "string"},
    "acc_ids": {
        "type": "array",
        "items": ID_SCHEMA,
        "description": "every account this result covers (each row says its own acc_id)",
    },
}
ACCOUNTS_RULE = (
    "Without acc_id, a call naming a code reads the account that trades the code's market, and "
    "one without a code reads every account of trd_env (default SIMULATE) this key may use. "
)
TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="futu_list_accounts",
        title="Trading accounts",
        description=(
            "The trading accounts this key may use, REAL and SIMULATE, with the markets each can "
            "trade. Use the acc_id (a decimal string) in other account and trade tools. Returns "
            "{accounts: [{acc_id, trd_env, trdmarket_authority, acc_type, security_firm, "
            "acc_status}]}."
        ),
        args=ListAccountsArgs,
        output_schema=list_schema("accounts", "trading accounts", ids=["acc_id"]),
        handler=_list_accounts,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_funds",
        title="Account funds",
        description=(
            "Cash, buying power, total assets, market value and P/L, one block per account in "
            "that account's currency (or in currency). Without acc_id: every account of trd_env "
            "(default SIMULATE) this key may use. Returns {funds: [{acc_id, "
            "trdmarket_authority, currency, power, cash, total_assets, market_val, ...}], "
            "trd_env, acc_ids}."
        ),
        args=FundsArgs,
        output_schema=list_schema(
            "funds", "one block per account, in its currency", COVERED, ids=["acc_id"]
        ),
        handler=_get_funds,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_positions",
        title="Positions",
        description=(
            "Holdings (default 100, at most 500), optionally for one code. "
            + ACCOUNTS_RULE
            + "Returns {positions: [{acc_id, code, stock_name, qty, can_sell_qty, cost_price, "
            "nominal_price, market_val, pl_val, pl_ratio, currency}], trd_env, acc_ids, "
            "truncated, total}."
        ),
        args=PositionsArgs,
        output_schema=list_schema("positions", "holdings", COVERED, ids=["acc_id", "position_id"]),
        handler=_get_positions,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_orders",
        title="Orders",
        description=(
            "Today's orders, newest last (default 50, at most 200), filtered by order_id, code "
            "or status. "
            + ACCOUNTS_RULE
            + "Check here after an order whose outcome was unknown. Returns {orders: [{acc_id, "
            "order_id, code, trd_side, order_type, order_status, qty, price, dealt_qty, "
            "dealt_avg_price, create_time, remark}], trd_env, acc_ids, truncated, total}."
        ),
        args=OrdersArgs,
        output_schema=list_schema(
            "orders", "orders, oldest first", COVERED, ids=["acc_id", "order_id"]
        ),
        handler=_get_orders,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_deals",
        title="Deals (fills)",
        description=(
            "Today's fills, newest last (default 50, at most 200), optionally for one code. "
            + ACCOUNTS_RULE
            + "Returns {deals: [{acc_id, deal_id, order_id, code, trd_side, qty, price, "
            "create_time}], trd_env, acc_ids, truncated, total}."
        ),
        args=DealsArgs,
        output_schema=list_schema(
            "deals", "fills, oldest first", COVERED, ids=["acc_id", "deal_id", "order_id"]
        ),
        handler=_get_deals,
        scope=SCOPE,
    ),
)
