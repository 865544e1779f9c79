"""Request bodies (the `c2s` object) for every protocol the client sends, one small function each.

Kept apart from the network code so the conformance tests can validate every body against the
official schema: a misspelt field would be silently ignored by the real OpenD. int64/uint64
fields go out as strings (the protobuf JSON mapping), everything else as JSON numbers.
"""

import math
import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from opend.codes import SEC_MARKET_OF, QotMarket, Security, parse_code
from opend.enums import (
    AuType,
    CashFlowDirection,
    Currency,
    KLType,
    ModifyOrderOp,
    OrderStatus,
    OrderType,
    PacketEncAlgo,
    Plate,
    SecurityFirm,
    SecurityType,
    SubType,
    TimeInForce,
    TradeDateMarket,
    TrdSide,
)
from opend.framing import ProtoFmt
from opend.models import TrdAccount

Body = dict[str, Any]

CLIENT_VER = 300
MAX_KL_PAGE = 1000
MAX_TICKER = 1000
SNAPSHOT_BATCH = 400
_MD5_HEX = re.compile(r"[0-9a-f]{32}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_MARKET_STATE_CODES = 400
MAX_MARGIN_RATIO_CODES = 100
HISTORY_DAYS = 90


def _securities(codes: Sequence[Security]) -> list[Body]:
    return [c.to_wire() for c in codes]


def _bare_code(code: Security | str) -> str:
    """Trade filters take the code without its market: `HK.00700` → `00700`."""
    return (code if isinstance(code, Security) else parse_code(code)).code


def _positive(name: str, value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _non_negative(name: str, value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be zero or more, got {value!r}")
    return float(value)


def _count(name: str, value: int, limit: int) -> int:
    if not 1 <= value <= limit:
        raise ValueError(f"{name} must be between 1 and {limit}, got {value!r}")
    return int(value)


def init_connect(client_id: str, encrypt: bool) -> Body:
    """InitConnect: JSON pushes, notifications on, AES-CBC when an RSA key is configured."""
    return {
        "clientVer": CLIENT_VER,
        "clientID": client_id,
        "recvNotify": True,
        "packetEncAlgo": int(PacketEncAlgo.AES_CBC if encrypt else PacketEncAlgo.NONE),
        "pushProtoFmt": int(ProtoFmt.JSON),
        "programmingLanguage": "Python",
    }


def keep_alive(now: float) -> Body:
    """KeepAlive: our clock in epoch seconds."""
    return {"time": str(int(now))}


def get_global_state(user_id: int) -> Body:
    """GetGlobalState (userID is deprecated; the SDK sends loginUserID)."""
    return {"userID": str(user_id)}


def qot_sub(
    codes: Sequence[Security], sub_types: Sequence[SubType], subscribe: bool, *, push: bool = False
) -> Body:
    """Qot_Sub: subscribe or unsubscribe every (code, type) pair; `push` registers for the
    Qot_Update* pushes (the quote cache lives on them), otherwise push registration is dropped."""
    return {
        "securityList": _securities(codes),
        "subTypeList": [int(t) for t in sub_types],
        "isSubOrUnSub": subscribe,
        "isRegOrUnRegPush": push,
    }


def basic_qot(codes: Sequence[Security]) -> Body:
    """Qot_GetBasicQot."""
    return {"securityList": _securities(codes)}


def get_kl(code: Security, num: int, ktype: KLType, autype: AuType) -> Body:
    """Qot_GetKL: the latest `num` bars (≤1000) from the subscription."""
    return {
        "rehabType": int(autype),
        "klType": int(ktype),
        "security": code.to_wire(),
        "reqNum": _count("num", num, MAX_KL_PAGE),
    }


def _date_text(name: str, value: str) -> str:
    if not _DATE.fullmatch(value):
        raise ValueError(f"{name} must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, got {value!r}")
    return value


def _date_range(start: str | None, end: str | None, days: int) -> tuple[str, str]:
    """A request's (begin, end) texts; absent ones as the SDK fills them: `end` today, `start`
    `days` days before `end`."""
    end_text = _date_text("end", end) if end else date.today().isoformat()
    if start:
        return _date_text("start", start), end_text
    return (date.fromisoformat(end_text[:10]) - timedelta(days=days)).isoformat(), end_text


def request_history_kl(
    code: Security,
    start: str | None,
    end: str | None,
    ktype: KLType,
    autype: AuType,
    page_size: int,
    next_req_key: str | None = None,
) -> Body:
    """Qot_RequestHistoryKL: one page; `next_req_key` is echoed verbatim from the last page.

    Default range as the SDK: the 365 days up to `end` (today if absent).
    """
    start_text, end_text = _date_range(start, end, 365)
    body: Body = {
        "rehabType": int(autype),
        "klType": int(ktype),
        "security": code.to_wire(),
        "beginTime": start_text,
        "endTime": end_text,
        "maxAckKLNum": _count("max_count", page_size, MAX_KL_PAGE),
    }
    if next_req_key:
        body["nextReqKey"] = next_req_key
    return body


def order_book(code: Security, num: int) -> Body:
    """Qot_GetOrderBook: `num` levels per side."""
    return {"security": code.to_wire(), "num": _count("num", num, 50)}


def ticker(code: Security, num: int) -> Body:
    """Qot_GetTicker: the latest `num` trades (≤1000)."""
    return {"security": code.to_wire(), "maxRetNum": _count("num", num, MAX_TICKER)}


def rt(code: Security) -> Body:
    """Qot_GetRT: today's time-sharing data."""
    return {"security": code.to_wire()}


def broker(code: Security) -> Body:
    """Qot_GetBroker: the HK broker queue."""
    return {"security": code.to_wire()}


def snapshot(codes: Sequence[Security]) -> Body:
    """Qot_GetSecuritySnapshot: at most 400 codes per request (the client batches)."""
    if not 1 <= len(codes) <= SNAPSHOT_BATCH:
        raise ValueError(f"a snapshot request takes 1 to {SNAPSHOT_BATCH} codes, got {len(codes)}")
    return {"securityList": _securities(codes)}


def static_info(
    market: QotMarket | None, sec_type: SecurityType | None, codes: Sequence[Security] | None
) -> Body:
    """Qot_GetStaticInfo: by codes, or every security of a market and type."""
    if codes:
        return {"securityList": _securities(codes)}
    if market is None or sec_type is None:
        raise ValueError("give either codes, or both market and sec_type")
    return {"market": int(market), "secType": int(sec_type)}


def plate_set(market: QotMarket, plate_class: Plate) -> Body:
    """Qot_GetPlateSet: the plates of one kind in a market."""
    return {"market": int(market), "plateSetType": int(plate_class)}


def plate_security(plate: Security) -> Body:
    """Qot_GetPlateSecurity: the members of one plate (e.g. HK.BK1107)."""
    return {"plate": plate.to_wire()}


def acc_list(user_id: int) -> Body:
    """Trd_GetAccList: every account, universal securities accounts included (as the SDK)."""
    return {"userID": str(user_id), "needGeneralSecAccount": True}


def unlock_trade(unlock: bool, pwd_md5: str | None, security_firm: SecurityFirm | None) -> Body:
    """Trd_UnlockTrade. The MD5 must be 32 hex digits; it is never echoed in an error."""
    body: Body = {"unlock": unlock}
    if unlock:
        digest = (pwd_md5 or "").lower()
        if not _MD5_HEX.fullmatch(digest):
            raise ValueError("the trading password MD5 must be 32 hexadecimal characters")
        body["pwdMD5"] = digest
    if security_firm is not None:
        body["securityFirm"] = int(security_firm)
    return body


def funds(acc: TrdAccount, currency: Currency | None = None, refresh: bool = False) -> Body:
    """Trd_GetFunds (from OpenD's cache unless `refresh`, which is rate-limited)."""
    body: Body = {"header": acc.to_wire()}
    if currency is not None:
        body["currency"] = int(currency)
    if refresh:
        body["refreshCache"] = True
    return body


def _account_query(
    acc: TrdAccount, codes: Sequence[Security | str] = (), ids: Sequence[str | int] = ()
) -> Body:
    """A list query's body: the account header, plus filterConditions when anything is given."""
    body: Body = {"header": acc.to_wire()}
    conditions: Body = {}
    if codes:
        conditions["codeList"] = [_bare_code(c) for c in codes]
    if ids:
        conditions["idList"] = [str(int(i)) for i in ids]
    if conditions:
        body["filterConditions"] = conditions
    return body


def position_list(acc: TrdAccount, codes: Sequence[Security | str] = ()) -> Body:
    """Trd_GetPositionList, optionally only some codes."""
    return _account_query(acc, codes)


def order_list(
    acc: TrdAccount,
    order_ids: Sequence[str | int] = (),
    status: Sequence[OrderStatus] = (),
    codes: Sequence[Security | str] = (),
) -> Body:
    """Trd_GetOrderList: today's orders, optionally by id, status or code."""
    body = _account_query(acc, codes, order_ids)
    if status:
        body["filterStatusList"] = [int(s) for s in status]
    return body


def order_fill_list(acc: TrdAccount, codes: Sequence[Security | str] = ()) -> Body:
    """Trd_GetOrderFillList: today's fills, optionally only some codes."""
    return _account_query(acc, codes)


def packet_id(conn_id: int, serial: int) -> Body:
    """Common.PacketID: OpenD's anti-replay id; serialNo is the header serial."""
    return {"connID": str(conn_id), "serialNo": serial}


def place_order(
    packet: Body,
    acc: TrdAccount,
    code: Security,
    trd_side: TrdSide,
    order_type: OrderType,
    qty: float,
    price: float,
    remark: str | None = None,
    time_in_force: TimeInForce = TimeInForce.DAY,
) -> Body:
    """Trd_PlaceOrder. Only BUY and SELL may be sent; remark is at most 64 bytes of UTF-8."""
    if trd_side not in (TrdSide.BUY, TrdSide.SELL):
        raise ValueError(f"trd_side must be BUY or SELL, got {TrdSide(trd_side).name}")
    if order_type is OrderType.NONE:
        raise ValueError("order_type must be given")
    body: Body = {
        "packetID": packet,
        "header": acc.to_wire(),
        "trdSide": int(trd_side),
        "orderType": int(order_type),
        "code": code.code,
        "qty": _positive("qty", qty),
        "price": _non_negative("price", price),
        "secMarket": int(SEC_MARKET_OF[code.market]),
        "timeInForce": int(time_in_force),
    }
    if remark:
        if len(remark.encode("utf-8")) > 64:
            raise ValueError("remark must be at most 64 bytes of UTF-8")
        body["remark"] = remark
    return body


def modify_order(
    packet: Body,
    acc: TrdAccount,
    order_id: str,
    op: ModifyOrderOp,
    qty: float | None = None,
    price: float | None = None,
) -> Body:
    """Trd_ModifyOrder: change (NORMAL: new total qty and price) or cancel one order.

    A numeric id goes in orderID; anything else is an orderIDEx (server order id) with orderID 0.
    """
    if op is ModifyOrderOp.NONE:
        raise ValueError("op must be given")
    text = str(order_id).strip()
    if not text:
        raise ValueError("order_id must be given")
    body: Body = {"packetID": packet, "header": acc.to_wire(), "modifyOrderOp": int(op)}
    if text.isdigit():
        body["orderID"] = text
    else:
        body["orderID"] = "0"
        body["orderIDEx"] = text
    body["forAll"] = False
    if op is ModifyOrderOp.NORMAL:
        if qty is None or price is None:
            raise ValueError("a modify needs both qty (the new total) and price")
        body["qty"] = _positive("qty", qty)
        # OpenD does not read a price of 0 as "unchanged": a normal modify needs the new price.
        body["price"] = _positive("price", price)
    return body


def market_state(codes: Sequence[Security]) -> Body:
    """Qot_GetMarketState: the market state of 1 to 400 codes."""
    _count("number of codes", len(codes), MAX_MARKET_STATE_CODES)
    return {"securityList": _securities(codes)}


_TRADE_DATE_MARKET = {
    QotMarket.HK: TradeDateMarket.HK,
    QotMarket.US: TradeDateMarket.US,
    QotMarket.SH: TradeDateMarket.CN,
    QotMarket.SZ: TradeDateMarket.CN,
}


# OpenD serves trading days from 1 January ten years back to 31 December of the current year.
TRADE_DATE_YEARS_BACK = 10


def trade_date_span(today: date) -> tuple[date, date]:
    """The first and last day Qot_RequestTradeDate answers for when it is `today` where the
    calendar's market is: 1 January ten years back, and 31 December of this year."""
    return date(today.year - TRADE_DATE_YEARS_BACK, 1, 1), date(today.year, 12, 31)


def trade_date(
    market: TradeDateMarket | None,
    start: str | None = None,
    end: str | None = None,
    code: Security | None = None,
) -> Body:
    """Qot_RequestTradeDate: trading days of a market, or of a code's market (OpenD then ignores
    `market`); by default the 365 days up to today, as the SDK."""
    if code is not None:
        market = market or _TRADE_DATE_MARKET.get(code.market)
    if not market:
        raise ValueError("give a market (HK, US, CN, NT, ST...) or a code")
    start_text, end_text = _date_range(start, end, 365)
    body: Body = {"market": int(market), "beginTime": start_text, "endTime": end_text}
    if code is not None:
        body["security"] = code.to_wire()
    return body


def _history_window(start: str | None, end: str | None) -> Body:
    """filterConditions of a history query: whole days (start 00:00:00, end 23:59:59 when only
    a date is given), by default the 90 days up to today, as the SDK."""
    start_text, end_text = _date_range(start, end, HISTORY_DAYS)
    if len(start_text) == 10:
        start_text += " 00:00:00"
    if len(end_text) == 10:
        end_text += " 23:59:59"
    if start_text > end_text:
        raise ValueError(f"start {start_text} is after end {end_text}")
    return {"beginTime": start_text, "endTime": end_text}


def history_order_list(
    acc: TrdAccount,
    start: str | None = None,
    end: str | None = None,
    status: Sequence[OrderStatus] = (),
    codes: Sequence[Security | str] = (),
) -> Body:
    """Trd_GetHistoryOrderList: orders created in a date range, optionally by status or code."""
    conditions = _history_window(start, end)
    if codes:
        conditions["codeList"] = [_bare_code(c) for c in codes]
    body: Body = {"header": acc.to_wire(), "filterConditions": conditions}
    if status:
        body["filterStatusList"] = [int(s) for s in status]
    return body


def history_order_fill_list(
    acc: TrdAccount,
    start: str | None = None,
    end: str | None = None,
    codes: Sequence[Security | str] = (),
) -> Body:
    """Trd_GetHistoryOrderFillList: fills in a date range, optionally by code."""
    conditions = _history_window(start, end)
    if codes:
        conditions["codeList"] = [_bare_code(c) for c in codes]
    return {"header": acc.to_wire(), "filterConditions": conditions}


def max_trd_qtys(
    acc: TrdAccount,
    order_type: OrderType,
    code: Security,
    price: float,
    order_id: str | None = None,
) -> Body:
    """Trd_GetMaxTrdQtys: how much an order of this type and price could buy or sell. OpenD
    wants a price even for a market order, which has none: 0 is sent for it, and OpenD works
    from the market. With `order_id`, for modifying that order."""
    if order_type is OrderType.NONE:
        raise ValueError("order_type must be given")
    check = _non_negative if order_type is OrderType.MARKET else _positive
    body: Body = {
        "header": acc.to_wire(),
        "orderType": int(order_type),
        "code": code.code,
        "price": check("price", price),
        "secMarket": int(SEC_MARKET_OF[code.market]),
        "adjustPrice": False,
    }
    if order_id:
        text = str(order_id).strip()
        if text.isdigit():
            body["orderID"] = text
        else:
            body["orderIDEx"] = text
    return body


def order_fee(acc: TrdAccount, order_ids_ex: Sequence[str]) -> Body:
    """Trd_GetOrderFee: the fees of orders named by their orderIDEx (server order id)."""
    ids = [str(i).strip() for i in order_ids_ex]
    if not ids or not all(ids):
        raise ValueError("give at least one order id (orderIDEx), none empty")
    return {"header": acc.to_wire(), "orderIdExList": ids}


def margin_ratio(acc: TrdAccount, codes: Sequence[Security]) -> Body:
    """Trd_GetMarginRatio: margin data of 1 to 100 codes."""
    _count("number of codes", len(codes), MAX_MARGIN_RATIO_CODES)
    return {"header": acc.to_wire(), "securityList": _securities(codes)}


def flow_summary(
    acc: TrdAccount, clearing_date: str, direction: CashFlowDirection = CashFlowDirection.NONE
) -> Body:
    """Trd_FlowSummary: the cash movements of one clearing day (yyyy-MM-dd)."""
    if not _DAY.fullmatch(clearing_date):
        raise ValueError(f"clearing_date must be YYYY-MM-DD, got {clearing_date!r}")
    return {
        "header": acc.to_wire(),
        "clearingDate": clearing_date,
        "cashFlowDirection": int(direction),
    }


# ---- derivatives, research, watchlists ------------------------------------------------------

MAX_OPTION_CHAIN_DAYS = 30
MAX_WARRANT_PAGE = 200
MAX_FILTER_PAGE = 200
MAX_OWNER_PLATE_CODES = 200
MAX_FUTURE_INFO_CODES = 200


def option_expiration_date(owner: Security) -> Body:
    """Qot_GetOptionExpirationDate: the expiries of an underlying's (non-index-mini) options."""
    return {"owner": owner.to_wire(), "indexOptionType": 1}


def option_chain(
    owner: Security,
    begin: date,
    end: date,
    option_type: int = 0,
    condition: int = 0,
    data_filter: dict[str, float] | None = None,
) -> Body:
    """Qot_GetOptionChain: series expiring from `begin` to `end` (OpenD allows 30 days at most);
    type 0 all / 1 call / 2 put, condition 0 all / 1 in / 2 out of the money; `data_filter`
    holds the greeks ranges by their .proto names (`deltaMin`, `impliedVolatilityMax`, ...)."""
    if end < begin:
        raise ValueError("end is before begin")
    if (end - begin).days > MAX_OPTION_CHAIN_DAYS:
        raise ValueError(f"an option chain spans at most {MAX_OPTION_CHAIN_DAYS} days of expiries")
    if option_type not in (0, 1, 2) or condition not in (0, 1, 2):
        raise ValueError("option_type and condition must be 0, 1 or 2")
    body: Body = {
        "owner": owner.to_wire(),
        "beginTime": begin.isoformat(),
        "endTime": end.isoformat(),
        "indexOptionType": 1,
        "type": option_type,
        "condition": condition,
    }
    if data_filter:
        body["dataFilter"] = {k: float(v) for k, v in data_filter.items()}
    return body


def warrant(
    owner: Security | None,
    begin: int = 0,
    num: int = MAX_WARRANT_PAGE,
    sort_field: int = 1,
    ascend: bool = True,
    types: Sequence[int] = (),
    issuers: Sequence[int] = (),
) -> Body:
    """Qot_GetWarrant: a page of HK warrants and CBBCs (of one underlying when given)."""
    if begin < 0:
        raise ValueError(f"begin must be zero or more, got {begin!r}")
    body: Body = {
        "begin": int(begin),
        "num": _count("num", num, MAX_WARRANT_PAGE),
        "sortField": int(sort_field),
        "ascend": bool(ascend),
    }
    if owner is not None:
        body["owner"] = owner.to_wire()
    if types:
        body["typeList"] = [int(t) for t in types]
    if issuers:
        body["issuerList"] = [int(i) for i in issuers]
    return body


def future_info(codes: Sequence[Security]) -> Body:
    """Qot_GetFutureInfo: contract terms of up to 200 futures."""
    _count("number of codes", len(codes), MAX_FUTURE_INFO_CODES)
    return {"securityList": _securities(codes)}


def reference(code: Security, reference_type: int) -> Body:
    """Qot_GetReference: an underlying's warrants (1) or a main contract's months (2)."""
    if reference_type not in (1, 2):
        raise ValueError("reference_type must be 1 (warrants) or 2 (futures)")
    return {"security": code.to_wire(), "referenceType": reference_type}


def capital_flow(
    code: Security, period_type: int = 1, begin: date | None = None, end: date | None = None
) -> Body:
    """Qot_GetCapitalFlow: intraday (1), or by day (2), week (3) or month (4) over a window."""
    if period_type not in (1, 2, 3, 4):
        raise ValueError("period_type must be 1 (intraday), 2 (day), 3 (week) or 4 (month)")
    body: Body = {"security": code.to_wire(), "periodType": period_type}
    if period_type != 1:
        if begin is not None:
            body["beginTime"] = begin.isoformat()
        if end is not None:
            body["endTime"] = end.isoformat()
    return body


def capital_distribution(code: Security) -> Body:
    """Qot_GetCapitalDistribution: today's inflow and outflow by order size."""
    return {"security": code.to_wire()}


def owner_plate(codes: Sequence[Security]) -> Body:
    """Qot_GetOwnerPlate: the plates of up to 200 securities."""
    _count("number of codes", len(codes), MAX_OWNER_PLATE_CODES)
    return {"securityList": _securities(codes)}


def ipo_list(market: QotMarket) -> Body:
    """Qot_GetIpoList: a market's IPOs (SH and SZ both mean A-shares)."""
    return {"market": int(market)}


_FILTER_LISTS = {
    "base": "baseFilterList",
    "accumulate": "accumulateFilterList",
    "financial": "financialFilterList",
}


def stock_filter(
    market: QotMarket,
    conditions: Sequence[Body],
    plate: Security | None = None,
    begin: int = 0,
    num: int = MAX_FILTER_PAGE,
) -> Body:
    """Qot_StockFilter: `conditions` are dicts with `kind` (base, accumulate, financial),
    `field` (the StockField/AccumulateField/FinancialField number), optional `min`, `max`,
    `sort` (1 ascending, 2 descending), and `days` or `quarter` for the last two kinds; a
    condition with neither bound only shows its figure."""
    if begin < 0:
        raise ValueError(f"begin must be zero or more, got {begin!r}")
    body: Body = {
        "begin": int(begin),
        "num": _count("num", num, MAX_FILTER_PAGE),
        "market": int(market),
    }
    if plate is not None:
        body["plate"] = plate.to_wire()
    for condition in conditions:
        kind = condition.get("kind", "base")
        if kind not in _FILTER_LISTS:
            raise ValueError(f"unknown filter kind {kind!r}: use base, accumulate or financial")
        item: Body = {"fieldName": int(condition["field"])}
        low, high = condition.get("min"), condition.get("max")
        if low is not None:
            item["filterMin"] = float(low)
        if high is not None:
            item["filterMax"] = float(high)
        item["isNoFilter"] = low is None and high is None
        if condition.get("sort"):
            item["sortDir"] = int(condition["sort"])
        if kind == "accumulate":
            item["days"] = _count("days", int(condition.get("days", 1)), 250)
        if kind == "financial":
            item["quarter"] = int(condition.get("quarter", 1))
        body.setdefault(_FILTER_LISTS[kind], []).append(item)
    return body


def rehab(code: Security) -> Body:
    """Qot_RequestRehab: a security's corporate actions and adjustment factors."""
    return {"security": code.to_wire()}


def user_security_group(group_type: int = 3) -> Body:
    """Qot_GetUserSecurityGroup: custom (1), system (2) or all (3) watchlist groups."""
    if group_type not in (1, 2, 3):
        raise ValueError("group_type must be 1 (custom), 2 (system) or 3 (all)")
    return {"groupType": group_type}


def user_security(group_name: str) -> Body:
    """Qot_GetUserSecurity: the securities of one watchlist group."""
    if not group_name:
        raise ValueError("give a group name")
    return {"groupName": group_name}


def price_reminder(code: Security | None = None, market: QotMarket | None = None) -> Body:
    """Qot_GetPriceReminder: one security's reminders, or a market's (the code wins)."""
    if code is not None:
        return {"security": code.to_wire()}
    if market is not None:
        return {"market": int(market)}
    raise ValueError("give a code or a market")
