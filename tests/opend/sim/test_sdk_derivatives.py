"""The official futu-api SDK, unmodified, on the simulator's derivatives, research and
watchlist protocols, in protobuf and JSON modes: every call returns RET_OK and its data agrees
with the simulator's own state."""

from collections.abc import Iterator
from types import ModuleType

import pytest

from opend.sim import SimulatorThread
from opend.sim.state import DEFAULT_TRADE_PASSWORD
from tests.opend.sim.conftest import sdk_ok

START = 1_796_644_800.0  # 2026-12-07 12:00 UTC, a Monday: 20:00 in HK, 07:00 in New York


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    """A frozen-clock simulator in a background thread."""
    with SimulatorThread(seed=11, start_time=START) as running:
        yield running


def test_options_from_expiry_to_position(ft: ModuleType, fmt: str, sim: SimulatorThread) -> None:
    host, port = sim.address
    state = sim.state
    quote_ctx = ft.OpenQuoteContext(host=host, port=port)
    trade_ctx = ft.OpenSecTradeContext(filter_trdmarket=ft.TrdMarket.US, host=host, port=port)
    try:
        dates = sdk_ok(quote_ctx.get_option_expiration_date("US.AAPL"))
        assert list(dates["strike_time"])[:3] == ["2026-12-11", "2026-12-18", "2026-12-24"]
        monthly = dates[dates["expiration_cycle"] == "MONTH"].iloc[0]
        assert monthly["strike_time"] == "2026-12-18"
        assert monthly["option_expiry_date_distance"] == 11

        chain = sdk_ok(quote_ctx.get_option_chain("US.AAPL", start="2026-12-18", end="2026-12-18"))
        assert set(chain["strike_time"]) == {"2026-12-18"}
        assert set(chain["option_type"]) == {"CALL", "PUT"}
        assert set(chain["lot_size"]) == {100}
        spot = state.market.last_price(state.securities["US.AAPL"], START)
        calls = chain[chain["option_type"] == "CALL"]
        nearest = calls.iloc[(calls["strike_price"] - spot).abs().argmin()]
        code = nearest["code"]
        assert code == f"US.AAPL261218C{int(nearest['strike_price'] * 1000)}"
        only_calls = sdk_ok(
            quote_ctx.get_option_chain(
                "US.AAPL",
                start="2026-12-18",
                end="2026-12-18",
                option_type=ft.OptionType.CALL,
                option_cond_type=ft.OptionCondType.WITHIN,
            )
        )
        assert set(only_calls["option_type"]) == {"CALL"}
        assert (only_calls["strike_price"] < spot).all()

        snap = sdk_ok(quote_ctx.get_market_snapshot([code]))
        row = snap.iloc[0]
        sec = state.resolve(code)
        assert sec is not None
        contract = state.derivatives.terms(sec)
        greeks = contract.greeks(state.market.price(state.securities["US.AAPL"], START), START)
        assert row["last_price"] == state.market.last_price(sec, START)
        assert row["option_delta"] == pytest.approx(greeks.delta, abs=1e-4)
        assert row["option_gamma"] == pytest.approx(greeks.gamma, abs=1e-4)
        assert row["option_contract_size"] == 100
        assert row["option_strike_price"] == nearest["strike_price"]
        assert row["option_open_interest"] > 0

        # Subscribed data works on option codes like on stocks.
        sdk_ok(
            quote_ctx.subscribe([code], [ft.SubType.QUOTE, ft.SubType.K_DAY, ft.SubType.ORDER_BOOK])
        )
        quote = sdk_ok(quote_ctx.get_stock_quote([code]))
        assert quote["last_price"].iloc[0] == row["last_price"]
        kline = sdk_ok(quote_ctx.get_cur_kline(code, 5, ft.KLType.K_DAY))
        assert kline["close"].iloc[-1] == row["last_price"]
        book = sdk_ok(quote_ctx.get_order_book(code, num=3))
        assert book["Bid"][0][0] < book["Ask"][0][0]

        sdk_ok(trade_ctx.unlock_trade(DEFAULT_TRADE_PASSWORD))
        env = ft.TrdEnv.SIMULATE
        cash = sdk_ok(trade_ctx.accinfo_query(trd_env=env, currency=ft.Currency.USD))["cash"].iloc[
            0
        ]
        placed = sdk_ok(
            trade_ctx.place_order(row["ask_price"], 1, code, ft.TrdSide.BUY, trd_env=env)
        )
        assert placed["order_status"].iloc[0] == "FILLED_ALL"
        positions = sdk_ok(trade_ctx.position_list_query(trd_env=env))
        held = positions[positions["code"] == code].iloc[0]
        assert held["qty"] == 1
        fill = sdk_ok(trade_ctx.deal_list_query(trd_env=env)).iloc[-1]
        assert held["market_val"] == pytest.approx(100 * held["nominal_price"], abs=0.01)
        after = sdk_ok(trade_ctx.accinfo_query(trd_env=env, currency=ft.Currency.USD))["cash"].iloc[
            0
        ]
        assert after == pytest.approx(cash - 100 * fill["price"], abs=0.01)
    finally:
        quote_ctx.close()
        trade_ctx.close()


def test_warrants_futures_and_references(ft: ModuleType, fmt: str, sim: SimulatorThread) -> None:
    host, port = sim.address
    quote_ctx = ft.OpenQuoteContext(host=host, port=port)
    try:
        request = ft.WarrantRequest()
        request.sort_field = ft.SortField.VOLUME
        request.ascend = False
        table, last_page, count = sdk_ok(quote_ctx.get_warrant("HK.00700", request))
        assert count == len(table) > 0 and last_page
        assert set(table["stock_owner"]) == {"HK.00700"}
        volumes = list(table["volume"])
        assert volumes == sorted(volumes, reverse=True)
        bulls = ft.WarrantRequest()
        bulls.type_list = [ft.WrtType.BULL]
        table, _last, _count = sdk_ok(quote_ctx.get_warrant("HK.00700", bulls))
        assert set(table["type"]) == {"BULL"}
        assert (table["recovery_price"] > table["strike_price"]).all()

        info = sdk_ok(quote_ctx.get_future_info(["HK.HSImain", "HK.MHI2612", "US.ES2703"]))
        assert list(info["size"]) == [50, 10, 50]
        assert info["last_trade_time"].iloc[1] == "2026-12-30"
        assert info["origin_code"].iloc[0] == "HK.HSI2612"
        snap = sdk_ok(quote_ctx.get_market_snapshot(["HK.HSImain"])).iloc[0]
        assert snap["future_main_contract"]
        assert snap["last_price"] % 1 == 0

        warrants = sdk_ok(
            quote_ctx.get_referencestock_list("HK.00700", ft.SecurityReferenceType.WARRANT)
        )
        assert len(warrants) == count  # every live warrant and CBBC on Tencent
        months = sdk_ok(
            quote_ctx.get_referencestock_list("HK.HSImain", ft.SecurityReferenceType.FUTURE)
        )
        assert list(months["code"]) == ["HK.HSI2612", "HK.HSI2701", "HK.HSI2703", "HK.HSI2706"]
    finally:
        quote_ctx.close()


def test_research_and_watchlists(ft: ModuleType, fmt: str, sim: SimulatorThread) -> None:
    host, port = sim.address
    state = sim.state
    tencent = state.securities["HK.00700"]
    quote_ctx = ft.OpenQuoteContext(host=host, port=port)
    try:
        flow = sdk_ok(quote_ctx.get_capital_flow("HK.00700"))
        today = state.capital_flows.today(tencent, START)
        assert flow["in_flow"].iloc[-1] == pytest.approx(today.net(), abs=0.01)
        distribution = sdk_ok(quote_ctx.get_capital_distribution("HK.00700")).iloc[0]
        assert distribution["capital_in_big"] == pytest.approx(today.inflow[1], abs=0.01)
        days = sdk_ok(
            quote_ctx.get_capital_flow(
                "HK.00700", period_type=ft.PeriodType.DAY, start="2026-11-30", end="2026-12-07"
            )
        )
        assert len(days) == 6 and days["in_flow"].iloc[-1] == pytest.approx(today.net(), abs=0.01)

        plates = sdk_ok(quote_ctx.get_owner_plate(["HK.00700"]))
        assert set(plates["plate_code"]) == {
            key for key, plate in state.plates.items() if "HK.00700" in plate.members
        }

        ipos = sdk_ok(quote_ctx.get_ipo_list(ft.Market.HK))
        assert len(ipos) > 0 and (ipos["list_time"] >= "2026-12-07").all()

        cheap = ft.SimpleFilter()
        cheap.stock_field = ft.StockField.PE_TTM
        cheap.filter_min = 0
        cheap.filter_max = 20
        cheap.is_no_filter = False
        cheap.sort = ft.SortDir.ASCEND
        last_page, count, rows = sdk_ok(quote_ctx.get_stock_filter(ft.Market.HK, [cheap]))
        assert last_page and count == len(rows) > 0
        values = [row.pe_ttm for row in rows]
        assert values == sorted(values) and all(0 <= v <= 20 for v in values)

        rehab = sdk_ok(quote_ctx.get_rehab("US.AAPL"))
        split = rehab[rehab["ex_div_date"] == "2020-08-31"].iloc[0]
        assert split["split_ratio"] == 0.25 and split["forward_adj_factorA"] == 0.25
        assert rehab["per_cash_div"].iloc[-1] == 0.26

        groups = sdk_ok(quote_ctx.get_user_security_group(ft.UserSecurityGroupType.ALL))
        assert "All" in list(groups["group_name"]) and "Tech Leaders" in list(groups["group_name"])
        members = sdk_ok(quote_ctx.get_user_security("Tech Leaders"))
        assert "HK.00700" in list(members["code"])
        options = sdk_ok(quote_ctx.get_user_security("Options"))
        assert len(options) == 4 and set(options["lot_size"]) == {100}

        reminders = sdk_ok(quote_ctx.get_price_reminder(code="HK.00700"))
        assert len(reminders) == 2 and set(reminders["code"]) == {"HK.00700"}
        us = sdk_ok(quote_ctx.get_price_reminder(market=ft.Market.US))
        assert set(us["code"]) == {"US.AAPL", "US.TSLA", "US.NVDA"}
    finally:
        quote_ctx.close()
