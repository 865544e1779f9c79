"""Every body we send validates against the official schema; every reader understands official JSON.

A misspelt request field would be silently ignored by the real OpenD, and a misspelt response
field would silently read as None, so both directions are checked against the futu-api pb2
classes: requests with `json_format.Parse` + `IsInitialized()`, responses by rendering a fully
populated official Response with `MessageToJson` and requiring every model field to be filled.
"""

import base64
import contextlib
import dataclasses
import importlib
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import example, given, settings
from hypothesis import strategies as st

from opend import c2s, s2c
from opend.client import read_reply
from opend.codes import QotMarket, TrdMarket, parse_code
from opend.connection import decode_reply, encode_body
from opend.enums import (
    AuType,
    CashFlowDirection,
    Currency,
    KLType,
    ModifyOrderOp,
    OrderStatus,
    OrderType,
    Plate,
    ProgramStatusType,
    SecurityFirm,
    SecurityType,
    SubType,
    TimeInForce,
    TradeDateMarket,
    TrdEnv,
    TrdSide,
)
from opend.errors import ProtocolError
from opend.models import (
    BrokerQueue,
    Funds,
    GlobalState,
    InitInfo,
    Model,
    ModifiedOrder,
    OrderBook,
    PlacedOrder,
    TrdAccount,
)
from opend.pbschema import pb_module
from opend.protoids import ProtoId
from opend.researchmodels import CapitalDistribution, FilterPage, WarrantPage
from opend.wire import enum_name

HK = parse_code("HK.00700")
US = parse_code("US.AAPL")
SH = parse_code("SH.600519")
PLATE = parse_code("HK.BK1107")
ACC = TrdAccount(TrdEnv.REAL, 281756479345015383, TrdMarket.HK)
PACKET = c2s.packet_id(7143839420431376387, 1001)
NEXT_KEY = base64.b64encode(b"\x00\x01page-2").decode()

# Every request body the client can build, by protocol: (name, body).
REQUESTS: list[tuple[int, str, dict[str, Any]]] = [
    (ProtoId.INIT_CONNECT, "plain", c2s.init_connect("futu-mcp", encrypt=False)),
    (ProtoId.INIT_CONNECT, "encrypted", c2s.init_connect("futu-mcp", encrypt=True)),
    (ProtoId.KEEP_ALIVE, "keepalive", c2s.keep_alive(1764140000.7)),
    (ProtoId.GET_GLOBAL_STATE, "state", c2s.get_global_state(18446744073709551615)),
    (ProtoId.QOT_SUB, "sub", c2s.qot_sub([HK, US], [SubType.QUOTE, SubType.K_DAY], True)),
    (ProtoId.QOT_SUB, "unsub", c2s.qot_sub([HK], [SubType.BROKER], False)),
    (ProtoId.QOT_SUB, "sub with push", c2s.qot_sub([HK, US], [SubType.QUOTE], True, push=True)),
    (ProtoId.QOT_GET_BASIC_QOT, "quote", c2s.basic_qot([HK, US, SH])),
    (ProtoId.QOT_GET_KL, "kl", c2s.get_kl(HK, 100, KLType.K_5M, AuType.QFQ)),
    (
        ProtoId.QOT_REQUEST_HISTORY_KL,
        "history first page",
        c2s.request_history_kl(HK, "2025-01-01", "2025-06-30", KLType.K_DAY, AuType.NONE, 1000),
    ),
    (
        ProtoId.QOT_REQUEST_HISTORY_KL,
        "history next page",
        c2s.request_history_kl(
            US, None, "2025-06-30 16:00:00", KLType.K_1M, AuType.HFQ, 10, NEXT_KEY
        ),
    ),
    (ProtoId.QOT_GET_ORDER_BOOK, "book", c2s.order_book(HK, 10)),
    (ProtoId.QOT_GET_TICKER, "ticker", c2s.ticker(HK, 1000)),
    (ProtoId.QOT_GET_RT, "rt", c2s.rt(US)),
    (ProtoId.QOT_GET_BROKER, "broker", c2s.broker(HK)),
    (ProtoId.QOT_GET_SECURITY_SNAPSHOT, "snapshot", c2s.snapshot([HK] * 400)),
    (ProtoId.QOT_GET_STATIC_INFO, "static by codes", c2s.static_info(None, None, [HK, SH])),
    (
        ProtoId.QOT_GET_STATIC_INFO,
        "static by market",
        c2s.static_info(QotMarket.US, SecurityType.ETF, None),
    ),
    (ProtoId.QOT_GET_PLATE_SET, "plates", c2s.plate_set(QotMarket.HK, Plate.CONCEPT)),
    (ProtoId.QOT_GET_PLATE_SECURITY, "plate stocks", c2s.plate_security(PLATE)),
    (ProtoId.TRD_GET_ACC_LIST, "accounts", c2s.acc_list(12345678)),
    (
        ProtoId.TRD_UNLOCK_TRADE,
        "unlock",
        c2s.unlock_trade(True, "E10ADC3949BA59ABBE56E057F20F883E", SecurityFirm.FUTUSECURITIES),
    ),
    (ProtoId.TRD_UNLOCK_TRADE, "lock", c2s.unlock_trade(False, None, None)),
    (ProtoId.TRD_GET_FUNDS, "funds", c2s.funds(ACC, Currency.HKD, refresh=True)),
    (ProtoId.TRD_GET_FUNDS, "funds cached", c2s.funds(ACC)),
    (ProtoId.TRD_GET_POSITION_LIST, "positions", c2s.position_list(ACC, ["HK.00700", US])),
    (ProtoId.TRD_GET_POSITION_LIST, "positions all", c2s.position_list(ACC)),
    (
        ProtoId.TRD_GET_ORDER_LIST,
        "orders",
        c2s.order_list(ACC, ["5870123456789"], [OrderStatus.SUBMITTED], ["HK.00700"]),
    ),
    (ProtoId.TRD_GET_ORDER_FILL_LIST, "deals", c2s.order_fill_list(ACC, [HK])),
    (ProtoId.QOT_GET_OPTION_EXPIRATION_DATE, "expiries", c2s.option_expiration_date(US)),
    (
        ProtoId.QOT_GET_OPTION_CHAIN,
        "chain",
        c2s.option_chain(US, date(2026, 12, 7), date(2027, 1, 6), 1, 2, {"deltaMin": 0.2}),
    ),
    (
        ProtoId.QOT_GET_OPTION_CHAIN,
        "chain all",
        c2s.option_chain(HK, date(2026, 12, 7), date(2026, 12, 7)),
    ),
    (ProtoId.QOT_GET_WARRANT, "warrants", c2s.warrant(HK, 0, 200, 10, False, [3, 4], [1, 8])),
    (ProtoId.QOT_GET_WARRANT, "all warrants", c2s.warrant(None)),
    (
        ProtoId.QOT_GET_FUTURE_INFO,
        "futures",
        c2s.future_info([parse_code("HK.HSImain"), parse_code("US.ESmain")]),
    ),
    (ProtoId.QOT_GET_REFERENCE, "reference", c2s.reference(HK, 1)),
    (ProtoId.QOT_GET_CAPITAL_FLOW, "flow", c2s.capital_flow(HK)),
    (
        ProtoId.QOT_GET_CAPITAL_FLOW,
        "flow by day",
        c2s.capital_flow(US, 2, date(2026, 1, 1), date(2026, 12, 1)),
    ),
    (ProtoId.QOT_GET_CAPITAL_DISTRIBUTION, "distribution", c2s.capital_distribution(HK)),
    (ProtoId.QOT_GET_OWNER_PLATE, "owner plates", c2s.owner_plate([HK, US])),
    (ProtoId.QOT_GET_IPO_LIST, "ipo", c2s.ipo_list(QotMarket.HK)),
    (
        ProtoId.QOT_STOCK_FILTER,
        "filter",
        c2s.stock_filter(
            QotMarket.HK,
            [
                {"kind": "base", "field": 13, "min": 0, "max": 20, "sort": 1},
                {"kind": "accumulate", "field": 1, "days": 5},
                {"kind": "financial", "field": 5, "min": 10, "quarter": 1},
            ],
            PLATE,
            0,
            50,
        ),
    ),
    (ProtoId.QOT_REQUEST_REHAB, "rehab", c2s.rehab(US)),
    (ProtoId.QOT_GET_USER_SECURITY_GROUP, "groups", c2s.user_security_group(3)),
    (ProtoId.QOT_GET_USER_SECURITY, "group members", c2s.user_security("Tech Leaders")),
    (ProtoId.QOT_GET_PRICE_REMINDER, "reminders of a code", c2s.price_reminder(HK)),
    (
        ProtoId.QOT_GET_PRICE_REMINDER,
        "reminders of a market",
        c2s.price_reminder(None, QotMarket.US),
    ),
    (
        ProtoId.TRD_PLACE_ORDER,
        "place",
        c2s.place_order(PACKET, ACC, HK, TrdSide.BUY, OrderType.NORMAL, 100, 500.0, "mcp"),
    ),
    (
        ProtoId.TRD_PLACE_ORDER,
        "place market gtc",
        c2s.place_order(
            PACKET, ACC, SH, TrdSide.SELL, OrderType.MARKET, 1, 0, None, TimeInForce.GTC
        ),
    ),
    (
        ProtoId.TRD_MODIFY_ORDER,
        "modify",
        c2s.modify_order(PACKET, ACC, "5870123456789", ModifyOrderOp.NORMAL, 200, 501.5),
    ),
    (
        ProtoId.TRD_MODIFY_ORDER,
        "cancel by id ex",
        c2s.modify_order(PACKET, ACC, "FT1234ABCD", ModifyOrderOp.CANCEL),
    ),
    (ProtoId.QOT_GET_MARKET_STATE, "market state", c2s.market_state([HK, US, SH])),
    (
        ProtoId.QOT_REQUEST_TRADE_DATE,
        "trading days",
        c2s.trade_date(TradeDateMarket.HK, "2026-01-01", "2026-03-31"),
    ),
    (ProtoId.QOT_REQUEST_TRADE_DATE, "trading days of a code", c2s.trade_date(None, code=US)),
    (
        ProtoId.TRD_GET_HISTORY_ORDER_LIST,
        "history orders",
        c2s.history_order_list(
            ACC, "2026-10-01", "2026-11-30", [OrderStatus.FILLED_ALL], ["HK.00700"]
        ),
    ),
    (ProtoId.TRD_GET_HISTORY_ORDER_LIST, "history orders default", c2s.history_order_list(ACC)),
    (
        ProtoId.TRD_GET_HISTORY_ORDER_FILL_LIST,
        "history fills",
        c2s.history_order_fill_list(ACC, "2026-10-01 09:30:00", "2026-10-31", [HK]),
    ),
    (
        ProtoId.TRD_GET_MAX_TRD_QTYS,
        "max qtys",
        c2s.max_trd_qtys(ACC, OrderType.NORMAL, HK, 500.0),
    ),
    (
        ProtoId.TRD_GET_MAX_TRD_QTYS,
        "max qtys to modify",
        c2s.max_trd_qtys(ACC, OrderType.MARKET, HK, 500.0, "5870123456789"),
    ),
    (
        ProtoId.TRD_GET_MAX_TRD_QTYS,
        "max qtys at market (price 0)",
        c2s.max_trd_qtys(ACC, OrderType.MARKET, HK, 0.0),
    ),
    (ProtoId.TRD_GET_ORDER_FEE, "order fees", c2s.order_fee(ACC, ["FT1234ABCD", "FT99"])),
    (ProtoId.TRD_GET_MARGIN_RATIO, "margin ratios", c2s.margin_ratio(ACC, [HK, US])),
    (
        ProtoId.TRD_FLOW_SUMMARY,
        "cash flow",
        c2s.flow_summary(ACC, "2026-11-30", CashFlowDirection.OUT),
    ),
]


@pytest.mark.parametrize(
    ("proto_id", "body"),
    [pytest.param(p, b, id=f"{ProtoId(p).name}-{n}") for p, n, b in REQUESTS],
)
def test_request_validates_against_official_schema(proto_id: int, body: dict[str, Any]) -> None:
    request = pb_module(proto_id).Request()
    json_format.Parse(encode_body(body), request)  # unknown field → ParseError
    assert request.IsInitialized(), request.FindInitializationErrors()


def test_int64_fields_go_out_as_strings() -> None:
    place = json.loads(encode_body(c2s.place_order(PACKET, ACC, HK, TrdSide.BUY, 1, 1, 1.0)))
    assert place["c2s"]["header"]["accID"] == "281756479345015383"
    assert place["c2s"]["packetID"] == {"connID": "7143839420431376387", "serialNo": 1001}
    cancel = c2s.modify_order(PACKET, ACC, "FT1234ABCD", ModifyOrderOp.CANCEL)
    assert (cancel["orderID"], cancel["orderIDEx"]) == ("0", "FT1234ABCD")


def test_unlock_digest_is_lowercased() -> None:
    body = c2s.unlock_trade(True, "E10ADC3949BA59ABBE56E057F20F883E", None)
    assert body["pwdMD5"] == "e10adc3949ba59abbe56e057f20f883e"


# Protocols the simulator serves (or will) that the client does not send yet.
NOT_SENT = {
    ProtoId.QOT_REQUEST_HISTORY_KL_QUOTA,
}


def test_every_protocol_the_client_sends_is_covered() -> None:
    sent = {
        ProtoId.INIT_CONNECT,
        ProtoId.KEEP_ALIVE,
        ProtoId.GET_GLOBAL_STATE,
        *(p for p in ProtoId if p.name.startswith(("QOT_", "TRD_"))),
    } - {
        ProtoId.QOT_GET_SUB_INFO,
        ProtoId.TRD_SUB_ACC_PUSH,
        *(p for p in ProtoId if "_UPDATE_" in p.name),
        *NOT_SENT,
    }
    assert {p for p, _n, _b in REQUESTS} == sent
    assert (
        set(PARSERS) - PUSHES_READ
        | {
            ProtoId.KEEP_ALIVE,
            ProtoId.QOT_SUB,
            ProtoId.TRD_UNLOCK_TRADE,
        }
        == sent
    )


# ---- bad arguments get a clear error before anything is sent --------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: c2s.snapshot([HK] * 401), "1 to 400 codes"),
        (lambda: c2s.snapshot([]), "1 to 400 codes"),
        (lambda: c2s.get_kl(HK, 0, KLType.K_DAY, AuType.QFQ), "between 1 and 1000"),
        (lambda: c2s.ticker(HK, 1001), "between 1 and 1000"),
        (
            lambda: c2s.request_history_kl(HK, "2025/01/01", None, KLType.K_DAY, AuType.QFQ, 10),
            "YYYY-MM-DD",
        ),
        (lambda: c2s.static_info(QotMarket.HK, None, None), "market and sec_type"),
        (lambda: c2s.unlock_trade(True, None, None), "32 hexadecimal"),
        (lambda: c2s.unlock_trade(True, "abc", None), "32 hexadecimal"),
        (
            lambda: c2s.place_order(PACKET, ACC, HK, TrdSide.SELL_SHORT, OrderType.NORMAL, 1, 1),
            "BUY or SELL",
        ),
        (
            lambda: c2s.place_order(PACKET, ACC, HK, TrdSide.BUY, OrderType.NORMAL, 0, 1),
            "qty must be a positive",
        ),
        (
            lambda: c2s.place_order(
                PACKET, ACC, HK, TrdSide.BUY, OrderType.NORMAL, float("nan"), 1
            ),
            "qty must be a positive",
        ),
        (
            lambda: c2s.place_order(PACKET, ACC, HK, TrdSide.BUY, OrderType.NORMAL, 1, -1),
            "price must be zero or more",
        ),
        (
            lambda: c2s.place_order(PACKET, ACC, HK, TrdSide.BUY, OrderType.NORMAL, 1, 1, "x" * 65),
            "64 bytes",
        ),
        (lambda: c2s.modify_order(PACKET, ACC, "1", ModifyOrderOp.NORMAL), "qty"),
        (
            lambda: c2s.modify_order(PACKET, ACC, "1", ModifyOrderOp.NORMAL, 100, 0),
            "price must be a positive",
        ),
        (lambda: c2s.modify_order(PACKET, ACC, " ", ModifyOrderOp.CANCEL), "order_id"),
        (lambda: c2s.position_list(ACC, ["HK00700"]), "MARKET.CODE"),
        (lambda: c2s.market_state([]), "between 1 and 400"),
        (lambda: c2s.market_state([HK] * 401), "between 1 and 400"),
        (lambda: c2s.trade_date(None), "give a market"),
        (lambda: c2s.trade_date(TradeDateMarket.HK, "2026/01/01"), "YYYY-MM-DD"),
        (lambda: c2s.history_order_list(ACC, "2026-11-30", "2026-11-01"), "is after end"),
        (lambda: c2s.history_order_fill_list(ACC, "yesterday"), "YYYY-MM-DD"),
        (lambda: c2s.max_trd_qtys(ACC, OrderType.NONE, HK, 1.0), "order_type"),
        (lambda: c2s.max_trd_qtys(ACC, OrderType.NORMAL, HK, 0), "price must be a positive"),
        (lambda: c2s.max_trd_qtys(ACC, OrderType.MARKET, HK, -1), "price must be zero or more"),
        (lambda: c2s.order_fee(ACC, []), "at least one order id"),
        (lambda: c2s.order_fee(ACC, ["FT1", " "]), "none empty"),
        (lambda: c2s.margin_ratio(ACC, [HK] * 101), "between 1 and 100"),
        (lambda: c2s.flow_summary(ACC, "2026-11-30 00:00:00"), "YYYY-MM-DD"),
        (lambda: c2s.option_chain(US, date(2026, 12, 7), date(2027, 1, 7)), "30 days"),
        (lambda: c2s.option_chain(US, date(2026, 12, 7), date(2026, 12, 6)), "before begin"),
        (lambda: c2s.option_chain(US, date(2026, 12, 7), date(2026, 12, 8), 3), "0, 1 or 2"),
        (lambda: c2s.warrant(HK, 0, 201), "between 1 and 200"),
        (lambda: c2s.warrant(HK, -1), "zero or more"),
        (lambda: c2s.future_info([]), "between 1 and 200"),
        (lambda: c2s.reference(HK, 3), "reference_type"),
        (lambda: c2s.capital_flow(HK, 5), "period_type"),
        (lambda: c2s.owner_plate([HK] * 201), "between 1 and 200"),
        (
            lambda: c2s.stock_filter(QotMarket.HK, [{"kind": "pattern", "field": 1}]),
            "unknown filter kind",
        ),
        (
            lambda: c2s.stock_filter(QotMarket.HK, [{"kind": "accumulate", "field": 1, "days": 0}]),
            "days",
        ),
        (lambda: c2s.user_security_group(4), "group_type"),
        (lambda: c2s.user_security(""), "group name"),
        (lambda: c2s.price_reminder(), "code or a market"),
        (
            lambda: s2c.parse_acc_list({"accList": [{"accID": "1", "trdMarketAuthList": [1]}]})[
                0
            ].account(),
            "no known trading environment",
        ),
        (
            lambda: s2c.parse_acc_list({"accList": [{"accID": "1", "trdEnv": 1}]})[0].account(),
            "no known market authority",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


# ---- responses -----------------------------------------------------------------------------


def fill(message: Message, depth: int = 0) -> None:
    """Set every field of an official message (one element per repeated field)."""
    for field in message.DESCRIPTOR.fields:
        repeated = field.is_repeated if hasattr(field, "is_repeated") else field.label == 3
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth > 6:
                continue
            child = getattr(message, field.name).add() if repeated else getattr(message, field.name)
            fill(child, depth + 1)
            continue
        value = sample(field)
        if repeated:
            getattr(message, field.name).append(value)
        else:
            setattr(message, field.name, value)


def sample(field: FieldDescriptor) -> Any:
    """A valid non-default value: 1 is a real member of nearly every OpenD enum."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return f"{field.name}-v"
    if kind == FieldDescriptor.TYPE_BYTES:
        return b"\x00key"
    if kind == FieldDescriptor.TYPE_BOOL:
        return True
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 1.5
    if kind == FieldDescriptor.TYPE_ENUM:
        return field.enum_type.values[-1].number
    if field.name in {"accID", "orderID", "fillID", "positionID", "connID", "id", "volume"}:
        return 9007199254740993  # > 2**53: survives only if read as an exact integer
    return 1


def unfilled(value: Any, path: str = "") -> list[str]:
    """Paths of model fields left None (or empty lists) after reading a fully filled reply."""
    if isinstance(value, list):
        if not value:
            return [path or "<list>"]
        return [p for i, item in enumerate(value) for p in unfilled(item, f"{path}[{i}]")]
    if dataclasses.is_dataclass(value):
        return [
            p
            for f in dataclasses.fields(value)
            for p in unfilled(getattr(value, f.name), f"{path}.{f.name}")
        ]
    return [path] if value is None else []


# Pushes the client reads (never sends): their readers are checked like the replies.
PUSHES_READ = {ProtoId.QOT_UPDATE_BASIC_QOT}

PARSERS: dict[int, Callable[[dict[str, Any]], Any]] = {
    ProtoId.INIT_CONNECT: InitInfo.from_wire,
    ProtoId.GET_GLOBAL_STATE: GlobalState.from_wire,
    ProtoId.QOT_GET_BASIC_QOT: s2c.parse_basic_qot,
    ProtoId.QOT_UPDATE_BASIC_QOT: s2c.parse_basic_qot,
    ProtoId.QOT_GET_KL: s2c.parse_klines,
    ProtoId.QOT_REQUEST_HISTORY_KL: s2c.parse_klines,
    ProtoId.QOT_GET_ORDER_BOOK: OrderBook.from_wire,
    ProtoId.QOT_GET_TICKER: s2c.parse_tickers,
    ProtoId.QOT_GET_RT: s2c.parse_rt,
    ProtoId.QOT_GET_BROKER: BrokerQueue.from_wire,
    ProtoId.QOT_GET_SECURITY_SNAPSHOT: s2c.parse_snapshots,
    ProtoId.QOT_GET_STATIC_INFO: s2c.parse_static_infos,
    ProtoId.QOT_GET_PLATE_SET: s2c.parse_plates,
    ProtoId.QOT_GET_PLATE_SECURITY: s2c.parse_static_infos,
    ProtoId.TRD_GET_ACC_LIST: s2c.parse_acc_list,
    ProtoId.TRD_GET_FUNDS: lambda body: Funds.from_wire(body["funds"]),
    ProtoId.TRD_GET_POSITION_LIST: s2c.parse_positions,
    ProtoId.TRD_GET_ORDER_LIST: s2c.parse_orders,
    ProtoId.TRD_GET_ORDER_FILL_LIST: s2c.parse_deals,
    ProtoId.TRD_PLACE_ORDER: PlacedOrder.from_wire,
    ProtoId.TRD_MODIFY_ORDER: ModifiedOrder.from_wire,
    ProtoId.QOT_GET_MARKET_STATE: s2c.parse_market_states,
    ProtoId.QOT_REQUEST_TRADE_DATE: s2c.parse_trading_days,
    ProtoId.TRD_GET_HISTORY_ORDER_LIST: s2c.parse_orders,
    ProtoId.TRD_GET_HISTORY_ORDER_FILL_LIST: s2c.parse_deals,
    ProtoId.TRD_GET_MAX_TRD_QTYS: s2c.parse_max_trd_qtys,
    ProtoId.TRD_GET_ORDER_FEE: s2c.parse_order_fees,
    ProtoId.TRD_GET_MARGIN_RATIO: s2c.parse_margin_ratios,
    ProtoId.TRD_FLOW_SUMMARY: s2c.parse_cash_flows,
    ProtoId.QOT_GET_OPTION_EXPIRATION_DATE: s2c.parse_option_expirations,
    ProtoId.QOT_GET_OPTION_CHAIN: s2c.parse_option_chain,
    ProtoId.QOT_GET_WARRANT: WarrantPage.from_wire,
    ProtoId.QOT_GET_FUTURE_INFO: s2c.parse_future_infos,
    ProtoId.QOT_GET_REFERENCE: s2c.parse_static_infos,
    ProtoId.QOT_GET_CAPITAL_FLOW: s2c.parse_capital_flow,
    ProtoId.QOT_GET_CAPITAL_DISTRIBUTION: CapitalDistribution.from_wire,
    ProtoId.QOT_GET_OWNER_PLATE: s2c.parse_owner_plates,
    ProtoId.QOT_GET_IPO_LIST: s2c.parse_ipos,
    ProtoId.QOT_STOCK_FILTER: FilterPage.from_wire,
    ProtoId.QOT_REQUEST_REHAB: s2c.parse_rehabs,
    ProtoId.QOT_GET_USER_SECURITY_GROUP: s2c.parse_security_groups,
    ProtoId.QOT_GET_USER_SECURITY: s2c.parse_static_infos,
    ProtoId.QOT_GET_PRICE_REMINDER: s2c.parse_price_reminders,
}


def _field_names() -> list[str]:
    names: set[str] = set()

    def walk(descriptor: Any) -> None:
        for field in descriptor.fields:
            if field.name not in names:
                names.add(field.name)
                if field.message_type is not None:
                    walk(field.message_type)

    for proto_id in PARSERS:
        walk(pb_module(proto_id).Response.DESCRIPTOR.fields_by_name["s2c"].message_type)
    return sorted(names)


FIELD_NAMES = _field_names()


def official_reply(proto_id: int, *, proto_names: bool) -> bytes:
    response = pb_module(proto_id).Response()
    fill(response)
    response.retType = 0
    assert response.IsInitialized(), response.FindInitializationErrors()
    return json_format.MessageToJson(response, preserving_proto_field_name=proto_names).encode()


@pytest.mark.parametrize("proto_names", [False, True], ids=["json-names", "proto-names"])
@pytest.mark.parametrize("proto_id", sorted(PARSERS), ids=lambda p: ProtoId(p).name)
def test_reader_fills_every_field_from_official_json(proto_id: int, proto_names: bool) -> None:
    result = PARSERS[proto_id](
        decode_reply(proto_id, official_reply(proto_id, proto_names=proto_names))
    )
    assert unfilled(result) == []
    plain = result.to_dict() if isinstance(result, Model) else [r.to_dict() for r in result]
    assert json.loads(json.dumps(plain)) == plain  # JSON-plain all the way down


def test_ids_beyond_2_53_survive_exactly() -> None:
    body = decode_reply(
        ProtoId.TRD_GET_ORDER_LIST, official_reply(ProtoId.TRD_GET_ORDER_LIST, proto_names=False)
    )
    assert '"9007199254740993"' in json.dumps(body)  # the canonical mapping sends a string
    (order,) = s2c.parse_orders(body)
    assert order.order_id == "9007199254740993"
    (acc,) = s2c.parse_acc_list(
        decode_reply(
            ProtoId.TRD_GET_ACC_LIST,
            official_reply(ProtoId.TRD_GET_ACC_LIST, proto_names=False),
        )
    )
    assert acc.acc_id == 9007199254740993


def test_numbers_and_strings_are_both_accepted() -> None:
    as_numbers = {"orderList": [{"orderID": 42, "qty": "100", "trdSide": "2", "code": "00700"}]}
    (order,) = s2c.parse_orders(as_numbers)
    assert (order.order_id, order.qty, order.trd_side) == ("42", 100.0, "SELL")


def test_td_fields_read_in_both_spellings() -> None:
    (a,) = s2c.parse_positions({"positionList": [{"td_plVal": 12.5, "tdBuyQty": 300}]})
    assert (a.today_pl_val, a.today_buy_qty) == (12.5, 300.0)


def test_high_precision_volumes_win_and_whole_ones_stay_integers() -> None:
    ticks = {"tickerList": [{"volume": "0", "hpVolume": 0.5}, {"volume": "7", "hpVolume": 7.0}]}
    assert [(t.volume, type(t.volume)) for t in s2c.parse_tickers(ticks)] == [
        (0.5, float),
        (7, int),
    ]
    (snap,) = s2c.parse_snapshots(
        {"snapshotList": [{"basic": {"volume": "12", "askVol": "3", "hpBidVol": 2.25}}]}
    )
    assert (snap.volume, snap.ask_vol, snap.bid_vol) == (12, 3, 2.25)


@pytest.mark.parametrize("member", list(ProgramStatusType))
def test_program_status_as_name_or_number(member: ProgramStatusType) -> None:
    pb_module(ProtoId.GET_GLOBAL_STATE)  # puts the official pb folder on sys.path
    common = importlib.import_module("Common_pb2")
    proto_name = common.ProgramStatusType.Name(int(member))
    assert enum_name(ProgramStatusType, proto_name) == member.name
    assert enum_name(ProgramStatusType, int(member)) == member.name
    assert enum_name(ProgramStatusType, str(int(member))) == member.name


def test_trade_codes_get_their_market_prefix() -> None:
    rows = s2c.parse_positions(
        {"positionList": [{"code": "600519", "secMarket": 31}, {"code": "AAPL", "secMarket": 2}]}
    )
    assert [r.code for r in rows] == ["SH.600519", "US.AAPL"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(
    proto_id=st.sampled_from(sorted(PARSERS)),
    noise=st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=6),
)
@example(proto_id=ProtoId.QOT_GET_BASIC_QOT, noise={"volume": float("inf")})
@example(proto_id=ProtoId.GET_GLOBAL_STATE, noise={"programStatus": [1]})
def test_any_reply_shape_is_a_result_or_a_protocol_error(proto_id: int, noise: dict) -> None:
    """Wrong types anywhere in a reply never escape as a crash of some other kind."""
    body = json.loads(official_reply(proto_id, proto_names=False))["s2c"]
    _scramble(body, noise)
    with contextlib.suppress(ProtocolError):
        read_reply(PARSERS[proto_id], body)


def _scramble(obj: Any, noise: dict) -> None:
    """Overwrite every key named in `noise`, at any depth, with its noisy value."""
    if isinstance(obj, dict):
        for key in list(obj):
            if key in noise:
                obj[key] = noise[key]
            else:
                _scramble(obj[key], noise)
    elif isinstance(obj, list):
        for item in obj:
            _scramble(item, noise)
