"""An account's past, fees, buying power and real hours: the simulator's data checked against
itself and against the published rules, through our client and the unmodified SDK."""

import asyncio
import hashlib
import math
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from opend.client import OpenDClient
from opend.codes import QotMarket, TrdMarket, parse_code
from opend.enums import CashFlowDirection, OrderType, TimeInForce, TrdEnv, TrdSide
from opend.errors import OpenDError, Throttled
from opend.models import TrdAccount
from opend.sim import DEFAULT_TRADE_PASSWORD, Simulator, SimulatorThread, exchange
from opend.sim.state import SimState
from opend.sim.trading import Account
from opend.sim.universe import round_to_tick
from opend.throttle import QuoteThrottle

HKT = ZoneInfo("Asia/Hong_Kong")
# Friday 2026-12-04, 10:00 in Hong Kong: HK trades, and a roll-over lands on Monday.
START = datetime(2026, 12, 4, 10, 0, tzinfo=HKT).timestamp()
HK = parse_code("HK.00700")
MD5 = hashlib.md5(DEFAULT_TRADE_PASSWORD.encode()).hexdigest()
WINDOW = ("2026-09-01", "2026-12-31")


def _account(state: SimState, env: TrdEnv, market: TrdMarket) -> Account:
    return next(a for a in state.accounts.values() if a.env is env and a.markets[0] is market)


def _header(account: Account) -> TrdAccount:
    return TrdAccount(account.env, account.acc_id, account.markets[0])


@pytest.mark.parametrize("seed", [1, 5])
def test_seeded_history_ends_in_todays_holdings_and_cash(seed: int) -> None:
    state = SimState(seed=seed, start_time=START)
    trading = state.trading
    for account in state.accounts.values():
        orders = [o for o in trading.history_orders if o.acc_id == account.acc_id]
        deals = [d for d in trading.history_deals if d.order.acc_id == account.acc_id]
        assert len(orders) >= 10 and len(deals) >= 8
        assert {o.status.name for o in orders} == {"FILLED_ALL", "CANCELLED_ALL"}
        held: Counter[str] = Counter()
        cash = state.deposits[account.acc_id].amount
        for deal in deals:
            sign = 1 if deal.order.side is TrdSide.BUY else -1
            held[deal.order.sec.code] += sign * deal.qty
            cash -= sign * deal.qty * deal.price + sum(f.value for f in deal.fees)
            assert bool(deal.fees) is (account.env is TrdEnv.REAL)
            venue = exchange.EXCHANGE_OF[deal.order.sec.security.market]
            assert exchange.is_trading(venue, deal.time), deal  # within a real session
            day = exchange.local(venue, deal.time).date()
            low, high = state.market.day_range(deal.order.sec, day, day)
            assert low - 0.01 <= deal.price <= high + 0.01
        now_held = {code: p.qty for code, p in account.positions.items() if p.qty}
        assert {c: q for c, q in held.items() if q} == now_held
        assert cash == pytest.approx(account.cash, abs=0.01)
        first = min(o.create_time for o in orders)
        assert 50 * 86400 < START - first < 62 * 86400  # about 60 days back


def test_fees_follow_the_published_schedules() -> None:
    from opend.enums import SecurityType
    from opend.sim.fees import order_fees, total

    buy = {
        f.title: f.value
        for f in order_fees(QotMarket.HK, SecurityType.STOCK, TrdSide.BUY, 100, 45_020.0)
    }
    assert buy == {
        "Commission": 13.51,  # 0.03 %
        "Platform Fees": 15.0,
        "Stamp Duty": 46.0,  # 0.1 %, rounded up to a whole dollar
        "Trading Fee": 2.54,  # 0.00565 %
        "SFC Transaction Levy": 1.22,  # 0.0027 %
        "AFRC Transaction Levy": 0.07,  # 0.00015 %
        "Settlement Fee": 1.89,  # 0.0042 %
    }
    small = {
        f.title: f.value
        for f in order_fees(QotMarket.HK, SecurityType.ETF, TrdSide.SELL, 500, 1_000.0)
    }
    assert (small["Commission"], small["Stamp Duty"], small["Trading Fee"]) == (3.0, 0.0, 0.06)
    sell = {
        f.title: f.value
        for f in order_fees(QotMarket.US, SecurityType.STOCK, TrdSide.SELL, 10, 2_000.0)
    }
    assert sell == {
        "Commission": 0.99,  # minimum
        "Platform Fees": 1.0,  # minimum
        "Settlement Fee": 0.03,
        "SEC Fee": 0.0,
        "Trading Activity Fee": 0.01,
    }
    big = {
        f.title: f.value
        for f in order_fees(QotMarket.US, SecurityType.STOCK, TrdSide.SELL, 100_000, 100_000.0)
    }
    assert big["Commission"] == 490.0 and big["Trading Activity Fee"] == 8.30  # TAF cap
    a_share = {
        f.title: f.value
        for f in order_fees(QotMarket.SH, SecurityType.STOCK, TrdSide.SELL, 100, 150_000.0)
    }
    assert a_share["Stamp Duty"] == 75.0 and a_share["Commission"] == 45.0
    assert "Stamp Duty" not in {
        f.title for f in order_fees(QotMarket.SZ, SecurityType.STOCK, TrdSide.BUY, 100, 1e4)
    }
    assert total(order_fees(QotMarket.HK, SecurityType.STOCK, TrdSide.BUY, 0, 0.0)) == 0.0


def _hk_fee_by_hand(value: float) -> float:
    """The HK schedule written out once more, independently of opend.sim.fees."""
    items = [
        max(round(value * 0.0003, 2), 3.0),
        15.0,
        math.ceil(value * 0.001),
        max(round(value * 0.0000565, 2), 0.01),
        max(round(value * 0.000027, 2), 0.01),
        round(value * 0.0000015, 2),
        round(value * 0.000042, 2),
    ]
    return round(sum(items), 2)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(seed=9, start_time=START) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[OpenDClient]:
    host, port = sim.address
    async with OpenDClient(host, port, request_timeout=5.0) as c:
        assert await c.wait_connected(5)
        await c.unlock_trade(MD5)
        yield c


@pytest.mark.anyio
async def test_orders_become_history_and_fees_and_cash_flow_add_up(
    sim: Simulator, client: OpenDClient
) -> None:
    real = _account(sim.state, TrdEnv.REAL, TrdMarket.HK)
    acc = _header(real)
    cash_before = real.cash
    placed = await client.place_order(acc, HK, TrdSide.BUY, OrderType.MARKET, 100, 0.0)
    sim.advance(1)
    tencent = sim.state.securities["HK.00700"]
    resting_price = round_to_tick(QotMarket.HK, sim.state.market.last_price(tencent, START) * 0.8)
    resting = await client.place_order(
        acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, resting_price, time_in_force=TimeInForce.GTC
    )
    (deal,) = sim.state.deals
    value = deal.qty * deal.price

    (fee,) = await client.order_fee_query(acc, [placed.order_id_ex or ""])
    assert fee.fee_amount == _hk_fee_by_hand(value)
    assert [i.title for i in fee.fee_details][:3] == ["Commission", "Platform Fees", "Stamp Duty"]
    assert real.cash == pytest.approx(cash_before - value - _hk_fee_by_hand(value), abs=0.005)
    flows = await client.get_acc_cash_flow(acc, "2026-12-04")
    assert (flows[0].cashflow_type, flows[0].cashflow_direction) == ("Buy", "OUT")
    assert sum(f.cashflow_amount or 0.0 for f in flows) == pytest.approx(
        real.cash - cash_before, abs=0.005
    )
    outflows = await client.get_acc_cash_flow(acc, "2026-12-04", CashFlowDirection.IN)
    assert outflows == []

    today = await client.order_list_query(acc)
    assert {o.order_id for o in today} == {placed.order_id, resting.order_id}
    assert sim.roll_over(QotMarket.HK) > 0  # Friday 10:00 → Monday 09:31
    today = await client.order_list_query(acc)
    assert [o.order_id for o in today] == [resting.order_id]  # only the open order stays
    assert await client.deal_list_query(acc) == []
    history = await client.history_order_list_query(acc, *WINDOW)
    assert [o.order_id for o in history[:2]] == [resting.order_id, placed.order_id]  # newest first
    assert len(history) == 2 + sum(
        1 for o in sim.state.trading.history_orders if o.acc_id == real.acc_id
    )
    fills = await client.history_deal_list_query(acc, *WINDOW, codes=[HK])
    assert fills[0].deal_id == str(deal.fill_id) and fills[0].order_id == placed.order_id
    assert all(f.code == "HK.00700" for f in fills)
    # A seeded day's cash flow: its fills and fees.
    past = sim.state.trading.history_deals[-1]
    past_acc = _header(sim.state.accounts[past.order.acc_id])
    venue = exchange.EXCHANGE_OF[past.order.sec.security.market]
    day = exchange.local(venue, past.time).date().isoformat()
    if past_acc.trd_env is TrdEnv.REAL:
        rows = await client.get_acc_cash_flow(past_acc, day)
        assert any(past.order.order_id_ex in (r.cashflow_remark or "") for r in rows)


@pytest.mark.anyio
async def test_max_quantities_agree_with_what_placing_accepts(
    sim: Simulator, client: OpenDClient
) -> None:
    tencent = sim.state.securities["HK.00700"]
    price = round_to_tick(QotMarket.HK, sim.state.market.last_price(tencent, START) * 0.8)
    maxima = {}
    for env in (TrdEnv.SIMULATE, TrdEnv.REAL):
        acc = _header(_account(sim.state, env, TrdMarket.HK))
        qtys = await client.acctradinginfo_query(acc, OrderType.NORMAL, HK, price)
        maxima[env] = qtys
        assert qtys.max_position_sell == 200 and qtys.max_sell_short == 0
        most = qtys.max_cash_and_margin_buy or 0.0
        assert most > 0 and most % 100 == 0
        with pytest.raises(OpenDError, match="Insufficient buying power"):
            await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, most + 100, price)
        sim.advance(1)
        await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, most, price)
        sim.advance(1)
        after = await client.acctradinginfo_query(acc, OrderType.NORMAL, HK, price)
        assert after.max_cash_and_margin_buy == 0  # the resting order holds the rest
    paper, real = maxima[TrdEnv.SIMULATE], maxima[TrdEnv.REAL]
    assert paper.max_cash_buy == paper.max_cash_and_margin_buy  # a cash account
    assert (real.max_cash_and_margin_buy or 0) > (real.max_cash_buy or 0) > 0  # a margin account


@pytest.mark.anyio
async def test_margin_ratios_and_paper_refusals(sim: Simulator, client: OpenDClient) -> None:
    real = _header(_account(sim.state, TrdEnv.REAL, TrdMarket.HK))
    ratios = await client.get_margin_ratio(real, [HK, parse_code("US.AAPL")])
    assert [r.code for r in ratios] == ["HK.00700", "US.AAPL"]
    for r in ratios:
        assert r.is_long_permit and r.is_short_permit is False
        assert 0 < (r.mm_long_ratio or 0) < (r.mcm_long_ratio or 0) < (r.alert_long_ratio or 0)
        assert (r.alert_long_ratio or 0) < (r.im_long_ratio or 0) <= 100
    with pytest.raises(OpenDError, match="only available for HK and US"):
        await client.get_margin_ratio(real, [parse_code("SH.600519")])
    paper = _header(_account(sim.state, TrdEnv.SIMULATE, TrdMarket.HK))
    for call in (
        client.history_deal_list_query(paper, *WINDOW),
        client.order_fee_query(paper, ["FTHIS0000000001"]),
        client.get_acc_cash_flow(paper, "2026-12-03"),
        client.get_margin_ratio(paper, [HK]),
    ):
        with pytest.raises(OpenDError, match="not available for paper trading"):
            await call
    assert await client.history_order_list_query(paper, *WINDOW)  # orders are served for paper


@pytest.mark.anyio
async def test_real_hours_orders_wait_for_the_open() -> None:
    friday_evening = datetime(2026, 12, 4, 17, 0, tzinfo=HKT).timestamp()
    async with Simulator(seed=9, start_time=friday_evening, real_hours=True) as sim:
        host, port = sim.address
        async with OpenDClient(host, port, request_timeout=5.0) as client:
            assert await client.wait_connected(5)
            acc = _header(_account(sim.state, TrdEnv.SIMULATE, TrdMarket.HK))
            (state,) = await client.get_market_state([HK])
            assert state.market_state == "CLOSED"
            with pytest.raises(OpenDError, match="Market orders are accepted only while"):
                await client.place_order(acc, HK, TrdSide.BUY, OrderType.MARKET, 100, 0.0)
            tencent = sim.state.securities["HK.00700"]
            generous = round_to_tick(
                QotMarket.HK, sim.state.market.last_price(tencent, friday_evening) * 1.2
            )
            sim.advance(1)
            order = await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, generous)
            sim.advance(3 * 3600)  # still the weekend: nothing fills
            (row,) = await client.order_list_query(acc, [order.order_id or ""])
            assert row.order_status == "SUBMITTED" and sim.state.deals == []
            sim.roll_over(QotMarket.HK)  # Monday 09:31
            (row,) = await client.order_list_query(acc, [order.order_id or ""])
            assert row.order_status == "FILLED_ALL"
            (fill,) = sim.state.deals
            assert exchange.state_at(exchange.Exchange.HK, fill.time).name == "MORNING"
            low = round_to_tick(QotMarket.HK, sim.state.market.last_price(tencent, fill.time) * 0.7)
            day_order = await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, low)
            sim.advance(7 * 3600)  # past 16:00
            (row,) = await client.order_list_query(acc, [day_order.order_id or ""])
            assert row.order_status == "CANCELLED_ALL"
            assert "end of the trading day" in (row.last_err_msg or "")
            updated = exchange.local(
                exchange.Exchange.HK, sim.state.orders[int(day_order.order_id or 0)].update_time
            )
            assert (updated.hour, updated.minute) == (16, 0)


@pytest.mark.parametrize("fmt", ["protobuf", "json"])
def test_sdk_reads_the_account_history_as_our_client(ft: ModuleType, fmt: str) -> None:
    ft.SysConfig.set_proto_fmt(ft.ProtoFMT.Json if fmt == "json" else ft.ProtoFMT.Protobuf)
    with SimulatorThread(seed=9, start_time=START) as sim:
        host, port = sim.address
        real = _account(sim.state, TrdEnv.REAL, TrdMarket.HK)
        trade = ft.OpenSecTradeContext(filter_trdmarket=ft.TrdMarket.HK, host=host, port=port)
        env = ft.TrdEnv.REAL
        try:
            assert trade.unlock_trade(DEFAULT_TRADE_PASSWORD)[0] == 0
            ret, placed = trade.place_order(
                0.0, 100, "HK.00700", ft.TrdSide.BUY, order_type=ft.OrderType.MARKET, trd_env=env
            )
            assert ret == 0, placed
            order_id_ex = placed["order_id"].iloc[0]
            window = {"start": "2026-09-01 00:00:00", "end": "2026-12-31 23:59:59"}
            sdk: dict[str, object] = {}
            for name, call in (
                ("orders", lambda: trade.history_order_list_query(trd_env=env, **window)),
                ("deals", lambda: trade.history_deal_list_query(trd_env=env, **window)),
                (
                    "qtys",
                    lambda: trade.acctradinginfo_query(
                        ft.OrderType.NORMAL, "HK.00700", 400.0, trd_env=env
                    ),
                ),
                ("fees", lambda: trade.order_fee_query([order_id_ex], trd_env=env)),
                ("margin", lambda: trade.get_margin_ratio(["HK.00700", "HK.00005"])),
                ("flow", lambda: trade.get_acc_cash_flow("2026-12-04", trd_env=env)),
            ):
                ret, data = call()
                assert ret == 0, (name, data)
                sdk[name] = data.to_dict("records")
        finally:
            trade.close()

        async def ours() -> dict[str, object]:
            async with OpenDClient(host, port, request_timeout=5.0) as client:
                assert await client.wait_connected(5)
                acc = _header(real)
                return {
                    "orders": await client.history_order_list_query(acc, *WINDOW),
                    "deals": await client.history_deal_list_query(acc, *WINDOW),
                    "qtys": [await client.acctradinginfo_query(acc, OrderType.NORMAL, HK, 400.0)],
                    "fees": await client.order_fee_query(acc, [order_id_ex]),
                    "margin": await client.get_margin_ratio(acc, [HK, parse_code("HK.00005")]),
                    "flow": await client.get_acc_cash_flow(acc, "2026-12-04"),
                }

        mine = asyncio.run(ours())
    assert len(sdk["orders"]) > 10  # type: ignore[arg-type]
    for key, rows in mine.items():
        sdk_rows = sdk[key]
        assert len(rows) == len(sdk_rows), key  # type: ignore[arg-type]
        for ours_row, sdk_row in zip(rows, sdk_rows, strict=True):  # type: ignore[call-overload]
            plain = ours_row.to_dict()
            if key in ("orders", "deals"):
                plain["order_id"] = plain["order_id_ex"]  # the SDK names orders by orderIDEx
            if key == "fees":
                assert sdk_row["fee_details"] == [
                    (i["title"], i["value"]) for i in plain["fee_details"]
                ]
            common = [k for k, v in plain.items() if k in sdk_row and not isinstance(v, list)]
            assert len(common) >= 2, key
            for k in common:
                a, b = sdk_row[k], plain[k]
                if a in (None, "N/A", "") and b in (None, "N/A", ""):
                    continue  # absent on both sides
                if isinstance(a, float) or isinstance(b, float):
                    assert float(a) == pytest.approx(float(b)), (key, k)
                else:
                    assert str(a) == str(b), (key, k)


@pytest.mark.anyio
async def test_client_keeps_opends_per_account_limit(sim: Simulator, client: OpenDClient) -> None:
    """Ten history queries per account in 30 s (OpenD's rule): the eleventh is refused before
    it is sent, while another account still has its own ten."""
    real = _header(_account(sim.state, TrdEnv.REAL, TrdMarket.HK))
    paper = _header(_account(sim.state, TrdEnv.SIMULATE, TrdMarket.HK))
    for _ in range(10):
        await client.history_order_list_query(real, *WINDOW)
    with pytest.raises(Throttled, match=f"history orders: 10 per 30 s for account {real.acc_id}"):
        await client.history_order_list_query(real, *WINDOW)
    assert await client.history_order_list_query(paper, *WINDOW)


@pytest.mark.anyio
async def test_the_simulator_enforces_opends_query_limits(sim: Simulator) -> None:
    """With our client's own throttle off, the simulator refuses the eleventh history query of
    one account in 30 s, as OpenD does, and frees the slot 30 s after the first."""
    host, port = sim.address
    unthrottled = QuoteThrottle(limits={}, account_limits={})
    async with OpenDClient(host, port, request_timeout=5.0, quote_throttle=unthrottled) as client:
        assert await client.wait_connected(5)
        real = _header(_account(sim.state, TrdEnv.REAL, TrdMarket.HK))
        paper = _header(_account(sim.state, TrdEnv.SIMULATE, TrdMarket.HK))
        for _ in range(10):
            await client.history_order_list_query(real, *WINDOW)
        with pytest.raises(OpenDError, match="at most 10 Trd_GetHistoryOrderList requests per"):
            await client.history_order_list_query(real, *WINDOW)
        await client.history_order_list_query(paper, *WINDOW)  # its own window
        sim.advance(31)
        await client.history_order_list_query(real, *WINDOW)
        for _ in range(10):
            await client.get_margin_ratio(real, [HK])
        with pytest.raises(OpenDError, match="at most 10 Trd_GetMarginRatio requests"):
            await client.get_margin_ratio(real, [HK])
