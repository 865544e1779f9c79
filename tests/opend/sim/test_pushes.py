"""Pushes: the official SDK's push handlers receive quote, order and fill updates, in both
body formats. (Our client's quote cache, fed by the same pushes, is tested in
tests/opend/test_quote_cache.py.)"""

import threading
import time
from types import ModuleType
from typing import Any

import pytest

from opend.protoids import ProtoId
from opend.sim import DEFAULT_TRADE_PASSWORD, Simulator, SimulatorThread
from tests.opend.sim.rawwire import RawConn

START = 1_780_000_000.0


class Collector:
    """Thread-safe list of what a push handler saw, with a wait for the first item."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.event = threading.Event()

    def add(self, item: Any) -> None:
        self.items.append(item)
        self.event.set()

    def wait(self, timeout: float = 10.0) -> list[Any]:
        assert self.event.wait(timeout), "no push arrived"
        return self.items


@pytest.mark.parametrize("fmt", ["protobuf", "json"])
def test_sdk_push_handlers(ft: ModuleType, fmt: str) -> None:
    ft.SysConfig.set_proto_fmt(ft.ProtoFMT.Json if fmt == "json" else ft.ProtoFMT.Protobuf)
    quotes, books, orders, deals = Collector(), Collector(), Collector(), Collector()

    class Quotes(ft.StockQuoteHandlerBase):
        def on_recv_rsp(self, rsp_pb: Any) -> Any:
            ret, data = super().on_recv_rsp(rsp_pb)
            if ret == 0:
                quotes.add(data)
            return ret, data

    class Books(ft.OrderBookHandlerBase):
        def on_recv_rsp(self, rsp_pb: Any) -> Any:
            ret, data = super().on_recv_rsp(rsp_pb)
            if ret == 0:
                books.add(data)
            return ret, data

    class Orders(ft.TradeOrderHandlerBase):
        def on_recv_rsp(self, rsp_pb: Any) -> Any:
            ret, data = super().on_recv_rsp(rsp_pb)
            if ret == 0:
                orders.add(data)
            return ret, data

    class Deals(ft.TradeDealHandlerBase):
        def on_recv_rsp(self, rsp_pb: Any) -> Any:
            ret, data = super().on_recv_rsp(rsp_pb)
            if ret == 0:
                deals.add(data)
            return ret, data

    with SimulatorThread(seed=6, start_time=START, push_interval=0.1) as sim:
        host, port = sim.address
        quote_ctx = ft.OpenQuoteContext(host=host, port=port)
        trade_ctx = ft.OpenSecTradeContext(filter_trdmarket=ft.TrdMarket.HK, host=host, port=port)
        try:
            quote_ctx.set_handler(Quotes())
            quote_ctx.set_handler(Books())
            assert (
                quote_ctx.subscribe(["HK.00700"], [ft.SubType.QUOTE, ft.SubType.ORDER_BOOK])[0] == 0
            )
            pushed = quotes.wait()[0]
            expected = sim.call(
                lambda s: s.state.market.last_price(s.state.securities["HK.00700"], START)
            )
            assert pushed["code"][0] == "HK.00700" and pushed["last_price"][0] == expected
            assert books.wait()[0]["code"] == "HK.00700"

            trade_ctx.set_handler(Orders())
            trade_ctx.set_handler(Deals())
            assert trade_ctx.unlock_trade(DEFAULT_TRADE_PASSWORD)[0] == 0  # also subscribes pushes
            deadline = time.monotonic() + 10
            while not sim.call(
                lambda s: any(c.info.push_accounts for c in s._connections.values())
            ):
                assert time.monotonic() < deadline
                time.sleep(0.01)
            ret, placed = trade_ctx.place_order(
                0.0,
                100,
                "HK.00700",
                ft.TrdSide.BUY,
                order_type=ft.OrderType.MARKET,
                trd_env=ft.TrdEnv.SIMULATE,
            )
            assert ret == 0, placed
            order_id = placed["order_id"][0]
            deal = deals.wait()[0]
            assert deal["order_id"][0] == order_id and deal["qty"][0] == 100
            deadline = time.monotonic() + 10
            while "FILLED_ALL" not in [o["order_status"][0] for o in orders.items]:
                assert time.monotonic() < deadline, [o["order_status"][0] for o in orders.items]
                time.sleep(0.01)
            assert all(o["order_id"][0] == order_id for o in orders.items)
        finally:
            quote_ctx.close()
            trade_ctx.close()


@pytest.mark.anyio
async def test_no_pushes_without_registration() -> None:
    async with Simulator(seed=6, push_interval=0.05) as sim:
        conn = await RawConn.open(sim.address)
        sub = {"securityList": [{"market": 1, "code": "00700"}], "subTypeList": [1, 4]}
        await conn.ok(ProtoId.QOT_SUB, {**sub, "isSubOrUnSub": True})  # no isRegOrUnRegPush
        with pytest.raises(TimeoutError):
            await conn.receive(timeout=0.4)
        await conn.ok(ProtoId.QOT_SUB, {**sub, "isSubOrUnSub": True, "isRegOrUnRegPush": True})
        proto, _serial, body = await conn.receive(timeout=5)
        assert proto in (3005, 3011) and body["retType"] == 0
        await conn.close()
