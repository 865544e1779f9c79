"""The universe and the seeded price process: plausible, deterministic, self-consistent."""

import os
import subprocess
import sys
from datetime import timedelta
from itertools import pairwise

import pytest

from opend.codes import QotMarket
from opend.enums import KLType
from opend.market_rules import tick_size
from opend.sim.market import MarketData
from opend.sim.universe import (
    PLATES,
    SECURITIES,
    on_tick_grid,
    round_to_tick,
    step_price,
)

T0 = 1_780_000_000.0  # a fixed weekday in HK
SATURDAY = 1_795_838_400.0  # 2026-11-28 12:00 in HK: the simulator trades on weekends too


def test_universe_covers_four_markets_with_forty_securities() -> None:
    assert len(SECURITIES) >= 40
    by_market = {m: [s for s in SECURITIES.values() if s.security.market is m] for m in QotMarket}
    for market in (QotMarket.HK, QotMarket.US, QotMarket.SH, QotMarket.SZ):
        assert len(by_market[market]) >= 5, market
    for code in ("HK.00700", "HK.09988", "US.AAPL", "US.TSLA", "SH.600519", "SZ.000001"):
        assert code in SECURITIES
    assert SECURITIES["HK.00700"].lot_size == 100
    assert SECURITIES["HK.00005"].lot_size == 400
    assert all(s.lot_size == 1 for s in by_market[QotMarket.US])
    assert all(s.lot_size == 100 for s in by_market[QotMarket.SH] + by_market[QotMarket.SZ])


def test_plates_have_known_members_in_both_kinds() -> None:
    kinds = {p.plate_type for p in PLATES.values()}
    assert len(kinds) == 2  # industry and concept
    for plate in PLATES.values():
        assert plate.members and all(m in SECURITIES for m in plate.members)


@pytest.mark.parametrize(
    ("price", "tick"),
    [
        (0.2, "0.001"),
        (0.25, "0.001"),
        (0.3, "0.005"),
        (9.99, "0.01"),
        (10.0, "0.01"),
        (15.0, "0.02"),
        (50.0, "0.05"),
        (150.0, "0.10"),
        (480.0, "0.20"),
        (500.0, "0.20"),
        (500.5, "0.50"),
        (1500.0, "1.00"),
        (3000.0, "2.00"),
        (6000.0, "5.00"),
    ],
)
def test_hkex_spread_table(price: float, tick: str) -> None:
    assert str(tick_size(QotMarket.HK, price)) == tick


def test_tick_grid_rules() -> None:
    assert on_tick_grid(QotMarket.HK, 480.2)
    assert not on_tick_grid(QotMarket.HK, 480.1)
    assert on_tick_grid(QotMarket.HK, 500.0)
    assert not on_tick_grid(QotMarket.HK, 500.2 + 0.1)
    assert on_tick_grid(QotMarket.US, 123.45)
    assert not on_tick_grid(QotMarket.US, 123.455)
    assert not on_tick_grid(QotMarket.SH, 0.0)
    assert step_price(QotMarket.HK, 499.8, 1) == 500.0
    assert step_price(QotMarket.HK, 500.0, 1) == 500.5
    assert step_price(QotMarket.HK, 500.5, -1) == 500.0
    assert step_price(QotMarket.HK, 500.0, -1) == 499.8
    assert round_to_tick(QotMarket.HK, 480.13) == 480.2
    assert round_to_tick(QotMarket.HK, 480.13, down=True) == 480.0


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = MarketData(SECURITIES, 7), MarketData(SECURITIES, 7), MarketData(SECURITIES, 8)
    sec = SECURITIES["HK.00700"]
    assert a.day_so_far(sec, T0) == b.day_so_far(sec, T0)
    assert a.book(sec, T0) == b.book(sec, T0)
    assert a.tickers(sec, T0, 20) == b.tickers(sec, T0, 20)
    assert a.klines(sec, KLType.K_DAY, T0)[-300:] == b.klines(sec, KLType.K_DAY, T0)[-300:]
    assert a.day_so_far(sec, T0) != c.day_so_far(sec, T0)


@pytest.mark.parametrize(
    ("code", "low", "high"),
    [
        ("HK.00700", 380, 620),
        ("US.AAPL", 150, 260),
        ("SH.600519", 1150, 1900),
        ("US.TSLA", 150, 380),
    ],
)
def test_prices_stay_plausible_for_years(code: str, low: float, high: float) -> None:
    sec = SECURITIES[code]
    for seed in (1, 2, 3):
        market = MarketData(SECURITIES, seed)
        bars = market.klines(sec, KLType.K_DAY, T0)
        assert len(bars) > 1500
        closes = [b.close for b in bars]
        assert sec.base_price * 0.6 <= min(closes) and max(closes) <= sec.base_price * 1.5
        for t in (T0, T0 + 86400 * 30):
            assert low <= market.last_price(sec, t) <= high


def test_book_straddles_the_last_price_on_the_tick_grid() -> None:
    market = MarketData(SECURITIES, 1)
    for sec in SECURITIES.values():
        for t in (T0, T0 + 3600, T0 + 86400 * 3):
            asks, bids = market.book(sec, t, 10)
            last = market.last_price(sec, t)
            assert len(asks) == len(bids) == 10
            assert bids[0][0] <= last <= asks[0][0]
            assert step_price(sec.security.market, bids[0][0], 1) == asks[0][0]
            assert all(a[0] < b[0] for a, b in pairwise(asks))
            assert all(a[0] > b[0] for a, b in pairwise(bids))
            market_id = sec.security.market
            assert all(on_tick_grid(market_id, p) for p, _v, _n in asks + bids)
            assert all(v % sec.lot_size == 0 and v > 0 for _p, v, _n in asks + bids)


def test_klines_agree_with_the_current_quote() -> None:
    market = MarketData(SECURITIES, 3)
    sec = SECURITIES["HK.00700"]
    for t in (T0, T0 + 777, T0 + 5 * 3600, SATURDAY):
        now = market.day_so_far(sec, t)
        day = market.klines(sec, KLType.K_DAY, t)[-1]
        assert round_to_tick(QotMarket.HK, day.close) == now.price
        assert (round_to_tick(QotMarket.HK, day.high), day.low) == (now.high, now.low)
        minutes = market.klines(sec, KLType.K_1M, t)
        today = [b for b in minutes if b.time.date() == day.time.date() and b.time > day.time]
        assert round_to_tick(QotMarket.HK, today[-1].close) == now.price
        assert round_to_tick(QotMarket.HK, max(b.high for b in today)) == now.high
        assert round_to_tick(QotMarket.HK, min(b.low for b in today)) == now.low
        assert abs(sum(b.volume for b in today) - now.volume) <= len(today)
        week = market.klines(sec, KLType.K_WEEK, t)[-1]
        assert week.close == day.close and week.high >= day.high and week.low <= day.low
        rt = market.rt(sec, t)
        assert rt[-1].price == now.price and rt[-1].last_close == now.last_close


def test_past_days_minute_bars_reach_the_day_bar_extremes() -> None:
    market = MarketData(SECURITIES, 5)
    sec = SECURITIES["US.AAPL"]
    days = market.klines(sec, KLType.K_DAY, T0)
    yesterday = days[-2]
    minutes = market.minute_bars(sec, yesterday.time.date(), T0)
    assert len(minutes) == 1440
    assert minutes[0].open == pytest.approx(yesterday.open)
    assert minutes[-1].close == pytest.approx(yesterday.close)
    assert max(b.high for b in minutes) == pytest.approx(yesterday.high)
    assert min(b.low for b in minutes) == pytest.approx(yesterday.low)
    assert days[-1].last_close == pytest.approx(yesterday.close)


def test_history_does_not_change_as_time_passes() -> None:
    market = MarketData(SECURITIES, 1)
    sec = SECURITIES["SZ.000001"]
    earlier = market.klines(sec, KLType.K_DAY, T0)[:-1]
    later = market.klines(sec, KLType.K_DAY, T0 + 86400 * 10)
    assert later[: len(earlier)] == earlier


def test_tickers_are_recent_and_ordered() -> None:
    market = MarketData(SECURITIES, 1)
    sec = SECURITIES["HK.09988"]
    ticks = market.tickers(sec, T0, 50)
    assert len(ticks) == 50
    assert [t.sequence for t in ticks] == sorted(t.sequence for t in ticks)
    assert T0 - 200 <= ticks[0].time <= ticks[-1].time <= T0
    assert {t.direction.name for t in ticks} >= {"BUY", "SELL"}


def test_history_range_pages() -> None:
    market = MarketData(SECURITIES, 1)
    sec = SECURITIES["HK.00700"]
    end = market.local(sec, T0)
    begin = end - timedelta(days=3)
    first, more = market.bars_between(sec, KLType.K_1M, T0, begin, end, None, 1000)
    assert more and len(first) == 1000
    second, _ = market.bars_between(
        sec, KLType.K_1M, T0, begin, end, first[-1].time.timestamp(), 1000
    )
    assert second[0].time - first[-1].time == timedelta(minutes=1)


def test_same_seed_same_data_across_processes() -> None:
    script = (
        "from opend.sim.market import MarketData; from opend.sim.universe import SECURITIES;"
        "from opend.enums import KLType;"
        "m = MarketData(SECURITIES, 7); s = SECURITIES['US.TSLA'];"
        f"print(repr((m.day_so_far(s, {T0}), m.book(s, {T0}, 3), m.klines(s, KLType.K_DAY, {T0})[-5:])))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
            timeout=60,
        ).stdout
        for hash_seed in (1, 2)
    }
    assert len(outputs) == 1
    market = MarketData(SECURITIES, 7)
    sec = SECURITIES["US.TSLA"]
    here = repr(
        (
            market.day_so_far(sec, T0),
            market.book(sec, T0, 3),
            market.klines(sec, KLType.K_DAY, T0)[-5:],
        )
    )
    assert outputs == {here + "\n"}
