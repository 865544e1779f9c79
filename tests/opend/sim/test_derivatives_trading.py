"""Paper orders on options, warrants and futures: their own books, the multiplier in cash,
positions and valuations, and OpenD's refusals (indexes, expired series, bad quantities)."""

from datetime import datetime

import pytest

from opend.codes import QotMarket, TrdMarket
from opend.enums import OrderStatus, OrderType, TimeInForce, TrdEnv, TrdSide, WrtType
from opend.market_rules import MARKET_TZ
from opend.sim.state import SimState
from opend.sim.trading import Account, Order, TradeError

T0 = 1_796_644_800.0  # 2026-12-07 12:00 UTC


def _account(state: SimState, market: TrdMarket) -> Account:
    return next(
        a for a in state.accounts.values() if a.env is TrdEnv.SIMULATE and a.markets[0] is market
    )


def _buy(
    state: SimState,
    account: Account,
    code: str,
    qty: float,
    price: float | None,
    tif: TimeInForce = TimeInForce.DAY,
) -> Order:
    state.advance(0.05)
    return state.trading.place(
        account,
        unlocked=False,
        code=code,
        sec_market=None,
        side=TrdSide.BUY,
        order_type=OrderType.NORMAL if price else OrderType.MARKET,
        qty=qty,
        price=price,
        time_in_force=tif,
        remark="",
    )


@pytest.fixture
def state() -> SimState:
    return SimState(seed=1, start_time=T0)


def test_an_option_fills_against_its_own_book_and_costs_the_multiplier(state: SimState) -> None:
    us = _account(state, TrdMarket.US)
    cash = us.cash
    code = "AAPL261218C200000"
    sec = state.derivatives.lookup(f"US.{code}", T0)
    assert sec is not None
    asks, _bids = state.market.book(sec, state.clock.now(), 1)
    order = _buy(state, us, code, 2, asks[0][0])
    assert order.status is OrderStatus.FILLED_ALL and order.sec is sec
    paid = cash - us.cash
    assert paid == pytest.approx(2 * 100 * order.fill_avg_price)
    position = us.positions[sec.code]
    assert position.qty == 2
    assert position.cost_price == pytest.approx(order.fill_avg_price)
    now = state.clock.now()
    held = state.trading.market_value(us, now) - sum(
        p.qty * state.market.last_price(p.sec, now) * p.sec.multiplier
        for p in us.positions.values()
        if p.sec is not sec
    )
    assert held == pytest.approx(2 * 100 * state.market.last_price(sec, now))


def test_a_contract_order_is_valued_with_the_multiplier_before_it_is_accepted(
    state: SimState,
) -> None:
    us = _account(state, TrdMarket.US)
    code = "TSLA261218C250000"
    sec = state.derivatives.lookup(f"US.{code}", T0)
    assert sec is not None
    price = state.market.book(sec, state.clock.now(), 1)[0][0][0]
    affordable = int(us.cash // (price * 100))
    with pytest.raises(TradeError, match="Insufficient buying power"):
        _buy(state, us, code, affordable + 1, price)
    # A resting buy freezes qty x price x 100 of cash.
    low = round(price * 0.5, 2)
    resting = _buy(state, us, code, 3, low)
    assert resting.status is OrderStatus.SUBMITTED
    assert state.trading.frozen_cash(us) == pytest.approx(3 * low * 100)


def test_hk_options_warrants_and_futures_trade_in_contracts_or_lots(state: SimState) -> None:
    hk = _account(state, TrdMarket.HK)
    cash = hk.cash
    order = _buy(state, hk, "TCH261230C480000", 1, None)
    assert order.fill_qty == 1
    # Futures are paid in full here (the sim has no margin model): a Mini-HSI fits the cash.
    future = _buy(state, hk, "MHImain", 1, None)
    assert future.fill_qty == 1 and future.sec.multiplier == 10
    paid = cash - hk.cash
    assert paid == pytest.approx(order.fill_value * 100 + future.fill_value * 10)
    with pytest.raises(TradeError, match="Insufficient buying power"):
        _buy(state, hk, "HSImain", 1, None)  # 50 x about 20,000 points
    live = [
        w
        for w in state.derivatives.warrants_on(state.market.local(future.sec, T0).date())
        if state.derivatives.lookup(f"HK.{w.code}", T0) is not None
    ]
    warrant = live[0]
    with pytest.raises(TradeError, match="lot size"):
        _buy(state, hk, warrant.code, warrant.lot_size + 1, None)
    bought = _buy(state, hk, warrant.code, warrant.lot_size, None)
    assert bought.fill_qty == warrant.lot_size and bought.sec.multiplier == 1


def test_indexes_expired_series_and_unlisted_strikes_are_refused(state: SimState) -> None:
    hk = _account(state, TrdMarket.HK)
    us = _account(state, TrdMarket.US)
    with pytest.raises(TradeError, match="index"):
        _buy(state, hk, "800000", 1, None)
    with pytest.raises(TradeError, match="Unknown stock code"):
        _buy(state, us, "AAPL261204C200000", 1, None)  # expired the Friday before
    with pytest.raises(TradeError, match="Unknown stock code"):
        _buy(state, us, "AAPL261218C200001", 1, None)
    with pytest.raises(TradeError, match="Unknown stock code"):
        _buy(state, hk, "AAPL261218C200000", 1, None)  # a US series in an HK account
    with pytest.raises(TradeError, match="not a valid price"):
        _buy(state, hk, "HSImain", 1, 20000.5)  # HSI futures move in whole points


def test_a_resting_option_order_fills_when_its_price_comes(state: SimState) -> None:
    us = _account(state, TrdMarket.US)
    code = "NVDA261218C130000"
    sec = state.derivatives.lookup(f"US.{code}", T0)
    assert sec is not None
    bid = state.market.book(sec, state.clock.now(), 1)[1][0][0]
    order = _buy(state, us, code, 1, bid)
    for _ in range(2000):
        if order.status is OrderStatus.FILLED_ALL:
            break
        state.advance(30)
    assert order.status is OrderStatus.FILLED_ALL
    assert order.fill_avg_price <= bid


def test_expired_options_are_settled_in_cash_and_their_orders_cancelled(state: SimState) -> None:
    us = _account(state, TrdMarket.US)
    code = "AAPL261211C190000"  # the weekly expiring on Friday 11 December, in the money
    held = _buy(state, us, code, 2, None)
    assert held.fill_qty == 2
    resting = _buy(state, us, "AAPL261211C200000", 1, 0.01, TimeInForce.GTC)
    assert resting.status is OrderStatus.SUBMITTED
    cash = us.cash
    sec = held.sec
    expiry = datetime(2026, 12, 11, 16, tzinfo=MARKET_TZ[QotMarket.US]).timestamp()
    state.advance(expiry + 3600 - state.clock.now())
    spot = state.market.price(state.securities["US.AAPL"], expiry)
    intrinsic = max(spot - 190.0, 0.0)
    position = us.positions[sec.code]
    assert position.qty == 0
    assert us.cash - cash == pytest.approx(2 * 100 * intrinsic, abs=2 * 100 * 0.02)
    assert resting.status is OrderStatus.CANCELLED_ALL
    assert resting.last_err == "the contract expired"
    with pytest.raises(TradeError, match="Unknown stock code"):
        _buy(state, us, code, 1, None)


def test_a_called_cbbc_pays_its_residual_value(state: SimState) -> None:
    hk = _account(state, TrdMarket.HK)
    today = state.market.local(state.securities["HK.00700"], T0).date()
    live = [
        w
        for w in state.derivatives.warrants_on(today)
        if w.kind is WrtType.BULL and state.derivatives.lookup(f"HK.{w.code}", T0) is not None
    ]
    # The bull contract whose call level is nearest: the one the market calls first.
    bull = min(live, key=lambda w: state.market.price(w.underlying, T0) / w.call_level)
    bought = _buy(state, hk, bull.code, bull.lot_size, None)
    assert bought.fill_qty == bull.lot_size
    cash = hk.cash
    for _ in range(120):
        state.advance(86_400)
        if state.derivatives.lookup(f"HK.{bull.code}", state.clock.now()) is None:
            break
    now = state.clock.now()
    residual = state.derivatives.residual(bought.sec, now)
    assert residual is not None and residual >= 0
    assert hk.positions[bought.sec.code].qty == 0
    assert hk.cash - cash == pytest.approx(bull.lot_size * residual)
    with pytest.raises(TradeError, match="Unknown stock code"):
        _buy(state, hk, bull.code, bull.lot_size, None)
