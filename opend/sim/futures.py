"""Index futures and the indexes under them: contract terms, listed months, main contracts.

Facts (`reference/opend-protocol-more.md` §2 and the exchanges' contract specifications): HSI
futures HK$50 per index point, Mini-HSI HK$10, both one-point ticks, months = spot, next and the
next two quarter months, last trading day = the business day before the month's last business
day, hours 09:15-12:00, 13:00-16:30 and 17:15-03:00 HKT. CME E-mini S&P 500: US$50 per point,
0.25-point tick, quarterly months, last trading day the third Friday, Globex 18:00-17:00 ET.
Codes: `HK.HSI2612` (YYMM), `HK.HSImain` for the continuous main contract (case matters).
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from opend.codes import QotMarket, Security
from opend.enums import Currency, SecurityType
from opend.market_rules import MARKET_TZ
from opend.sim.blackscholes import YEAR_SECONDS
from opend.sim.exchange import Exchange
from opend.sim.options import hk_expiry, third_friday, trading_day_on_or_before
from opend.sim.universe import SimSecurity


def _index(
    market: QotMarket, code: str, name: str, listed: str, level: float, vol: float
) -> SimSecurity:
    return SimSecurity(
        security=Security(market, code),
        name=name,
        sec_type=SecurityType.IDX,
        lot_size=0,
        currency=Currency.HKD if market is QotMarket.HK else Currency.USD,
        list_date=date.fromisoformat(listed),
        base_price=level,
        daily_vol=vol,
        avg_volume=0,
        shares_outstanding=0,
        sec_id=int(market) * 1_000_000 + 900_000 + len(code),
        code=f"{market.name}.{code}",
    )


# Index levels are the universe's era (late 2024): HSI about 20,500, S&P 500 about 5,800.
INDEXES: dict[str, SimSecurity] = {
    s.code: s
    for s in (
        _index(QotMarket.HK, "800000", "Hang Seng Index", "1969-11-24", 20_500.0, 0.013),
        _index(QotMarket.US, ".SPX", "S&P 500 Index", "1957-03-04", 5_800.0, 0.009),
    )
}


@dataclass(frozen=True, slots=True)
class FutureProduct:
    """One futures product and its contract terms."""

    root: str
    name: str
    index: str  # the underlying index's code
    multiplier: int  # currency per index point
    tick: Decimal
    exchange: str
    rate: float
    dividend: float
    quarterly_only: bool
    trade_times: tuple[tuple[int, int], ...]  # (begin, end) in minutes of the local day
    time_zone: str

    @property
    def market(self) -> QotMarket:
        """The quote market the contracts are listed in."""
        return INDEXES[self.index].security.market

    def last_trade_day(self, year: int, month: int) -> date:
        """The contract month's last trading day."""
        if self.market is QotMarket.US:
            return trading_day_on_or_before(Exchange.US, third_friday(year, month))
        return hk_expiry(year, month)

    def months(self, today: date) -> list[tuple[int, int]]:
        """The contract months trading on `today`, nearest first."""
        found: list[tuple[int, int]] = []
        quarters = 0
        for ahead in range(15):
            year = today.year + (today.month - 1 + ahead) // 12
            month = (today.month - 1 + ahead) % 12 + 1
            if self.last_trade_day(year, month) < today:
                continue
            quarter = month % 3 == 0
            if self.quarterly_only:
                if quarter:
                    found.append((year, month))
                if len(found) == 4:
                    break
                continue
            if len(found) < 2:
                found.append((year, month))
            elif quarter and quarters < 2:
                found.append((year, month))
                quarters += 1
            if len(found) == 4:
                break
        return found


_HK_SESSIONS = ((555, 720), (780, 990), (1035, 180))
FUTURE_PRODUCTS: dict[str, FutureProduct] = {
    p.root: p
    for p in (
        FutureProduct(
            "HSI",
            "HSI Futures",
            "HK.800000",
            50,
            Decimal(1),
            "HKFE",
            0.035,
            0.032,
            False,
            _HK_SESSIONS,
            "CCT",
        ),
        FutureProduct(
            "MHI",
            "Mini-HSI Futures",
            "HK.800000",
            10,
            Decimal(1),
            "HKFE",
            0.035,
            0.032,
            False,
            _HK_SESSIONS,
            "CCT",
        ),
        FutureProduct(
            "ES",
            "E-mini S&P 500 Futures",
            "US..SPX",
            50,
            Decimal("0.25"),
            "CME",
            0.04,
            0.013,
            True,
            ((1080, 1020),),
            "EST",
        ),
    )
}
_MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


@dataclass(frozen=True, slots=True)
class FutureContract:
    """One contract month, or the main (continuous) contract when `main` is set."""

    product: FutureProduct
    year: int
    month: int
    main: bool = False

    @property
    def code(self) -> str:
        """`HSI2612`, or `HSImain`."""
        if self.main:
            return f"{self.product.root}main"
        return f"{self.product.root}{self.year % 100:02d}{self.month:02d}"

    @property
    def month_code(self) -> str:
        """The month contract behind this one (FutureInfo `origin`)."""
        return f"{self.product.root}{self.year % 100:02d}{self.month:02d}"

    @property
    def name(self) -> str:
        """`HSI Futures DEC6`, or `HSI Futures Main` for the continuous contract."""
        if self.main:
            return f"{self.product.name} Main"
        return f"{self.product.name} {_MONTH_NAMES[self.month - 1]}{self.year % 10}"

    @property
    def last_trade_day(self) -> date:
        """The month contract's last trading day."""
        return self.product.last_trade_day(self.year, self.month)

    @property
    def expiry_time(self) -> float:
        """The final settlement moment: the close of the last trading day (16:00 local)."""
        tz = MARKET_TZ[self.product.market]
        return datetime.combine(self.last_trade_day, time(16, 0), tz).timestamp()

    @property
    def list_date(self) -> date:
        """When the month started trading (about a year before for quarter months)."""
        return self.last_trade_day - timedelta(days=400 if self.month % 3 == 0 else 70)

    def value(self, index_level: float, t: float) -> float:
        """Fair value: the index carried to the last trading day at rate minus dividend yield."""
        years = max(self.expiry_time - t, 0.0) / YEAR_SECONDS
        return index_level * math.exp((self.product.rate - self.product.dividend) * years)


def contracts(product: FutureProduct, today: date) -> list[FutureContract]:
    """The month contracts trading on `today`, nearest first."""
    return [FutureContract(product, year, month) for year, month in product.months(today)]


def main_contract(product: FutureProduct, today: date) -> FutureContract:
    """The continuous contract: the nearest month until its last trading day has passed."""
    front = contracts(product, today)[0]
    return FutureContract(product, front.year, front.month, main=True)


def find(market: QotMarket, code: str, today: date) -> FutureContract | None:
    """The contract a code names if it trades on `today`, else None."""
    for product in FUTURE_PRODUCTS.values():
        if product.market is not market or not code.startswith(product.root):
            continue
        rest = code[len(product.root) :]
        if rest == "main":
            return main_contract(product, today)
        for contract in contracts(product, today):
            if contract.code == code:
                return contract
    return None
