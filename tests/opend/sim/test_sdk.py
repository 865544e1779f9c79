"""The external check: the official futu-api SDK, unmodified, against the simulator.

Both body formats (protobuf, the SDK's default, and JSON), both trading environments. Every
call must return RET_OK and its data must agree with the simulator's own state. The clock is
frozen so the SDK and the test read the same instant.
"""

from collections.abc import Iterator
from types import ModuleType

import pytest

from opend.enums import KLType
from opend.sim import SimulatorThread
from opend.sim.state import DEFAULT_TRADE_PASSWORD
from tests.opend.sim.conftest import sdk_ok

START = 1_780_000_000.0  # frozen simulated time (a weekday)


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    """A frozen-clock simulator in a background thread."""
    with SimulatorThread(seed=11, start_time=START) as running:
        yield running


def test_quote_calls(ft: ModuleType, fmt: str, sim: SimulatorThread) -> None:
    host, port = sim.address
    market = sim.state.market
    tencent = sim.state.securities["HK.00700"]
    quote_ctx = ft.OpenQuoteContext(host=host, port=port)
    try:
        state = sdk_ok(quote_ctx.get_global_state())
        assert state["qot_logined"] and state["program_status_type"] == "READY"

        snap = sdk_ok(quote_ctx.get_market_snapshot(["HK.00700", "US.AAPL", "SH.600519"]))
        assert list(snap["code"]) == ["HK.00700", "US.AAPL", "SH.600519"]
        assert snap["last_price"][0] == market.last_price(tencent, START)
        assert snap["lot_size"][0] == 100
        assert snap["bid_price"][0] <= snap["last_price"][0] <= snap["ask_price"][0]

        codes = ["HK.00700"]
        sub_types = [
            ft.SubType.QUOTE,
            ft.SubType.K_DAY,
            ft.SubType.K_1M,
            ft.SubType.ORDER_BOOK,
            ft.SubType.RT_DATA,
            ft.SubType.TICKER,
            ft.SubType.BROKER,
        ]
        sdk_ok(quote_ctx.subscribe(codes, sub_types))
        held = sdk_ok(quote_ctx.query_subscription())
        assert held["total_used"] == len(sub_types) and held["own_used"] == len(sub_types)
        assert held["sub_list"]["QUOTE"] == ["HK.00700"]
        quote = sdk_ok(quote_ctx.get_stock_quote(codes))
        now = market.day_so_far(tencent, START)
        assert quote["last_price"][0] == now.price
        assert (quote["open_price"][0], quote["high_price"][0], quote["low_price"][0]) == (
            now.open,
            now.high,
            now.low,
        )
        assert quote["prev_close_price"][0] == now.last_close

        kline = sdk_ok(quote_ctx.get_cur_kline("HK.00700", 10, ft.KLType.K_DAY))
        assert len(kline) == 10 and kline["close"].iloc[-1] == now.price
        assert kline["last_close"].iloc[-1] == now.last_close
        minute = sdk_ok(quote_ctx.get_cur_kline("HK.00700", 30, ft.KLType.K_1M))
        assert len(minute) == 30 and minute["close"].iloc[-1] == now.price

        book = sdk_ok(quote_ctx.get_order_book("HK.00700", num=10))
        asks, bids = market.book(tencent, START, 10)
        assert [level[0] for level in book["Ask"]] == [p for p, _v, _n in asks]
        assert [level[1] for level in book["Bid"]] == [v for _p, v, _n in bids]

        rt = sdk_ok(quote_ctx.get_rt_data("HK.00700"))
        assert rt["cur_price"].iloc[-1] == now.price and len(rt) == len(market.rt(tencent, START))

        ticker = sdk_ok(quote_ctx.get_rt_ticker("HK.00700", 20))
        ticks = market.tickers(tencent, START, 20)
        assert list(ticker["price"]) == [t.price for t in ticks]
        assert list(ticker["sequence"]) == [t.sequence for t in ticks]

        ret, bid_brokers, ask_brokers = quote_ctx.get_broker_queue("HK.00700")
        assert ret == 0, bid_brokers
        expected_asks, expected_bids = market.brokers(tencent, START)
        assert list(bid_brokers["bid_broker_id"]) == [b[0] for b in expected_bids]
        assert list(ask_brokers["ask_broker_pos"]) == [b[2] for b in expected_asks]

        plates = sdk_ok(quote_ctx.get_plate_list(ft.Market.HK, ft.Plate.INDUSTRY))
        assert "HK.BK1001" in list(plates["code"])
        concept = sdk_ok(quote_ctx.get_plate_list(ft.Market.US, ft.Plate.CONCEPT))
        assert "US.BK2103" in list(concept["code"])
        members = sdk_ok(quote_ctx.get_plate_stock("HK.BK1001"))
        assert set(members["code"]) == set(sim.state.plates["HK.BK1001"].members)

        basic = sdk_ok(quote_ctx.get_stock_basicinfo(ft.Market.HK, ft.SecurityType.STOCK))
        row = basic[basic["code"] == "HK.00005"].iloc[0]
        assert (row["lot_size"], row["name"], row["listing_date"]) == (
            400,
            "HSBC HOLDINGS",
            "1991-04-03",
        )
        by_code = sdk_ok(
            quote_ctx.get_stock_basicinfo(ft.Market.US, code_list=["US.AAPL", "US.TSLA"])
        )
        assert list(by_code["code"]) == ["US.AAPL", "US.TSLA"]

        days = market.klines(tencent, KLType.K_DAY, START)
        start = days[-30].time.strftime("%Y-%m-%d")
        ret, history, page_key = quote_ctx.request_history_kline(
            "HK.00700", start=start, end=days[-1].time.strftime("%Y-%m-%d"), max_count=1000
        )
        assert ret == 0, history
        assert page_key is None and len(history) == 30
        assert history["close"].iloc[-1] == now.price
        if fmt == "protobuf":
            # Paging needs the bytes-typed nextReqKey, which the SDK's JSON parser cannot read.
            ret, page1, key = quote_ctx.request_history_kline("HK.00700", start=start, max_count=20)
            assert ret == 0 and len(page1) == 20 and key is not None
            ret, page2, key = quote_ctx.request_history_kline(
                "HK.00700", start=start, max_count=20, page_req_key=key
            )
            assert ret == 0 and len(page2) == 10 and key is None
            assert list(page1["time_key"]) + list(page2["time_key"]) == list(history["time_key"])
    finally:
        quote_ctx.close()


@pytest.mark.parametrize("env", ["SIMULATE", "REAL"])
def test_trade_calls(ft: ModuleType, fmt: str, sim: SimulatorThread, env: str) -> None:
    host, port = sim.address
    trd_env = getattr(ft.TrdEnv, env)
    trade_ctx = ft.OpenSecTradeContext(filter_trdmarket=ft.TrdMarket.HK, host=host, port=port)
    try:
        accounts = sdk_ok(trade_ctx.get_acc_list())
        assert set(accounts["trd_env"]) == {"REAL", "SIMULATE"}
        acc_id = int(accounts[accounts["trd_env"] == env]["acc_id"].iloc[0])
        account = sim.state.accounts[acc_id]

        if env == "REAL":
            assert trade_ctx.unlock_trade("not-the-password")[0] != 0
            locked = trade_ctx.place_order(400.0, 100, "HK.00700", ft.TrdSide.BUY, trd_env=trd_env)
            assert locked[0] != 0 and "unlock" in locked[1].lower()
            sim.advance(1)  # the refused order still counts against OpenD's 0.02 s spacing
        sdk_ok(trade_ctx.unlock_trade(DEFAULT_TRADE_PASSWORD))

        funds_before = sdk_ok(trade_ctx.accinfo_query(trd_env=trd_env))
        assert funds_before["cash"].iloc[0] == pytest.approx(account.cash)

        tencent = sim.state.securities["HK.00700"]
        bid = sim.state.market.book(tencent, START, 1)[1][0][0]
        resting = 380.0 if bid > 400 else 300.0
        placed = sdk_ok(
            trade_ctx.place_order(
                resting, 100, "HK.00700", ft.TrdSide.BUY, trd_env=trd_env, remark="sdk-test"
            )
        )
        order_id = placed["order_id"].iloc[0]
        assert placed["order_status"].iloc[0] == "SUBMITTED"
        sim.advance(1)  # OpenD wants 0.04 s between modifies; the frozen clock must move too
        sdk_ok(
            trade_ctx.modify_order(
                ft.ModifyOrderOp.NORMAL, order_id, 200, resting + 0.2, trd_env=trd_env
            )
        )
        orders = sdk_ok(trade_ctx.order_list_query(order_id=order_id, trd_env=trd_env))
        assert (orders["qty"].iloc[0], orders["price"].iloc[0]) == (200, resting + 0.2)
        assert orders["remark"].iloc[0] == "sdk-test"
        sim.advance(1)
        sdk_ok(trade_ctx.modify_order(ft.ModifyOrderOp.CANCEL, order_id, 0, 0, trd_env=trd_env))
        orders = sdk_ok(trade_ctx.order_list_query(order_id=order_id, trd_env=trd_env))
        assert orders["order_status"].iloc[0] == "CANCELLED_ALL"

        sim.advance(1)
        filled = sdk_ok(
            trade_ctx.place_order(
                0.0,
                100,
                "HK.00700",
                ft.TrdSide.BUY,
                order_type=ft.OrderType.MARKET,
                trd_env=trd_env,
            )
        )
        assert filled["order_status"].iloc[0] == "FILLED_ALL"
        deals = sdk_ok(trade_ctx.deal_list_query(trd_env=trd_env))
        assert list(deals["order_id"]) == [filled["order_id"].iloc[0]]
        assert deals["qty"].iloc[0] == 100

        positions = sdk_ok(trade_ctx.position_list_query(trd_env=trd_env))
        held = positions[positions["code"] == "HK.00700"].iloc[0]
        assert held["qty"] == account.positions["HK.00700"].qty == 300
        funds = sdk_ok(trade_ctx.accinfo_query(trd_env=trd_env))
        spent = deals["qty"].iloc[0] * deals["price"].iloc[0]
        if env == "REAL":  # real accounts pay the market's fees
            fees = sdk_ok(trade_ctx.order_fee_query([filled["order_id"].iloc[0]], trd_env=trd_env))
            assert fees["fee_amount"].iloc[0] > 3.0  # at least the minimum commission
            spent += fees["fee_amount"].iloc[0]
        assert funds["cash"].iloc[0] == pytest.approx(funds_before["cash"].iloc[0] - spent)
        assert funds["cash"].iloc[0] == pytest.approx(round(account.cash, 2))
    finally:
        trade_ctx.close()


def test_cn_and_us_accounts(ft: ModuleType, fmt: str, sim: SimulatorThread) -> None:
    host, port = sim.address
    for market, code, qty, env in (
        (ft.TrdMarket.US, "US.AAPL", 10, ft.TrdEnv.SIMULATE),
        (ft.TrdMarket.CN, "SH.600519", 100, ft.TrdEnv.SIMULATE),
        (ft.TrdMarket.HKCC, "SZ.000001", 100, ft.TrdEnv.REAL),
    ):
        ctx = ft.OpenSecTradeContext(filter_trdmarket=market, host=host, port=port)
        try:
            sdk_ok(ctx.unlock_trade(DEFAULT_TRADE_PASSWORD))
            before = sdk_ok(ctx.position_list_query(trd_env=env))
            held = before[before["code"] == code]["qty"]
            start = held.iloc[0] if len(held) else 0
            placed = sdk_ok(
                ctx.place_order(
                    0.0, qty, code, ft.TrdSide.BUY, order_type=ft.OrderType.MARKET, trd_env=env
                )
            )
            assert placed["order_status"].iloc[0] == "FILLED_ALL"
            after = sdk_ok(ctx.position_list_query(trd_env=env))
            assert after[after["code"] == code]["qty"].iloc[0] == start + qty
        finally:
            ctx.close()


def test_more_calls_sdk_programs_make(ft: ModuleType, fmt: str, sim: SimulatorThread) -> None:
    host, port = sim.address
    quote_ctx = ft.OpenQuoteContext(host=host, port=port)
    trade_ctx = ft.OpenSecTradeContext(filter_trdmarket=ft.TrdMarket.HK, host=host, port=port)
    env = ft.TrdEnv.SIMULATE
    try:
        states = sdk_ok(quote_ctx.get_market_state(["HK.00700", "US.AAPL"]))
        assert list(states["market_state"]) == ["MORNING", "AFTERNOON"]

        account = next(a for a in sim.state.accounts.values() if a.env == 0 and a.markets[0] == 1)
        info = sdk_ok(
            trade_ctx.acctradinginfo_query(ft.OrderType.NORMAL, "HK.00700", 400.0, trd_env=env)
        )
        assert info["max_cash_buy"][0] == (account.cash // (400.0 * 100)) * 100
        assert info["max_position_sell"][0] == account.positions["HK.00700"].qty

        sdk_ok(trade_ctx.place_order(300.0, 100, "HK.00700", ft.TrdSide.BUY, trd_env=env))
        sim.advance(1)
        sdk_ok(
            trade_ctx.place_order(
                0.0, 100, "HK.00700", ft.TrdSide.SELL, order_type=ft.OrderType.MARKET, trd_env=env
            )
        )
        # The SDK's default window ends at the real today; the simulator's clock is frozen earlier.
        window = {"start": "2026-05-01 00:00:00", "end": "2026-06-30 00:00:00"}
        history = sdk_ok(trade_ctx.history_order_list_query(trd_env=env, **window))
        seeded = [o for o in sim.state.trading.history_orders if o.acc_id == account.acc_id]
        in_window = [o for o in seeded if o.create_time >= 1_777_579_200.0]  # 2026-05-01 HKT
        assert len(history) == len(in_window) + 2  # newest first: today's two, then the past
        assert list(history["trd_side"][:2]) == ["SELL", "BUY"]
        assert list(history["order_id"][2:]) == [o.order_id_ex for o in reversed(in_window)]
        refused = trade_ctx.history_deal_list_query(trd_env=env, **window)
        assert refused[0] != 0 and "paper trading" in refused[1]  # real accounts only
        sim.advance(1)
        sdk_ok(trade_ctx.cancel_all_order(trd_env=env))
        statuses = sdk_ok(trade_ctx.order_list_query(trd_env=env))["order_status"]
        assert sorted(statuses) == ["CANCELLED_ALL", "FILLED_ALL"]
    finally:
        quote_ctx.close()
        trade_ctx.close()
