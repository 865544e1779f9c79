"""Qot_StockFilter over the simulated universe: each stock's screen values, and the filter.

Prices, volumes and 52-week ranges come from the market data, so a screen agrees with quotes
and klines; fundamentals (earnings, book value, margins) are seeded per stock around plausible
levels for its sector, and valuations follow the current price. As OpenD documents, values are
compared after truncation to three decimals, bounds are inclusive, a condition filters only when
its isNoFilter is false, and percentages are in percent.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from opend.codes import QotMarket
from opend.enums import AccumulateField, FinancialField, SecurityType, SortDir, StockField
from opend.market_rules import MARKET_TZ
from opend.sim.market import Bar, MarketData, noise
from opend.sim.universe import PLATES, SECURITIES, SimSecurity, round_to_tick


class FilterError(ValueError):
    """A screen OpenD would refuse; the text is the reply's retMsg."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One filter: a field (kind "base", "accumulate" or "financial"), bounds, sort."""

    kind: str
    field: int
    low: float | None = None
    high: float | None = None
    filtering: bool = False  # OpenD filters only when isNoFilter is false
    sort: SortDir = SortDir.NONE
    days: int = 0  # accumulate fields
    quarter: int = 0  # financial fields

    def key(self) -> tuple[str, int, int, int]:
        """What the value depends on."""
        return (self.kind, self.field, self.days, self.quarter)


@dataclass(frozen=True, slots=True)
class Row:
    """One stock that passed, with the value of each condition's field."""

    sec: SimSecurity
    values: tuple[float, ...]


def truncate(value: float) -> float:
    """Three decimals, the rest dropped (OpenD's rule for comparisons)."""
    return math.trunc(value * 1000) / 1000


def screen_universe(market: QotMarket, plate: str | None) -> list[SimSecurity]:
    """The stocks a screen runs over: the market's (A-shares: SH and SZ alike), or a plate's."""
    if plate is not None:
        found = PLATES.get(plate)
        if found is None:
            raise FilterError(f"Unknown plate {plate}")
        members = [SECURITIES[code] for code in found.members]
    else:
        markets = (
            {QotMarket.SH, QotMarket.SZ} if market in (QotMarket.SH, QotMarket.SZ) else {market}
        )
        members = [s for s in SECURITIES.values() if s.security.market in markets]
    return [s for s in members if s.sec_type is SecurityType.STOCK]


class Fundamentals:
    """A stock's seeded fundamentals (in its trading currency)."""

    def __init__(self, sec: SimSecurity, seed: int) -> None:
        def r(name: str) -> float:
            return noise(seed, "fundamentals", sec.code, name)

        pe = 8.0 + 37.0 * r("pe")
        self.eps_ttm = sec.base_price / pe
        self.eps_annual = self.eps_ttm * (0.85 + 0.25 * r("annual"))
        self.book_per_share = sec.base_price / (0.6 + 9.0 * r("pb"))
        self.net_margin = 0.06 + 0.30 * r("margin")
        self.gross_margin = min(0.92, self.net_margin + 0.15 + 0.35 * r("gross"))
        self.cash_flow_per_share = self.eps_ttm * (0.8 + 0.9 * r("cfo"))
        self.float_ratio = 0.55 + 0.45 * r("float")
        self.profit_growth = -0.25 + 0.80 * r("growth")
        self.revenue_growth = -0.10 + 0.45 * r("revenue")
        self.debt_assets = 0.15 + 0.75 * r("debt")


class Screener:
    """Computes screen values at a moment and runs filters."""

    def __init__(self, market: MarketData) -> None:
        self.market = market
        self._fundamentals: dict[str, Fundamentals] = {}
        self._values: dict[tuple[str, tuple[str, int, int, int], float], float] = {}

    def fundamentals(self, sec: SimSecurity) -> Fundamentals:
        """The stock's seeded fundamentals."""
        found = self._fundamentals.get(sec.code)
        if found is None:
            found = self._fundamentals[sec.code] = Fundamentals(sec, self.market.seed)
        return found

    def value(self, sec: SimSecurity, condition: Condition, t: float) -> float:
        """The value of a condition's field for `sec` at `t`."""
        key = (sec.code, condition.key(), t)
        cached = self._values.get(key)
        if cached is None:
            if len(self._values) > 8192:
                self._values.clear()
            cached = self._values[key] = self._compute(sec, condition, t)
        return cached

    def _compute(self, sec: SimSecurity, condition: Condition, t: float) -> float:
        try:
            if condition.kind == "base":
                return self._base(sec, StockField(condition.field), t)
            if condition.kind == "accumulate":
                return self._accumulate(sec, AccumulateField(condition.field), condition.days, t)
            return self._financial(sec, FinancialField(condition.field))
        except ValueError as exc:
            if isinstance(exc, FilterError):
                raise
            raise FilterError(f"Unsupported {condition.kind} field {condition.field}") from None

    def _base(self, sec: SimSecurity, field: StockField, t: float) -> float:
        data = self.market
        day = data.day_so_far(sec, t)
        price = day.price
        f = self.fundamentals(sec)
        shares = sec.shares_outstanding
        if field is StockField.CUR_PRICE:
            return price
        if field in (
            StockField.CUR_PRICE_TO_HIGHEST52_WEEKS_RATIO,
            StockField.CUR_PRICE_TO_LOWEST52_WEEKS_RATIO,
            StockField.HIGH_PRICE_TO_HIGHEST52_WEEKS_RATIO,
            StockField.LOW_PRICE_TO_LOWEST52_WEEKS_RATIO,
        ):
            high52, low52 = data.year_range(sec, t)
            numerator = {
                StockField.CUR_PRICE_TO_HIGHEST52_WEEKS_RATIO: (price, high52),
                StockField.CUR_PRICE_TO_LOWEST52_WEEKS_RATIO: (price, low52),
                StockField.HIGH_PRICE_TO_HIGHEST52_WEEKS_RATIO: (day.high, high52),
                StockField.LOW_PRICE_TO_LOWEST52_WEEKS_RATIO: (day.low, low52),
            }[field]
            return (numerator[0] - numerator[1]) / numerator[1] * 100
        if field is StockField.VOLUME_RATIO:
            bars = _recent_bars(data, sec, t, 6)[-6:-1]
            average = sum(b.volume for b in bars) / max(len(bars), 1)
            elapsed = max(data.session_elapsed(sec, t), 1 / 1440)
            return day.volume / (average * elapsed) if average else 0.0
        if field is StockField.BID_ASK_RATIO:
            asks, bids = data.book(sec, t, 10)
            bid_volume = sum(v for _p, v, _n in bids)
            ask_volume = sum(v for _p, v, _n in asks)
            return (bid_volume - ask_volume) / (bid_volume + ask_volume) * 100
        if field is StockField.LOT_PRICE:
            return price * sec.lot_size
        if field is StockField.MARKET_VAL:
            return price * shares
        if field is StockField.PE_ANNUAL:
            return price / f.eps_annual
        if field is StockField.PE_TTM:
            return price / f.eps_ttm
        if field is StockField.PB_RATE:
            return price / f.book_per_share
        if field is StockField.CHANGE_RATE_5MIN:
            before = data.price(sec, t - 300)
            return (data.price(sec, t) - before) / before * 100
        if field is StockField.CHANGE_RATE_BEGIN_YEAR:
            first = datetime.fromtimestamp(t, MARKET_TZ[sec.security.market]).date()
            year_start = date(first.year, 1, 1)
            base = data.prev_close(sec, _first_day(data, sec, year_start, t))
            return (price - base) / base * 100
        if field is StockField.PS_TTM:
            return price / (f.eps_ttm / f.net_margin)
        if field is StockField.PCF_TTM:
            return price / f.cash_flow_per_share
        if field is StockField.TOTAL_SHARE:
            return float(shares)
        if field is StockField.FLOAT_SHARE:
            return float(int(shares * f.float_ratio))
        return price * int(shares * f.float_ratio)  # FLOAT_MARKET_VAL

    def _accumulate(self, sec: SimSecurity, field: AccumulateField, days: int, t: float) -> float:
        if not 1 <= days <= 250:
            raise FilterError(f"days must be between 1 and 250 for accumulate field {field.value}")
        bars = _recent_bars(self.market, sec, t, days)[-days:]
        before = round_to_tick(sec.tick_rule, bars[0].last_close)
        if field is AccumulateField.CHANGE_RATE:
            return (bars[-1].close - before) / before * 100
        if field is AccumulateField.AMPLITUDE:
            high, low = max(b.high for b in bars), min(b.low for b in bars)
            return (high - low) / before * 100
        if field is AccumulateField.VOLUME:
            return float(sum(b.volume for b in bars) // len(bars))
        if field is AccumulateField.TURNOVER:
            return sum(b.turnover for b in bars) / len(bars)
        return sum(b.volume for b in bars) / sec.shares_outstanding * 100  # TURNOVER_RATE

    def _financial(self, sec: SimSecurity, field: FinancialField) -> float:
        f = self.fundamentals(sec)
        profit = f.eps_ttm * sec.shares_outstanding
        return {
            FinancialField.NET_PROFIT: profit,
            FinancialField.NET_PROFIT_GROWTH: f.profit_growth * 100,
            FinancialField.SUM_OF_BUSINESS: profit / f.net_margin,
            FinancialField.SUM_OF_BUSINESS_GROWTH: f.revenue_growth * 100,
            FinancialField.NET_PROFIT_RATE: f.net_margin * 100,
            FinancialField.GROSS_PROFIT_RATE: f.gross_margin * 100,
            FinancialField.DEBT_ASSET_RATE: f.debt_assets * 100,
            FinancialField.RETURN_ON_EQUITY_RATE: f.eps_ttm / f.book_per_share * 100,
        }[field]

    def run(
        self,
        market: QotMarket,
        plate: str | None,
        conditions: list[Condition],
        t: float,
    ) -> list[Row]:
        """Every stock meeting every filtering condition, sorted by the first condition that
        asks for a sort (else by code), with each condition's value."""
        rows: list[Row] = []
        for sec in screen_universe(market, plate):
            values = tuple(truncate(self.value(sec, c, t)) for c in conditions)
            if all(_within(c, v) for c, v in zip(conditions, values, strict=True)):
                rows.append(Row(sec, values))
        rows.sort(key=lambda row: row.sec.code)
        for index, condition in enumerate(conditions):
            if condition.sort is not SortDir.NONE:
                rows.sort(
                    key=lambda row: row.values[index], reverse=condition.sort is SortDir.DESCEND
                )
                break
        return rows


def _within(condition: Condition, value: float) -> bool:
    if not condition.filtering:
        return True
    if condition.low is not None and value < condition.low:
        return False
    return not (condition.high is not None and value > condition.high)


def _recent_bars(data: MarketData, sec: SimSecurity, t: float, days: int) -> list[Bar]:
    """At least the last `days` day bars (weekdays: two calendar days per trading day is ample)."""
    today = data.local(sec, t).date()
    return data.day_bars(sec, t, first=today - timedelta(days=2 * days + 7))


def _first_day(data: MarketData, sec: SimSecurity, first: date, t: float) -> date:
    days = [b.time.date() for b in data.day_bars(sec, t, first=first)]
    return days[0] if days else first
