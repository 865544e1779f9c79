"""Trading days and market states: the exchange tables, the simulator serving them, our client
and the unmodified SDK reading them alike (JSON and protobuf bodies)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from opend.client import OpenDClient
from opend.codes import QotMarket, parse_code
from opend.enums import QotMarketState, TradeDateMarket
from opend.errors import OpenDError
from opend.sim import Simulator, SimulatorThread
from opend.sim.exchange import (
    Exchange,
    next_trading_moment,
    reported_state,
    state_at,
    trading_day_close,
    trading_days,
)

HKT = ZoneInfo("Asia/Hong_Kong")
ET = ZoneInfo("America/New_York")
CST = ZoneInfo("Asia/Shanghai")
HK = parse_code("HK.00700")
US = parse_code("US.AAPL")
SH = parse_code("SH.600519")
# Friday 2026-12-04, 10:00 in Hong Kong: the HK morning session.
HK_MORNING = datetime(2026, 12, 4, 10, 0, tzinfo=HKT).timestamp()


def _at(tz: ZoneInfo, *parts: int) -> float:
    return datetime(*parts, tzinfo=tz).timestamp()  # type: ignore[misc]


def test_known_holidays_are_not_trading_days() -> None:
    easter = trading_days(Exchange.HK, date(2026, 4, 1), date(2026, 4, 10))
    assert easter == [date(2026, 4, d) for d in (1, 2, 8, 9, 10)]  # Good Friday to Easter Tuesday
    assert date(2026, 12, 25) not in trading_days(
        Exchange.HK, date(2026, 12, 21), date(2026, 12, 31)
    )
    thanksgiving = trading_days(Exchange.US, date(2026, 11, 23), date(2026, 11, 27))
    assert thanksgiving == [date(2026, 11, d) for d in (23, 24, 25, 27)]
    golden_week = trading_days(Exchange.CN, date(2026, 9, 28), date(2026, 10, 10))
    # 1-7 October closed; Saturday 10 October is a make-up working day, not a trading day.
    assert golden_week == [date(2026, 9, d) for d in (28, 29, 30)] + [
        date(2026, 10, 8),
        date(2026, 10, 9),
    ]


@pytest.mark.parametrize(
    ("exchange", "when", "state"),
    [
        (Exchange.HK, _at(HKT, 2026, 12, 4, 9, 15), QotMarketState.AUCTION),
        (Exchange.HK, _at(HKT, 2026, 12, 4, 10, 0), QotMarketState.MORNING),
        (Exchange.HK, _at(HKT, 2026, 12, 4, 12, 30), QotMarketState.REST),
        (Exchange.HK, _at(HKT, 2026, 12, 4, 15, 59), QotMarketState.AFTERNOON),
        (Exchange.HK, _at(HKT, 2026, 12, 4, 16, 5), QotMarketState.HK_CAS),
        (Exchange.HK, _at(HKT, 2026, 12, 4, 17, 0), QotMarketState.CLOSED),
        (Exchange.HK, _at(HKT, 2026, 12, 5, 10, 0), QotMarketState.CLOSED),  # Saturday
        (Exchange.HK, _at(HKT, 2026, 12, 25, 10, 0), QotMarketState.CLOSED),  # Christmas
        (Exchange.HK, _at(HKT, 2026, 12, 24, 12, 5), QotMarketState.HK_CAS),  # half day
        (Exchange.HK, _at(HKT, 2026, 12, 24, 13, 30), QotMarketState.CLOSED),
        (Exchange.US, _at(ET, 2026, 12, 4, 8, 0), QotMarketState.PRE_MARKET_BEGIN),
        (Exchange.US, _at(ET, 2026, 12, 4, 10, 0), QotMarketState.AFTERNOON),
        (Exchange.US, _at(ET, 2026, 12, 4, 17, 0), QotMarketState.AFTER_HOURS_BEGIN),
        (Exchange.US, _at(ET, 2026, 12, 4, 21, 0), QotMarketState.AFTER_HOURS_END),
        (Exchange.US, _at(ET, 2026, 11, 27, 14, 0), QotMarketState.AFTER_HOURS_BEGIN),  # 13:00
        (Exchange.CN, _at(CST, 2026, 12, 4, 9, 20), QotMarketState.AUCTION),
        (Exchange.CN, _at(CST, 2026, 12, 4, 11, 0), QotMarketState.MORNING),
        (Exchange.CN, _at(CST, 2026, 12, 4, 14, 0), QotMarketState.AFTERNOON),
        (Exchange.CN, _at(CST, 2026, 12, 4, 15, 30), QotMarketState.CLOSED),
    ],
)
def test_sessions(exchange: Exchange, when: float, state: QotMarketState) -> None:
    assert state_at(exchange, when) is state


def test_open_close_and_always_open() -> None:
    friday_evening = _at(HKT, 2026, 12, 4, 17, 0)
    assert next_trading_moment(Exchange.HK, friday_evening) == _at(HKT, 2026, 12, 7, 9, 30)
    assert trading_day_close(Exchange.HK, friday_evening) == _at(HKT, 2026, 12, 7, 16, 0)
    assert trading_day_close(Exchange.HK, HK_MORNING) == _at(HKT, 2026, 12, 4, 16, 0)
    assert next_trading_moment(Exchange.HK, HK_MORNING) == HK_MORNING
    christmas_eve = _at(HKT, 2026, 12, 24, 9, 0)
    assert trading_day_close(Exchange.HK, christmas_eve) == _at(HKT, 2026, 12, 24, 12, 0)
    assert reported_state(QotMarket.HK, friday_evening, False) is QotMarketState.MORNING
    assert reported_state(QotMarket.HK, friday_evening, True) is QotMarketState.CLOSED


@pytest.fixture
async def client_real_hours() -> AsyncIterator[OpenDClient]:
    async with Simulator(seed=3, start_time=_at(HKT, 2026, 12, 4, 12, 30), real_hours=True) as sim:
        host, port = sim.address
        async with OpenDClient(host, port, request_timeout=5.0) as client:
            assert await client.wait_connected(5)
            yield client


@pytest.mark.anyio
async def test_client_reads_states_and_days(client_real_hours: OpenDClient) -> None:
    client = client_real_hours
    rows = await client.get_market_state([HK, US, SH])
    # 12:30 in Hong Kong and Shanghai (lunch), 23:30 of the day before in New York.
    assert [(r.code, r.market_state) for r in rows] == [
        ("HK.00700", "REST"),
        ("US.AAPL", "AFTER_HOURS_END"),
        ("SH.600519", "REST"),
    ]
    assert rows[0].stock_name == "TENCENT"
    days = await client.request_trading_days(TradeDateMarket.HK, "2026-12-20", "2026-12-31")
    assert [(d.time, d.trade_date_type) for d in days] == [
        ("2026-12-21", "WHOLE"),
        ("2026-12-22", "WHOLE"),
        ("2026-12-23", "WHOLE"),
        ("2026-12-24", "MORNING"),
        ("2026-12-28", "WHOLE"),
        ("2026-12-29", "WHOLE"),
        ("2026-12-30", "WHOLE"),
        ("2026-12-31", "MORNING"),
    ]
    by_code = await client.request_trading_days(None, "2026-11-23", "2026-11-27", code=US)
    assert [d.time for d in by_code] == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-27"]
    # Northbound Stock Connect trades only when both Shanghai and Hong Kong do.
    north = await client.request_trading_days(TradeDateMarket.NT, "2026-04-01", "2026-04-10")
    assert [d.time for d in north] == [
        "2026-04-01",
        "2026-04-02",
        "2026-04-08",
        "2026-04-09",
        "2026-04-10",
    ]
    with pytest.raises(OpenDError, match="endTime is before beginTime"):
        await client.request_trading_days(TradeDateMarket.HK, "2026-12-31", "2026-12-01")
    with pytest.raises(OpenDError, match="available from 2016-01-01 to 2026-12-31"):
        await client.request_trading_days(TradeDateMarket.HK, "2026-12-01", "2027-01-10")
    with pytest.raises(OpenDError, match="Unsupported market 6"):
        await client.request_trading_days(TradeDateMarket.JP_FUTURE, "2026-12-01", "2026-12-10")


@pytest.mark.parametrize("fmt", ["protobuf", "json"])
def test_sdk_reads_states_and_days_as_our_client(ft: ModuleType, fmt: str) -> None:
    ft.SysConfig.set_proto_fmt(ft.ProtoFMT.Json if fmt == "json" else ft.ProtoFMT.Protobuf)
    with SimulatorThread(seed=3, start_time=HK_MORNING, real_hours=True) as sim:
        host, port = sim.address
        quote = ft.OpenQuoteContext(host=host, port=port)
        try:
            ret, states = quote.get_market_state(["HK.00700", "US.AAPL", "SZ.000001"])
            assert ret == 0, states
            assert list(states["market_state"]) == ["MORNING", "AFTER_HOURS_END", "MORNING"]
            ret, days = quote.request_trading_days(
                ft.TradeDateMarket.HK, start="2026-04-01", end="2026-04-10"
            )
            assert ret == 0, days
            assert [d["time"] for d in days] == [f"2026-04-{d:02d}" for d in (1, 2, 8, 9, 10)]
            assert {d["trade_date_type"] for d in days} == {"WHOLE"}
        finally:
            quote.close()

        async def ours() -> tuple[list[str], list[str]]:
            async with OpenDClient(host, port, request_timeout=5.0) as client:
                assert await client.wait_connected(5)
                rows = await client.get_market_state([HK, US, parse_code("SZ.000001")])
                days = await client.request_trading_days(
                    TradeDateMarket.HK, "2026-04-01", "2026-04-10"
                )
                return [r.market_state or "" for r in rows], [d.time or "" for d in days]

        our_states, our_days = asyncio.run(ours())
        assert our_states == list(states["market_state"])
        assert our_days == [d["time"] for d in days]
