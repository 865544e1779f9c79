"""Exchange facts that depend only on a market: the tick grid and the local time zone.

One table for the simulator (which quotes on the grid and stamps times in local time, as OpenD
does) and for futu-mcp (which rounds prices to the grid and says which zone a time is in).
"""

from datetime import timedelta, timezone, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from opend.codes import QotMarket

# HKEX spread table (part A): (upper bound of the band, tick within it). A price on a boundary
# belongs to the lower band.
HK_SPREADS: tuple[tuple[Decimal, Decimal], ...] = tuple(
    (Decimal(hi), Decimal(tick))
    for hi, tick in (
        ("0.25", "0.001"),
        ("0.50", "0.005"),
        ("10.00", "0.01"),
        ("20.00", "0.02"),
        ("100.00", "0.05"),
        ("200.00", "0.10"),
        ("500.00", "0.20"),
        ("1000.00", "0.50"),
        ("2000.00", "1.00"),
        ("5000.00", "2.00"),
        ("9995.00", "5.00"),
    )
)
_CENT = Decimal("0.01")
# A security's tick rule: its market's (stocks, ETFs, warrants) or a fixed step (options, futures).
TickRule = QotMarket | Decimal


def tick_size(market: TickRule, price: float | Decimal) -> Decimal:
    """Smallest price step at `price`: a fixed step (derivatives), HKEX's spread table for HK,
    one cent elsewhere."""
    if isinstance(market, Decimal):
        return market
    if market is not QotMarket.HK:
        return _CENT
    value = Decimal(str(price))
    for upper, tick in HK_SPREADS:
        if value <= upper:
            return tick
    return HK_SPREADS[-1][1]


def _zone(name: str, fallback_hours: int) -> tzinfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        # No tz database (a bare container): the standard-time offset, right except in US DST.
        return timezone(timedelta(hours=fallback_hours))


# The zone OpenD writes each market's quote and order times in.
MARKET_TZ: dict[QotMarket, tzinfo] = {
    QotMarket.HK: _zone("Asia/Hong_Kong", 8),
    QotMarket.SH: _zone("Asia/Shanghai", 8),
    QotMarket.SZ: _zone("Asia/Shanghai", 8),
    QotMarket.US: _zone("America/New_York", -5),
    QotMarket.SG: _zone("Asia/Singapore", 8),
    QotMarket.JP: _zone("Asia/Tokyo", 9),
    QotMarket.AU: _zone("Australia/Sydney", 10),
}
