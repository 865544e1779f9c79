"""The simulator's fixed universe: well-known HK, US, SH and SZ securities and their plates.

Plain data plus the exchange rules that depend only on a security (lot size, tick grid), so the
price process, the matching engine and the handlers all read one table.
"""

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from opend.codes import QotMarket, Security
from opend.enums import Currency, Plate, SecurityType
from opend.market_rules import HK_SPREADS, TickRule, tick_size


@dataclass(frozen=True, slots=True)
class SimSecurity:
    """One listed security and the static facts OpenD reports about it."""

    security: Security
    name: str
    sec_type: SecurityType
    lot_size: int
    currency: Currency
    list_date: date
    base_price: float  # centre of the mean-reverting price process
    daily_vol: float  # standard deviation of daily log returns
    avg_volume: int  # typical shares traded per day
    shares_outstanding: int
    sec_id: int
    code: str  # `HK.00700` spelling, the key every table uses
    # Derivatives: value = qty x price x multiplier; OpenD reports the multiplier as lotSize.
    multiplier: int = 1
    tick: Decimal | None = None  # a fixed price step instead of the market's spread table
    derived: "Derivation | None" = None  # priced from an underlying instead of its own walk

    @property
    def tick_rule(self) -> "TickRule":
        """What `tick_size` and `round_to_tick` take: the fixed step, else the market."""
        return self.tick if self.tick is not None else self.security.market

    @property
    def order_lot(self) -> int:
        """The quantity step of an order: one contract for options and futures (whose lotSize
        is their multiplier), a board lot otherwise."""
        return 1 if self.multiplier > 1 else self.lot_size


class Derivation(Protocol):
    """How a derivative's price follows its underlying's."""

    @property
    def underlying(self) -> SimSecurity:
        """The security whose price drives this one."""
        ...

    @property
    def expires_at(self) -> float:
        """When the contract stops trading and is settled (epoch seconds)."""
        ...

    def value(self, spot: float, t: float) -> float:
        """The derivative's price at time `t` when the underlying trades at `spot`."""
        ...

    def minute_values(self, spots: list[float], start: float) -> list[float]:
        """Its price at each of `spots`, the underlying's prices a minute apart from `start`
        (a whole day at once, which a model can do faster than one minute at a time)."""
        ...


@dataclass(frozen=True, slots=True)
class SimPlate:
    """A plate (sector or concept) and its members, as Qot_GetPlateSet/GetPlateSecurity show it."""

    security: Security  # e.g. HK.BK1001
    name: str
    plate_type: Plate
    members: tuple[str, ...]


_HK, _US, _SH, _SZ = QotMarket.HK, QotMarket.US, QotMarket.SH, QotMarket.SZ
_EQ, _ETF = SecurityType.STOCK, SecurityType.ETF

# (market, code, name, type, lot, list date, base price, daily vol, avg volume, shares out)
_ROWS: tuple[tuple[QotMarket, str, str, SecurityType, int, str, float, float, int, int], ...] = (
    (_HK, "00700", "TENCENT", _EQ, 100, "2004-06-16", 480.0, 0.020, 18_000_000, 9_200_000_000),
    (_HK, "09988", "BABA-W", _EQ, 100, "2019-11-26", 85.0, 0.028, 60_000_000, 19_000_000_000),
    (
        _HK,
        "00005",
        "HSBC HOLDINGS",
        _EQ,
        400,
        "1991-04-03",
        70.0,
        0.013,
        20_000_000,
        18_000_000_000,
    ),
    (_HK, "00941", "CHINA MOBILE", _EQ, 500, "1997-10-23", 75.0, 0.012, 15_000_000, 21_000_000_000),
    (_HK, "01299", "AIA", _EQ, 200, "2010-10-29", 60.0, 0.018, 25_000_000, 11_000_000_000),
    (_HK, "03690", "MEITUAN-W", _EQ, 100, "2018-09-20", 125.0, 0.030, 30_000_000, 6_100_000_000),
    (_HK, "01810", "XIAOMI-W", _EQ, 200, "2018-07-09", 42.0, 0.030, 150_000_000, 25_000_000_000),
    (_HK, "00388", "HKEX", _EQ, 100, "2000-06-27", 300.0, 0.018, 5_000_000, 1_270_000_000),
    (_HK, "02318", "PING AN", _EQ, 500, "2004-06-24", 45.0, 0.020, 40_000_000, 7_400_000_000),
    (_HK, "00939", "CCB", _EQ, 1000, "2005-10-27", 6.2, 0.012, 250_000_000, 240_000_000_000),
    (_HK, "01398", "ICBC", _EQ, 1000, "2006-10-27", 5.1, 0.011, 300_000_000, 86_000_000_000),
    (_HK, "00883", "CNOOC", _EQ, 1000, "2001-02-28", 18.5, 0.019, 60_000_000, 47_000_000_000),
    (_HK, "09618", "JD-SW", _EQ, 50, "2020-06-18", 130.0, 0.028, 12_000_000, 3_100_000_000),
    (_HK, "01211", "BYD COMPANY", _EQ, 500, "2002-07-31", 280.0, 0.025, 8_000_000, 1_100_000_000),
    (
        _HK,
        "02800",
        "TRACKER FUND",
        _ETF,
        500,
        "1999-11-12",
        21.0,
        0.012,
        90_000_000,
        12_000_000_000,
    ),
    (_HK, "00016", "SHK PPT", _EQ, 500, "1972-08-23", 78.0, 0.016, 4_000_000, 2_900_000_000),
    (_HK, "00001", "CKH HOLDINGS", _EQ, 500, "1972-11-01", 45.0, 0.015, 6_000_000, 3_800_000_000),
    (_HK, "09999", "NTES-S", _EQ, 100, "2020-06-11", 145.0, 0.022, 5_000_000, 3_200_000_000),
    (_HK, "02020", "ANTA SPORTS", _EQ, 200, "2007-07-10", 82.0, 0.022, 7_000_000, 2_800_000_000),
    (_HK, "00027", "GALAXY ENT", _EQ, 1000, "1991-10-08", 35.0, 0.024, 10_000_000, 4_300_000_000),
    (_US, "AAPL", "Apple Inc.", _EQ, 1, "1980-12-12", 200.0, 0.016, 55_000_000, 15_000_000_000),
    (_US, "TSLA", "Tesla, Inc.", _EQ, 1, "2010-06-29", 250.0, 0.035, 95_000_000, 3_200_000_000),
    (_US, "MSFT", "Microsoft Corp.", _EQ, 1, "1986-03-13", 420.0, 0.015, 20_000_000, 7_400_000_000),
    (_US, "NVDA", "NVIDIA Corp.", _EQ, 1, "1999-01-22", 130.0, 0.030, 250_000_000, 24_500_000_000),
    (
        _US,
        "AMZN",
        "Amazon.com, Inc.",
        _EQ,
        1,
        "1997-05-15",
        190.0,
        0.020,
        40_000_000,
        10_500_000_000,
    ),
    (_US, "GOOGL", "Alphabet Inc.", _EQ, 1, "2004-08-19", 170.0, 0.018, 25_000_000, 5_800_000_000),
    (
        _US,
        "META",
        "Meta Platforms, Inc.",
        _EQ,
        1,
        "2012-05-18",
        550.0,
        0.022,
        15_000_000,
        2_200_000_000,
    ),
    (_US, "BABA", "Alibaba Group", _EQ, 1, "2014-09-19", 100.0, 0.028, 15_000_000, 2_400_000_000),
    (_US, "NFLX", "Netflix, Inc.", _EQ, 1, "2002-05-23", 700.0, 0.022, 4_000_000, 430_000_000),
    (
        _US,
        "JPM",
        "JPMorgan Chase & Co.",
        _EQ,
        1,
        "1980-03-17",
        220.0,
        0.014,
        9_000_000,
        2_800_000_000,
    ),
    (
        _US,
        "AMD",
        "Advanced Micro Devices",
        _EQ,
        1,
        "1979-10-15",
        150.0,
        0.030,
        45_000_000,
        1_600_000_000,
    ),
    (_US, "FUTU", "Futu Holdings Ltd.", _EQ, 1, "2019-03-08", 90.0, 0.035, 3_000_000, 140_000_000),
    (_US, "SPY", "SPDR S&P 500 ETF", _ETF, 1, "1993-01-29", 550.0, 0.009, 60_000_000, 900_000_000),
    (_US, "QQQ", "Invesco QQQ Trust", _ETF, 1, "1999-03-10", 480.0, 0.012, 40_000_000, 570_000_000),
    (
        _SH,
        "600519",
        "Kweichow Moutai",
        _EQ,
        100,
        "2001-08-27",
        1500.0,
        0.016,
        3_000_000,
        1_256_000_000,
    ),
    (
        _SH,
        "601318",
        "Ping An Insurance",
        _EQ,
        100,
        "2007-03-01",
        45.0,
        0.018,
        60_000_000,
        10_800_000_000,
    ),
    (
        _SH,
        "600036",
        "China Merchants Bank",
        _EQ,
        100,
        "2002-04-09",
        35.0,
        0.015,
        50_000_000,
        25_000_000_000,
    ),
    (_SH, "601398", "ICBC", _EQ, 100, "2006-10-27", 6.0, 0.010, 300_000_000, 269_000_000_000),
    (
        _SH,
        "600900",
        "China Yangtze Power",
        _EQ,
        100,
        "2003-11-18",
        28.0,
        0.010,
        40_000_000,
        24_000_000_000,
    ),
    (
        _SH,
        "601012",
        "LONGi Green Energy",
        _EQ,
        100,
        "2012-04-11",
        20.0,
        0.030,
        80_000_000,
        7_500_000_000,
    ),
    (
        _SH,
        "510300",
        "CSI 300 ETF",
        _ETF,
        100,
        "2012-05-28",
        3.9,
        0.011,
        900_000_000,
        30_000_000_000,
    ),
    (
        _SZ,
        "000001",
        "Ping An Bank",
        _EQ,
        100,
        "1991-04-03",
        11.0,
        0.015,
        120_000_000,
        19_400_000_000,
    ),
    (
        _SZ,
        "000858",
        "Wuliangye Yibin",
        _EQ,
        100,
        "1998-04-27",
        140.0,
        0.020,
        15_000_000,
        3_880_000_000,
    ),
    (_SZ, "300750", "CATL", _EQ, 100, "2018-06-11", 200.0, 0.025, 25_000_000, 4_400_000_000),
    (_SZ, "002594", "BYD", _EQ, 100, "2011-06-30", 260.0, 0.025, 12_000_000, 2_900_000_000),
    (_SZ, "000333", "Midea Group", _EQ, 100, "2013-09-18", 65.0, 0.017, 20_000_000, 7_000_000_000),
    (_SZ, "002415", "Hikvision", _EQ, 100, "2010-05-28", 30.0, 0.019, 40_000_000, 9_300_000_000),
)

_CURRENCY = {_HK: Currency.HKD, _US: Currency.USD, _SH: Currency.CNH, _SZ: Currency.CNH}


def _build_securities() -> dict[str, SimSecurity]:
    table: dict[str, SimSecurity] = {}
    for index, row in enumerate(_ROWS, start=1):
        market, code, name, sec_type, lot, listed, price, vol, volume, shares = row
        sec = SimSecurity(
            security=Security(market, code),
            name=name,
            sec_type=sec_type,
            lot_size=lot,
            currency=_CURRENCY[market],
            list_date=date.fromisoformat(listed),
            base_price=price,
            daily_vol=vol,
            avg_volume=volume,
            shares_outstanding=shares,
            sec_id=int(market) * 1_000_000 + index,
            code=f"{market.name}.{code}",
        )
        table[sec.code] = sec
    return table


SECURITIES: dict[str, SimSecurity] = _build_securities()

_IND, _CON = Plate.INDUSTRY, Plate.CONCEPT

# (market, plate code, name, kind, member codes). A-share plates live under SH, as on OpenD.
_PLATE_ROWS: tuple[tuple[QotMarket, str, str, Plate, tuple[str, ...]], ...] = (
    (_HK, "BK1001", "Internet Services", _IND, ("00700", "09988", "03690", "09618", "09999")),
    (_HK, "BK1002", "Banks", _IND, ("00005", "00939", "01398")),
    (_HK, "BK1003", "Insurance", _IND, ("01299", "02318")),
    (_HK, "BK1004", "Telecommunications", _IND, ("00941",)),
    (_HK, "BK1005", "Automobiles", _IND, ("01211",)),
    (_HK, "BK1006", "Oil & Gas", _IND, ("00883",)),
    (_HK, "BK1007", "Real Estate & Conglomerates", _IND, ("00016", "00001")),
    (_HK, "BK1008", "Consumer & Gaming", _IND, ("02020", "00027", "01810")),
    (_HK, "BK1009", "Exchanges & ETFs", _IND, ("00388", "02800")),
    (_HK, "BK1101", "Artificial Intelligence", _CON, ("00700", "09988", "01810", "09999")),
    (_HK, "BK1102", "New Energy Vehicles", _CON, ("01211", "01810")),
    (
        _HK,
        "BK1103",
        "Hang Seng Index Heavyweights",
        _CON,
        ("00700", "00005", "01299", "00941", "09988", "00388"),
    ),
    (_US, "BK2001", "Semiconductors", _IND, ("NVDA", "AMD")),
    (_US, "BK2002", "Internet Content & Retail", _IND, ("GOOGL", "META", "AMZN", "NFLX")),
    (_US, "BK2003", "Consumer Electronics & Software", _IND, ("AAPL", "MSFT")),
    (_US, "BK2004", "Automobiles", _IND, ("TSLA",)),
    (_US, "BK2005", "Banks & Brokers", _IND, ("JPM", "FUTU")),
    (_US, "BK2006", "Exchange Traded Funds", _IND, ("SPY", "QQQ")),
    (_US, "BK2101", "Artificial Intelligence", _CON, ("NVDA", "MSFT", "GOOGL", "META", "AMD")),
    (_US, "BK2102", "China Concept Stocks", _CON, ("BABA", "FUTU")),
    (
        _US,
        "BK2103",
        "Magnificent Seven",
        _CON,
        ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA"),
    ),
    (_SH, "BK0001", "Liquor", _IND, ("SH.600519", "SZ.000858")),
    (_SH, "BK0002", "Banks", _IND, ("SH.600036", "SH.601398", "SZ.000001")),
    (_SH, "BK0003", "Insurance", _IND, ("SH.601318",)),
    (_SH, "BK0004", "Utilities", _IND, ("SH.600900",)),
    (_SH, "BK0005", "Batteries & Autos", _IND, ("SZ.300750", "SZ.002594")),
    (_SH, "BK0006", "Home Appliances & Electronics", _IND, ("SZ.000333", "SZ.002415")),
    (_SH, "BK0101", "New Energy", _CON, ("SZ.300750", "SZ.002594", "SH.601012")),
    (
        _SH,
        "BK0102",
        "CSI 300 Heavyweights",
        _CON,
        ("SH.600519", "SH.601318", "SH.600036", "SZ.300750", "SH.510300"),
    ),
)


def _build_plates() -> dict[str, SimPlate]:
    table: dict[str, SimPlate] = {}
    for market, code, name, kind, members in _PLATE_ROWS:
        full = tuple(m if "." in m else f"{market.name}.{m}" for m in members)
        for member in full:
            if member not in SECURITIES:
                raise ValueError(f"plate {code} names unknown security {member}")
        plate = SimPlate(Security(market, code), name, kind, full)
        table[str(plate.security)] = plate
    return table


PLATES: dict[str, SimPlate] = _build_plates()


def owner_plates(code: str) -> list[SimPlate]:
    """The plates a security belongs to (Qot_GetOwnerPlate), the same membership
    Qot_GetPlateSecurity lists."""
    return [plate for plate in PLATES.values() if code in plate.members]


# The quote markets whose plates a Qot_GetPlateSet for a market returns (A-shares share one list).
PLATE_MARKETS: dict[QotMarket, QotMarket] = {_HK: _HK, _US: _US, _SH: _SH, _SZ: _SH}


def on_tick_grid(market: TickRule, price: float) -> bool:
    """True when `price` is a whole number of ticks of its band (OpenD rejects other prices)."""
    value = Decimal(str(price))
    return value > 0 and value % tick_size(market, value) == 0


_HK_SPREADS_FLOAT: tuple[tuple[float, float], ...] = tuple(
    (float(hi), float(tick)) for hi, tick in HK_SPREADS
)


def _tick_float(market: TickRule, price: float) -> float:
    if isinstance(market, Decimal):
        return float(market)
    if market is not QotMarket.HK:
        return 0.01
    for upper, tick in _HK_SPREADS_FLOAT:
        if price <= upper:
            return tick
    return _HK_SPREADS_FLOAT[-1][1]


def round_to_tick(market: TickRule, price: float, *, down: bool | None = None) -> float:
    """Nearest valid price (or the one below/above when `down` is True/False).

    Float arithmetic on purpose: this runs for every price the simulator prints, and a tick is
    never finer than 0.001, so rounding the result to 6 places is exact enough."""
    tick = _tick_float(market, price)
    steps = price / tick
    if down is True:
        whole = math.floor(steps + 1e-9)
    elif down is False:
        whole = math.ceil(steps - 1e-9)
    else:
        whole = math.floor(steps + 0.5)
    return round(max(whole, 1) * tick, 6)


def step_price(market: TickRule, price: float, ticks: int) -> float:
    """`price` moved by `ticks` steps of the grid (negative = down), crossing bands as HKEX does."""
    value = Decimal(str(price))
    for _ in range(abs(ticks)):
        if ticks > 0:
            value += tick_size(market, value + tick_size(market, value) / 2)
        else:
            value -= tick_size(market, value)
            value = max(value, tick_size(market, value))
    return float(value)
