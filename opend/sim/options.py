"""Listed stock options: which classes, expiries and strikes exist on a day, and their codes.

The listing is a pure function of the date, so a code a client read from a chain stays valid
until its expiry day ends and then disappears, as on OpenD. Prices come from `blackscholes` over
the underlying's simulated price, so they follow the underlying as it moves.

Facts (see `reference/opend-protocol-more.md` §2): US codes are root + YYMMDD + C/P + strike x
1000 (`US.AAPL260116C200000`), HK codes use the HKATS class code (`HK.TCH260129C480000`); US
equity options cover 100 shares; HKEX's Tencent class (TCH) covers one 100-share board lot. US
monthlies expire on the third Friday, weeklies on the other Fridays; HK stock options expire on
the business day before the month's last business day, on the exchanges' holiday calendars
(`exchange`): a Friday holiday moves a US expiry to the trading day before.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache

from opend.codes import QotMarket
from opend.enums import ExpirationCycle
from opend.market_rules import MARKET_TZ
from opend.sim.blackscholes import YEAR_SECONDS, Greeks, black_scholes, smile_vol
from opend.sim.exchange import Exchange, is_trading_day
from opend.sim.universe import SECURITIES, SimSecurity


@dataclass(frozen=True, slots=True)
class OptionClass:
    """One underlying's listed options: contract terms and the model's inputs."""

    owner: str  # the underlying's code, e.g. "US.AAPL"
    root: str  # the code prefix, e.g. "AAPL" or "TCH"
    contract_size: int  # shares per contract: the multiplier of price into value
    rate: float  # risk-free rate, continuous
    dividend: float  # dividend yield, continuous
    tick: Decimal  # premium tick
    weeklies: bool

    @property
    def underlying(self) -> SimSecurity:
        """The underlying security."""
        return SECURITIES[self.owner]

    @property
    def market(self) -> QotMarket:
        """The quote market of the options (the underlying's)."""
        return self.underlying.security.market

    @property
    def atm_vol(self) -> float:
        """At-the-money volatility: the underlying's own daily volatility, annualised."""
        return self.underlying.daily_vol * 252**0.5

    @property
    def lots_per_contract(self) -> int:
        """Board lots of the underlying one contract covers (HK's ownerLotMultiplier)."""
        return max(1, self.contract_size // self.underlying.lot_size)


# Rates: US T-bill and HIBOR levels of 2025-26, rounded; dividend yields: trailing, rounded.
# US premium tick: these names are in the Penny Interval Program (0.01 below 3.00, 0.05 above);
# the sim quotes in cents throughout. HK stock options: HK$0.01 (HKEX contract specifications).
OPTION_CLASSES: dict[str, OptionClass] = {
    c.owner: c
    for c in (
        OptionClass("US.AAPL", "AAPL", 100, 0.04, 0.005, Decimal("0.01"), True),
        OptionClass("US.TSLA", "TSLA", 100, 0.04, 0.0, Decimal("0.01"), True),
        OptionClass("US.NVDA", "NVDA", 100, 0.04, 0.0003, Decimal("0.01"), True),
        OptionClass("HK.00700", "TCH", 100, 0.035, 0.01, Decimal("0.01"), False),
    )
}
_BY_ROOT = {(c.market, c.root): c for c in OPTION_CLASSES.values()}

# How long before its expiry a series is listed, by cycle and market.
_LISTED_FOR: dict[tuple[QotMarket, ExpirationCycle], int] = {
    (QotMarket.US, ExpirationCycle.WEEK): 35,
    (QotMarket.US, ExpirationCycle.MONTH): 190,
    (QotMarket.HK, ExpirationCycle.MONTH): 95,
    (QotMarket.HK, ExpirationCycle.QUARTER): 280,
}
_STRIKE_BAND = (0.7, 1.3)  # strikes listed around the underlying's level


def third_friday(year: int, month: int) -> date:
    """The US monthly expiry of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def trading_day_on_or_before(exchange: Exchange, day: date) -> date:
    """`day` if the exchange trades then, else the trading day before it."""
    while not is_trading_day(exchange, day):
        day -= timedelta(days=1)
    return day


def hk_expiry(year: int, month: int) -> date:
    """HKEX stock option expiry: the business day before the month's last business day."""
    month_end = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    last = trading_day_on_or_before(Exchange.HK, month_end)
    return trading_day_on_or_before(Exchange.HK, last - timedelta(days=1))


def expiries(option_class: OptionClass, today: date) -> list[tuple[date, ExpirationCycle]]:
    """The series listed on `today`, nearest first (an expiry trades through its own day)."""
    market = option_class.market
    found: list[tuple[date, ExpirationCycle]] = []
    if market is QotMarket.US:
        friday = today + timedelta(days=(4 - today.weekday()) % 7)
        while friday <= today + timedelta(days=_LISTED_FOR[(market, ExpirationCycle.MONTH)]):
            monthly = friday == third_friday(friday.year, friday.month)
            cycle = ExpirationCycle.MONTH if monthly else ExpirationCycle.WEEK
            # A Friday holiday (Good Friday, Christmas...) moves the week's expiry earlier.
            expiry = trading_day_on_or_before(Exchange.US, friday)
            if (
                (monthly or option_class.weeklies)
                and today <= expiry
                and expiry - timedelta(days=_LISTED_FOR[(market, cycle)]) <= today
            ):
                found.append((expiry, cycle))
            friday += timedelta(days=7)
        return found
    for ahead in range(12):
        year, month = (
            today.year + (today.month - 1 + ahead) // 12,
            (today.month - 1 + ahead) % 12 + 1,
        )
        expiry = hk_expiry(year, month)
        cycle = ExpirationCycle.QUARTER if month % 3 == 0 else ExpirationCycle.MONTH
        if today <= expiry and expiry - timedelta(days=_LISTED_FOR[(market, cycle)]) <= today:
            found.append((expiry, cycle))
    return found


def strike_step(market: QotMarket, price: float) -> Decimal:
    """The exchange's strike interval at `price` (US customary grid; HKEX stock option grid,
    whose 300-500 band's HK$20 is kept above 500)."""
    if market is QotMarket.US:
        bands = ((25, "1"), (200, "2.5"), (500, "5"))
        last = "10"
    else:
        bands = ((2, "0.1"), (5, "0.2"), (10, "0.5"), (20, "1"), (50, "2"), (200, "5"), (300, "10"))
        last = "20"
    for upper, step in bands:
        if price < upper:
            return Decimal(step)
    return Decimal(last)


@cache
def strikes(option_class: OptionClass) -> tuple[Decimal, ...]:
    """Every listed strike of the class, ascending, each on the grid of its own level."""
    level = option_class.underlying.base_price
    low, high = level * _STRIKE_BAND[0], level * _STRIKE_BAND[1]
    market = option_class.market
    value = Decimal(0)
    found: list[Decimal] = []
    while value <= Decimal(str(high)):
        step = strike_step(market, float(value))
        value = (value // step + 1) * step
        if value >= Decimal(str(low)) and value <= Decimal(str(high)):
            found.append(value)
    return tuple(found)


_CODE = re.compile(r"([A-Z]+)(\d{2})(\d{2})(\d{2})([CP])(\d+)")


@dataclass(frozen=True, slots=True)
class OptionContract:
    """One listed option series."""

    option_class: OptionClass
    expiry: date
    cycle: ExpirationCycle
    is_call: bool
    strike: Decimal

    @property
    def code(self) -> str:
        """The code without market: root, YYMMDD, C or P, strike x 1000."""
        kind = "C" if self.is_call else "P"
        return f"{self.option_class.root}{self.expiry:%y%m%d}{kind}{int(self.strike * 1000)}"

    @property
    def full_code(self) -> str:
        """`US.AAPL260116C200000`."""
        return f"{self.option_class.market.name}.{self.code}"

    @property
    def name(self) -> str:
        """A display name as Futu's apps print it: `AAPL 260116 200.00 Call`."""
        kind = "Call" if self.is_call else "Put"
        return f"{self.option_class.root} {self.expiry:%y%m%d} {self.strike:.2f} {kind}"

    @property
    def expiry_time(self) -> float:
        """The close of the expiry day (16:00 local), when the contract stops trading."""
        tz = MARKET_TZ[self.option_class.market]
        return datetime.combine(self.expiry, time(16, 0), tz).timestamp()

    @property
    def list_date(self) -> date:
        """The first day the series trades."""
        return self.expiry - timedelta(days=_LISTED_FOR[(self.option_class.market, self.cycle)])

    def years(self, t: float) -> float:
        """Time to expiry at `t`, in years."""
        return (self.expiry_time - t) / YEAR_SECONDS

    def greeks(self, spot: float, t: float) -> Greeks:
        """Theoretical price and greeks when the underlying is at `spot`."""
        return black_scholes(
            self.is_call,
            spot,
            float(self.strike),
            self.years(t),
            self.option_class.rate,
            self.option_class.dividend,
            self.implied_vol(spot, t),
        )

    def implied_vol(self, spot: float, t: float) -> float:
        """The smile's volatility for this strike and expiry (a fraction, not percent)."""
        years = max(self.years(t), 1.0 / 365.0)
        return smile_vol(self.option_class.atm_vol, spot, float(self.strike), years)


def chain(option_class: OptionClass, today: date) -> list[OptionContract]:
    """Every series listed on `today`: per expiry, per strike, the call then the put."""
    grid = strikes(option_class)
    return [
        OptionContract(option_class, expiry, cycle, is_call, strike)
        for expiry, cycle in expiries(option_class, today)
        for strike in grid
        for is_call in (True, False)
    ]


def find(market: QotMarket, code: str, today: date) -> OptionContract | None:
    """The series a code names if it is listed on `today`, else None (unknown or expired)."""
    match = _CODE.fullmatch(code)
    if match is None:
        return None
    root, yy, mm, dd, kind, strike_text = match.groups()
    option_class = _BY_ROOT.get((market, root))
    if option_class is None:
        return None
    try:
        expiry = date(2000 + int(yy), int(mm), int(dd))
    except ValueError:
        return None
    cycles = dict(expiries(option_class, today))
    strike = Decimal(int(strike_text)) / 1000
    if expiry not in cycles or strike not in strikes(option_class):
        return None
    contract = OptionContract(option_class, expiry, cycles[expiry], kind == "C", strike)
    return contract if contract.code == code else None
