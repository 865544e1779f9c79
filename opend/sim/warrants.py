"""HK derivative warrants and CBBCs on the HK universe: issues, terms and prices.

Issuers list a few products on each popular underlying every month, with terms set from the
underlying's close on the listing day (strikes and call levels around spot, 6 to 12 months to
expiry), so the set on any day is a pure function of seed and date. A warrant is worth its
Black-Scholes value per share over its conversion ratio, at the issuer's volatility (a markup on
the underlying's); a CBBC its intrinsic value plus the issuer's funding cost, until the
underlying touches the call level: then it is called (a mandatory call event) and disappears,
like an expired issue. Codes follow HKEX's numbering (warrants 1xxxx-2xxxx, CBBCs 5xxxx-6xxxx).
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from opend.codes import QotMarket
from opend.enums import Issuer, WrtType
from opend.market_rules import MARKET_TZ
from opend.sim.blackscholes import YEAR_SECONDS, Greeks, black_scholes
from opend.sim.exchange import Exchange, is_trading_day
from opend.sim.market import noise
from opend.sim.universe import SECURITIES, SimSecurity

# The underlyings and the short names issuers print in their warrants' names.
_SHORT_NAMES: dict[str, str] = {
    "HK.00700": "TENCT",
    "HK.09988": "ALIBA",
    "HK.03690": "MEITU",
    "HK.01810": "XIAOM",
    "HK.00388": "HKEX",
    "HK.00005": "HSBC",
    "HK.01299": "AIA",
}
WARRANT_UNDERLYINGS: tuple[str, ...] = tuple(_SHORT_NAMES)
# The issuers most active in HK.
_ISSUERS = (
    Issuer.SG,
    Issuer.BP,
    Issuer.GS,
    Issuer.HS,
    Issuer.JP,
    Issuer.MB,
    Issuer.UB,
    Issuer.BI,
    Issuer.CI,
)
_RATE = 0.035
_FIRST_MONTH = (2024, 1)  # the oldest generation the simulator knows of
_PER_MONTH = 4  # issues per underlying per month: a call, a put, a bull and a bear


@dataclass(frozen=True, slots=True)
class Warrant:
    """One warrant or CBBC issue."""

    code: str  # five digits
    owner: str  # the underlying's code
    kind: WrtType
    issuer: Issuer
    strike: float  # CBBCs: the financing level
    call_level: float  # CBBCs only (OpenD: recoveryPrice); 0 for warrants
    ratio: float  # conversion ratio: warrants per share
    lot_size: int
    list_date: date
    maturity: date
    issue_size: int
    vol_markup: float
    name: str

    @property
    def underlying(self) -> SimSecurity:
        """The underlying security."""
        return SECURITIES[self.owner]

    @property
    def last_trade_day(self) -> date:
        """Trading ends four business days before maturity (HKEX rule for warrants)."""
        day, left = self.maturity, 4
        while left:
            day -= timedelta(days=1)
            if is_trading_day(Exchange.HK, day):
                left -= 1
        return day

    @property
    def is_cbbc(self) -> bool:
        """True for bull and bear contracts."""
        return self.kind in (WrtType.BULL, WrtType.BEAR)

    def years(self, t: float) -> float:
        """Time to maturity in years."""
        return max(self.expiry_time - t, 0.0) / YEAR_SECONDS

    @property
    def expiry_time(self) -> float:
        """Maturity: 16:00 on the maturity date, HK time."""
        return _hk_close(self.maturity)

    def implied_vol(self) -> float:
        """The issuer's volatility for this issue (a fraction)."""
        return self.underlying.daily_vol * 252**0.5 * self.vol_markup

    def cbbc_values(self, spots: list[float], start: float) -> list[float]:
        """A CBBC's price at each of `spots`, a minute apart from `start`: intrinsic value plus
        the issuer's funding cost for the time left (a bear's, half: its hedge earns interest)."""
        sign = 1.0 if self.kind is WrtType.BULL else -1.0
        carry = self.strike * _RATE * (1.0 if sign > 0 else 0.5) / self.ratio
        years = self.years(start)
        step = 60.0 / YEAR_SECONDS
        return [
            max(
                max(sign * (s - self.strike), 0.0) / self.ratio
                + carry * max(years - m * step, 0.0),
                0.001,
            )
            for m, s in enumerate(spots)
        ]

    def value(self, spot: float, t: float) -> float:
        """Price per warrant when the underlying is at `spot`."""
        if self.is_cbbc:
            return self.cbbc_values([spot], t)[0]
        return self.greeks(spot, t).price

    def greeks(self, spot: float, t: float) -> Greeks:
        """A warrant's price and greeks per warrant (the option's over the conversion ratio);
        a CBBC moves one-for-one with its underlying over the ratio."""
        if self.is_cbbc:
            sign = 1.0 if self.kind is WrtType.BULL else -1.0
            return Greeks(self.value(spot, t), sign / self.ratio, 0.0, 0.0, 0.0, 0.0)
        g = black_scholes(
            self.kind is WrtType.CALL,
            spot,
            self.strike,
            self.years(t),
            _RATE,
            0.0,
            self.implied_vol(),
        )
        r = self.ratio
        return Greeks(
            max(g.price / r, 0.001), g.delta / r, g.gamma / r, g.vega / r, g.theta / r, g.rho / r
        )

    def knocked_out(self, low: float, high: float) -> bool:
        """True once the underlying traded at or through the call level (CBBCs only)."""
        if self.kind is WrtType.BULL:
            return low <= self.call_level
        if self.kind is WrtType.BEAR:
            return high >= self.call_level
        return False


@cache
def _hk_close(day: date) -> float:
    return datetime.combine(day, time(16, 0), MARKET_TZ[QotMarket.HK]).timestamp()


def _months_between(first: tuple[int, int], today: date) -> int:
    return (today.year - first[0]) * 12 + today.month - first[1]


def _round_sig(value: float, digits: int = 3) -> float:
    exponent = math.floor(math.log10(abs(value)))
    return round(value, digits - 1 - exponent)


def listing_day(generation: int) -> date:
    """The first trading day of the generation's month: when its issues start trading."""
    year = _FIRST_MONTH[0] + (_FIRST_MONTH[1] - 1 + generation) // 12
    month = (_FIRST_MONTH[1] - 1 + generation) % 12 + 1
    listed = date(year, month, 1)
    while not is_trading_day(Exchange.HK, listed):
        listed += timedelta(days=1)
    return listed


def issues(seed: int, generation: int, closes: dict[str, float]) -> list[Warrant]:
    """The issues of one month (`generation` months after January 2024), with terms set from
    `closes`, the underlyings' closes the day before listing."""
    listed = listing_day(generation)
    found: list[Warrant] = []
    for u, owner in enumerate(WARRANT_UNDERLYINGS):
        spot = closes[owner]
        for k, kind in enumerate((WrtType.CALL, WrtType.PUT, WrtType.BULL, WrtType.BEAR)):
            r = [noise(seed, "warrant", generation, owner, k, i) for i in range(6)]
            issuer = _ISSUERS[int(r[0] * len(_ISSUERS))]
            months = 6 + int(r[1] * 7)
            maturity = listed + timedelta(days=30 * months)
            while not is_trading_day(Exchange.HK, maturity):
                maturity -= timedelta(days=1)
            away = 0.05 + 0.20 * r[2]
            sign = {
                WrtType.CALL: 1,
                WrtType.PUT: -1,
                WrtType.BULL: -1,
                WrtType.BEAR: 1,
            }[kind]
            strike = _round_sig(spot * (1 + sign * away))
            call_level = 0.0
            if kind in (WrtType.BULL, WrtType.BEAR):
                # The call level sits between the financing level and spot.
                call_level = _round_sig(strike * (1 - sign * (0.01 + 0.02 * r[3])))
            ratio = (
                (10.0, 50.0, 100.0)[int(r[4] * 3)] if spot > 50 else (1.0, 5.0, 10.0)[int(r[4] * 3)]
            )
            cbbc = kind in (WrtType.BULL, WrtType.BEAR)
            number = (generation % 24) * 100 + u * _PER_MONTH + k
            code = f"{(60000 if cbbc else 20000) + number:05d}"
            letter = "ABCDEFGH"[(generation + k) % 8]
            mark = {
                WrtType.CALL: "C",
                WrtType.PUT: "P",
                WrtType.BULL: "R BULL",
                WrtType.BEAR: "R BEAR",
            }[kind]
            name = f"{_SHORT_NAMES[owner]} {issuer.name} {maturity:%y%m}{letter} {mark}"
            found.append(
                Warrant(
                    code=code,
                    owner=owner,
                    kind=kind,
                    issuer=issuer,
                    strike=strike,
                    call_level=call_level,
                    ratio=ratio,
                    lot_size=(1000, 5000, 10000)[int(r[5] * 3)],
                    list_date=listed,
                    maturity=maturity,
                    issue_size=int(50_000_000 + 150_000_000 * r[5]),
                    vol_markup=1.05 + 0.15 * r[3],
                    name=name,
                )
            )
    return found


def generations_live(today: date) -> range:
    """The monthly generations that may still trade on `today` (maturities reach 12 months)."""
    last = _months_between(_FIRST_MONTH, today)
    return range(max(0, last - 13), last + 1)
