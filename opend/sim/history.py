"""The accounts' past: about 60 days of orders and fills per account, seeded at start-up, so a
fresh simulator has a history to ask about (Trd_GetHistoryOrderList and friends).

The history ends exactly in each account's starting state: every holding is built by past buys
(some of it later partly sold), a few round trips in other stocks leave no position, a few limit
orders were cancelled unfilled, and the account opened with the one deposit that makes today's
cash come out after every fill and fee. Positions' cost and realized P/L come from the same
fills, booked by the matching engine's own `Trading.book_fill`. Orders and fills are timed
within each exchange's real sessions on its trading days, at prices within that day's range.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from opend.enums import OrderStatus, OrderType, TimeInForce, TrdSide
from opend.sim import exchange
from opend.sim.trading import Account, Order, Trading
from opend.sim.universe import SimSecurity, round_to_tick

HISTORY_DAYS = 60
_OTHER_NAMES = 5
_ORDER_ID_BASE = 5_869_000_000_000_000_000  # below the live orders': these came first
_FILL_ID_BASE = 4_129_000_000_000_000_000


@dataclass(frozen=True, slots=True)
class Deposit:
    """The cash an account was opened with, before its first seeded order."""

    time: float
    amount: float


@dataclass(frozen=True, slots=True)
class _Plan:
    day_index: int
    sec: SimSecurity
    side: TrdSide
    lots: int
    fills: bool = True


def seed(trading: Trading, now: float) -> dict[int, Deposit]:
    """Give every account its past (appended to `trading.history_orders`/`history_deals`) and
    return each account's opening deposit."""
    deposits = {}
    for account in trading.accounts.values():
        deposits[account.acc_id] = _seed_account(trading, account, now)
    trading.history_orders.sort(key=lambda o: o.create_time)
    trading.history_deals.sort(key=lambda d: d.time)
    return deposits


def _seed_account(trading: Trading, account: Account, now: float) -> Deposit:
    rng = random.Random(f"{trading.market.seed}:{account.acc_id}:history")
    venue = exchange.EXCHANGE_OF[account.qot_markets[0]]
    today = exchange.local(venue, now).date()
    days = exchange.trading_days(venue, today - timedelta(days=HISTORY_DAYS), today)
    days = [d for d in days if d < today]
    held = {code: p.qty for code, p in account.positions.items() if p.qty}
    plans = _plans(rng, trading, account, held, len(days), now)
    target_cash = account.cash
    account.cash = 0.0
    for code in held:
        position = account.positions[code]
        position.qty, position.cost_total = 0, 0.0
    for plan in sorted(plans, key=lambda p: (p.day_index, p.side)):
        _book(trading, account, rng, venue, days[plan.day_index], plan)
    for code, qty in held.items():
        assert account.positions[code].qty == qty, (account.acc_id, code)
    opening = target_cash - account.cash
    account.cash = target_cash
    first = exchange.trading_sessions(venue, days[0])[0][0]
    return Deposit(first - 3600.0, round(opening, 2))


def _plans(
    rng: random.Random,
    trading: Trading,
    account: Account,
    held: dict[str, int],
    n_days: int,
    now: float,
) -> list[_Plan]:
    plans: list[_Plan] = []
    for code, qty in held.items():
        sec = trading.accounts[account.acc_id].positions[code].sec
        lots = qty // sec.lot_size
        parts = _split(rng, lots, rng.randint(1, min(3, lots)))
        sold = rng.randint(1, max(1, lots // 2)) if rng.random() < 0.6 else 0
        parts[0] += sold
        buy_days = sorted(rng.sample(range(n_days * 2 // 3), len(parts)))
        plans += [_Plan(d, sec, TrdSide.BUY, n) for d, n in zip(buy_days, parts, strict=True)]
        if sold:
            plans.append(_Plan(rng.randint(buy_days[0] + 1, n_days - 1), sec, TrdSide.SELL, sold))
    # The first few other stocks of the account's markets: both accounts of a market trade the
    # same names, which keeps the daily histories to generate at start-up few.
    others = [
        s
        for s in trading.market.securities.values()
        if s.security.market in account.qot_markets and s.code not in held
    ][:_OTHER_NAMES]
    budget = account.cash * 0.08
    for sec in rng.sample(others, min(3, len(others))):
        lots = max(1, int(budget / (trading.market.last_price(sec, now) * sec.lot_size)))
        first = rng.randrange(n_days - 1)
        plans.append(_Plan(first, sec, TrdSide.BUY, lots))
        plans.append(_Plan(rng.randint(first + 1, n_days - 1), sec, TrdSide.SELL, lots))
    for sec in rng.sample(others, min(2, len(others))):
        plans.append(_Plan(rng.randrange(n_days), sec, TrdSide.BUY, 1, fills=False))
    return plans


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """`total` as `parts` positive whole numbers."""
    cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, total]
    return [b - a for a, b in pairwise(bounds)]


def _book(
    trading: Trading,
    account: Account,
    rng: random.Random,
    venue: exchange.Exchange,
    day: date,
    plan: _Plan,
) -> None:
    start, end = rng.choice(exchange.trading_sessions(venue, day))
    placed = start + rng.uniform(60.0, end - start - 600.0)
    sec = plan.sec
    low, high = trading.market.day_range(sec, day, day)
    market_price = low + (high - low) * rng.uniform(0.1, 0.9)
    qty = plan.lots * sec.lot_size
    seq = len(trading.history_orders) + 1
    if plan.fills:
        price = round_to_tick(sec.security.market, market_price)
        status = OrderStatus.FILLED_ALL
    else:  # a bid well under the market, cancelled later that session
        price = round_to_tick(sec.security.market, market_price * 0.95)
        status = OrderStatus.CANCELLED_ALL
    order = Order(
        order_id=_ORDER_ID_BASE + seq,
        order_id_ex=f"FTHIS{seq:010d}",
        acc_id=account.acc_id,
        sec=sec,
        side=plan.side,
        order_type=OrderType.NORMAL,
        qty=qty,
        price=price,
        time_in_force=TimeInForce.DAY,
        remark="",
        create_time=placed,
        update_time=placed + rng.uniform(1.0, 300.0),
        status=status,
    )
    trading.history_orders.append(order)
    if plan.fills:
        fill_seq = len(trading.history_deals) + 1
        deal = trading.book_fill(
            order,
            qty,
            price,
            order.update_time,
            _FILL_ID_BASE + fill_seq,
            f"FTHISF{fill_seq:010d}",
        )
        trading.history_deals.append(deal)
