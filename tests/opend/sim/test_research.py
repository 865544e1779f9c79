"""The simulator's research data: capital flow from the ticks, owner plates, IPOs, the stock
screen, corporate actions, watchlists and price reminders."""

from datetime import date, timedelta
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opend.codes import QotMarket
from opend.enums import (
    AccumulateField,
    FinancialField,
    FinancialQuarter,
    PriceReminderType,
    SortDir,
    StockField,
    TickerDirect,
    UserSecurityGroupType,
)
from opend.sim import ipo, rehab, watchlists
from opend.sim.capflow import CapitalFlows, order_class
from opend.sim.derivatives import Derivatives
from opend.sim.market import MarketData
from opend.sim.screener import Condition, FilterError, Screener, screen_universe, truncate
from opend.sim.universe import PLATES, SECURITIES, on_tick_grid, owner_plates

T0 = 1_796_644_800.0  # 2026-12-07 12:00 UTC: 20:00 in HK, 07:00 in New York
TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def market() -> MarketData:
    return MarketData(SECURITIES, 1)


def test_capital_distribution_is_the_sum_of_the_days_tickers(market: MarketData) -> None:
    sec = SECURITIES["HK.00700"]
    flows = CapitalFlows(market)
    t = T0 + 17.5
    points = flows.intraday(sec, t)
    assert len(points) == 20 * 60 + 1  # 20:00 HK: every minute since midnight, plus this one
    midnight = points[0][0].timestamp() - 60
    ticks = market.tickers(sec, t, int(t // 3) - int(midnight // 3) + 1)
    assert ticks[0].time == midnight
    inflow, outflow = [0.0] * 4, [0.0] * 4
    for tick in ticks:
        value = tick.price * tick.volume
        k = order_class(sec.security.market, value)
        if tick.direction is TickerDirect.BUY:
            inflow[k] += value
        elif tick.direction is TickerDirect.SELL:
            outflow[k] += value
    today = flows.today(sec, t)
    assert today.inflow == pytest.approx(inflow)
    assert today.outflow == pytest.approx(outflow)
    assert all(x > 0 for x in inflow + outflow)  # every class trades in a day of Tencent
    assert points[-1][1].net() == pytest.approx(sum(inflow) - sum(outflow))
    times = [p[0] for p in points]
    assert times == sorted(times)
    daily = flows.daily(sec, t, TODAY - timedelta(days=10), TODAY)
    assert daily[-1][0] == TODAY and daily[-1][1].net() == pytest.approx(today.net())
    assert len(daily) == 7  # Nov 27 to Dec 7: weekdays only, today included


def test_owner_plates_agree_with_the_plate_members() -> None:
    for code in SECURITIES:
        for plate in owner_plates(code):
            assert code in plate.members
        assert {str(p.security) for p in owner_plates(code)} == {
            key for key, plate in PLATES.items() if code in plate.members
        }
    assert len(owner_plates("HK.00700")) >= 3


@pytest.mark.parametrize("market", [QotMarket.HK, QotMarket.US, QotMarket.SH])
def test_the_ipo_calendar_lists_the_next_four_weeks(market: QotMarket) -> None:
    listed = ipo.calendar(1, market, TODAY)
    assert len(listed) >= 4
    assert len({i.code for i in listed}) == len(listed)
    for item in listed:
        assert TODAY <= item.list_date <= TODAY + timedelta(days=28)
        assert item.apply_start < item.apply_end < item.list_date
        assert 0 < item.price_min <= item.price_max
        assert f"{item.market.name}.{item.code}" not in SECURITIES
    if market is QotMarket.HK:
        first = listed[0]
        fee = first.lot_size * first.price_max * 1.0100850
        assert fee <= first.entrance_fee < fee + 0.011
    if market is QotMarket.SH:
        assert {i.market for i in listed} <= {QotMarket.SH, QotMarket.SZ}
    assert ipo.calendar(1, market, TODAY) == listed
    assert ipo.calendar(2, market, TODAY) != listed


_BASE = [
    StockField.CUR_PRICE,
    StockField.MARKET_VAL,
    StockField.PE_TTM,
    StockField.PB_RATE,
    StockField.VOLUME_RATIO,
    StockField.LOT_PRICE,
    StockField.CHANGE_RATE_BEGIN_YEAR,
    StockField.CUR_PRICE_TO_HIGHEST52_WEEKS_RATIO,
    StockField.FLOAT_MARKET_VAL,
]


@st.composite
def _conditions(draw: st.DrawFn) -> list[Condition]:
    picked: list[Condition] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["base", "accumulate", "financial"]))
        if kind == "base":
            field, days, quarter = int(draw(st.sampled_from(_BASE))), 0, 0
        elif kind == "accumulate":
            field, days, quarter = (
                int(draw(st.sampled_from(list(AccumulateField)))),
                draw(st.integers(1, 30)),
                0,
            )
        else:
            field, days, quarter = int(draw(st.sampled_from(list(FinancialField)))), 0, 1
        picked.append(
            Condition(
                kind,
                field,
                low=draw(st.none() | st.floats(-50, 1e12, allow_nan=False)),
                high=draw(st.none() | st.floats(-50, 1e13, allow_nan=False)),
                filtering=draw(st.booleans()),
                sort=draw(st.sampled_from(list(SortDir))),
                days=days,
                quarter=quarter,
            )
        )
    return picked


@pytest.fixture(scope="module")
def screener(market: MarketData) -> Screener:
    return Screener(market)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(conditions=_conditions(), market=st.sampled_from([QotMarket.HK, QotMarket.US, QotMarket.SH]))
def test_a_screen_returns_exactly_the_stocks_meeting_every_condition(
    screener: Screener, conditions: list[Condition], market: QotMarket
) -> None:
    rows = screener.run(market, None, conditions, T0)
    universe = screen_universe(market, None)
    expected = []
    for sec in universe:
        values = [truncate(screener.value(sec, c, T0)) for c in conditions]
        ok = all(
            not c.filtering or ((c.low is None or v >= c.low) and (c.high is None or v <= c.high))
            for c, v in zip(conditions, values, strict=True)
        )
        if ok:
            expected.append(sec.code)
    assert sorted(r.sec.code for r in rows) == sorted(expected)
    for row in rows:
        for c, v in zip(conditions, row.values, strict=True):
            if c.filtering:
                assert c.low is None or v >= c.low
                assert c.high is None or v <= c.high
    sorting = next((i for i, c in enumerate(conditions) if c.sort is not SortDir.NONE), None)
    if sorting is not None:
        keys = [r.values[sorting] for r in rows]
        descending = conditions[sorting].sort is SortDir.DESCEND
        assert keys == sorted(keys, reverse=descending)


# The one name the tool (and opend.enums) spells unlike the SDK, whose name is a typo.
SDK_SPELLING = {"NET_PROFIT_GROWTH": "NET_PROFIX_GROWTH"}
SDK_OFFSET = {"base": 0, "accumulate": 100, "financial": 200}  # the SDK's one StockField


def test_the_screen_tool_and_the_simulator_know_the_same_fields_by_the_sdk_names(
    screener: Screener, ft: ModuleType
) -> None:
    """One field table serves both: every name futu_get_stock_filter's published schema accepts
    is a figure the simulator computes, under the same name and number; the simulator computes
    no other; and each name and number is the official SDK's."""
    from futu_mcp.tools.registry import all_tools
    from futu_mcp.tools.research import FILTER_FIELDS
    from opend.sim import screener as sim

    tool = next(t for t in all_tools() if t.name == "futu_get_stock_filter")
    condition = tool.input_schema()["properties"]["filter_list"]["items"]["properties"]
    accepted = set(condition["stock_field"]["enum"])
    sec = SECURITIES["HK.00700"]
    computed = set()
    for kind in SDK_OFFSET:
        for number in range(64):
            try:
                screener.value(sec, Condition(kind, number, days=5, quarter=1), T0)
            except FilterError:
                continue
            computed.add((kind, number))
    assert {FILTER_FIELDS[name] for name in accepted} == computed
    sim_enums = {
        "base": sim.StockField,
        "accumulate": sim.AccumulateField,
        "financial": sim.FinancialField,
    }
    assert {sim_enums[kind](number).name for kind, number in computed} == accepted
    sdk_fields = ft.StockField().load_dic()
    for name in accepted:
        kind, number = FILTER_FIELDS[name]
        assert sdk_fields[SDK_SPELLING.get(name, name)] == SDK_OFFSET[kind] + number, name
    sdk_sorts = {"NONE" if k == "N/A" else k: v for k, v in ft.SortDir().load_dic().items()}
    assert sdk_sorts == {d.name: d.value for d in sim.SortDir}
    assert set(condition["sort"]["enum"]) == set(sdk_sorts) - {"NONE"}
    quarters = {k: v for k, v in ft.FinancialQuarter().load_dic().items() if k != "N/A"}
    assert set(condition["quarter"]["enum"]) == set(quarters)
    assert quarters == {q.name: q.value for q in FinancialQuarter if q.value}


def test_screen_values_agree_with_quotes(screener: Screener, market: MarketData) -> None:
    sec = SECURITIES["HK.00700"]
    price = market.day_so_far(sec, T0).price
    assert screener.value(sec, Condition("base", StockField.CUR_PRICE), T0) == price
    assert screener.value(sec, Condition("base", StockField.LOT_PRICE), T0) == price * 100
    assert screener.value(sec, Condition("base", StockField.MARKET_VAL), T0) == pytest.approx(
        price * sec.shares_outstanding
    )
    change = screener.value(sec, Condition("accumulate", AccumulateField.CHANGE_RATE, days=1), T0)
    day = market.day_so_far(sec, T0)
    assert change == pytest.approx((day.price - day.last_close) / day.last_close * 100)
    cheap = Condition("base", StockField.PE_TTM, high=20.0, filtering=True, sort=SortDir.ASCEND)
    rows = screener.run(QotMarket.HK, None, [cheap], T0)
    universe = screen_universe(QotMarket.HK, None)
    assert 0 < len(rows) < len(universe)
    assert [r.values[0] for r in rows] == sorted(r.values[0] for r in rows) and rows[-1].values[
        0
    ] <= 20
    shown = Condition("base", StockField.PE_TTM, high=20.0, filtering=False)
    assert len(screener.run(QotMarket.HK, None, [shown], T0)) == len(universe)
    plate = screen_universe(QotMarket.HK, "HK.BK1001")
    assert {s.code for s in plate} == set(PLATES["HK.BK1001"].members)
    with pytest.raises(FilterError):
        screen_universe(QotMarket.HK, "HK.BK9999")
    with pytest.raises(FilterError):
        screener.value(sec, Condition("accumulate", AccumulateField.VOLUME, days=0), T0)


def test_rehab_events_are_the_real_history_with_consistent_factors() -> None:
    aapl = rehab.events("US.AAPL", TODAY)
    split = [e for e in aapl if e.flags & rehab.CompanyAct.SPLIT]
    assert [(e.day, e.split_base, e.split_ert, e.fwd_a, e.bwd_a) for e in split] == [
        (date(2020, 8, 31), 1, 4, 0.25, 4.0)
    ]
    dividends = [e for e in aapl if e.flags & rehab.CompanyAct.DIVIDEND]
    assert len(dividends) == 25 and dividends[-1].dividend == 0.26
    for e in dividends:
        assert (e.fwd_a, e.fwd_b, e.bwd_a, e.bwd_b) == (1.0, -e.dividend, 1.0, e.dividend)
    assert [e.day for e in aapl] == sorted(e.day for e in aapl)
    tsla = rehab.events("US.TSLA", TODAY)
    assert [(e.day, e.split_ert) for e in tsla] == [(date(2020, 8, 31), 5), (date(2022, 8, 25), 3)]
    assert rehab.events("US.TSLA", date(2021, 1, 1)) == tsla[:1]
    assert rehab.events("US.MSFT", TODAY) == []
    # The official SDK cannot read the "add" bit (32): no event may carry it.
    assert all(not e.flags & 32 for rows in rehab.EVENTS.values() for e in rows)


def test_watchlists_have_system_and_custom_groups_with_live_codes(market: MarketData) -> None:
    kinds = watchlists.groups(UserSecurityGroupType.ALL)
    assert kinds[0] == ("All", UserSecurityGroupType.SYSTEM)
    assert {n for n, k in kinds if k is UserSecurityGroupType.CUSTOM} == set(
        watchlists.CUSTOM_GROUPS
    )
    assert watchlists.groups(UserSecurityGroupType.CUSTOM) == [
        (n, UserSecurityGroupType.CUSTOM) for n in watchlists.CUSTOM_GROUPS
    ]
    everything = watchlists.members("All", TODAY)
    assert everything is not None
    for name in watchlists.CUSTOM_GROUPS:
        assert set(watchlists.members(name, TODAY) or []) <= set(everything)
    us = watchlists.members("US", TODAY) or []
    assert us and all(code.startswith("US.") for code in us)
    derivatives = Derivatives(market)
    option_codes = watchlists.members("Options", TODAY) or []
    assert len(option_codes) == 4
    for code in option_codes:
        assert derivatives.lookup(code, T0) is not None, code
    assert watchlists.members("No Such Group", TODAY) is None


def test_price_reminders_are_on_the_tick_grid_and_filter_by_code_or_market() -> None:
    for reminder in watchlists.REMINDERS:
        sec = SECURITIES[reminder.code]
        if reminder.kind in (PriceReminderType.PRICE_UP, PriceReminderType.PRICE_DOWN):
            assert on_tick_grid(sec.tick_rule, reminder.value)
    keys = [r.key for r in watchlists.REMINDERS]
    assert len(set(keys)) == len(keys)
    assert {r.code for r in watchlists.reminders("HK.00700", QotMarket.US)} == {"HK.00700"}
    us = watchlists.reminders(None, QotMarket.US)
    assert us and {r.code[:3] for r in us} == {"US."}
