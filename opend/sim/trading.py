"""Paper accounts and the matching engine: orders rest, fill when the price crosses, update funds.

Every rule OpenD enforces on an order is checked here and refused with an OpenD-style message:
unknown code, lot size, tick grid, cash, sellable quantity, locked real trading, throttles.
Liquidity comes from the simulated book: a marketable order takes the levels it crosses at
once; a resting limit order takes the best level each time the book refreshes while the price is
through its limit, so a large order fills in parts.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from opend.codes import SEC_MARKET_OF, BadCode, QotMarket, TrdMarket, parse_code
from opend.enums import (
    Currency,
    ModifyOrderOp,
    OrderStatus,
    OrderType,
    SecurityType,
    TimeInForce,
    TrdAccType,
    TrdEnv,
    TrdSide,
)
from opend.market_rules import tick_size
from opend.sim import exchange, margin
from opend.sim.clock import SimClock
from opend.sim.derivatives import Derivatives
from opend.sim.fees import Fee, order_fees, total
from opend.sim.limits import LimitExceeded, RateWindow
from opend.sim.market import HK_BROKERS, MarketData, noise
from opend.sim.universe import SECURITIES, SimSecurity, on_tick_grid, round_to_tick

# Fixed conversion rates into HKD, for funds asked in another currency than the account's.
FX_TO_HKD: dict[Currency, float] = {Currency.HKD: 1.0, Currency.USD: 7.8, Currency.CNH: 1.08}

_OPEN = {OrderStatus.SUBMITTED, OrderStatus.FILLED_PART}
_LIVE = _OPEN | {OrderStatus.DISABLED}
_MATCH_STEP = 5.0  # the book's refresh period: one chance to fill per step
_MAX_STEPS = 2000


class TradeError(Exception):
    """An order or account request OpenD would refuse; the text is the reply's retMsg."""


@dataclass
class Position:
    """A long holding (today's trading in it: `Trading.today_trades`)."""

    position_id: int
    sec: SimSecurity
    qty: int = 0
    cost_total: float = 0.0
    realized_pl: float = 0.0

    @property
    def cost_price(self) -> float:
        """Average cost per share of what is held (per underlying share for a contract, as
        premiums are quoted): cost over quantity times the multiplier."""
        return self.cost_total / (self.qty * self.sec.multiplier) if self.qty else 0.0


@dataclass
class Account:
    """A trading account: one environment, the markets it may trade, cash in one currency."""

    acc_id: int
    env: TrdEnv
    markets: tuple[TrdMarket, ...]
    qot_markets: tuple[QotMarket, ...]
    currency: Currency
    cash: float
    card_num: str
    acc_type: TrdAccType = TrdAccType.CASH
    positions: dict[str, Position] = field(default_factory=dict)

    @property
    def pays_fees(self) -> bool:
        """Real accounts pay each market's fees; paper accounts trade free."""
        return self.env is TrdEnv.REAL


@dataclass
class Order:
    """An order as OpenD tracks it; `price` is 0 for market orders."""

    order_id: int
    order_id_ex: str
    acc_id: int
    sec: SimSecurity
    side: TrdSide
    order_type: OrderType
    qty: int
    price: float
    time_in_force: TimeInForce
    remark: str
    create_time: float
    update_time: float
    status: OrderStatus = OrderStatus.SUBMITTED
    fill_qty: int = 0
    fill_value: float = 0.0  # sum of qty x price, without the multiplier
    last_err: str = ""
    enabled_status: OrderStatus = OrderStatus.SUBMITTED
    expires_at: float | None = None  # end of the session for DAY orders
    fees: list[Fee] = field(default_factory=list)  # charged so far (real accounts)

    @property
    def is_live(self) -> bool:
        """True while the order can still fill (or be enabled again)."""
        return self.status in _LIVE

    @property
    def remaining(self) -> int:
        """Quantity still to fill."""
        return self.qty - self.fill_qty

    @property
    def fill_avg_price(self) -> float:
        """Average price of the fills so far."""
        return self.fill_value / self.fill_qty if self.fill_qty else 0.0


@dataclass(frozen=True)
class Deal:
    """One fill of an order."""

    fill_id: int
    fill_id_ex: str
    order: Order
    qty: int
    price: float
    time: float
    counter_broker: tuple[int, str]
    fees: tuple[Fee, ...] = ()  # this fill's share of the order's fees


_MARGIN, _CASH = TrdAccType.MARGIN, TrdAccType.CASH
_ACCOUNT_LAYOUT: tuple[
    tuple[TrdEnv, tuple[TrdMarket, ...], tuple[QotMarket, ...], Currency, TrdAccType], ...
] = (
    (TrdEnv.REAL, (TrdMarket.HK,), (QotMarket.HK,), Currency.HKD, _MARGIN),
    (TrdEnv.REAL, (TrdMarket.US,), (QotMarket.US,), Currency.USD, _MARGIN),
    # Real A-share trading goes through Stock Connect (HKCC), which the SDK uses for SH/SZ codes.
    (
        TrdEnv.REAL,
        (TrdMarket.HKCC, TrdMarket.CN),
        (QotMarket.SH, QotMarket.SZ),
        Currency.CNH,
        _CASH,
    ),
    (TrdEnv.SIMULATE, (TrdMarket.HK,), (QotMarket.HK,), Currency.HKD, _CASH),
    (TrdEnv.SIMULATE, (TrdMarket.US,), (QotMarket.US,), Currency.USD, _CASH),
    (TrdEnv.SIMULATE, (TrdMarket.CN,), (QotMarket.SH, QotMarket.SZ), Currency.CNH, _CASH),
)
_STARTING_CASH = {Currency.HKD: 1_000_000.0, Currency.USD: 100_000.0, Currency.CNH: 1_000_000.0}
_STARTING_POSITIONS: dict[Currency, tuple[tuple[str, int], ...]] = {
    Currency.HKD: (("HK.00700", 200), ("HK.00005", 800), ("HK.02800", 1000)),
    Currency.USD: (("US.AAPL", 50), ("US.TSLA", 20), ("US.NVDA", 30)),
    Currency.CNH: (("SH.600519", 100), ("SZ.000001", 1000), ("SH.601318", 500)),
}
REAL_ACC_BASE = 281_756_470_000_000_100
SIMULATE_ACC_BASE = 168_880_000_000_000_200
_ORDER_ID_BASE = 5_870_000_000_000_000_000
_FILL_ID_BASE = 4_130_000_000_000_000_000


def _sec_trd_markets(sec: SimSecurity) -> set[TrdMarket]:
    market = sec.security.market
    if market is QotMarket.HK:
        return {TrdMarket.HK}
    if market is QotMarket.US:
        return {TrdMarket.US}
    return {TrdMarket.CN, TrdMarket.HKCC}


class Trading:
    """All accounts, orders and deals of one simulated OpenD."""

    def __init__(
        self,
        market: MarketData,
        clock: SimClock,
        derivatives: Derivatives | None = None,
        *,
        real_hours: bool = False,
    ) -> None:
        self.market = market
        self.clock = clock
        self.derivatives = derivatives
        # Off: every market trades around the clock. On: orders match only in their exchange's
        # continuous sessions on its trading days, and DAY orders end with the day's session.
        self.real_hours = real_hours
        self.accounts: dict[int, Account] = {}
        self.orders: dict[int, Order] = {}
        self.deals: list[Deal] = []
        # Orders and fills of the days before the simulator started (opend.sim.history).
        self.history_orders: list[Order] = []
        self.history_deals: list[Deal] = []
        # Called with (order, new fill or None) whenever an order changes: trade pushes.
        self.listeners: list[Callable[[Order, Deal | None], None]] = []
        self._place_windows: dict[int, RateWindow] = {}
        self._modify_windows: dict[int, RateWindow] = {}
        self._matched_window = int(clock.now() // _MATCH_STEP)
        self._next_position_id = 1
        now = clock.now()
        counters = {TrdEnv.REAL: 0, TrdEnv.SIMULATE: 0}
        for env, markets, qot_markets, currency, acc_type in _ACCOUNT_LAYOUT:
            counters[env] += 1
            base = REAL_ACC_BASE if env is TrdEnv.REAL else SIMULATE_ACC_BASE
            acc_id = base + counters[env]
            account = Account(
                acc_id=acc_id,
                env=env,
                markets=markets,
                qot_markets=qot_markets,
                currency=currency,
                cash=_STARTING_CASH[currency] / (2 if env is TrdEnv.REAL else 1),
                card_num=f"{acc_id % 10**16:016d}",
                acc_type=acc_type,
            )
            for code, qty in _STARTING_POSITIONS[currency]:
                sec = SECURITIES[code]
                price = market.last_price(sec, now)
                factor = 0.85 + 0.25 * noise(market.seed, acc_id, code, "cost")
                position = self._position(account, sec)
                position.qty = qty
                position.cost_total = round(price * factor, 3) * qty
            self.accounts[acc_id] = account

    # --- lookups ---------------------------------------------------------------------------

    def account(self, acc_id: int, env: int, trd_market: int) -> Account:
        """The account a TrdHeader names; raise TradeError if it does not match one."""
        account = self.accounts.get(acc_id)
        if account is None:
            raise TradeError(f"Nonexisting acc_id {acc_id}")
        if int(env) != account.env:
            raise TradeError(
                f"acc_id {acc_id} is a {account.env.name} account, not {TrdEnv(int(env)).name}"
                if int(env) in (0, 1)
                else f"Unknown trdEnv {env}"
            )
        if int(trd_market) not in account.markets:
            raise TradeError(f"acc_id {acc_id} has no trading authority for trdMarket {trd_market}")
        return account

    def security(self, account: Account, code: str, sec_market: int | None) -> SimSecurity:
        """The security an order's code (without market prefix) names in this account's markets:
        a stock, or a live option, warrant or future (which trade in the same accounts here)."""
        now = self.clock.now()
        found: list[SimSecurity] = []
        for market in account.qot_markets:
            try:
                full = str(parse_code(f"{market.name}.{code}"))
            except BadCode:
                continue
            sec = SECURITIES.get(full)
            if sec is None and self.derivatives is not None:
                sec = self.derivatives.lookup(full, now)
            if sec is not None:
                found.append(sec)
        if sec_market:
            found = [s for s in found if _sec_market_of(s) == int(sec_market)]
        if not found:
            raise TradeError(f"Unknown stock code {code}")
        if found[0].sec_type is SecurityType.IDX:
            raise TradeError(f"{found[0].code} is an index: it cannot be traded")
        return found[0]

    def _position(self, account: Account, sec: SimSecurity) -> Position:
        position = account.positions.get(sec.code)
        if position is None:
            position = Position(self._next_position_id, sec)
            self._next_position_id += 1
            account.positions[sec.code] = position
        return position

    def frozen_cash(self, account: Account) -> float:
        """Cash reserved by open buy orders."""
        return sum(
            o.remaining * o.price * o.sec.multiplier
            for o in self.orders.values()
            if o.acc_id == account.acc_id and o.side is TrdSide.BUY and o.status in _LIVE
        )

    def can_sell(self, account: Account, sec: SimSecurity) -> int:
        """Held quantity not already promised to open sell orders."""
        position = account.positions.get(sec.code)
        held = position.qty if position else 0
        promised = sum(
            o.remaining
            for o in self.orders.values()
            if o.acc_id == account.acc_id
            and o.sec is sec
            and o.side is TrdSide.SELL
            and o.status in _LIVE
        )
        return held - promised

    # --- orders ----------------------------------------------------------------------------

    def place(
        self,
        account: Account,
        *,
        unlocked: bool,
        code: str,
        sec_market: int | None,
        side: int,
        order_type: int,
        qty: float,
        price: float | None,
        time_in_force: int,
        remark: str,
    ) -> Order:
        """Validate and accept an order, filling at once whatever the book allows."""
        # The throttle first, as near the request's arrival as the simulator gets.
        self._write_check(
            self._place_windows,
            account,
            unlocked,
            RateWindow(15, 30.0, 0.02, "Trd_PlaceOrder requests per account"),
        )
        now = self.clock.now()
        self.match(now)
        if side not in (TrdSide.BUY, TrdSide.SELL):
            raise TradeError(f"Unsupported trdSide {side}: use 1 (Buy) or 2 (Sell)")
        if order_type not in (OrderType.NORMAL, OrderType.MARKET, OrderType.ABSOLUTE_LIMIT):
            raise TradeError(f"Order type {order_type} is not supported by the simulator")
        sec = self.security(account, code, sec_market)
        lots = _check_qty(sec, qty)
        is_market = order_type == OrderType.MARKET
        if is_market and not self.is_open(sec, now):
            venue = exchange.EXCHANGE_OF[sec.security.market]
            raise TradeError(
                f"Market orders are accepted only while the {venue.value} market trades "
                f"(it is {exchange.state_at(venue, now).name} now): place a limit order to "
                "wait for the open"
            )
        if not is_market:
            _check_price(sec, price)
        limit = 0.0 if is_market else float(price or 0.0)
        self._check_affordable(account, sec, TrdSide(side), lots, limit, now)
        if time_in_force not in (TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC):
            raise TradeError(f"timeInForce {time_in_force} is not supported by the simulator")
        seq = len(self.orders) + 1
        order = Order(
            order_id=_ORDER_ID_BASE + seq,
            order_id_ex=f"FTSIM{seq:010d}",
            acc_id=account.acc_id,
            sec=sec,
            side=TrdSide(side),
            order_type=OrderType(order_type),
            qty=lots,
            price=limit,
            time_in_force=TimeInForce(time_in_force),
            remark=remark,
            create_time=now,
            update_time=now,
            expires_at=self._day_end(sec, now) if time_in_force == TimeInForce.DAY else None,
        )
        self.orders[order.order_id] = order
        self._notify(order, None)
        if self.is_open(sec, now):
            self._take_book(order, now, levels=10)
        if order.remaining and (is_market or order.time_in_force is TimeInForce.IOC):
            # Whatever the book could not give a market or IOC order is cancelled, not rested.
            order.status = (
                OrderStatus.CANCELLED_PART if order.fill_qty else OrderStatus.CANCELLED_ALL
            )
            order.last_err = "" if order.fill_qty else "no liquidity at the order's price"
            self._notify(order, None)
        return order

    def find_order(self, account: Account, order_id: int | None, order_id_ex: str | None) -> Order:
        """The account's order by orderID or orderIDEx."""
        for order in self.orders.values():
            if order.acc_id != account.acc_id:
                continue
            if (order_id and order.order_id == order_id) or (
                order_id_ex and order.order_id_ex == order_id_ex
            ):
                return order
        raise TradeError(f"Order {order_id_ex or order_id} does not exist")

    def modify(
        self,
        account: Account,
        *,
        unlocked: bool,
        order_id: int | None,
        order_id_ex: str | None,
        op: int,
        qty: float | None,
        price: float | None,
    ) -> Order:
        """Apply a Trd_ModifyOrder: change price/quantity, cancel, disable, enable or delete."""
        self._modify_check(account, unlocked)  # the throttle first, as near arrival as can be
        now = self.clock.now()
        self.match(now)
        order = self.find_order(account, order_id, order_id_ex)
        if op == ModifyOrderOp.CANCEL:
            self._cancel(order, now)
        elif op == ModifyOrderOp.NORMAL:
            self._change(account, order, qty, price, now)
        elif op == ModifyOrderOp.DISABLE:
            if order.status not in _OPEN:
                raise TradeError(
                    f"Order {order.order_id_ex} is {order.status.name}: cannot disable"
                )
            order.enabled_status = order.status
            order.status = OrderStatus.DISABLED
        elif op == ModifyOrderOp.ENABLE:
            if order.status is not OrderStatus.DISABLED:
                raise TradeError(f"Order {order.order_id_ex} is not disabled")
            order.status = order.enabled_status
        elif op == ModifyOrderOp.DELETE:
            if order.status in _LIVE:
                raise TradeError(f"Order {order.order_id_ex} is still open: cancel it first")
            order.status = OrderStatus.DELETED
        else:
            raise TradeError(f"Unknown modifyOrderOp {op}")
        order.update_time = now
        self._notify(order, None)
        if (
            op in (ModifyOrderOp.NORMAL, ModifyOrderOp.ENABLE)
            and order.status in _OPEN
            and self.is_open(order.sec, now)
        ):
            self._take_book(order, now, levels=10)
        return order

    def cancel_all(self, account: Account, *, unlocked: bool) -> None:
        """Cancel every open order of the account (modifyOrderOp=2 with forAll)."""
        self._modify_check(account, unlocked)
        now = self.clock.now()
        self.match(now)
        for order in self.orders.values():
            if order.acc_id == account.acc_id and order.status in _LIVE:
                self._cancel(order, now)
                self._notify(order, None)

    def _modify_check(self, account: Account, unlocked: bool) -> None:
        self._write_check(
            self._modify_windows,
            account,
            unlocked,
            RateWindow(20, 30.0, 0.04, "Trd_ModifyOrder requests per account"),
        )

    def _write_check(
        self, windows: dict[int, RateWindow], account: Account, unlocked: bool, fresh: RateWindow
    ) -> None:
        """OpenD's per-account throttle (refused requests count too), then the unlock rule."""
        window = windows.setdefault(account.acc_id, fresh)
        try:
            window.check(self.clock.monotonic())
        except LimitExceeded as exc:
            raise TradeError(str(exc)) from None
        _require_unlocked(account, unlocked)

    def _cancel(self, order: Order, now: float) -> None:
        if order.status is OrderStatus.FILLED_ALL:
            raise TradeError(f"Order {order.order_id_ex} is already filled and cannot be cancelled")
        if order.status not in _LIVE:
            raise TradeError(
                f"Order {order.order_id_ex} is {order.status.name}: cannot be cancelled"
            )
        order.status = OrderStatus.CANCELLED_PART if order.fill_qty else OrderStatus.CANCELLED_ALL
        order.update_time = now

    def _change(
        self, account: Account, order: Order, qty: float | None, price: float | None, now: float
    ) -> None:
        if order.status not in _OPEN:
            raise TradeError(
                f"Order {order.order_id_ex} is {order.status.name}: cannot be modified"
            )
        if order.order_type is OrderType.MARKET:
            raise TradeError("A market order cannot be modified")
        # A normal modify carries the new total qty and the price, both required: OpenD does
        # not read 0 or a missing field as "unchanged". The texts are the simulator's own.
        if qty is None or qty <= 0:
            raise TradeError("Invalid modify: qty (the order's new total quantity) must be above 0")
        if price is None or price <= 0:
            raise TradeError("Invalid modify: price (the order's new price) must be above 0")
        new_qty = _check_qty(order.sec, qty)
        if new_qty <= order.fill_qty:
            raise TradeError(
                f"The new quantity {new_qty} must exceed the filled quantity {order.fill_qty}"
            )
        new_price = float(price)
        _check_price(order.sec, new_price)
        old_qty, old_price = order.qty, order.price
        order.qty, order.price = new_qty, new_price
        try:
            extra = new_qty - order.fill_qty
            if order.side is TrdSide.BUY:
                need, available = self.buy_need(
                    account,
                    order.sec,
                    extra,
                    extra * new_price * order.sec.multiplier,
                    now,
                    use_margin=True,
                )
                # Frozen cash already holds the order itself.
                available += extra * new_price * order.sec.multiplier
                if need > available + 1e-6:
                    raise TradeError(_insufficient_cash(need, available, account))
            elif self.can_sell(account, order.sec) < 0:
                raise TradeError(
                    f"Insufficient sellable quantity of {order.sec.code} for {new_qty} shares"
                )
        except TradeError:
            order.qty, order.price = old_qty, old_price
            raise

    def _check_affordable(
        self, account: Account, sec: SimSecurity, side: TrdSide, qty: int, limit: float, now: float
    ) -> None:
        if side is TrdSide.SELL:
            sellable = self.can_sell(account, sec)
            if qty > sellable:
                raise TradeError(
                    f"Insufficient sellable quantity: {sec.code} sellable {sellable}, order {qty}"
                )
            return
        if limit:
            cost = qty * limit
        else:
            asks, _bids = self.market.book(sec, now, 10)
            cost, left = 0.0, qty
            for level_price, volume, _count in asks:
                take = min(left, volume)
                cost += take * level_price
                left -= take
            cost += left * asks[-1][0]
        cost *= sec.multiplier
        need, available = self.buy_need(account, sec, qty, cost, now, use_margin=True)
        if need > available + 1e-6:
            raise TradeError(_insufficient_cash(need, available, account))

    # --- buying power ----------------------------------------------------------------------

    def loan_value(self, account: Account, now: float) -> float:
        """What a margin account may borrow against its holdings (0 for a cash account)."""
        if account.acc_type is not TrdAccType.MARGIN:
            return 0.0
        return sum(
            p.qty
            * self.market.last_price(p.sec, now)
            * p.sec.multiplier
            * (1 - margin.terms(p.sec).initial)
            for p in account.positions.values()
            if p.qty > 0
        )

    def buy_need(
        self,
        account: Account,
        sec: SimSecurity,
        qty: int,
        cost: float,
        now: float,
        *,
        use_margin: bool,
    ) -> tuple[float, float]:
        """What a buy of `qty` shares costing `cost` needs, and what the account has for it.

        With cash alone: the cost and its fees, against the cash open buys have not reserved.
        On margin (margin accounts): the cost's initial margin and the fees, against that cash
        plus the loan value of the holdings. The one rule for placing and for Trd_GetMaxTrdQtys.
        """
        fees = 0.0
        if account.pays_fees:
            market = sec.security.market
            fees = total(order_fees(market, sec.sec_type, TrdSide.BUY, qty, cost))
        available = account.cash - self.frozen_cash(account)
        if use_margin and account.acc_type is TrdAccType.MARGIN:
            return cost * margin.terms(sec).initial + fees, available + self.loan_value(
                account, now
            )
        return cost + fees, available

    def max_buy(
        self, account: Account, sec: SimSecurity, price: float, now: float, *, use_margin: bool
    ) -> int:
        """The most shares (or contracts), in whole lots, a buy at `price` may be: exactly the
        largest order `buy_need` lets through."""
        unit = sec.order_lot
        lot_value = unit * price * sec.multiplier

        def fits(lots: int) -> bool:
            need, available = self.buy_need(
                account, sec, lots * unit, lots * lot_value, now, use_margin=use_margin
            )
            return need <= available + 1e-6

        _need, available = self.buy_need(account, sec, 0, 0.0, now, use_margin=use_margin)
        low, high = 0, int(max(available, 0.0) / (lot_value * 0.2)) + 1  # 20 % is the lowest IM
        while low < high:
            middle = (low + high + 1) // 2
            if fits(middle):
                low = middle
            else:
                high = middle - 1
        return low * unit

    # --- matching --------------------------------------------------------------------------

    def match(self, now: float) -> None:
        """Give resting orders one chance at the best level of every book refresh since the last
        run (each refresh is a fresh book; the current one was already offered at placement),
        then settle whatever has expired."""
        self._match(now)
        self._settle_expired(now)

    def _ended(self, sec: SimSecurity, now: float) -> tuple[float, str] | None:
        """The final price of a derivative that no longer trades at `now`, and why: expired (an
        option's or warrant's intrinsic value, a future's settlement price) or, for a CBBC,
        called (its residual value); None while it trades."""
        derived = sec.derived
        if derived is None:
            return None
        if derived.expires_at <= now:
            price = self.market.price(sec, derived.expires_at)
            return round_to_tick(sec.tick_rule, price), "the contract expired"
        residual = self.derivatives.residual(sec, now) if self.derivatives else None
        return None if residual is None else (residual, "the CBBC was called")

    def _settle_expired(self, now: float) -> None:
        """Derivatives that no longer trade: open orders on them are cancelled and holdings are
        paid out in cash at their final price times the multiplier."""
        for order in self.orders.values():
            ended = self._ended(order.sec, now) if order.status in _LIVE else None
            if ended is not None:
                order.status = (
                    OrderStatus.CANCELLED_PART if order.fill_qty else OrderStatus.CANCELLED_ALL
                )
                order.update_time = now
                order.last_err = ended[1]
                self._notify(order, None)
        for account in self.accounts.values():
            for position in account.positions.values():
                ended = self._ended(position.sec, now) if position.qty else None
                if ended is not None:
                    value = position.qty * ended[0] * position.sec.multiplier
                    account.cash += value
                    position.realized_pl += value - position.cost_total
                    position.cost_total = 0.0
                    position.qty = 0

    def _match(self, now: float) -> None:
        first = self._matched_window + 1
        last = int(now // _MATCH_STEP)
        self._matched_window = max(self._matched_window, last)
        resting = [o for o in self.orders.values() if o.status in _OPEN]
        if not resting or last < first:
            return
        stride = max(1, (last - first + 1) // _MAX_STEPS)
        for window in range(first, last + 1, stride):
            moment = window * _MATCH_STEP
            for order in resting:
                if order.expires_at is not None and moment >= order.expires_at:
                    self._expire(order)
                elif self.is_open(order.sec, moment):
                    self._take_book(order, moment, levels=1)
            resting = [o for o in resting if o.status in _OPEN]
            if not resting:
                break

    def _expire(self, order: Order) -> None:
        """A DAY order still open when its session ends is cancelled by the exchange."""
        assert order.expires_at is not None
        order.status = OrderStatus.CANCELLED_PART if order.fill_qty else OrderStatus.CANCELLED_ALL
        order.update_time = order.expires_at
        order.last_err = "expired at the end of the trading day"
        self._notify(order, None)

    def _take_book(self, order: Order, when: float, levels: int) -> None:
        asks, bids = self.market.book(order.sec, when, levels)
        book = asks if order.side is TrdSide.BUY else bids
        for level_price, volume, _count in book:
            if not order.remaining:
                break
            if order.price and (
                level_price > order.price
                if order.side is TrdSide.BUY
                else level_price < order.price
            ):
                break
            self._fill(order, min(order.remaining, volume), level_price, when)

    def _fill(self, order: Order, qty: int, price: float, when: float) -> None:
        seq = len(self.deals) + 1
        deal = self.book_fill(order, qty, price, when, _FILL_ID_BASE + seq, f"FTSIMF{seq:010d}")
        self.deals.append(deal)
        self._notify(order, deal)

    def book_fill(
        self, order: Order, qty: int, price: float, when: float, fill_id: int, fill_id_ex: str
    ) -> Deal:
        """Apply one fill to the order, the account's cash and its position; a real account
        also pays the fill's share of the order's fees."""
        account = self.accounts[order.acc_id]
        position = self._position(account, order.sec)
        value = qty * price * order.sec.multiplier
        if order.side is TrdSide.BUY:
            account.cash -= value
            position.qty += qty
            position.cost_total += value
        else:
            average = position.cost_price
            account.cash += value
            position.realized_pl += (price - average) * qty * order.sec.multiplier
            position.cost_total -= average * qty * order.sec.multiplier
            position.qty -= qty
        order.fill_qty += qty
        order.fill_value += qty * price  # premium terms: fill_avg_price is a price
        order.status = OrderStatus.FILLED_ALL if not order.remaining else OrderStatus.FILLED_PART
        order.update_time = when
        share: tuple[Fee, ...] = ()
        if account.pays_fees:
            sec = order.sec
            fees = order_fees(
                sec.security.market,
                sec.sec_type,
                order.side,
                order.fill_qty,
                order.fill_value * sec.multiplier,
            )
            before = {f.title: f.value for f in order.fees}
            share = tuple(Fee(f.title, round(f.value - before.get(f.title, 0.0), 2)) for f in fees)
            account.cash -= total(list(share))
            order.fees = fees
        broker = (0, "")
        if order.sec.security.market is QotMarket.HK:
            broker = HK_BROKERS[int(noise(self.market.seed, "deal", fill_id) * len(HK_BROKERS))]
        return Deal(fill_id, fill_id_ex, order, qty, price, when, broker, share)

    def _notify(self, order: Order, deal: Deal | None) -> None:
        for listener in self.listeners:
            listener(order, deal)

    # --- days ------------------------------------------------------------------------------

    def is_open(self, sec: SimSecurity, t: float) -> bool:
        """True when orders in the security match at `t`: always, unless real hours are on."""
        if not self.real_hours:
            return True
        return exchange.is_trading(exchange.EXCHANGE_OF[sec.security.market], t)

    def _day_end(self, sec: SimSecurity, t: float) -> float:
        """When a DAY order placed at `t` expires: the end of its trading day's session (with
        real hours), else the next local midnight."""
        if self.real_hours:
            return exchange.trading_day_close(exchange.EXCHANGE_OF[sec.security.market], t)
        return self.market.session_end(sec, t)

    def is_today(self, sec: SimSecurity, t: float, now: float) -> bool:
        """True when `t` falls on the same local day as `now` in the security's market."""
        return self.market.local(sec, t).date() == self.market.local(sec, now).date()

    def today_trades(
        self, account: Account, sec: SimSecurity, now: float
    ) -> tuple[int, float, int, float]:
        """Today's bought quantity and value, then sold quantity and value, of one security."""
        buy_qty, buy_val, sell_qty, sell_val = 0, 0.0, 0, 0.0
        for deal in self.deals:
            order = deal.order
            if order.acc_id != account.acc_id or order.sec is not sec:
                continue
            if not self.is_today(sec, deal.time, now):
                continue
            value = deal.qty * deal.price * sec.multiplier
            if order.side is TrdSide.BUY:
                buy_qty, buy_val = buy_qty + deal.qty, buy_val + value
            else:
                sell_qty, sell_val = sell_qty + deal.qty, sell_val + value
        return buy_qty, buy_val, sell_qty, sell_val

    # --- valuations ------------------------------------------------------------------------

    def market_value(self, account: Account, now: float) -> float:
        """Value of all holdings at the last price."""
        return sum(
            p.qty * self.market.last_price(p.sec, now) * p.sec.multiplier
            for p in account.positions.values()
            if p.qty
        )

    def local_time(self, sec: SimSecurity, t: float) -> datetime:
        """`t` in the security's market time, as order and deal times are printed."""
        return self.market.local(sec, t)


def _sec_market_of(sec: SimSecurity) -> int:
    return int(SEC_MARKET_OF[sec.security.market])


def _require_unlocked(account: Account, unlocked: bool) -> None:
    if account.env is TrdEnv.REAL and not unlocked:
        raise TradeError(
            "Trade is locked: unlock trade (Trd_UnlockTrade) before placing or modifying "
            "real orders"
        )


def _check_qty(sec: SimSecurity, qty: float | None) -> int:
    if qty is None or qty <= 0 or qty != int(qty):
        raise TradeError(f"Invalid quantity {qty}: must be a positive whole number of shares")
    if int(qty) % sec.order_lot:
        raise TradeError(
            f"The quantity {int(qty)} must be a multiple of the lot size {sec.order_lot} of {sec.code}"
        )
    return int(qty)


def _check_price(sec: SimSecurity, price: float | None) -> None:
    if price is None or price <= 0:
        raise TradeError(f"Invalid price {price}: a limit order needs a positive price")
    if not on_tick_grid(sec.tick_rule, price):
        tick = tick_size(sec.tick_rule, price)
        raise TradeError(
            f"The price {price:g} is not a valid price for {sec.code}: "
            f"prices move in steps of {tick} at this level"
        )


def _insufficient_cash(need: float, available: float, account: Account) -> str:
    if account.acc_type is TrdAccType.MARGIN:
        what = "margin and fees"
    else:
        what = "cost and fees" if account.pays_fees else "cost"
    return (
        f"Insufficient buying power: the order needs {need:,.2f} {account.currency.name} "
        f"({what}), available {available:,.2f}"
    )
