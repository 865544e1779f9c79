"""The simulator's derivatives catalog: options, warrants, CBBCs, futures and their indexes as
securities the quote, snapshot and trading code can use like any stock.

A code resolves only while its contract trades (expired series, matured warrants and called
CBBCs are gone), each resolves to one `SimSecurity` object for as long as it lives (positions
compare by identity), and its price is derived from the underlying's simulated price at every
minute, so quotes, books, klines and greeks all follow the underlying.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from opend.codes import BadCode, QotMarket, Security, parse_code
from opend.enums import ExpirationCycle, SecurityType, WrtType
from opend.market_rules import MARKET_TZ
from opend.sim import futures, options, warrants
from opend.sim.blackscholes import Greeks
from opend.sim.futures import INDEXES, FutureContract
from opend.sim.market import MarketData, noise
from opend.sim.options import OptionContract
from opend.sim.universe import SECURITIES, SimSecurity
from opend.sim.warrants import Warrant

Terms = OptionContract | FutureContract | Warrant


_ANCHOR_MINUTES = 15


def _taylor(
    greeks: Callable[[float, float], Greeks], spots: list[float], start: float
) -> list[float]:
    """A day of minute prices from exact greeks every quarter hour and a second-order expansion
    in the underlying (plus time decay) between: a hundredth of the work, errors far below a
    tick."""
    out: list[float] = []
    for first in range(0, len(spots), _ANCHOR_MINUTES):
        anchor_spot = spots[first]
        g = greeks(anchor_spot, start + first * 60)
        price, delta, half_gamma, decay = g.price, g.delta, 0.5 * g.gamma, g.theta / 1440
        out.extend(
            max(
                price + (s - anchor_spot) * (delta + half_gamma * (s - anchor_spot)) + decay * k,
                0.0,
            )
            for k, s in enumerate(spots[first : first + _ANCHOR_MINUTES])
        )
    return out


@dataclass(frozen=True, slots=True)
class _OptionPricing:
    contract: OptionContract

    @property
    def underlying(self) -> SimSecurity:
        return self.contract.option_class.underlying

    @property
    def expires_at(self) -> float:
        return self.contract.expiry_time

    def value(self, spot: float, t: float) -> float:
        return self.contract.greeks(spot, t).price

    def minute_values(self, spots: list[float], start: float) -> list[float]:
        return _taylor(self.contract.greeks, spots, start)


@dataclass(frozen=True, slots=True)
class _FuturePricing:
    contract: FutureContract

    @property
    def underlying(self) -> SimSecurity:
        return INDEXES[self.contract.product.index]

    @property
    def expires_at(self) -> float:
        return self.contract.expiry_time

    def value(self, spot: float, t: float) -> float:
        return self.contract.value(spot, t)

    def minute_values(self, spots: list[float], start: float) -> list[float]:
        return [self.contract.value(s, start + m * 60) for m, s in enumerate(spots)]


@dataclass(frozen=True, slots=True)
class _WarrantPricing:
    warrant: Warrant

    @property
    def underlying(self) -> SimSecurity:
        return self.warrant.underlying

    @property
    def expires_at(self) -> float:
        return self.warrant.expiry_time

    def value(self, spot: float, t: float) -> float:
        return self.warrant.value(spot, t)

    def minute_values(self, spots: list[float], start: float) -> list[float]:
        if self.warrant.is_cbbc:
            return self.warrant.cbbc_values(spots, start)
        return _taylor(self.warrant.greeks, spots, start)


def _sec_id(code: str) -> int:
    return 50_000_000 + int(noise("sec_id", code) * 40_000_000)


def open_interest(contract: OptionContract, seed: int) -> int:
    """Contracts open: largest near the money and in monthlies, thinning out in the wings."""
    level = contract.option_class.underlying.base_price
    moneyness = math.log(float(contract.strike) / level)
    peak = 30_000 if contract.option_class.market is QotMarket.US else 3_000
    if contract.cycle is ExpirationCycle.WEEK:
        peak //= 3
    shape = math.exp(-((moneyness / 0.12) ** 2))
    return int(peak * shape * (0.4 + 0.8 * noise(seed, "oi", contract.code))) + 10


class Derivatives:
    """Resolves derivative and index codes to securities and knows each one's terms."""

    def __init__(self, market: MarketData) -> None:
        self.market = market
        self._secs: dict[str, SimSecurity] = dict(INDEXES)
        self._terms: dict[str, Terms] = {}
        self._warrants: dict[int, list[Warrant]] = {}
        self._live: dict[date, dict[str, Warrant]] = {}
        self._called_before: dict[tuple[str, date], bool] = {}

    # --- lookups ---------------------------------------------------------------------------

    def lookup(self, code: str, t: float) -> SimSecurity | None:
        """The index or live derivative a full code (`US.AAPL260116C200000`) names at `t`."""
        if code in INDEXES:
            return INDEXES[code]
        try:
            security = parse_code(code)
        except BadCode:
            return None
        today = datetime.fromtimestamp(t, MARKET_TZ[security.market]).date()
        terms = self._find(security, today)
        if terms is None:
            return None
        full = f"{security.market.name}.{terms.code}"
        sec = self._secs.get(full)
        if sec is None or self._terms.get(full) != terms:
            sec = self._secs[full] = self._security(security.market, terms)
            self._terms[full] = terms
        if terms.expiry_time <= t or (isinstance(terms, Warrant) and self.called(terms, t)):
            return None  # gone from the close of its last day, or called
        return sec

    def known(self, code: str) -> SimSecurity:
        """A derivative or index resolved before, live or not (KeyError if never)."""
        return self._secs[code]

    def open_interest(self, contract: OptionContract) -> int:
        """Open contracts of a series."""
        return open_interest(contract, self.market.seed)

    def terms(self, sec: SimSecurity) -> Terms | None:
        """The contract behind a derivative security (None for stocks and indexes)."""
        return self._terms.get(sec.code)

    def _find(self, security: Security, today: date) -> Terms | None:
        market, code = security.market, security.code
        found: Terms | None = options.find(market, code, today) or futures.find(market, code, today)
        if found is None and market is QotMarket.HK and code.isdigit() and len(code) == 5:
            self.warrants_on(today)
            found = self._live[today].get(code)
        return found

    # --- warrants --------------------------------------------------------------------------

    def _generation(self, generation: int) -> list[Warrant]:
        cached = self._warrants.get(generation)
        if cached is None:
            listed = warrants.listing_day(generation)
            closes = {
                owner: self.market.prev_close(SECURITIES[owner], listed)
                for owner in warrants.WARRANT_UNDERLYINGS
            }
            cached = self._warrants[generation] = warrants.issues(
                self.market.seed, generation, closes
            )
        return cached

    def warrants_on(self, today: date) -> list[Warrant]:
        """Warrants and CBBCs listed and not past their last trading day (called CBBCs
        included: `called` tells them apart)."""
        cached = self._live.get(today)
        if cached is None:
            if len(self._live) > 8:
                self._live.clear()
            cached = self._live[today] = {
                w.code: w
                for g in warrants.generations_live(today)
                if warrants.listing_day(g) <= today
                for w in self._generation(g)
                if w.list_date <= today <= w.last_trade_day
            }
        return list(cached.values())

    def called(self, warrant: Warrant, t: float) -> bool:
        """True once a CBBC's underlying has touched its call level since listing."""
        if not warrant.is_cbbc:
            return False
        under = warrant.underlying
        today = self.market.local(under, t).date()
        key = (warrant.code, today)
        before = self._called_before.get(key)
        if before is None:
            if len(self._called_before) > 4096:
                self._called_before.clear()
            yesterday = today - timedelta(days=1)
            before = self._called_before[key] = warrant.list_date <= yesterday and (
                warrant.knocked_out(*self.market.day_range(under, warrant.list_date, yesterday))
            )
        now = self.market.day_so_far(under, t)
        return before or warrant.knocked_out(now.low, now.high)

    def residual(self, sec: SimSecurity, t: float) -> float | None:
        """A called CBBC's residual value per unit, None if `sec` is not a called CBBC. HKEX
        category R (call level beyond the strike, as all of the simulator's are): how far the
        underlying's extreme of the call day sits beyond the strike, over the entitlement
        ratio; zero when it crossed the strike."""
        pricing = sec.derived
        if not isinstance(pricing, _WarrantPricing) or not self.called(pricing.warrant, t):
            return None
        w = pricing.warrant
        sign = 1.0 if w.kind is WrtType.BULL else -1.0
        for bar in self.market.day_bars(w.underlying, t, first=w.list_date):
            if w.knocked_out(bar.low, bar.high):
                extreme = bar.low if sign > 0 else bar.high
                return round(max(sign * (extreme - w.strike), 0.0) / w.ratio, 3)
        return 0.0

    # --- building securities ---------------------------------------------------------------

    def _security(self, market: QotMarket, terms: Terms) -> SimSecurity:
        if isinstance(terms, OptionContract):
            under = terms.option_class.underlying
            oi = open_interest(terms, self.market.seed)
            return SimSecurity(
                security=Security(market, terms.code),
                name=terms.name,
                sec_type=SecurityType.DRVT,
                lot_size=terms.option_class.contract_size,
                currency=under.currency,
                list_date=terms.list_date,
                base_price=float(terms.strike),
                daily_vol=under.daily_vol,
                avg_volume=max(1, oi // 4),
                shares_outstanding=0,
                sec_id=_sec_id(terms.full_code),
                code=terms.full_code,
                multiplier=terms.option_class.contract_size,
                tick=terms.option_class.tick,
                derived=_OptionPricing(terms),
            )
        if isinstance(terms, FutureContract):
            index = INDEXES[terms.product.index]
            code = f"{market.name}.{terms.code}"
            return SimSecurity(
                security=Security(market, terms.code),
                name=terms.name,
                sec_type=SecurityType.FUTURE,
                lot_size=terms.product.multiplier,
                currency=index.currency,
                list_date=terms.list_date,
                base_price=index.base_price,
                daily_vol=index.daily_vol,
                avg_volume=120_000 if terms.product.root == "HSI" else 60_000,
                shares_outstanding=0,
                sec_id=_sec_id(code),
                code=code,
                multiplier=terms.product.multiplier,
                tick=terms.product.tick,
                derived=_FuturePricing(terms),
            )
        under = terms.underlying
        return SimSecurity(
            security=Security(market, terms.code),
            name=terms.name,
            sec_type=SecurityType.WARRANT,
            lot_size=terms.lot_size,
            currency=under.currency,
            list_date=terms.list_date,
            base_price=terms.strike,
            daily_vol=under.daily_vol,
            avg_volume=terms.issue_size // 20,
            shares_outstanding=terms.issue_size,
            sec_id=_sec_id(f"HK.{terms.code}"),
            code=f"HK.{terms.code}",
            derived=_WarrantPricing(terms),
        )
