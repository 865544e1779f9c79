"""Order protocols: order and fill lists, buying power, placing and modifying orders."""

from collections.abc import Iterable
from typing import Any

from opend.codes import SEC_MARKET_OF
from opend.enums import ModifyOrderOp, OrderStatus
from opend.protoids import ProtoId
from opend.sim.handlers.common import ConnInfo, Handler, SimError, as_float, as_int, required, stamp
from opend.sim.handlers.trdargs import (
    account_of,
    code_filter,
    filter_conditions,
    market_filter,
    ms_time,
    query_limit,
    refresh_limit,
    time_filter,
)
from opend.sim.state import SimState
from opend.sim.trading import Account, Deal, Order, TradeError


def order_wire(state: SimState, account: Account, order: Order) -> dict[str, Any]:
    """A Trd_Common.Order as OpenD reports it (order lists and Trd_UpdateOrder)."""
    sec = order.sec
    wire = {
        "trdSide": int(order.side),
        "orderType": int(order.order_type),
        "orderStatus": int(order.status),
        "orderID": str(order.order_id),
        "orderIDEx": order.order_id_ex,
        "code": sec.security.code,
        "name": sec.name,
        "qty": float(order.qty),
        "price": order.price,
        "createTime": ms_time(state, sec, order.create_time),
        "updateTime": ms_time(state, sec, order.update_time),
        "fillQty": float(order.fill_qty),
        "fillAvgPrice": round(order.fill_avg_price, 4),
        "lastErrMsg": order.last_err,
        "secMarket": int(SEC_MARKET_OF[sec.security.market]),
        "createTimestamp": stamp(order.create_time),
        "updateTimestamp": stamp(order.update_time),
        "timeInForce": int(order.time_in_force),
        "fillOutsideRTH": False,
        "currency": int(account.currency),
        "trdMarket": int(account.markets[0]),
    }
    if order.remark:
        wire["remark"] = order.remark
    return wire


def order_rows(
    state: SimState, account: Account, orders: Iterable[Order], c2s: dict[str, Any]
) -> list[dict[str, Any]]:
    """The account's orders among `orders` that pass the request's filters, as OpenD sends them
    (order lists, today's and history)."""
    conditions = filter_conditions(c2s)
    ids = {as_int(i, "idList") for i in conditions.get("idList") or []}
    ids_ex = set(conditions.get("orderIDExList") or [])
    statuses = {as_int(s, "filterStatusList") for s in c2s.get("filterStatusList") or []}
    rows = []
    for order in orders:
        if order.acc_id != account.acc_id or order.status is OrderStatus.DELETED:
            continue
        if ids and order.order_id not in ids:
            continue
        if ids_ex and order.order_id_ex not in ids_ex:
            continue
        if statuses and int(order.status) not in statuses:
            continue
        if not (code_filter(conditions, order.sec) and market_filter(conditions, order.sec)):
            continue
        if not time_filter(state, conditions, order.sec, order.create_time):
            continue
        rows.append(order_wire(state, account, order))
    return rows


def get_order_list(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetOrderList (2201): the account's orders of today (placed or changed today, or still
    open), filtered as asked; earlier ones are in Trd_GetHistoryOrderList."""
    account, echo = account_of(state, c2s)
    refresh_limit(state, ProtoId.TRD_GET_ORDER_LIST, account, c2s)
    trading = state.trading
    now = state.clock.now()
    trading.match(now)
    today = [
        o
        for o in trading.orders.values()
        if o.is_live
        or trading.is_today(o.sec, o.create_time, now)
        or trading.is_today(o.sec, o.update_time, now)
    ]
    return {"header": echo, "orderList": order_rows(state, account, today, c2s)}


def fill_wire(state: SimState, account: Account, deal: Deal) -> dict[str, Any]:
    """A Trd_Common.OrderFill as OpenD reports it (fill lists and Trd_UpdateOrderFill)."""
    order = deal.order
    fill = {
        "trdSide": int(order.side),
        "fillID": str(deal.fill_id),
        "fillIDEx": deal.fill_id_ex,
        "orderID": str(order.order_id),
        "orderIDEx": order.order_id_ex,
        "code": order.sec.security.code,
        "name": order.sec.name,
        "qty": float(deal.qty),
        "price": deal.price,
        "createTime": ms_time(state, order.sec, deal.time),
        "secMarket": int(SEC_MARKET_OF[order.sec.security.market]),
        "createTimestamp": stamp(deal.time),
        "updateTimestamp": stamp(deal.time),
        "status": 0,
        "trdMarket": int(account.markets[0]),
    }
    if deal.counter_broker[0]:
        fill["counterBrokerID"] = deal.counter_broker[0]
        fill["counterBrokerName"] = deal.counter_broker[1]
    return fill


def fill_rows(
    state: SimState, account: Account, deals: Iterable[Deal], c2s: dict[str, Any]
) -> list[dict[str, Any]]:
    """The account's fills among `deals` that pass the request's filters, as OpenD sends them
    (fill lists, today's and history)."""
    conditions = filter_conditions(c2s)
    ids = {as_int(i, "idList") for i in conditions.get("idList") or []}
    rows = []
    for deal in deals:
        order = deal.order
        if order.acc_id != account.acc_id or (ids and deal.fill_id not in ids):
            continue
        if not (code_filter(conditions, order.sec) and market_filter(conditions, order.sec)):
            continue
        if not time_filter(state, conditions, order.sec, deal.time):
            continue
        rows.append(fill_wire(state, account, deal))
    return rows


def get_order_fill_list(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetOrderFillList (2211): the account's fills of today."""
    account, echo = account_of(state, c2s)
    refresh_limit(state, ProtoId.TRD_GET_ORDER_FILL_LIST, account, c2s)
    trading = state.trading
    now = state.clock.now()
    trading.match(now)
    today = [d for d in trading.deals if trading.is_today(d.order.sec, d.time, now)]
    return {"header": echo, "orderFillList": fill_rows(state, account, today, c2s)}


def get_max_trd_qtys(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetMaxTrdQtys (2111): the most an order at this price could buy with cash alone and
    with margin (the matching engine's own rule: `Trading.buy_need`), or sell. The simulator
    does not sell short, so nothing can be sold short or bought back."""
    account, echo = account_of(state, c2s)
    query_limit(state, ProtoId.TRD_GET_MAX_TRD_QTYS, account)
    trading = state.trading
    now = state.clock.now()
    trading.match(now)
    try:
        sec = trading.security(
            account,
            str(required(c2s, "code")),
            as_int(c2s.get("secMarket", 0), "secMarket") or None,
        )
    except TradeError as exc:
        raise SimError(str(exc)) from None
    price = as_float(required(c2s, "price"), "price") or 0.0
    if as_int(required(c2s, "orderType"), "orderType") == 2 or price <= 0:
        price = state.market.book(sec, now, 1)[0][0][0]  # a market buy pays the ask
    return {
        "header": echo,
        "maxTrdQtys": {
            "maxCashBuy": float(trading.max_buy(account, sec, price, now, use_margin=False)),
            "maxCashAndMarginBuy": float(
                trading.max_buy(account, sec, price, now, use_margin=True)
            ),
            "maxPositionSell": float(max(trading.can_sell(account, sec), 0)),
            "maxSellShort": 0.0,
            "maxBuyBack": 0.0,
        },
    }


def _packet_id(c2s: dict[str, Any], conn: ConnInfo) -> None:
    """OpenD's anti-replay gate for trade writes: packetID must carry this connection's connID
    (from InitConnect) and a serialNo not used before on it. The retMsg texts are the
    simulator's own; OpenD's wording is not documented."""
    packet = required(c2s, "packetID")
    if not isinstance(packet, dict):
        raise SimError("invalid request: packetID must be a PacketID")
    conn_id = as_int(required(packet, "connID"), "packetID.connID")
    serial = as_int(required(packet, "serialNo"), "packetID.serialNo")
    if conn_id != conn.conn_id:
        raise SimError(
            f"Invalid packetID: connID {conn_id} is not the connID InitConnect gave this "
            "connection: request ignored"
        )
    if serial in conn.packet_serials:
        raise SimError(f"Duplicate packetID (connID {conn_id}, serialNo {serial}): request ignored")
    conn.packet_serials.add(serial)


def place_order(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_PlaceOrder (2202): validate, accept, fill what the book allows now."""
    _packet_id(c2s, conn)
    account, echo = account_of(state, c2s)
    try:
        order = state.trading.place(
            account,
            unlocked=state.unlocked,
            code=str(required(c2s, "code")),
            sec_market=as_int(c2s.get("secMarket", 0), "secMarket") or None,
            side=as_int(required(c2s, "trdSide"), "trdSide"),
            order_type=as_int(required(c2s, "orderType"), "orderType"),
            qty=as_float(required(c2s, "qty"), "qty"),
            price=as_float(c2s.get("price"), "price"),
            time_in_force=as_int(c2s.get("timeInForce", 0), "timeInForce"),
            remark=str(c2s.get("remark", "")),
        )
    except TradeError as exc:
        raise SimError(str(exc)) from None
    return {"header": echo, "orderID": str(order.order_id), "orderIDEx": order.order_id_ex}


def modify_order(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_ModifyOrder (2205): change, cancel (op 2), disable, enable, delete; or cancel all."""
    _packet_id(c2s, conn)
    account, echo = account_of(state, c2s)
    op = as_int(required(c2s, "modifyOrderOp"), "modifyOrderOp")
    order_id = as_int(required(c2s, "orderID"), "orderID")
    try:
        if c2s.get("forAll"):
            if op != ModifyOrderOp.CANCEL:
                raise SimError("forAll is only valid with modifyOrderOp 2 (cancel)")
            state.trading.cancel_all(account, unlocked=state.unlocked)
            return {"header": echo, "orderID": "0"}
        order = state.trading.modify(
            account,
            unlocked=state.unlocked,
            order_id=order_id or None,
            order_id_ex=c2s.get("orderIDEx") or None,
            op=op,
            qty=as_float(c2s.get("qty"), "qty"),
            price=as_float(c2s.get("price"), "price"),
        )
    except TradeError as exc:
        raise SimError(str(exc)) from None
    return {"header": echo, "orderID": str(order.order_id), "orderIDEx": order.order_id_ex}


HANDLERS: dict[int, Handler] = {
    ProtoId.TRD_GET_ORDER_LIST: get_order_list,
    ProtoId.TRD_GET_ORDER_FILL_LIST: get_order_fill_list,
    ProtoId.TRD_PLACE_ORDER: place_order,
    ProtoId.TRD_MODIFY_ORDER: modify_order,
    ProtoId.TRD_GET_MAX_TRD_QTYS: get_max_trd_qtys,
}
