"""One function per OpenD protocol: the request's `c2s` dict in, the reply's `s2c` dict out.

Handlers never see bytes or formats (see pbcodec) and never touch sockets (see server). A
request OpenD would refuse raises `SimError`; its message becomes the reply's retMsg. Field names
are the .proto names (`td_plVal`), 64-bit integers are strings (the canonical protobuf JSON
mapping, which both the SDK's parser and json_format accept).
"""

import base64
import binascii
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opend.codes import SEC_MARKET_OF, QotMarket, TrdMarket
from opend.enums import (
    SUBTYPE_OF_KLTYPE,
    Currency,
    KLType,
    ModifyOrderOp,
    OrderStatus,
    Plate,
    ProgramStatusType,
    QotMarketState,
    SecurityType,
    SubType,
    TrdEnv,
)
from opend.exchanges import MARKET_TZ
from opend.protoids import ProtoId
from opend.sim.limits import LimitExceeded, RateWindow
from opend.sim.market import Bar
from opend.sim.state import SERVER_BUILD, SERVER_VERSION, SimState
from opend.sim.trading import FX_TO_HKD, Account, Deal, Order, Position, TradeError
from opend.sim.universe import PLATE_MARKETS, SimSecurity, round_to_tick, tick_size

MAX_SNAPSHOT_CODES = 400
# Served beyond opend.protoids (see pbcodec.EXTRA_MODULES).
TRD_GET_MAX_TRD_QTYS = 2111
TRD_GET_HISTORY_ORDER_LIST = 2221
TRD_GET_HISTORY_ORDER_FILL_LIST = 2222
QOT_GET_MARKET_STATE = 3223
QOT_REQUEST_HISTORY_KL_QUOTA = 3104
MAX_BARS = 1000
_TIME = "%Y-%m-%d %H:%M:%S"
# The simulator's own texts for an OpenD whose login failed (OpenD's wording is not documented):
# GetGlobalState's programStatus.strExtDesc, and the retMsg of every refused request.
LOGIN_FAILED_DESC = "Login failed: incorrect account or password"
NOT_LOGGED_IN = "Not logged in: OpenD has not logged in to the Futu server"
# What a not-logged-in OpenD still answers: the connection itself and its state.
WITHOUT_LOGIN = frozenset({ProtoId.INIT_CONNECT, ProtoId.GET_GLOBAL_STATE, ProtoId.KEEP_ALIVE})


class SimError(Exception):
    """A request the simulated OpenD refuses: retType and retMsg of the error reply."""

    def __init__(self, message: str, ret_type: int = -1, err_code: int = 0) -> None:
        super().__init__(message)
        self.ret_type = ret_type
        self.err_code = err_code


@dataclass
class ConnInfo:
    """What a handler may know about the connection a request came on."""

    conn_id: int
    keepalive_interval: int
    aes_key: str
    aes_iv: str
    encrypted: bool = False
    client_id: str = ""
    push_fmt: int = 1
    initialized: bool = False
    # Quote items with push registration (Qot_Sub isRegOrUnRegPush) and the last body pushed.
    push_keys: set[tuple[str, int]] = field(default_factory=set)
    last_push: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    push_accounts: set[int] = field(default_factory=set)  # Trd_SubAccPush
    # packetID.serialNo of every PlaceOrder/ModifyOrder seen here: OpenD's anti-replay memory.
    packet_serials: set[int] = field(default_factory=set)


Handler = Callable[[SimState, ConnInfo, dict[str, Any]], dict[str, Any] | None]

# --- field helpers --------------------------------------------------------------------------


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SimError(f"invalid request: {name} must be an integer") from None


def _req(c2s: dict[str, Any], name: str) -> Any:
    if name not in c2s:
        raise SimError(f"invalid request: missing required field {name}")
    return c2s[name]


def _wire_sec(sec: SimSecurity) -> dict[str, Any]:
    return {"market": int(sec.security.market), "code": sec.security.code}


def _security(state: SimState, obj: Any) -> SimSecurity:
    if not isinstance(obj, dict) or "market" not in obj or "code" not in obj:
        raise SimError("invalid request: a security needs market and code")
    market = _int(obj["market"], "security.market")
    try:
        name = QotMarket(market).name
    except ValueError:
        raise SimError(f"Unknown market {market}") from None
    code = str(obj["code"])
    sec = state.securities.get(f"{name}.{code}")
    if sec is None:
        raise SimError(f"Unknown stock {name}.{code}")
    return sec


def _securities(state: SimState, c2s: dict[str, Any]) -> list[SimSecurity]:
    items = c2s.get("securityList", [])
    if not isinstance(items, list):
        raise SimError("invalid request: securityList must be a list")
    return [_security(state, item) for item in items]


def _price(sec: SimSecurity, value: float) -> float:
    return round_to_tick(sec.security.market, value)


def _stamp(t: float) -> float:
    return round(t, 3)


def _local(state: SimState, sec: SimSecurity, t: float) -> str:
    return state.market.local(sec, t).strftime(_TIME)


def _need_sub(state: SimState, conn: ConnInfo, sec: SimSecurity, sub_type: SubType) -> None:
    if not state.subscriptions.is_subscribed(conn.conn_id, (sec.code, int(sub_type))):
        raise SimError(
            f"{sec.code} is not subscribed to {sub_type.name} on this connection: "
            "subscribe first (Qot_Sub)"
        )


def _name(sec: SimSecurity) -> dict[str, Any]:
    return {"security": _wire_sec(sec), "name": sec.name}


# --- connection-level protocols -------------------------------------------------------------


def init_connect(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """InitConnect (1001): hand out the connection id, keep-alive interval and AES material."""
    _int(_req(c2s, "clientVer"), "clientVer")
    conn.client_id = str(_req(c2s, "clientID"))
    conn.push_fmt = _int(c2s.get("pushProtoFmt", 1), "pushProtoFmt")
    s2c = {
        "serverVer": SERVER_VERSION,
        "loginUserID": str(state.login_user_id),
        "connID": str(conn.conn_id),
        "connAESKey": conn.aes_key,
        "keepAliveInterval": conn.keepalive_interval,
        "userAttribution": 1,
    }
    if _int(c2s.get("packetEncAlgo", -1), "packetEncAlgo") == 2:
        s2c["aesCBCiv"] = conn.aes_iv
    return s2c


def keep_alive(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """KeepAlive (1004): echo the server's time."""
    _int(_req(c2s, "time"), "time")
    return {"time": str(int(state.clock.now()))}


# The simulator never closes: Asian markets are always in their morning session, US in its day.
MARKET_STATE: dict[QotMarket, int] = {
    QotMarket.HK: int(QotMarketState.MORNING),
    QotMarket.US: int(QotMarketState.AFTERNOON),
    QotMarket.SH: int(QotMarketState.MORNING),
    QotMarket.SZ: int(QotMarketState.MORNING),
}


def get_global_state(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """GetGlobalState (1002): logged in, ready, every market trading (the sim never closes);
    or, with `state.logged_in` off, a failed login as OpenD reports it."""
    now = state.clock.now()
    if state.logged_in:
        status: dict[str, Any] = {"type": int(ProgramStatusType.READY)}
    else:
        status = {"type": int(ProgramStatusType.LOGIN_FAILED), "strExtDesc": LOGIN_FAILED_DESC}
    return {
        "marketHK": MARKET_STATE[QotMarket.HK],
        "marketUS": MARKET_STATE[QotMarket.US],
        "marketSH": MARKET_STATE[QotMarket.SH],
        "marketSZ": MARKET_STATE[QotMarket.SZ],
        "marketHKFuture": int(QotMarketState.FUTURE_OPEN),
        "marketUSFuture": int(QotMarketState.FUTURE_OPEN),
        "qotLogined": state.logged_in,
        "trdLogined": state.logged_in,
        "serverVer": SERVER_VERSION,
        "serverBuildNo": SERVER_BUILD,
        "time": str(int(now)),
        "localTime": round(time.time(), 3),
        "programStatus": status,
        "qotSvrIpAddr": "127.0.0.1",
        "trdSvrIpAddr": "127.0.0.1",
        "connID": str(conn.conn_id),
    }


# --- quotes ---------------------------------------------------------------------------------


def sub(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_Sub (3001): subscribe or unsubscribe, within the quota and the one-minute minimum."""
    now = state.clock.monotonic()
    try:
        if c2s.get("isUnsubAll"):
            state.subscriptions.unsubscribe(conn.conn_id, None, now)
            conn.push_keys.clear()
            conn.last_push.clear()
            return {}
        securities = _securities(state, c2s)
        sub_types = []
        for raw in c2s.get("subTypeList", []):
            try:
                sub_types.append(SubType(_int(raw, "subTypeList")))
            except ValueError:
                raise SimError(f"Unknown subType {raw}") from None
        if not securities or not sub_types:
            raise SimError("invalid request: securityList and subTypeList must not be empty")
        for sec in securities:
            if SubType.BROKER in sub_types and sec.security.market is not QotMarket.HK:
                raise SimError(f"Broker queue is only available for HK securities ({sec.code})")
        keys = [(sec.code, int(t)) for sec in securities for t in sub_types]
        subscribing = bool(_req(c2s, "isSubOrUnSub"))
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
            by_type.setdefault(sub_type, []).append(_wire_sec(state.securities[code]))
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
    for sec in _securities(state, c2s):
        _need_sub(state, conn, sec, SubType.QUOTE)
        day = state.market.day_so_far(sec, now)
        quotes.append(
            {
                "security": _wire_sec(sec),
                "name": sec.name,
                "isSuspended": False,
                "listTime": sec.list_date.isoformat(),
                "priceSpread": float(tick_size(sec.security.market, day.price)),
                "updateTime": _local(state, sec, now),
                "highPrice": day.high,
                "openPrice": day.open,
                "lowPrice": day.low,
                "curPrice": day.price,
                "lastClosePrice": day.last_close,
                "volume": str(day.volume),
                "turnover": round(day.turnover, 2),
                "turnoverRate": round(day.volume / sec.shares_outstanding * 100, 3),
                "amplitude": round((day.high - day.low) / day.last_close * 100, 3),
                "secStatus": 1,
                "listTimestamp": _midnight_stamp(sec, sec.list_date),
                "updateTimestamp": _stamp(now),
            }
        )
    return {"basicQotList": quotes}


def _midnight_stamp(sec: SimSecurity, day: Any) -> float:
    tz = MARKET_TZ[sec.security.market]
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def _bar_wire(sec: SimSecurity, bar: Bar) -> dict[str, Any]:
    close = _price(sec, bar.close)
    last_close = _price(sec, bar.last_close)
    return {
        "time": bar.time.strftime(_TIME),
        "isBlank": False,
        "highPrice": _price(sec, bar.high),
        "openPrice": _price(sec, bar.open),
        "lowPrice": _price(sec, bar.low),
        "closePrice": close,
        "lastClosePrice": last_close,
        "volume": str(bar.volume),
        "turnover": round(bar.turnover, 2),
        "turnoverRate": round(bar.volume / sec.shares_outstanding * 100, 4),
        "pe": round(close / _eps(sec), 3),
        "changeRate": round((close / last_close - 1) * 100, 4) if last_close else 0.0,
        "timestamp": bar.time.timestamp(),
    }


def _eps(sec: SimSecurity) -> float:
    # A fixed earnings figure per share gives plausible P/E ratios (15-30) at the base price.
    return sec.base_price / (15 + sec.sec_id % 16)


def _kl_type(c2s: dict[str, Any]) -> KLType:
    raw = _int(_req(c2s, "klType"), "klType")
    try:
        kl_type = KLType(raw)
    except ValueError:
        raise SimError(f"Unknown klType {raw}") from None
    if kl_type is KLType.NONE:
        raise SimError("Unknown klType 0")
    _int(_req(c2s, "rehabType"), "rehabType")
    return kl_type


def get_kl(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetKL (3006): the latest reqNum bars (at most 1000) of a subscribed kline type."""
    kl_type = _kl_type(c2s)
    sec = _security(state, _req(c2s, "security"))
    count = _int(_req(c2s, "reqNum"), "reqNum")
    if count <= 0:
        raise SimError(f"reqNum must be positive, got {count}")
    _need_sub(state, conn, sec, SUBTYPE_OF_KLTYPE[kl_type])
    now = state.clock.now()
    count = min(count, MAX_BARS)
    first = None
    if kl_type in (KLType.K_DAY, KLType.K_WEEK):
        first = state.market.local(sec, now).date() - timedelta(days=count * 7 + 7)
    bars = state.market.klines(sec, kl_type, now, first)[-count:]
    return {**_name(sec), "klList": [_bar_wire(sec, b) for b in bars]}


def get_rt(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetRT (3008): today's time-sharing minutes."""
    sec = _security(state, _req(c2s, "security"))
    _need_sub(state, conn, sec, SubType.RT_DATA)
    points = state.market.rt(sec, state.clock.now())
    return {
        **_name(sec),
        "rtList": [
            {
                "time": p.time.strftime(_TIME),
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
    sec = _security(state, _req(c2s, "security"))
    count = _int(_req(c2s, "maxRetNum"), "maxRetNum")
    if count <= 0:
        raise SimError(f"maxRetNum must be positive, got {count}")
    _need_sub(state, conn, sec, SubType.TICKER)
    ticks = state.market.tickers(sec, state.clock.now(), min(count, MAX_BARS))
    return {
        **_name(sec),
        "tickerList": [
            {
                "time": _local(state, sec, tick.time),
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
    sec = _security(state, _req(c2s, "security"))
    levels = _int(_req(c2s, "num"), "num")
    if levels <= 0:
        raise SimError(f"num must be positive, got {levels}")
    _need_sub(state, conn, sec, SubType.ORDER_BOOK)
    now = state.clock.now()
    asks, bids = state.market.book(sec, now, min(levels, 10))
    when = _local(state, sec, now)

    def side(rows: list[tuple[float, int, int]]) -> list[dict[str, Any]]:
        return [{"price": p, "volume": str(v), "orederCount": n} for p, v, n in rows]

    return {
        **_name(sec),
        "orderBookAskList": side(asks),
        "orderBookBidList": side(bids),
        "svrRecvTimeBid": when,
        "svrRecvTimeBidTimestamp": _stamp(now),
        "svrRecvTimeAsk": when,
        "svrRecvTimeAskTimestamp": _stamp(now),
    }


def get_broker(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetBroker (3014): HK broker queues on the best three levels."""
    sec = _security(state, _req(c2s, "security"))
    if sec.security.market is not QotMarket.HK:
        raise SimError(f"Broker queue is only available for HK securities ({sec.code})")
    _need_sub(state, conn, sec, SubType.BROKER)
    asks, bids = state.market.brokers(sec, state.clock.now())

    def side(rows: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
        return [{"id": str(i), "name": n, "pos": p} for i, n, p in rows]

    return {**_name(sec), "brokerAskList": side(asks), "brokerBidList": side(bids)}


def _parse_time(text: str, sec: SimSecurity, *, end: bool) -> datetime:
    tz = MARKET_TZ[sec.security.market]
    for fmt, is_date in (("%Y-%m-%d %H:%M:%S", False), ("%Y-%m-%d", True)):
        try:
            parsed = datetime.strptime(text.strip(), fmt).replace(tzinfo=tz)
        except ValueError:
            continue
        if is_date and end:
            parsed += timedelta(days=1, seconds=-1)
        return parsed
    raise SimError(f"invalid time {text!r}: use yyyy-MM-dd or yyyy-MM-dd HH:mm:ss")


def request_history_kl(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_RequestHistoryKL (3103): bars in a time range, paged with an opaque nextReqKey."""
    kl_type = _kl_type(c2s)
    sec = _security(state, _req(c2s, "security"))
    begin = _parse_time(str(_req(c2s, "beginTime")), sec, end=False)
    end = _parse_time(str(_req(c2s, "endTime")), sec, end=True)
    if end < begin:
        raise SimError("endTime is before beginTime")
    limit = _int(c2s.get("maxAckKLNum", MAX_BARS), "maxAckKLNum")
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
    flags = _int(c2s.get("needKLFieldsFlag", 0), "needKLFieldsFlag")
    s2c: dict[str, Any] = {
        **_name(sec),
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
                **_name(state.securities[code]),
                "requestTime": _local(state, state.securities[code], at),
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


def _static(sec: SimSecurity) -> dict[str, Any]:
    return {
        "basic": {
            "security": _wire_sec(sec),
            "id": str(sec.sec_id),
            "lotSize": sec.lot_size,
            "secType": int(sec.sec_type),
            "name": sec.name,
            "listTime": sec.list_date.isoformat(),
            "delisting": False,
            "listTimestamp": _midnight_stamp(sec, sec.list_date),
        }
    }


def get_market_state(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetMarketState (3223): the session state of each security's market."""
    return {
        "marketInfoList": [
            {
                "security": _wire_sec(sec),
                "name": sec.name,
                "marketState": MARKET_STATE[sec.security.market],
            }
            for sec in _securities(state, c2s)
        ]
    }


def get_static_info(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetStaticInfo (3202): by securityList, else by market and security type."""
    if c2s.get("securityList"):
        chosen = _securities(state, c2s)
    else:
        market = _int(c2s.get("market", 0), "market")
        sec_type = _int(c2s.get("secType", 0), "secType")
        chosen = [
            s
            for s in state.securities.values()
            if int(s.security.market) == market and (not sec_type or int(s.sec_type) == sec_type)
        ]
    return {"staticInfoList": [_static(s) for s in chosen]}


def get_security_snapshot(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetSecuritySnapshot (3203): quote, book top and fundamentals, no subscription needed."""
    securities = _securities(state, c2s)
    if not securities:
        raise SimError("invalid request: securityList must not be empty")
    if len(securities) > MAX_SNAPSHOT_CODES:
        raise SimError(f"Too many securities: at most {MAX_SNAPSHOT_CODES} per request")
    now = state.clock.now()
    return {"snapshotList": [_snapshot(state, sec, now) for sec in securities]}


def _snapshot(state: SimState, sec: SimSecurity, now: float) -> dict[str, Any]:
    day = state.market.day_so_far(sec, now)
    asks, bids = state.market.book(sec, now, 1)
    year_high, year_low = state.market.year_range(sec, now)
    elapsed = state.market.session_elapsed(sec, now)
    basic = {
        "security": _wire_sec(sec),
        "name": sec.name,
        "type": int(sec.sec_type),
        "isSuspend": False,
        "listTime": sec.list_date.isoformat(),
        "lotSize": sec.lot_size,
        "priceSpread": float(tick_size(sec.security.market, day.price)),
        "updateTime": _local(state, sec, now),
        "highPrice": day.high,
        "openPrice": day.open,
        "lowPrice": day.low,
        "lastClosePrice": day.last_close,
        "curPrice": day.price,
        "volume": str(day.volume),
        "turnover": round(day.turnover, 2),
        "turnoverRate": round(day.volume / sec.shares_outstanding * 100, 3),
        "listTimestamp": _midnight_stamp(sec, sec.list_date),
        "updateTimestamp": _stamp(now),
        "askPrice": asks[0][0],
        "bidPrice": bids[0][0],
        "askVol": str(asks[0][1]),
        "bidVol": str(bids[0][1]),
        "amplitude": round((day.high - day.low) / day.last_close * 100, 3),
        "avgPrice": round(day.turnover / day.volume, 3) if day.volume else day.price,
        "volumeRatio": round(day.volume / (sec.avg_volume * max(elapsed, 1e-3)), 3),
        "bidAskRatio": round((bids[0][1] - asks[0][1]) / (bids[0][1] + asks[0][1]) * 100, 3),
        "highest52WeeksPrice": year_high,
        "lowest52WeeksPrice": year_low,
        "secStatus": 1,
    }
    snapshot: dict[str, Any] = {"basic": basic}
    if sec.sec_type is SecurityType.STOCK:
        eps = _eps(sec)
        market_cap = day.price * sec.shares_outstanding
        nav_per_share = sec.base_price / 3
        snapshot["equityExData"] = {
            "issuedShares": str(sec.shares_outstanding),
            "issuedMarketVal": round(market_cap, 2),
            "netAsset": round(nav_per_share * sec.shares_outstanding, 2),
            "netProfit": round(eps * sec.shares_outstanding, 2),
            "earningsPershare": round(eps, 4),
            "outstandingShares": str(sec.shares_outstanding),
            "outstandingMarketVal": round(market_cap, 2),
            "netAssetPershare": round(nav_per_share, 4),
            "eyRate": round(eps / day.price * 100, 3),
            "peRate": round(day.price / eps, 3),
            "pbRate": round(day.price / nav_per_share, 3),
            "peTTMRate": round(day.price / eps, 3),
            "dividendTTM": round(eps * 0.3, 4),
            "dividendRatioTTM": round(eps * 0.3 / day.price * 100, 3),
            "dividendLFY": round(eps * 0.3, 4),
            "dividendLFYRatio": round(eps * 0.3 / day.price * 100, 3),
        }
    return snapshot


def get_plate_set(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetPlateSet (3204): the plates of a market, by kind (0 = all)."""
    market = _int(_req(c2s, "market"), "market")
    kind = _int(_req(c2s, "plateSetType"), "plateSetType")
    try:
        plate_market = PLATE_MARKETS[QotMarket(market)]
        kind_enum = Plate(kind)
    except (ValueError, KeyError):
        raise SimError(f"Unsupported market {market} or plateSetType {kind}") from None
    plates = [
        {
            "plate": {"market": int(p.security.market), "code": p.security.code},
            "name": p.name,
            "plateType": int(p.plate_type),
        }
        for p in state.plates.values()
        if p.security.market is plate_market and kind_enum in (Plate.ALL, p.plate_type)
    ]
    return {"plateInfoList": plates}


_SORT_KEYS: dict[int, Callable[[SimState, SimSecurity, float], Any]] = {
    1: lambda state, sec, now: sec.code,
    2: lambda state, sec, now: state.market.last_price(sec, now),
    10: lambda state, sec, now: state.market.day_so_far(sec, now).volume,
    11: lambda state, sec, now: state.market.day_so_far(sec, now).turnover,
}


def get_plate_security(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetPlateSecurity (3205): a plate's members as static info, sorted as asked."""
    plate_obj = _req(c2s, "plate")
    if not isinstance(plate_obj, dict):
        raise SimError("invalid request: plate must be a security")
    market = _int(plate_obj.get("market"), "plate.market")
    code = str(plate_obj.get("code", ""))
    try:
        key = f"{PLATE_MARKETS[QotMarket(market)].name}.{code}"
    except (ValueError, KeyError):
        raise SimError(f"Unknown plate {market}.{code}") from None
    plate = state.plates.get(key)
    if plate is None:
        raise SimError(f"Unknown plate {key}")
    members = [state.securities[m] for m in plate.members]
    sort_key = _SORT_KEYS.get(_int(c2s.get("sortField", 1), "sortField"), _SORT_KEYS[1])
    now = state.clock.now()
    members.sort(key=lambda s: sort_key(state, s, now), reverse=c2s.get("ascend") is False)
    return {"staticInfoList": [_static(s) for s in members]}


# --- trade ----------------------------------------------------------------------------------


def _header(c2s: dict[str, Any]) -> dict[str, Any]:
    header = _req(c2s, "header")
    if not isinstance(header, dict):
        raise SimError("invalid request: header must be a TrdHeader")
    return header


def _account(state: SimState, c2s: dict[str, Any]) -> tuple[Account, dict[str, Any]]:
    header = _header(c2s)
    acc_id = _int(_req(header, "accID"), "header.accID")
    env = _int(_req(header, "trdEnv"), "header.trdEnv")
    market = _int(_req(header, "trdMarket"), "header.trdMarket")
    try:
        account = state.trading.account(acc_id, env, market)
    except TradeError as exc:
        raise SimError(str(exc)) from None
    echo = {"trdEnv": env, "accID": str(acc_id), "trdMarket": market}
    return account, echo


def _refresh_limit(state: SimState, proto: int, account: Account, c2s: dict[str, Any]) -> None:
    if not c2s.get("refreshCache"):
        return
    window = state.refresh_windows.setdefault(
        (proto, account.acc_id), RateWindow(10, 30.0, 0.0, "refreshCache requests per account")
    )
    try:
        window.check(state.clock.monotonic())
    except LimitExceeded as exc:
        raise SimError(str(exc)) from None


def get_acc_list(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetAccList (2001): one real and one simulate securities account per market."""
    category = _int(c2s.get("trdCategory", 0), "trdCategory")
    if category not in (0, 1):
        return {"accList": []}
    accounts = []
    for account in state.trading.accounts.values():
        item: dict[str, Any] = {
            "trdEnv": int(account.env),
            "accID": str(account.acc_id),
            "trdMarketAuthList": [int(m) for m in account.markets],
            "accType": 1,
            "accStatus": 0,
        }
        if account.env is TrdEnv.REAL:
            item.update(
                cardNum=account.card_num, uniCardNum=account.card_num, securityFirm=1, accRole=1
            )
        else:
            item.update(simAccType=1)
        accounts.append(item)
    return {"accList": accounts}


def unlock_trade(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_UnlockTrade (2005): unlock (or lock) real trading for the whole gateway."""
    try:
        state.unlock_window.check(state.clock.monotonic())
    except LimitExceeded as exc:
        raise SimError(str(exc)) from None
    if not bool(_req(c2s, "unlock")):
        state.unlocked = False
        return {}
    pwd_md5 = c2s.get("pwdMD5")
    if not pwd_md5:
        raise SimError("Unlock failed: pwdMD5 (the MD5 of the trade password) is required")
    if not state.password_matches(str(pwd_md5)):
        raise SimError("Unlock failed: the trade password is incorrect")
    state.unlocked = True
    return {}


def sub_acc_push(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_SubAccPush (2008): the full list of accounts whose order and fill updates this
    connection receives (Trd_UpdateOrder, Trd_UpdateOrderFill)."""
    accounts = {_int(raw, "accIDList") for raw in c2s.get("accIDList", [])}
    for acc_id in accounts:
        if acc_id not in state.trading.accounts:
            raise SimError(f"Nonexisting acc_id {acc_id}")
    conn.push_accounts = accounts
    return {}


def get_funds(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetFunds (2101): cash, buying power and market value, in the asked currency."""
    account, echo = _account(state, c2s)
    _refresh_limit(state, ProtoId.TRD_GET_FUNDS, account, c2s)
    now = state.clock.now()
    trading = state.trading
    trading.match(now)
    currency = account.currency
    if c2s.get("currency"):
        try:
            currency = Currency(_int(c2s["currency"], "currency"))
        except ValueError:
            raise SimError(f"Unknown currency {c2s['currency']}") from None
        if currency not in FX_TO_HKD:
            raise SimError(f"Unsupported currency {currency.name}")
    rate = FX_TO_HKD[account.currency] / FX_TO_HKD[currency]
    frozen = trading.frozen_cash(account)
    market_val = trading.market_value(account, now)
    unrealized = sum(
        p.qty * state.market.last_price(p.sec, now) - p.cost_total
        for p in account.positions.values()
        if p.qty
    )
    realized = sum(p.realized_pl for p in account.positions.values())

    def money(value: float) -> float:
        return round(value * rate, 2)

    power = account.cash - frozen
    return {
        "header": echo,
        "funds": {
            "power": money(power),
            "totalAssets": money(account.cash + market_val),
            "cash": money(account.cash),
            "marketVal": money(market_val),
            "frozenCash": money(frozen),
            "debtCash": 0.0,
            "avlWithdrawalCash": money(power),
            "currency": int(currency),
            "availableFunds": money(power),
            "unrealizedPL": money(unrealized),
            "realizedPL": money(realized),
            "riskLevel": 0,
            "initialMargin": 0.0,
            "maintenanceMargin": 0.0,
            "maxPowerShort": 0.0,
            "netCashPower": money(power),
            "longMv": money(market_val),
            "shortMv": 0.0,
            "pendingAsset": 0.0,
            "maxWithdrawal": money(power),
            "securitiesAssets": money(account.cash + market_val),
            "cashInfoList": [
                {
                    "currency": int(account.currency),
                    "cash": round(account.cash, 2),
                    "availableBalance": round(power, 2),
                    "netCashPower": round(power, 2),
                }
            ],
        },
    }


def _filters(c2s: dict[str, Any]) -> dict[str, Any]:
    conditions = c2s.get("filterConditions") or {}
    if not isinstance(conditions, dict):
        raise SimError("invalid request: filterConditions must be an object")
    for name in ("beginTime", "endTime"):
        text = conditions.get(name)
        if text and not _valid_time(str(text)):
            raise SimError(f"invalid {name} {text!r}: use yyyy-MM-dd HH:mm:ss")
    return conditions


def _valid_time(text: str) -> bool:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            datetime.strptime(text.split(".")[0].strip(), fmt)
        except ValueError:
            continue
        return True
    return False


def _market_filter(conditions: dict[str, Any], sec: SimSecurity) -> bool:
    market = _int(conditions.get("filterMarket", 0), "filterMarket")
    if not market:
        return True
    allowed = {
        QotMarket.HK: {TrdMarket.HK},
        QotMarket.US: {TrdMarket.US},
        QotMarket.SH: {TrdMarket.CN, TrdMarket.HKCC},
        QotMarket.SZ: {TrdMarket.CN, TrdMarket.HKCC},
    }[sec.security.market]
    return market in allowed


def _code_filter(conditions: dict[str, Any], sec: SimSecurity) -> bool:
    codes = conditions.get("codeList") or []
    return not codes or sec.security.code in codes or sec.code in codes


def _position_wire(state: SimState, account: Account, p: Position, now: float) -> dict[str, Any]:
    price = state.market.last_price(p.sec, now)
    val = p.qty * price
    pl = val - p.cost_total
    cost = p.cost_price
    return {
        "positionID": str(p.position_id),
        "positionSide": 0,
        "code": p.sec.security.code,
        "name": p.sec.name,
        "qty": float(p.qty),
        "canSellQty": float(state.trading.can_sell(account, p.sec)),
        "price": price,
        "costPrice": round(cost, 4),
        "val": round(val, 2),
        "plVal": round(pl, 2),
        # A fraction (0.05 = 5%), unlike the quote side's percent fields: the SDK multiplies by 100.
        "plRatio": round(pl / p.cost_total, 6) if p.cost_total else 0.0,
        "secMarket": int(SEC_MARKET_OF[p.sec.security.market]),
        "td_plVal": round(p.td_sell_val - p.td_buy_val + (p.td_buy_qty - p.td_sell_qty) * price, 2),
        "td_trdVal": round(p.td_buy_val + p.td_sell_val, 2),
        "td_buyVal": round(p.td_buy_val, 2),
        "td_buyQty": float(p.td_buy_qty),
        "td_sellVal": round(p.td_sell_val, 2),
        "td_sellQty": float(p.td_sell_qty),
        "unrealizedPL": round(pl, 2),
        "realizedPL": round(p.realized_pl, 2),
        "currency": int(account.currency),
        "trdMarket": int(account.markets[0]),
        "dilutedCostPrice": round(cost, 4),
        "averageCostPrice": round(cost, 4),
        "averagePlRatio": round(pl / p.cost_total, 6) if p.cost_total else 0.0,
        "accID": str(account.acc_id),
    }


def get_position_list(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetPositionList (2102): holdings valued at the last price."""
    account, echo = _account(state, c2s)
    _refresh_limit(state, ProtoId.TRD_GET_POSITION_LIST, account, c2s)
    now = state.clock.now()
    state.trading.match(now)
    conditions = _filters(c2s)
    ids = {_int(i, "idList") for i in conditions.get("idList") or []}
    low, high = c2s.get("filterPLRatioMin"), c2s.get("filterPLRatioMax")
    positions = []
    for p in account.positions.values():
        if (
            not p.qty
            or not _code_filter(conditions, p.sec)
            or not _market_filter(conditions, p.sec)
        ):
            continue
        if ids and p.position_id not in ids:
            continue
        wire = _position_wire(state, account, p, now)
        if (low is not None and wire["plRatio"] < float(low)) or (
            high is not None and wire["plRatio"] > float(high)
        ):
            continue
        positions.append(wire)
    return {"header": echo, "positionList": positions}


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
        "createTime": _ms_time(state, sec, order.create_time),
        "updateTime": _ms_time(state, sec, order.update_time),
        "fillQty": float(order.fill_qty),
        "fillAvgPrice": round(order.fill_avg_price, 4),
        "lastErrMsg": order.last_err,
        "secMarket": int(SEC_MARKET_OF[sec.security.market]),
        "createTimestamp": _stamp(order.create_time),
        "updateTimestamp": _stamp(order.update_time),
        "timeInForce": int(order.time_in_force),
        "fillOutsideRTH": False,
        "currency": int(account.currency),
        "trdMarket": int(account.markets[0]),
    }
    if order.remark:
        wire["remark"] = order.remark
    return wire


def _ms_time(state: SimState, sec: SimSecurity, t: float) -> str:
    return state.market.local(sec, t).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _time_filter(state: SimState, conditions: dict[str, Any], sec: SimSecurity, t: float) -> bool:
    when = state.market.local(sec, t)
    for name, is_end in (("beginTime", False), ("endTime", True)):
        text = conditions.get(name)
        if not text:
            continue
        bound = _parse_time(str(text).split(".")[0], sec, end=is_end)
        if (when > bound) if is_end else (when < bound):
            return False
    return True


def get_order_list(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetOrderList (2201): the account's orders, filtered as asked."""
    account, echo = _account(state, c2s)
    _refresh_limit(state, ProtoId.TRD_GET_ORDER_LIST, account, c2s)
    state.trading.match(state.clock.now())
    conditions = _filters(c2s)
    ids = {_int(i, "idList") for i in conditions.get("idList") or []}
    ids_ex = set(conditions.get("orderIDExList") or [])
    statuses = {_int(s, "filterStatusList") for s in c2s.get("filterStatusList") or []}
    orders = []
    for order in state.trading.orders.values():
        if order.acc_id != account.acc_id or order.status is OrderStatus.DELETED:
            continue
        if ids and order.order_id not in ids:
            continue
        if ids_ex and order.order_id_ex not in ids_ex:
            continue
        if statuses and int(order.status) not in statuses:
            continue
        if not (_code_filter(conditions, order.sec) and _market_filter(conditions, order.sec)):
            continue
        if not _time_filter(state, conditions, order.sec, order.create_time):
            continue
        orders.append(order_wire(state, account, order))
    return {"header": echo, "orderList": orders}


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
        "createTime": _ms_time(state, order.sec, deal.time),
        "secMarket": int(SEC_MARKET_OF[order.sec.security.market]),
        "createTimestamp": _stamp(deal.time),
        "updateTimestamp": _stamp(deal.time),
        "status": 0,
        "trdMarket": int(account.markets[0]),
    }
    if deal.counter_broker[0]:
        fill["counterBrokerID"] = deal.counter_broker[0]
        fill["counterBrokerName"] = deal.counter_broker[1]
    return fill


def get_order_fill_list(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetOrderFillList (2211): the account's fills."""
    account, echo = _account(state, c2s)
    _refresh_limit(state, ProtoId.TRD_GET_ORDER_FILL_LIST, account, c2s)
    state.trading.match(state.clock.now())
    conditions = _filters(c2s)
    ids = {_int(i, "idList") for i in conditions.get("idList") or []}
    fills = []
    for deal in state.trading.deals:
        order = deal.order
        if order.acc_id != account.acc_id or (ids and deal.fill_id not in ids):
            continue
        if not (_code_filter(conditions, order.sec) and _market_filter(conditions, order.sec)):
            continue
        if not _time_filter(state, conditions, order.sec, deal.time):
            continue
        fills.append(fill_wire(state, account, deal))
    return {"header": echo, "orderFillList": fills}


def get_max_trd_qtys(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetMaxTrdQtys (2111): how much the account could buy with its cash, or sell."""
    account, echo = _account(state, c2s)
    trading = state.trading
    now = state.clock.now()
    trading.match(now)
    try:
        sec = trading.security(
            account, str(_req(c2s, "code")), _int(c2s.get("secMarket", 0), "secMarket") or None
        )
    except TradeError as exc:
        raise SimError(str(exc)) from None
    price = _float(_req(c2s, "price"), "price") or 0.0
    if _int(_req(c2s, "orderType"), "orderType") == 2 or price <= 0:
        price = state.market.book(sec, now, 1)[0][0][0]  # a market buy pays the ask
    available = account.cash - trading.frozen_cash(account)
    lots = int(max(available, 0.0) // (price * sec.lot_size))
    return {
        "header": echo,
        "maxTrdQtys": {
            "maxCashBuy": float(lots * sec.lot_size),
            "maxCashAndMarginBuy": float(lots * sec.lot_size),
            "maxPositionSell": float(max(trading.can_sell(account, sec), 0)),
            "maxSellShort": 0.0,
            "maxBuyBack": 0.0,
        },
    }


def _packet_id(c2s: dict[str, Any], conn: ConnInfo) -> None:
    """OpenD's anti-replay gate for trade writes: packetID must carry this connection's connID
    (from InitConnect) and a serialNo not used before on it. The retMsg texts are the
    simulator's own; OpenD's wording is not documented."""
    packet = _req(c2s, "packetID")
    if not isinstance(packet, dict):
        raise SimError("invalid request: packetID must be a PacketID")
    conn_id = _int(_req(packet, "connID"), "packetID.connID")
    serial = _int(_req(packet, "serialNo"), "packetID.serialNo")
    if conn_id != conn.conn_id:
        raise SimError(
            f"Invalid packetID: connID {conn_id} is not the connID InitConnect gave this "
            "connection: request ignored"
        )
    if serial in conn.packet_serials:
        raise SimError(f"Duplicate packetID (connID {conn_id}, serialNo {serial}): request ignored")
    conn.packet_serials.add(serial)


def _float(value: Any, name: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SimError(f"invalid request: {name} must be a number") from None
    # Protobuf JSON reads "NaN" and "Infinity"; no order rule below can judge them.
    if not math.isfinite(number):
        raise SimError(f"invalid request: {name} must be a finite number")
    return number


def place_order(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_PlaceOrder (2202): validate, accept, fill what the book allows now."""
    _packet_id(c2s, conn)
    account, echo = _account(state, c2s)
    try:
        order = state.trading.place(
            account,
            unlocked=state.unlocked,
            code=str(_req(c2s, "code")),
            sec_market=_int(c2s.get("secMarket", 0), "secMarket") or None,
            side=_int(_req(c2s, "trdSide"), "trdSide"),
            order_type=_int(_req(c2s, "orderType"), "orderType"),
            qty=_float(_req(c2s, "qty"), "qty"),
            price=_float(c2s.get("price"), "price"),
            time_in_force=_int(c2s.get("timeInForce", 0), "timeInForce"),
            remark=str(c2s.get("remark", "")),
        )
    except TradeError as exc:
        raise SimError(str(exc)) from None
    return {"header": echo, "orderID": str(order.order_id), "orderIDEx": order.order_id_ex}


def modify_order(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_ModifyOrder (2205): change, cancel (op 2), disable, enable, delete; or cancel all."""
    _packet_id(c2s, conn)
    account, echo = _account(state, c2s)
    op = _int(_req(c2s, "modifyOrderOp"), "modifyOrderOp")
    order_id = _int(_req(c2s, "orderID"), "orderID")
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
            qty=_float(c2s.get("qty"), "qty"),
            price=_float(c2s.get("price"), "price"),
        )
    except TradeError as exc:
        raise SimError(str(exc)) from None
    return {"header": echo, "orderID": str(order.order_id), "orderIDEx": order.order_id_ex}


HANDLERS: dict[int, Handler] = {
    ProtoId.INIT_CONNECT: init_connect,
    ProtoId.GET_GLOBAL_STATE: get_global_state,
    ProtoId.KEEP_ALIVE: keep_alive,
    ProtoId.QOT_SUB: sub,
    ProtoId.QOT_GET_SUB_INFO: get_sub_info,
    ProtoId.QOT_GET_BASIC_QOT: get_basic_qot,
    ProtoId.QOT_GET_KL: get_kl,
    ProtoId.QOT_GET_RT: get_rt,
    ProtoId.QOT_GET_TICKER: get_ticker,
    ProtoId.QOT_GET_ORDER_BOOK: get_order_book,
    ProtoId.QOT_GET_BROKER: get_broker,
    ProtoId.QOT_REQUEST_HISTORY_KL: request_history_kl,
    ProtoId.QOT_GET_STATIC_INFO: get_static_info,
    ProtoId.QOT_GET_SECURITY_SNAPSHOT: get_security_snapshot,
    ProtoId.QOT_GET_PLATE_SET: get_plate_set,
    ProtoId.QOT_GET_PLATE_SECURITY: get_plate_security,
    ProtoId.TRD_GET_ACC_LIST: get_acc_list,
    ProtoId.TRD_UNLOCK_TRADE: unlock_trade,
    ProtoId.TRD_SUB_ACC_PUSH: sub_acc_push,
    ProtoId.TRD_GET_FUNDS: get_funds,
    ProtoId.TRD_GET_POSITION_LIST: get_position_list,
    ProtoId.TRD_GET_ORDER_LIST: get_order_list,
    ProtoId.TRD_GET_ORDER_FILL_LIST: get_order_fill_list,
    ProtoId.TRD_PLACE_ORDER: place_order,
    ProtoId.TRD_MODIFY_ORDER: modify_order,
    TRD_GET_MAX_TRD_QTYS: get_max_trd_qtys,
    TRD_GET_HISTORY_ORDER_LIST: get_order_list,
    TRD_GET_HISTORY_ORDER_FILL_LIST: get_order_fill_list,
    QOT_GET_MARKET_STATE: get_market_state,
    QOT_REQUEST_HISTORY_KL_QUOTA: request_history_kl_quota,
}


def respond(state: SimState, conn: ConnInfo, proto_id: int, c2s: dict[str, Any]) -> dict[str, Any]:
    """The full reply body for one request: success with s2c, or an OpenD-style error."""
    handler = HANDLERS.get(proto_id)
    if handler is None:
        return error_reply(f"Unknown protocol ID {proto_id}")
    if not state.logged_in and proto_id not in WITHOUT_LOGIN:
        return error_reply(NOT_LOGGED_IN)
    if not isinstance(c2s, dict):
        return error_reply("invalid request: c2s must be an object")
    try:
        if state.quote_windows:  # empty unless quote_limits is on
            _rate_check(state, proto_id, c2s)
        s2c = handler(state, conn, c2s)
    except SimError as exc:
        return error_reply(str(exc), exc.ret_type, exc.err_code)
    reply: dict[str, Any] = {"retType": 0, "retMsg": "", "errCode": 0}
    if s2c is not None:
        reply["s2c"] = s2c
    return reply


def _rate_check(state: SimState, proto_id: int, c2s: dict[str, Any]) -> None:
    """OpenD's quote request limits (with quote_limits on), counted at arrival like OpenD's:
    a request refused afterwards for a bad field still counts. The retMsg texts are the
    simulator's own; OpenD's exact wording is not documented."""
    window = state.quote_windows.get(proto_id)
    if window is None:
        return
    if proto_id == ProtoId.QOT_REQUEST_HISTORY_KL and c2s.get("nextReqKey"):
        return  # only a security's first page counts
    try:
        window.check(state.clock.monotonic())
    except LimitExceeded as exc:
        raise SimError(str(exc)) from None


def error_reply(message: str, ret_type: int = -1, err_code: int = 0) -> dict[str, Any]:
    """An error reply body as OpenD sends it: retType, retMsg, errCode and no s2c."""
    return {"retType": ret_type, "retMsg": message, "errCode": err_code}
