"""The simulated derivatives: Black-Scholes greeks, listings and codes, prices that follow the
underlying, futures months, warrants and CBBCs."""

import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opend.codes import QotMarket, parse_code
from opend.enums import ExpirationCycle, SecurityType, WrtType
from opend.market_rules import MARKET_TZ
from opend.sim import futures, options, warrants
from opend.sim.blackscholes import YEAR_SECONDS, black_scholes, smile_vol
from opend.sim.derivatives import Derivatives
from opend.sim.market import MarketData
from opend.sim.universe import SECURITIES, on_tick_grid

T0 = 1_796_644_800.0  # 2026-12-07 12:00 UTC, a Monday
TODAY = date(2026, 12, 7)

_inputs = st.tuples(
    st.booleans(),
    st.floats(20, 800),  # spot
    st.floats(0.7, 1.3),  # strike / spot
    st.floats(7 / 365, 1.5),  # years
    st.floats(0.0, 0.06),  # rate
    st.floats(0.0, 0.03),  # dividend yield
    st.floats(0.12, 0.9),  # volatility
)


@settings(max_examples=200, deadline=None)
@given(_inputs)
def test_greeks_match_finite_differences_of_the_price(args: tuple) -> None:
    is_call, spot, moneyness, years, rate, dividend, vol = args
    strike = spot * moneyness

    def price(s: float = spot, t: float = years, r: float = rate, v: float = vol) -> float:
        return black_scholes(is_call, s, strike, t, r, dividend, v).price

    g = black_scholes(is_call, spot, strike, years, rate, dividend, vol)
    h = spot * 1e-4
    assert g.delta == pytest.approx((price(s=spot + h) - price(s=spot - h)) / (2 * h), abs=1e-5)
    fd_gamma = (price(s=spot + h) - 2 * price() + price(s=spot - h)) / (h * h)
    assert g.gamma == pytest.approx(fd_gamma, rel=1e-3, abs=1e-5)
    dv = 1e-5
    assert g.vega == pytest.approx(
        (price(v=vol + dv) - price(v=vol - dv)) / (2 * dv) / 100, abs=1e-5
    )
    dt = 1e-5
    fd_theta = -(price(t=years + dt) - price(t=years - dt)) / (2 * dt) / 365
    assert g.theta == pytest.approx(fd_theta, abs=1e-5)
    dr = 1e-6
    assert g.rho == pytest.approx(
        (price(r=rate + dr) - price(r=rate - dr)) / (2 * dr) / 100, abs=1e-5
    )


@settings(max_examples=200, deadline=None)
@given(_inputs)
def test_put_call_parity(args: tuple) -> None:
    _is_call, spot, moneyness, years, rate, dividend, vol = args
    strike = spot * moneyness
    call = black_scholes(True, spot, strike, years, rate, dividend, vol)
    put = black_scholes(False, spot, strike, years, rate, dividend, vol)
    forward = spot * math.exp(-dividend * years) - strike * math.exp(-rate * years)
    assert call.price - put.price == pytest.approx(forward, abs=1e-7 * spot)
    assert call.delta - put.delta == pytest.approx(math.exp(-dividend * years))
    assert call.gamma == pytest.approx(put.gamma)


def test_the_smile_makes_low_strikes_dearer_and_stays_bounded() -> None:
    atm = smile_vol(0.3, 100.0, 100.0, 0.25)
    assert atm == pytest.approx(0.3)
    assert smile_vol(0.3, 100.0, 80.0, 0.25) > atm
    for strike in (10.0, 50.0, 150.0, 1000.0):
        assert 0.15 <= smile_vol(0.3, 100.0, strike, 0.02) <= 0.9


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        black_scholes(True, 0.0, 100.0, 0.5, 0.01, 0.0, 0.3)
    with pytest.raises(ValueError):
        black_scholes(True, 100.0, 100.0, 0.5, 0.01, 0.0, 0.0)


def test_us_expiries_are_fridays_with_third_friday_monthlies_and_holiday_thursdays() -> None:
    aapl = options.OPTION_CLASSES["US.AAPL"]
    listed = options.expiries(aapl, TODAY)
    assert listed[0] == (date(2026, 12, 11), ExpirationCycle.WEEK)
    assert (date(2026, 12, 18), ExpirationCycle.MONTH) in listed
    assert (date(2027, 1, 15), ExpirationCycle.MONTH) in listed
    # Christmas 2026 and New Year 2027 are Fridays: those weeks expire on Thursday.
    assert (date(2026, 12, 24), ExpirationCycle.WEEK) in listed
    assert (date(2026, 12, 31), ExpirationCycle.WEEK) in listed
    for expiry, cycle in listed:
        if cycle is ExpirationCycle.MONTH:
            assert expiry == options.third_friday(expiry.year, expiry.month)
        assert expiry.weekday() in (3, 4)
    assert options.third_friday(2026, 1) == date(2026, 1, 16)
    # Good Friday 2026 and Juneteenth (the third Friday of June 2026) are NYSE holidays.
    spring = dict(options.expiries(aapl, date(2026, 3, 30)))
    assert spring[date(2026, 4, 2)] is ExpirationCycle.WEEK and date(2026, 4, 3) not in spring
    june = dict(options.expiries(aapl, date(2026, 6, 1)))
    assert june[date(2026, 6, 18)] is ExpirationCycle.MONTH and date(2026, 6, 19) not in june


def test_hk_expiry_is_the_business_day_before_the_last() -> None:
    assert options.hk_expiry(2026, 1) == date(2026, 1, 29)  # Jan 30 is the last business day
    assert options.hk_expiry(
        2026,
        5,
    ) == date(2026, 5, 28)  # May 31 is a Sunday, 29 a Friday
    tch = options.OPTION_CLASSES["HK.00700"]
    assert all(e.day >= 25 for e, _cycle in options.expiries(tch, TODAY))


@pytest.mark.parametrize("owner", sorted(options.OPTION_CLASSES))
def test_strikes_sit_on_the_exchange_grid_around_the_underlying(owner: str) -> None:
    option_class = options.OPTION_CLASSES[owner]
    grid = options.strikes(option_class)
    level = option_class.underlying.base_price
    assert grid == tuple(sorted(grid))
    assert float(grid[0]) < level < float(grid[-1])
    for strike in grid:
        step = options.strike_step(option_class.market, float(strike) - 1e-9)
        assert (
            strike % step == 0
            or strike % options.strike_step(option_class.market, float(strike)) == 0
        )


def test_codes_are_spelt_as_opend_spells_them_and_resolve_until_expiry() -> None:
    aapl = options.OPTION_CLASSES["US.AAPL"]
    contract = options.OptionContract(
        aapl, date(2026, 12, 18), ExpirationCycle.MONTH, True, Decimal(200)
    )
    assert contract.full_code == "US.AAPL261218C200000"
    assert options.find(QotMarket.US, "AAPL261218C200000", TODAY) == contract
    assert options.find(QotMarket.US, "AAPL261218C200000", date(2026, 12, 18)) == contract
    assert options.find(QotMarket.US, "AAPL261218C200000", date(2026, 12, 19)) is None
    put = options.find(QotMarket.US, "AAPL261218P197500", TODAY)
    assert put is not None and put.strike == Decimal("197.5") and not put.is_call
    tch = options.find(QotMarket.HK, "TCH261230C480000", TODAY)
    assert tch is not None and tch.full_code == "HK.TCH261230C480000"
    for bad in (
        "AAPL261218C200001",
        "AAPL261218C202500",
        "AAPL261219C200000",
        "AAPL261218X200000",
        "MSFT261218C400000",
        "AAPL261318C200000",
    ):
        assert options.find(QotMarket.US, bad, TODAY) is None, bad


@pytest.fixture(scope="module")
def data() -> tuple[MarketData, Derivatives]:
    market = MarketData(SECURITIES, 1)
    return market, Derivatives(market)


def test_an_option_is_priced_from_its_underlying_at_every_minute(data) -> None:
    market, derivs = data
    sec = derivs.lookup("US.AAPL261218C200000", T0)
    assert sec is not None and sec.sec_type is SecurityType.DRVT
    assert (sec.lot_size, sec.multiplier, sec.order_lot) == (100, 100, 1)
    contract = derivs.terms(sec)
    assert isinstance(contract, options.OptionContract)
    for minutes in (0, 7, 61, 300):
        t = T0 + minutes * 60
        spot = market.price(contract.option_class.underlying, t)
        theoretical = contract.greeks(spot, t).price
        assert market.price(sec, t) == pytest.approx(theoretical, rel=0.02)
        assert on_tick_grid(sec.tick_rule, market.last_price(sec, t))
    # One object per live contract: positions compare securities by identity.
    assert derivs.lookup("US.AAPL261218C200000", T0 + 3600) is sec


def test_calls_rise_and_puts_fall_with_the_underlying(data) -> None:
    market, derivs = data
    call = derivs.lookup("US.TSLA261218C250000", T0)
    put = derivs.lookup("US.TSLA261218P250000", T0)
    tsla = SECURITIES["US.TSLA"]
    times = [T0 + m * 60 for m in range(0, 240, 10)]
    moves = [
        (
            market.price(tsla, b) - market.price(tsla, a),
            market.price(call, b) - market.price(call, a),
            market.price(put, b) - market.price(put, a),
        )
        for a, b in pairwise(times)
    ]
    big = [m for m in moves if abs(m[0]) > 0.2]
    assert big
    for du, dc, dp in big:
        assert dc * du > 0 and dp * du < 0


def test_day_bars_bound_the_minute_bars_of_a_derivative(data) -> None:
    market, derivs = data
    sec = derivs.lookup("HK.TCH261230P460000", T0)
    assert sec is not None
    bars = market.day_bars(sec, T0)
    assert bars[0].time.date() >= sec.list_date
    day = bars[-3].time.date()
    minutes = market.minute_bars(sec, day, T0)
    assert len(minutes) == 1440
    assert max(b.high for b in minutes) <= bars[-3].high + 1e-9
    assert min(b.low for b in minutes) >= bars[-3].low - 1e-9


def test_expired_options_disappear(data) -> None:
    _market, derivs = data
    assert derivs.lookup("US.AAPL261211C200000", T0) is not None
    after = datetime(2026, 12, 12, 10, tzinfo=MARKET_TZ[QotMarket.US]).timestamp()
    assert derivs.lookup("US.AAPL261211C200000", after) is None


def test_futures_months_main_contract_and_value(data) -> None:
    market, derivs = data
    hsi = futures.FUTURE_PRODUCTS["HSI"]
    months = [c.code for c in futures.contracts(hsi, TODAY)]
    assert months == ["HSI2612", "HSI2701", "HSI2703", "HSI2706"]
    es = futures.FUTURE_PRODUCTS["ES"]
    assert [c.code for c in futures.contracts(es, TODAY)] == [
        "ES2612",
        "ES2703",
        "ES2706",
        "ES2709",
    ]
    assert futures.contracts(es, TODAY)[0].last_trade_day == date(2026, 12, 18)
    assert futures.contracts(hsi, TODAY)[0].last_trade_day == date(2026, 12, 30)
    main = derivs.lookup("HK.HSImain", T0)
    front = derivs.lookup("HK.HSI2612", T0)
    assert main is not None and front is not None
    assert main.security.code == "HSImain" and main.multiplier == 50
    assert market.last_price(main, T0) == market.last_price(front, T0)
    index = market.price(futures.INDEXES["HK.800000"], T0)
    assert abs(market.price(front, T0) / index - 1) < 0.01
    assert market.last_price(front, T0) % 1 == 0  # one-point ticks
    es_main = derivs.lookup(str(parse_code("US.ESmain")), T0)
    assert es_main is not None and es_main.code == "US.ESmain"
    assert market.last_price(es_main, T0) * 4 % 1 == 0  # quarter-point ticks
    assert derivs.lookup("HK.HSI2611", T0) is None
    assert derivs.lookup("HK.HSIMAIN", T0) is None  # OpenD matches case


def test_warrants_and_cbbcs_have_consistent_terms(data) -> None:
    market, derivs = data
    live = derivs.warrants_on(TODAY)
    assert len({w.code for w in live}) == len(live) > 50
    assert {w.kind for w in live} == {WrtType.CALL, WrtType.PUT, WrtType.BULL, WrtType.BEAR}
    resolved = 0
    for w in live:
        assert w.list_date <= TODAY <= w.last_trade_day < w.maturity
        assert w.owner in warrants.WARRANT_UNDERLYINGS
        if w.kind is WrtType.BULL:
            assert w.strike < w.call_level
        if w.kind is WrtType.BEAR:
            assert w.strike > w.call_level
        sec = derivs.lookup(f"HK.{w.code}", T0)
        if derivs.called(w, T0):
            assert sec is None
            continue
        resolved += 1
        assert sec is not None and sec.sec_type is SecurityType.WARRANT
        spot = market.price(w.underlying, T0)
        assert market.price(sec, T0) == pytest.approx(w.value(spot, T0), rel=0.05, abs=0.002)
        if w.kind is WrtType.BULL:
            assert spot > w.call_level
    assert resolved > 30


def test_the_catalog_is_deterministic_by_seed() -> None:
    one = Derivatives(MarketData(SECURITIES, 7)).warrants_on(TODAY)
    two = Derivatives(MarketData(SECURITIES, 7)).warrants_on(TODAY)
    other = Derivatives(MarketData(SECURITIES, 8)).warrants_on(TODAY)
    assert one == two
    assert [w.issuer for w in one] != [w.issuer for w in other]


def test_time_to_expiry_shrinks_to_the_close_of_the_expiry_day() -> None:
    contract = options.find(QotMarket.US, "AAPL261218C200000", TODAY)
    assert contract is not None
    close = datetime(2026, 12, 18, 16, tzinfo=MARKET_TZ[QotMarket.US]).timestamp()
    assert contract.years(close) == 0
    assert contract.years(close - 86_400) == pytest.approx(1 / 365)
    assert contract.years(T0) == pytest.approx((close - T0) / YEAR_SECONDS)
    assert contract.list_date == date(2026, 12, 18) - timedelta(days=190)
