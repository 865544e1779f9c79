"""The official SDK and our own client read the same simulator and must see the same data.

The simulator is the common ground: if our client decoded a field differently from the SDK (a
64-bit id, an enum, a price), the two readings of one frozen instant would differ here.
"""

import asyncio
import enum
import importlib
import inspect
import math
import re
from types import ModuleType
from typing import Any

import pytest
from google.protobuf import json_format

from opend import enums, models
from opend.client import OpenDClient
from opend.codes import QotMarket, TrdMarket, parse_code
from opend.connection import decode_reply
from opend.enums import AuType, KLType, Plate, SecurityType, TrdEnv
from opend.models import Model, TrdAccount
from opend.pbschema import pb_module
from opend.protoids import ProtoId
from opend.sim import DEFAULT_TRADE_PASSWORD, SimulatorThread
from tests.opend.test_conformance import PARSERS, fill

START = 1_780_000_000.0
HK = parse_code("HK.00700")


# Fields of messages the simulator does not send for stocks (futures data): the SDK fills in
# its default, our client leaves them empty.
_ABSENT = {"main_contract", "stock_owner"}


# SDK class of the same numbers, where the SDK's name differs from ours.
_SDK_CLASS = {"QotMarketState": "MarketState"}
# Named by our models but left out: TrdMarket (opend/codes.py) knows only the markets we trade,
# and futu-mcp builds trade headers from its names, so others read "UNKNOWN" (see the report).
_NOT_CHECKED = {"TrdMarket", "TrdSecMarket"}


def test_every_enum_our_results_name_is_spelled_as_the_sdk_spells_it(ft: ModuleType) -> None:
    from futu.common import constant

    named = set(re.findall(r"enum_name\((\w+),", inspect.getsource(models))) - _NOT_CHECKED
    assert {"SecurityStatus", "TickerType", "DealStatus", "OrderStatus"} <= named
    for name in sorted(named):
        ours = getattr(enums, name)
        assert issubclass(ours, enum.IntEnum), name
        sdk = getattr(constant, _SDK_CLASS.get(name, name))().number_dic
        mine = {member.value: member.name for member in ours}
        # The SDK spells an unknown value "N/A"; we keep the member name NONE for it.
        diffs = {
            number: (mine.get(number), text)
            for number, text in sdk.items()
            if mine.get(number) != text and not (text == "N/A" and mine.get(number) == "NONE")
        }
        assert not diffs, (name, diffs)


# What the SDK reads each reply with, for the replies both sides turn into rows.
_SDK_READERS = {
    ProtoId.QOT_GET_BASIC_QOT: ("quote", "StockQuoteQuery"),
    ProtoId.QOT_GET_TICKER: ("quote", "TickerQuery"),
    ProtoId.QOT_GET_RT: ("quote", "RtDataQuery"),
    ProtoId.QOT_GET_KL: ("quote", "CurKlineQuery"),
    ProtoId.QOT_GET_SECURITY_SNAPSHOT: ("quote", "MarketSnapshotQuery"),
    ProtoId.QOT_GET_STATIC_INFO: ("quote", "StockBasicInfoQuery"),
    ProtoId.QOT_GET_PLATE_SET: ("quote", "SubplateQuery"),
    ProtoId.QOT_GET_PLATE_SECURITY: ("quote", "PlateStockQuery"),
    ProtoId.TRD_GET_ACC_LIST: ("trade", "GetAccountList"),
    ProtoId.TRD_GET_FUNDS: ("trade", "AccInfoQuery"),
    ProtoId.TRD_GET_POSITION_LIST: ("trade", "PositionListQuery"),
    ProtoId.TRD_GET_ORDER_LIST: ("trade", "OrderListQuery"),
    ProtoId.TRD_GET_ORDER_FILL_LIST: ("trade", "DealListQuery"),
    ProtoId.QOT_GET_MARKET_STATE: ("quote", "GetMarketStateQuery"),
    ProtoId.QOT_REQUEST_TRADE_DATE: ("quote", "RequestTradeDayQuery"),
    ProtoId.TRD_GET_HISTORY_ORDER_LIST: ("trade", "HistoryOrderListQuery"),
    ProtoId.TRD_GET_HISTORY_ORDER_FILL_LIST: ("trade", "HistoryDealListQuery"),
    ProtoId.TRD_GET_MAX_TRD_QTYS: ("trade", "AccTradingInfoQuery"),
    ProtoId.TRD_GET_ORDER_FEE: ("trade", "OrderFeeQuery"),
    ProtoId.TRD_GET_MARGIN_RATIO: ("trade", "MarginRatio"),
    ProtoId.TRD_FLOW_SUMMARY: ("trade", "FlowSummary"),
}
# Replies with fewer plain fields in common than the usual three: a trading day is a date and
# its type; an order fee's id is its orderIDEx (read apart) and the rest is its fee list.
_MIN_COMMON = {ProtoId.QOT_REQUEST_TRADE_DATE: 2, ProtoId.TRD_GET_ORDER_FEE: 1}
# Where a fully filled reply is read differently: order_id on purpose (OpenD's numeric orderID, see
# opend.models.Order); listing_date because the SDK drops it when optionExData is present, which
# only a filled-in-everything reply has.
_READ_APART = {"order_id", "listing_date"}


@pytest.mark.parametrize("proto_id", sorted(_SDK_READERS), ids=lambda p: ProtoId(p).name)
def test_every_field_of_an_official_reply_reads_as_the_sdk_reads_it(
    ft: ModuleType, proto_id: int
) -> None:
    """Fields the simulator never sends (dark status, exchange, risk status, session...) too."""
    response = pb_module(proto_id).Response()
    fill(response)
    response.retType = 0
    for qot in getattr(response.s2c, "basicQotList", []):
        qot.updateTime = "2026-11-26 10:00:00"  # the SDK splits it into date and time
    where, reader = _SDK_READERS[proto_id]
    sdk_module = importlib.import_module(f"futu.{where}.{where}_query")
    sdk_reader = getattr(sdk_module, reader)
    unpack = getattr(sdk_reader, "unpack_rsp", None) or sdk_reader.unpack
    ret, message, sdk_rows = unpack(response)
    assert ret == 0, message
    result = PARSERS[proto_id](decode_reply(proto_id, json_format.MessageToJson(response).encode()))
    ours = [result] if isinstance(result, Model) else result
    assert len(ours) == len(sdk_rows)
    for sdk_row, mine in zip(sdk_rows, ours, strict=True):
        row = {k: v for k, v in mine.to_dict().items() if k not in _READ_APART}
        _agree(ProtoId(proto_id).name, sdk_row, row, _MIN_COMMON.get(proto_id, 3))
        if "fee_details" in sdk_row:
            assert sdk_row["fee_details"] == [(i["title"], i["value"]) for i in row["fee_details"]]


def _missing(value: Any) -> bool:
    """None, or what the SDK writes for an absent field: "N/A", "", or NaN in a frame column of
    numbers (the option fields of a stock's snapshot)."""
    return value in (None, "N/A", "") or (isinstance(value, float) and math.isnan(value))


def _same(a: Any, b: Any) -> bool:
    if _missing(a) and _missing(b):
        return True
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    return str(a) == str(b)


def _agree(label: str, sdk_row: dict[str, Any], ours: dict[str, Any], min_common: int = 3) -> None:
    common = [
        k
        for k, v in ours.items()
        if k in sdk_row and not isinstance(v, (list, dict)) and not (k in _ABSENT and v is None)
    ]
    assert len(common) >= min_common, (label, common)
    diffs = {k: (sdk_row[k], ours[k]) for k in common if not _same(sdk_row[k], ours[k])}
    assert not diffs, (label, diffs)


def _rows(frame: Any) -> list[dict[str, Any]]:
    return frame.to_dict("records")


def _client_reads(port: int) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async with OpenDClient("127.0.0.1", port, client_id="agreement") as client:
            assert await client.wait_connected(10)
            accounts = await client.get_acc_list()
            sim_hk = next(
                a for a in accounts if a.trd_env == "SIMULATE" and a.trdmarket_authority == ["HK"]
            )
            acc = TrdAccount(TrdEnv.SIMULATE, int(sim_hk.acc_id), TrdMarket.HK)
            await client.unlock_trade(_md5(DEFAULT_TRADE_PASSWORD))
            return {
                "snapshot": await client.get_market_snapshot([HK, parse_code("US.AAPL")]),
                "quote": await client.get_stock_quote([HK]),
                "kline": await client.get_cur_kline(HK, 5, KLType.K_DAY, AuType.QFQ),
                "book": await client.get_order_book(HK, 10),
                "ticker": await client.get_rt_ticker(HK, 10),
                "rt": await client.get_rt_data(HK),
                "broker": await client.get_broker_queue(HK),
                "plates": await client.get_plate_list(QotMarket.HK, Plate.ALL),
                "plate_stock": await client.get_plate_stock(parse_code("HK.BK1001")),
                "basic": await client.get_stock_basicinfo(QotMarket.HK, SecurityType.STOCK),
                "accounts": accounts,
                "funds": await client.accinfo_query(acc),
                "positions": await client.position_list_query(acc),
                "orders": await client.order_list_query(acc),
                "deals": await client.deal_list_query(acc),
            }

    return asyncio.run(run())


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode()).hexdigest()


@pytest.mark.parametrize("fmt", ["protobuf", "json"])
def test_sdk_and_our_client_agree(ft: ModuleType, fmt: str) -> None:
    ft.SysConfig.set_proto_fmt(ft.ProtoFMT.Json if fmt == "json" else ft.ProtoFMT.Protobuf)
    with SimulatorThread(seed=21, start_time=START) as sim:
        host, port = sim.address
        trade = ft.OpenSecTradeContext(filter_trdmarket=ft.TrdMarket.HK, host=host, port=port)
        quote = ft.OpenQuoteContext(host=host, port=port)
        try:
            # Some trading first, so orders, deals and positions are not empty.
            assert (
                trade.place_order(
                    0.0,
                    100,
                    "HK.00700",
                    ft.TrdSide.BUY,
                    order_type=ft.OrderType.MARKET,
                    trd_env=ft.TrdEnv.SIMULATE,
                )[0]
                == 0
            )
            sim.advance(1)
            assert (
                trade.place_order(
                    300.0, 100, "HK.00700", ft.TrdSide.BUY, trd_env=ft.TrdEnv.SIMULATE
                )[0]
                == 0
            )
            ours = _client_reads(port)
            subs = [
                ft.SubType.QUOTE,
                ft.SubType.K_DAY,
                ft.SubType.ORDER_BOOK,
                ft.SubType.TICKER,
                ft.SubType.RT_DATA,
                ft.SubType.BROKER,
            ]
            assert quote.subscribe(["HK.00700"], subs)[0] == 0

            _, snap = quote.get_market_snapshot(["HK.00700", "US.AAPL"])
            for row, mine in zip(_rows(snap), ours["snapshot"], strict=True):
                _agree("snapshot", row, mine.to_dict(), min_common=20)
            _, q = quote.get_stock_quote(["HK.00700"])
            _agree("quote", _rows(q)[0], ours["quote"][0].to_dict(), min_common=12)
            (
                _,
                kl,
            ) = quote.get_cur_kline("HK.00700", 5, ft.KLType.K_DAY)
            for row, mine in zip(_rows(kl), ours["kline"], strict=True):
                _agree("kline", row, mine.to_dict(), min_common=8)
            _, book = quote.get_order_book("HK.00700", num=10)
            assert [lvl[:3] for lvl in book["Bid"]] == [
                (b.price, b.volume, b.order_num) for b in ours["book"].bid
            ]
            assert [lvl[:3] for lvl in book["Ask"]] == [
                (a.price, a.volume, a.order_num) for a in ours["book"].ask
            ]
            _, ticks = quote.get_rt_ticker("HK.00700", 10)
            for row, mine in zip(_rows(ticks), ours["ticker"], strict=True):
                _agree("ticker", row, mine.to_dict(), min_common=6)
            _, rt = quote.get_rt_data("HK.00700")
            for row, mine in zip(_rows(rt), ours["rt"], strict=True):
                _agree("rt", row, mine.to_dict(), min_common=6)
            _, bids, asks = quote.get_broker_queue("HK.00700")
            assert list(bids["bid_broker_id"]) == [b.broker_id for b in ours["broker"].bid]
            assert list(asks["ask_broker_name"]) == [a.broker_name for a in ours["broker"].ask]
            _, plates = quote.get_plate_list(ft.Market.HK, ft.Plate.ALL)
            for row, mine in zip(_rows(plates), ours["plates"], strict=True):
                _agree("plates", row, mine.to_dict(), min_common=3)
            _, members = quote.get_plate_stock("HK.BK1001")
            for row, mine in zip(_rows(members), ours["plate_stock"], strict=True):
                _agree("plate_stock", row, mine.to_dict(), min_common=5)
            _, basic = quote.get_stock_basicinfo(ft.Market.HK, ft.SecurityType.STOCK)
            for row, mine in zip(_rows(basic), ours["basic"], strict=True):
                _agree("basic", row, mine.to_dict(), min_common=5)

            _, accounts = trade.get_acc_list()
            by_id = {a.acc_id: a for a in ours["accounts"]}
            assert len(accounts) == 2  # the SDK keeps the HK accounts of its context
            for row in _rows(accounts):
                _agree("accounts", row, by_id[row["acc_id"]].to_dict(), min_common=4)
            env = ft.TrdEnv.SIMULATE
            _, funds = trade.accinfo_query(trd_env=env, currency=ft.Currency.HKD)
            _agree("funds", _rows(funds)[0], ours["funds"].to_dict(), min_common=15)
            _, positions = trade.position_list_query(trd_env=env)
            for row, mine in zip(_rows(positions), ours["positions"], strict=True):
                _agree("positions", row, mine.to_dict(), min_common=15)
            # SDK 10.x names an order by orderIDEx; our client by orderID, with order_id_ex.
            _, orders = trade.order_list_query(trd_env=env)
            for row, mine in zip(_rows(orders), ours["orders"], strict=True):
                _agree(
                    "orders", row, {**mine.to_dict(), "order_id": mine.order_id_ex}, min_common=12
                )
            _, deals = trade.deal_list_query(trd_env=env)
            for row, mine in zip(_rows(deals), ours["deals"], strict=True):
                _agree("deals", row, {**mine.to_dict(), "order_id": mine.order_id_ex}, min_common=8)
        finally:
            quote.close()
            trade.close()
