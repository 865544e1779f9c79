"""The `trade` toolset: place, modify, cancel. Each tool only plans its order (its handler returns
an `OrderPlan`); the trade wrapper (`tradepath.run_trade`, run by the server for every trade
tool) does the checks, reservation, confirmation, audit and send, so no tool can skip one."""

from decimal import Decimal
from typing import Annotated, Any

import anyio
from pydantic import Field

from futu_mcp.appstate import Call, no_such_account, trd_header
from futu_mcp.args import (
    AccIdArg,
    Code,
    OrderIdArg,
    OrderTypeName,
    Price,
    ToolArgs,
    TrdEnvArg,
    TrdSideName,
)
from futu_mcp.errors import ToolFailure, invalid_argument
from futu_mcp.results import ID_SCHEMA, object_schema
from futu_mcp.toolspec import ToolSpec
from futu_mcp.tradepath import (
    OrderPlan,
    check_qty,
    market_order_value,
    static_facts,
)
from opend.codes import TRD_MARKET_OF, BadCode, Security, parse_code

MAX_QTY = 10_000_000
NOT_OWNED = "not an order placed with this key"
OWNERSHIP = (
    "Only orders placed through futu-mcp with this same key can be modified or cancelled; "
    "any other order (another key's, or one placed in the Futu app) is refused."
)
Qty = Annotated[
    float,
    Field(
        gt=0,
        le=MAX_QTY,
        allow_inf_nan=False,
        description="Number of shares (a multiple of the lot size), or of option or futures "
        "contracts",
    ),
]
DryRun = Annotated[
    bool, Field(description="Run every check and return the order and its value; send nothing")
]


class PlaceArgs(ToolArgs):
    """Arguments of futu_place_order (the published schema comes from here)."""

    code: Code
    trd_side: Annotated[
        TrdSideName, Field(description="BUY or SELL (short-selling sides cannot be sent)")
    ]
    qty: Qty
    price: Price = None
    order_type: Annotated[
        OrderTypeName,
        Field(description="NORMAL: limit order at price; MARKET: at the market, no price"),
    ] = "NORMAL"
    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None
    dry_run: DryRun = False
    client_order_id: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9._:-]+$",
            description=(
                "Your id for this order: a repeat within 24 h returns the first result and "
                "places nothing; reusing it for a different order is refused"
            ),
        ),
    ] = None


async def _plan_place(call: Call, args: PlaceArgs) -> OrderPlan:
    if args.order_type == "NORMAL" and args.price is None:
        raise invalid_argument("price", "required for a NORMAL (limit) order")
    if args.order_type == "MARKET" and args.price is not None:
        raise invalid_argument("price", "must be omitted for a MARKET order")
    security = parse_code(args.code)
    contract = await check_qty(call, security, args.qty)
    acc = await call.account_for(args.trd_env, args.acc_id, TRD_MARKET_OF[security.market].name)
    if args.order_type == "MARKET":
        value = await market_order_value(call, security, args.trd_side, args.qty, contract)
    else:
        value = contract.value(args.qty, args.price)
    return OrderPlan(
        kind="place",
        trd_env=args.trd_env,
        acc=acc,
        security=security,
        trd_side=args.trd_side,
        qty=args.qty,
        price=args.price,
        order_type=args.order_type,
        value=value,
        name=contract.name,
        multiplier=contract.multiplier,
    )


class ModifyArgs(ToolArgs):
    """Arguments of futu_modify_order (the published schema comes from here)."""

    order_id: OrderIdArg
    qty: Annotated[
        float | None,
        Field(
            gt=0, le=MAX_QTY, allow_inf_nan=False, description="New quantity (default: unchanged)"
        ),
    ] = None
    price: Annotated[
        float | None,
        Field(
            gt=0,
            le=10_000_000,
            allow_inf_nan=False,
            description="New limit price (default: unchanged)",
        ),
    ] = None
    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None
    dry_run: DryRun = False


async def _plan_modify(call: Call, args: ModifyArgs) -> OrderPlan:
    if args.qty is None and args.price is None:
        raise invalid_argument("qty", "give a new qty or price")
    acc, order = await _find_order(call, args.trd_env, args.acc_id, args.order_id)
    security, trd_side = _code_and_side(order, args.order_id)
    old_price = float(order.price or 0)
    if order.order_type != "NORMAL" or not old_price > 0:
        # Valued at qty × 0, a market order's modify would pass every value cap.
        raise invalid_argument("order_id", "only limit orders can be modified")
    if args.qty is not None:
        contract = await check_qty(call, security, args.qty)
    else:
        contract = await static_facts(call, security)
    old_qty = float(order.qty or 0)
    qty = args.qty if args.qty is not None else old_qty
    price = args.price if args.price is not None else old_price
    value = contract.value(qty, price)
    old_value = contract.value(old_qty, old_price)
    return OrderPlan(
        kind="modify",
        trd_env=args.trd_env,
        acc=acc,
        security=security,
        trd_side=trd_side,
        qty=qty,
        price=price,
        order_type="NORMAL",
        value=value,
        order_id=args.order_id,
        name=order.stock_name,
        multiplier=contract.multiplier,
        daily_increase=max(value - old_value, Decimal(0)),
    )


class CancelArgs(ToolArgs):
    """Arguments of futu_cancel_order (the published schema comes from here)."""

    order_id: OrderIdArg
    trd_env: TrdEnvArg = "SIMULATE"
    acc_id: AccIdArg = None


async def _plan_cancel(call: Call, args: CancelArgs) -> OrderPlan:
    acc, order = await _find_order(call, args.trd_env, args.acc_id, args.order_id)
    security, trd_side = _code_and_side(order, args.order_id)
    return OrderPlan(
        kind="cancel",
        trd_env=args.trd_env,
        acc=acc,
        security=security,
        trd_side=trd_side,
        qty=float(order.qty or 0),
        price=order.price,
        order_type=order.order_type or "NORMAL",
        value=None,
        order_id=args.order_id,
        name=order.stock_name,
    )


def _code_and_side(order: Any, order_id: str) -> tuple[Security, str]:
    """The order's security and side as the gateway reported them; never a guessed default
    (a missing side taken as BUY would pass a BUY-only key)."""
    try:
        security = parse_code(order.code or "")
    except BadCode:
        security = None
    if security is None or order.trd_side not in ("BUY", "SELL", "SELL_SHORT", "BUY_BACK"):
        raise ToolFailure(f"gateway error: order {order_id} has no code/side", "gateway")
    return security, order.trd_side


async def _find_order(
    call: Call, trd_env: str, acc_id: int | None, order_id: str
) -> tuple[Any, Any]:
    """The account holding `order_id` and the order itself, if this key placed it.

    Ownership is asked of the ledger before the gateway, so a key learns nothing about orders
    it did not place (other tenants', the person's own).
    """
    owned = await anyio.to_thread.run_sync(call.state.ledger.order_accounts, call.key.id, order_id)
    accounts = [a for a in await call.accounts() if a.trd_env == trd_env]
    if acc_id is not None:
        accounts = [a for a in accounts if a.acc_id == acc_id]
        if not accounts:
            raise no_such_account(trd_env, acc_id)
    accounts = [a for a in accounts if int(a.acc_id or 0) in owned]
    if not accounts:
        raise invalid_argument("order_id", NOT_OWNED)
    for acc in accounts:
        for market in acc.trdmarket_authority or [None]:
            orders = await call.client.order_list_query(trd_header(acc, market), [order_id])
            for order in orders:
                if str(order.order_id) == order_id:
                    return acc, order
    raise ToolFailure(
        f"invalid argument: order_id: no {trd_env} order {order_id} (see futu_get_orders)",
        "invalid_argument",
    )


_ORDER = {
    "dry_run": {"type": "boolean", "description": "true: checked only, nothing sent"},
    "sent": {"type": "boolean"},
    "checks": {"type": "string", "description": "dry run: passed"},
    "order_id": ID_SCHEMA,
    "status": {"type": "string"},
    "code": {"type": "string"},
    "name": {"type": "string"},
    "trd_side": {"type": "string"},
    "order_type": {"type": "string"},
    "qty": {"type": "number"},
    "price": {"type": "number"},
    "value": {
        "type": "number",
        "description": "order value the limits were checked against: qty x price x multiplier",
    },
    "multiplier": {
        "type": "integer",
        "description": "options and futures: the value of one contract per unit of price",
    },
    "currency": {"type": "string"},
    "acc_id": ID_SCHEMA,
    "trd_env": {"type": "string"},
}
# What every result of the tool has, dry run or sent (a sent order adds order_id and status).
_ALWAYS = ["dry_run", "sent", "code", "name", "trd_side", "order_type", "qty", "currency"]
_ALWAYS += ["acc_id", "trd_env"]
_PLACED = {
    **_ORDER,
    "client_order_id": {"type": "string"},
    "repeat": {"type": "boolean", "description": "true: an earlier call with this client_order_id"},
}
TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="futu_place_order",
        title="Place an order",
        description=(
            "Place a buy or sell order. trd_env defaults to SIMULATE (paper trading); REAL moves "
            "real money and needs a key with trade:real. NORMAL orders need a limit price; MARKET "
            "orders take none. The key's limits (markets, symbols, sides, hours, order value, "
            "orders per minute, daily value) are checked first; the person may be asked to "
            "confirm. dry_run=true checks and values the order without sending it. Options "
            "and futures (e.g. US.AAPL260116C200000, HK.HSImain) are ordered in contracts and "
            "valued qty x price x multiplier (100 for a US option). Give a "
            "client_order_id to make retries safe. Returns {sent, order_id, status, code, name, "
            "trd_side, qty, price, value, currency, acc_id, trd_env}. If the result says "
            "outcome unknown, check futu_get_orders; never just place it again. Only this key "
            "can later modify or cancel the order."
        ),
        args=PlaceArgs,
        output_schema=object_schema(_PLACED, [*_ALWAYS, "value"]),
        handler=_plan_place,
        kind="trade",
        idempotent=False,
    ),
    ToolSpec(
        name="futu_modify_order",
        title="Modify an order",
        description=(
            "Change the quantity and/or limit price of an open order (order_id from "
            "futu_get_orders). The new value is checked against the key's limits like a new "
            "order; the person may be asked to confirm. dry_run=true checks without sending. "
            "Returns {sent, order_id, status, code, name, qty, price, value, currency, acc_id}. "
            + OWNERSHIP
        ),
        args=ModifyArgs,
        output_schema=object_schema(_ORDER, [*_ALWAYS, "order_id", "value"]),
        handler=_plan_modify,
        kind="trade",
        idempotent=False,
    ),
    ToolSpec(
        name="futu_cancel_order",
        title="Cancel an order",
        description=(
            "Cancel an open order (order_id from futu_get_orders). Never blocked by a limit "
            "(markets, symbols, sides, hours, value, rate), but needs the trade scope of trd_env "
            "and an allowed account, and is audited. Returns {sent, "
            "order_id, status}. " + OWNERSHIP
        ),
        args=CancelArgs,
        output_schema=object_schema(
            {k: v for k, v in _ORDER.items() if k not in ("checks", "value")},
            [*_ALWAYS, "order_id"],
        ),
        handler=_plan_cancel,
        kind="trade",
        idempotent=True,
    ),
)
