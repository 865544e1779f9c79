"""Quote protocols: subscriptions, subscribed quotes, K-lines (live and history)."""

import base64
import binascii
import json
from datetime import timedelta
from typing import Any

from opend.codes import QotMarket
from opend.enums import SUBTYPE_OF_KLTYPE, KLType, SubType
from opend.market_rules import tick_size
from opend.protoids import ProtoId
from opend.sim.handlers.common import (
    TIME_FORMAT,
    ConnInfo,
    Handler,
    SimError,
    as_int,
    earnings_per_share,
    local_time,
    midnight_stamp,
    name_of,
    need_sub,
    parse_time,
    required,
    securities_of,
    security_of,
    stamp,
    tick_price,
    turnover_rate,
    wire_sec,
)
from opend.sim.limits import LimitExceeded
from opend.sim.market import Bar
from opend.sim.state import SimState
from opend.sim.universe import SimSecurity

MAX_BARS = 1000


def sub(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_Sub (3001): subscribe or unsubscribe, within the quota and the one-minute minimum."""
    now = state.clock.monotonic()
    try:
        if c2s.get("isUnsubAll"):
            state.subscriptions.unsubscribe(conn.conn_id, None, now)
            conn.push_keys.clear()
            conn.last_push.clear()
            return {}
        securities = securities_of(state, c2s)
        sub_types = []
        for raw in c2s.get("subTypeList", []):
            try:
                sub_types.append(SubType(as_int(raw, "subTypeList")))
            except ValueError:
                raise SimError(f"Unknown subType {raw}") from None
        if not securities or not sub_types:
            raise SimError("invalid request: securityList and subTypeList must not be empty")
        for sec in securities:
            if SubType.BROKER in sub_types and sec.security.market is not QotMarket.HK:
                raise SimError(f"Broker queue is only available for HK securities ({sec.code})")
        keys = [(sec.code, int(t)) for sec in securities for t in sub_types]
        subscribing = bool(required(c2s, "isSubOrUnSub"))
        if subscribing:
            state.subscriptions.subscribe(conn.conn_id, keys, now)
        else:
            state.subscriptions.unsubscribe(conn.conn_id, keys, now)
    except LimitExceeded as exc:
        raise SimError(str(exc)) from None
    # Absent isRegOrUnRegPush leaves push registration as it was, as on OpenD.
    register = c2s.get("isRegOrUnRegPush")
    if subscribing and register:
        conn.push_keys.update(keys)  # the first push comes at once (isFirstPush is not honoured)
    elif not subscribing or register is False:
        conn.push_keys.difference_update(keys)
        for key in keys:
            conn.last_push.pop(key, None)
    return {}


def get_sub_info(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetSubInfo (3003): this connection's subscriptions (or every connection's) and quota."""
    subs = state.subscriptions
    conn_ids = subs.connections() if c2s.get("isReqAllConn") else [conn.conn_id]
    infos = []
    for conn_id in conn_ids:
        by_type: dict[int, list[dict[str, Any]]] = {}
        held = subs.held_by(conn_id)
        for code, sub_type in held:
            by_type.setdefault(sub_type, []).append(wire_sec(state.known(code)))
        infos.append(
            {
                "subInfoList": [
                    {"subType": t, "securityList": secs} for t, secs in sorted(by_type.items())
                ],
                "usedQuota": len(held),
                "isOwnConnData": conn_id == conn.conn_id,
            }
        )
    used = subs.used(state.clock.monotonic())
    return {"connSubInfoList": infos, "totalUsedQuota": used, "remainQuota": subs.quota - used}


def get_basic_qot(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetBasicQot (3004): the quote of subscribed securities."""
    now = state.clock.now()
    quotes = []
    for sec in securities_of(state, c2s):
        need_sub(state, conn, sec, SubType.QUOTE)
        day = state.market.day_so_far(sec, now)
        quotes.append(
            {
                "security": wire_sec(sec),
                "name": sec.name,
                "isSuspended": False,
                "listTime": sec.list_date.isoformat(),
                "priceSpread": float(tick_size(sec.tick_rule, day.price)),
                "updateTime": local_time(state, sec, now),
                "highPrice": day.high,
                "openPrice": day.open,
                "lowPrice": day.low,
                "curPrice": day.price,
                "lastClosePrice": day.last_close,
                "volume": str(day.volume),
                "turnover": round(day.turnover, 2),
                "turnoverRate": turnover_rate(sec, day.volume),
                "amplitude": round((day.high - day.low) / day.last_close * 100, 3),
                "secStatus": 1,
                "listTimestamp": midnight_stamp(sec, sec.list_date),
                "updateTimestamp": stamp(now),
            }
        )
    return {"basicQotList": quotes}


def _bar_wire(sec: SimSecurity, bar: Bar) -> dict[str, Any]:
    close = tick_price(sec, bar.close)
    last_close = tick_price(sec, bar.last_close)
    return {
        "time": bar.time.strftime(TIME_FORMAT),
        "isBlank": False,
        "highPrice": tick_price(sec, bar.high),
        "openPrice": tick_price(sec, bar.open),
        "lowPrice": tick_price(sec, bar.low),
        "closePrice": close,
        "lastClosePrice": last_close,
        "volume": str(bar.volume),
        "turnover": round(bar.turnover, 2),
        "turnoverRate": turnover_rate(sec, bar.volume, 4),
        "pe": round(close / earnings_per_share(sec), 3) if sec.multiplier == 1 else 0.0,
        "changeRate": round((close / last_close - 1) * 100, 4) if last_close else 0.0,
        "timestamp": bar.time.timestamp(),
    }


def _kl_type(c2s: dict[str, Any]) -> KLType:
    raw = as_int(required(c2s, "klType"), "klType")
    try:
        kl_type = KLType(raw)
    except ValueError:
        raise SimError(f"Unknown klType {raw}") from None
    if kl_type is KLType.NONE:
        raise SimError("Unknown klType 0")
    as_int(required(c2s, "rehabType"), "rehabType")
    return kl_type


def get_kl(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetKL (3006): the latest reqNum bars (at most 1000) of a subscribed kline type."""
    kl_type = _kl_type(c2s)
    sec = security_of(state, required(c2s, "security"))
    count = as_int(required(c2s, "reqNum"), "reqNum")
    if count <= 0:
        raise SimError(f"reqNum must be positive, got {count}")
    need_sub(state, conn, sec, SUBTYPE_OF_KLTYPE[kl_type])
    now = state.clock.now()
    count = min(count, MAX_BARS)
    first = None
    if kl_type in (KLType.K_DAY, KLType.K_WEEK):
        first = state.market.local(sec, now).date() - timedelta(days=count * 7 + 7)
    bars = state.market.klines(sec, kl_type, now, first)[-count:]
    return {**name_of(sec), "klList": [_bar_wire(sec, b) for b in bars]}


def get_rt(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetRT (3008): today's time-sharing minutes."""
    sec = security_of(state, required(c2s, "security"))
    need_sub(state, conn, sec, SubType.RT_DATA)
    points = state.market.rt(sec, state.clock.now())
    return {
        **name_of(sec),
        "rtList": [
            {
                "time": p.time.strftime(TIME_FORMAT),
                "minute": p.minute,
                "isBlank": False,
                "price": p.price,
                "lastClosePrice": p.last_close,
                "avgPrice": p.avg_price,
                "volume": str(p.volume),
                "turnover": round(p.turnover, 2),
                "timestamp": p.time.timestamp(),
            }
            for p in points
        ],
    }


def get_ticker(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetTicker (3010): the last maxRetNum trades (at most 1000)."""
    sec = security_of(state, required(c2s, "security"))
    count = as_int(required(c2s, "maxRetNum"), "maxRetNum")
    if count <= 0:
        raise SimError(f"maxRetNum must be positive, got {count}")
    need_sub(state, conn, sec, SubType.TICKER)
    ticks = state.market.tickers(sec, state.clock.now(), min(count, MAX_BARS))
    return {
        **name_of(sec),
        "tickerList": [
            {
                "time": local_time(state, sec, tick.time),
                "sequence": str(tick.sequence),
                "dir": int(tick.direction),
                "price": tick.price,
                "volume": str(tick.volume),
                "turnover": round(tick.price * tick.volume, 3),
                "recvTime": tick.time,
                "type": 1,
                "timestamp": tick.time,
            }
            for tick in ticks
        ],
    }


def get_order_book(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetOrderBook (3012): up to ten levels each side, straddling the last price."""
    sec = security_of(state, required(c2s, "security"))
    levels = as_int(required(c2s, "num"), "num")
    if levels <= 0:
        raise SimError(f"num must be positive, got {levels}")
    need_sub(state, conn, sec, SubType.ORDER_BOOK)
    now = state.clock.now()
    asks, bids = state.market.book(sec, now, min(levels, 10))
    when = local_time(state, sec, now)

    def side(rows: list[tuple[float, int, int]]) -> list[dict[str, Any]]:
        return [{"price": p, "volume": str(v), "orederCount": n} for p, v, n in rows]

    return {
        **name_of(sec),
        "orderBookAskList": side(asks),
        "orderBookBidList": side(bids),
        "svrRecvTimeBid": when,
        "svrRecvTimeBidTimestamp": stamp(now),
        "svrRecvTimeAsk": when,
        "svrRecvTimeAskTimestamp": stamp(now),
    }


def get_broker(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetBroker (3014): HK broker queues on the best three levels."""
    sec = security_of(state, required(c2s, "security"))
    if sec.security.market is not QotMarket.HK:
        raise SimError(f"Broker queue is only available for HK securities ({sec.code})")
    need_sub(state, conn, sec, SubType.BROKER)
    asks, bids = state.market.brokers(sec, state.clock.now())

    def side(rows: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
        return [{"id": str(i), "name": n, "pos": p} for i, n, p in rows]

    return {**name_of(sec), "brokerAskList": side(asks), "brokerBidList": side(bids)}


def request_history_kl(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_RequestHistoryKL (3103): bars in a time range, paged with an opaque nextReqKey."""
    kl_type = _kl_type(c2s)
    sec = security_of(state, required(c2s, "security"))
    begin = parse_time(str(required(c2s, "beginTime")), sec, end=False)
    end = parse_time(str(required(c2s, "endTime")), sec, end=True)
    if end < begin:
        raise SimError("endTime is before beginTime")
    limit = as_int(c2s.get("maxAckKLNum", MAX_BARS), "maxAckKLNum")
    limit = MAX_BARS if limit <= 0 else min(limit, MAX_BARS)
    after = None
    if c2s.get("nextReqKey"):
        after = _decode_cursor(str(c2s["nextReqKey"]), sec)
    try:
        state.history_kl.use(sec.code, state.clock.now(), enforce=state.quote_limits)
    except LimitExceeded as exc:
        raise SimError(str(exc)) from None
    bars, more = state.market.bars_between(
        sec, kl_type, state.clock.now(), begin, end, after, limit
    )
    flags = as_int(c2s.get("needKLFieldsFlag", 0), "needKLFieldsFlag")
    s2c: dict[str, Any] = {
        **name_of(sec),
        "klList": [_kl_fields(_bar_wire(sec, b), flags) for b in bars],
    }
    if more and bars:
        s2c["nextReqKey"] = _encode_cursor(sec, bars[-1].time.timestamp())
    return s2c


def request_history_kl_quota(
    state: SimState, conn: ConnInfo, c2s: dict[str, Any]
) -> dict[str, Any]:
    """Qot_RequestHistoryKLQuota (3104): securities counted in the history K-line window, and
    when each was first fetched (bGetDetail)."""
    quota = state.history_kl
    used = quota.used(state.clock.now())
    s2c: dict[str, Any] = {"usedQuota": len(used), "remainQuota": max(0, quota.quota - len(used))}
    if c2s.get("bGetDetail"):
        s2c["detailList"] = [
            {
                **name_of(state.known(code)),
                "requestTime": local_time(state, state.known(code), at),
                "requestTimeStamp": str(int(at)),
            }
            for code, at in sorted(used.items(), key=lambda item: item[1])
        ]
    return s2c


_KL_FLAGS = (
    (1, "highPrice"),
    (2, "openPrice"),
    (4, "lowPrice"),
    (8, "closePrice"),
    (16, "lastClosePrice"),
    (32, "volume"),
    (64, "turnover"),
    (128, "turnoverRate"),
    (256, "pe"),
    (512, "changeRate"),
)


def _kl_fields(bar: dict[str, Any], flags: int) -> dict[str, Any]:
    if not flags:
        return bar
    for bit, name in _KL_FLAGS:
        if not flags & bit:
            bar.pop(name, None)
    return bar


def _encode_cursor(sec: SimSecurity, after: float) -> str:
    raw = json.dumps({"code": sec.code, "after": after}, separators=(",", ":")).encode()
    return base64.b64encode(raw).decode()


def _decode_cursor(text: str, sec: SimSecurity) -> float:
    try:
        obj = json.loads(base64.b64decode(text, validate=True))
        if obj["code"] != sec.code:
            raise ValueError("the cursor belongs to another security")
        return float(obj["after"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise SimError(
            "invalid nextReqKey: pass back the key of the previous page unchanged"
        ) from None


HANDLERS: dict[int, Handler] = {
    ProtoId.QOT_SUB: sub,
    ProtoId.QOT_GET_SUB_INFO: get_sub_info,
    ProtoId.QOT_GET_BASIC_QOT: get_basic_qot,
    ProtoId.QOT_GET_KL: get_kl,
    ProtoId.QOT_GET_RT: get_rt,
    ProtoId.QOT_GET_TICKER: get_ticker,
    ProtoId.QOT_GET_ORDER_BOOK: get_order_book,
    ProtoId.QOT_GET_BROKER: get_broker,
    ProtoId.QOT_REQUEST_HISTORY_KL: request_history_kl,
    ProtoId.QOT_REQUEST_HISTORY_KL_QUOTA: request_history_kl_quota,
}
