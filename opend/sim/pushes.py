"""What the simulator pushes, and to whom: quote updates for registered subscriptions
(Qot_Update*) and order and fill updates for accounts a connection asked for (Trd_SubAccPush).

Push bodies reuse the Get* handlers, whose replies have the same shape as the pushes, so a push
never disagrees with what a request would have returned at the same instant.
"""

from typing import Any

from opend.enums import SUBTYPE_OF_KLTYPE, SubType
from opend.protoids import ProtoId
from opend.sim.handlers import orders, quotes
from opend.sim.handlers.common import ConnInfo
from opend.sim.state import SimState
from opend.sim.trading import Deal, Order

_KL_OF_SUBTYPE = {sub: kl for kl, sub in SUBTYPE_OF_KLTYPE.items()}


def quote_push(
    state: SimState, conn: ConnInfo, code: str, sub_type: int, last: dict[str, Any] | None
) -> tuple[int, dict[str, Any]] | None:
    """The push for one registered (security, SubType), or None when nothing changed since
    `last` (the previous push of that item)."""
    sec = state.known(code)
    wire = {"market": int(sec.security.market), "code": sec.security.code}
    kind = SubType(sub_type)
    if kind is SubType.QUOTE:
        proto, s2c = (
            ProtoId.QOT_UPDATE_BASIC_QOT,
            quotes.get_basic_qot(state, conn, {"securityList": [wire]}),
        )
    elif kind is SubType.ORDER_BOOK:
        proto, s2c = (
            ProtoId.QOT_UPDATE_ORDER_BOOK,
            quotes.get_order_book(state, conn, {"security": wire, "num": 10}),
        )
    elif kind is SubType.BROKER:
        proto, s2c = ProtoId.QOT_UPDATE_BROKER, quotes.get_broker(state, conn, {"security": wire})
    elif kind is SubType.RT_DATA:
        s2c = quotes.get_rt(state, conn, {"security": wire})
        proto, s2c = ProtoId.QOT_UPDATE_RT, {**s2c, "rtList": s2c["rtList"][-1:]}
    elif kind is SubType.TICKER:
        s2c = quotes.get_ticker(state, conn, {"security": wire, "maxRetNum": 20})
        seen = int(last["tickerList"][-1]["sequence"]) if last and last["tickerList"] else 0
        fresh = [t for t in s2c["tickerList"] if int(t["sequence"]) > seen]
        if not fresh:
            return None
        proto, s2c = ProtoId.QOT_UPDATE_TICKER, {**s2c, "tickerList": fresh}
    elif kind in _KL_OF_SUBTYPE:
        kl_type = _KL_OF_SUBTYPE[kind]
        c2s = {"security": wire, "klType": int(kl_type), "rehabType": 1, "reqNum": 1}
        s2c = quotes.get_kl(state, conn, c2s)
        proto, s2c = ProtoId.QOT_UPDATE_KL, {"rehabType": 1, "klType": int(kl_type), **s2c}
    else:
        return None
    if (
        kind is not SubType.TICKER
        and last is not None
        and _without_times(last) == _without_times(s2c)
    ):
        return None
    return proto, s2c


def _without_times(s2c: dict[str, Any]) -> dict[str, Any]:
    """A push body minus the fields that change on every call, to see if anything moved."""
    ignored = {"updateTime", "updateTimestamp", "svrRecvTimeBid", "svrRecvTimeAsk"}
    ignored |= {"svrRecvTimeBidTimestamp", "svrRecvTimeAskTimestamp"}
    out: dict[str, Any] = {}
    for key, value in s2c.items():
        if key in ignored:
            continue
        if key == "basicQotList":
            value = [{k: v for k, v in q.items() if k not in ignored} for q in value]
        out[key] = value
    return out


def order_push(state: SimState, order: Order) -> tuple[int, dict[str, Any]]:
    """Trd_UpdateOrder for an order's current state."""
    account = state.accounts[order.acc_id]
    return ProtoId.TRD_UPDATE_ORDER, {
        "header": _header(account),
        "order": orders.order_wire(state, account, order),
    }


def fill_push(state: SimState, deal: Deal) -> tuple[int, dict[str, Any]]:
    """Trd_UpdateOrderFill for a new fill."""
    account = state.accounts[deal.order.acc_id]
    return ProtoId.TRD_UPDATE_ORDER_FILL, {
        "header": _header(account),
        "orderFill": orders.fill_wire(state, account, deal),
    }


def _header(account: Any) -> dict[str, Any]:
    return {
        "trdEnv": int(account.env),
        "accID": str(account.acc_id),
        "trdMarket": int(account.markets[0]),
    }
