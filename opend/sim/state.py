"""Everything one simulated OpenD knows, apart from its sockets: clock, market, accounts, quota.

Tests inspect it as `sim.state` (securities, accounts, orders, deals) and step its clock.
"""

import hashlib
import hmac
from datetime import timedelta

from opend.codes import QotMarket
from opend.sim import exchange, history
from opend.sim.capflow import CapitalFlows
from opend.sim.clock import SimClock
from opend.sim.derivatives import Derivatives
from opend.sim.limits import (
    DEFAULT_HISTORY_KL_QUOTA,
    QUOTE_RATE_LIMITS,
    QUOTE_RATE_WINDOW,
    HistoryKLQuota,
    RateWindow,
    Subscriptions,
)
from opend.sim.market import MarketData
from opend.sim.screener import Screener
from opend.sim.trading import Account, Deal, Order, Trading
from opend.sim.universe import PLATES, SECURITIES, SimPlate, SimSecurity

DEFAULT_TRADE_PASSWORD = "123456"
SERVER_VERSION = 1004  # reported as OpenD 10.4
SERVER_BUILD = 5808


class SimState:
    """The simulated gateway's data and rules, shared by all its connections."""

    def __init__(
        self,
        *,
        seed: int = 1,
        trade_password: str = DEFAULT_TRADE_PASSWORD,
        start_time: float | None = None,
        subscription_quota: int = 100,
        logged_in: bool = True,
        quote_limits: bool = False,
        history_kl_quota: int = DEFAULT_HISTORY_KL_QUOTA,
        real_hours: bool = False,
    ) -> None:
        self.seed = seed
        # Off: every market trades around the clock (the demo works at any hour). On: orders
        # match only in each exchange's sessions on its trading days (opend.sim.exchange).
        self.real_hours = real_hours
        # False plays an OpenD whose login to Futu failed: it accepts API connections and
        # answers GetGlobalState, but refuses every quote and trade request.
        self.logged_in = logged_in
        self.clock = SimClock(start_time)
        self.securities: dict[str, SimSecurity] = SECURITIES
        self.plates: dict[str, SimPlate] = PLATES
        self.market = MarketData(SECURITIES, seed)
        self.derivatives = Derivatives(self.market)
        self.screener = Screener(self.market)
        self.capital_flows = CapitalFlows(self.market)
        self.trading = Trading(self.market, self.clock, self.derivatives, real_hours=real_hours)
        self.deposits = history.seed(self.trading, self.clock.now())
        self.subscriptions = Subscriptions(subscription_quota)
        self.login_user_id = 18_800_000 + seed
        # Unlocking is instance-wide on OpenD: one connection unlocks for all.
        self.unlocked = False
        self.unlock_window = RateWindow(10, 30.0, 0.0, "Trd_UnlockTrade requests")
        # Per-account request windows (refreshCache, account queries), by (protocol, acc_id).
        self.account_windows: dict[tuple[int, int], RateWindow] = {}
        # Off by default: tests and benchmarks make far more quote requests than OpenD allows.
        self.quote_limits = quote_limits
        # Quote limits are per OpenD user and the simulator has one: its connections share them.
        self.quote_windows: dict[int, RateWindow] = (
            {
                proto_id: RateWindow(count, QUOTE_RATE_WINDOW, 0.0, what)
                for proto_id, (count, what) in QUOTE_RATE_LIMITS.items()
            }
            if quote_limits
            else {}
        )
        # Always counted (Qot_RequestHistoryKLQuota reports it), refused only with quote_limits.
        self.history_kl = HistoryKLQuota(history_kl_quota)
        # Only the digest is kept: it is what Trd_UnlockTrade carries.
        self._password_md5 = hashlib.md5(trade_password.encode("utf-8")).hexdigest()

    def password_matches(self, pwd_md5: str) -> bool:
        """True only for the lowercase hex MD5 of the trade password, the one form OpenD takes:
        an uppercase or padded digest is a wrong password, so a client sending one fails here."""
        return hmac.compare_digest(pwd_md5.encode(), self._password_md5.encode())

    def resolve(self, code: str) -> SimSecurity | None:
        """The security a full code names now: a stock, an index or a live derivative."""
        return self.securities.get(code) or self.derivatives.lookup(code, self.clock.now())

    def known(self, code: str) -> SimSecurity:
        """A security this simulator has served, even a derivative that has since expired
        (a subscription or position may still name it)."""
        return self.securities.get(code) or self.derivatives.known(code)

    def advance(self, seconds: float) -> None:
        """Move the simulated clock forward and let resting orders meet the new prices."""
        self.clock.advance(seconds)
        self.trading.match(self.clock.now())

    def roll_over(self, market: QotMarket = QotMarket.HK) -> float:
        """Move the clock to a minute after the next trading day's open of `market`: today's
        orders and fills become history. Returns the seconds moved."""
        venue = exchange.EXCHANGE_OF[market]
        now = self.clock.now()
        today = exchange.local(venue, now).date()
        day = today + timedelta(days=1)
        while not exchange.is_trading_day(venue, day):
            day += timedelta(days=1)
        target = exchange.trading_sessions(venue, day)[0][0] + 60.0
        self.advance(target - now)
        return target - now

    @property
    def accounts(self) -> dict[int, Account]:
        """Accounts by acc_id."""
        return self.trading.accounts

    @property
    def orders(self) -> dict[int, Order]:
        """Every order by orderID, in placement order."""
        return self.trading.orders

    @property
    def deals(self) -> list[Deal]:
        """Every fill, oldest first."""
        return self.trading.deals
