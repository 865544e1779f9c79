"""Capital flow and capital distribution, summed from the simulated trades (tickers).

Each trade is classed by its value (super, big, mid, small order) and counted as inflow when it
hit the ask (a buy) and outflow when it hit the bid (a sell); neutral trades count for neither.
So today's figures are exactly what a client would get by adding up the day's tickers. Past days
(Qot_GetCapitalFlow by day, week or month) come from each day bar: net inflow in proportion to
where the close sits in the day's range, split across classes by seeded shares.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from opend.codes import QotMarket
from opend.enums import TickerDirect
from opend.sim.market import MINUTES, MarketData, noise
from opend.sim.universe import SimSecurity

SUPER, BIG, MID, SMALL = range(4)
# Trade-value thresholds (super, big, mid) in the trading currency; below mid is small.
_THRESHOLDS: dict[QotMarket, tuple[float, float, float]] = {
    QotMarket.HK: (1_000_000.0, 500_000.0, 150_000.0),
    QotMarket.US: (50_000.0, 25_000.0, 8_000.0),
    QotMarket.SH: (1_000_000.0, 500_000.0, 150_000.0),
    QotMarket.SZ: (1_000_000.0, 500_000.0, 150_000.0),
}
_TICKS_PER_MINUTE = 20  # the market trades every 3 s


@dataclass
class Flow:
    """Inflow and outflow per order class (index SUPER..SMALL)."""

    inflow: list[float] = field(default_factory=lambda: [0.0] * 4)
    outflow: list[float] = field(default_factory=lambda: [0.0] * 4)

    def add(self, other: "Flow") -> None:
        """Accumulate another flow into this one."""
        for k in range(4):
            self.inflow[k] += other.inflow[k]
            self.outflow[k] += other.outflow[k]

    def net(self, k: int | None = None) -> float:
        """Net inflow of one class, or of all."""
        if k is None:
            return sum(self.inflow) - sum(self.outflow)
        return self.inflow[k] - self.outflow[k]

    def copy(self) -> "Flow":
        """An independent copy."""
        return Flow(list(self.inflow), list(self.outflow))


def order_class(market: QotMarket, value: float) -> int:
    """SUPER, BIG, MID or SMALL for a trade of this value."""
    super_, big, mid = _THRESHOLDS[market]
    if value >= super_:
        return SUPER
    if value >= big:
        return BIG
    if value >= mid:
        return MID
    return SMALL


class CapitalFlows:
    """Per-minute flows of today's trades, cached as minutes complete."""

    def __init__(self, market: MarketData) -> None:
        self.market = market
        self._minutes: dict[tuple[str, date], list[Flow]] = {}

    def _flow_of(self, sec: SimSecurity, end: float, count: int) -> Flow:
        flow = Flow()
        if count <= 0:
            return flow
        market = sec.security.market
        for tick in self.market.tickers(sec, end, count):
            value = tick.price * tick.volume * sec.multiplier
            k = order_class(market, value)
            if tick.direction is TickerDirect.BUY:
                flow.inflow[k] += value
            elif tick.direction is TickerDirect.SELL:
                flow.outflow[k] += value
        return flow

    def intraday(self, sec: SimSecurity, t: float) -> list[tuple[datetime, Flow]]:
        """Cumulative flow at the end of each minute of today up to `t` (the last one partial),
        with the minute's end time."""
        today = self.market.local(sec, t).date()
        start = self.market.local(sec, t).replace(hour=0, minute=0, second=0, microsecond=0)
        midnight = start.timestamp()
        minute = min(int((t - midnight) // 60), MINUTES - 1)
        key = (sec.code, today)
        done = self._minutes.setdefault(key, [])
        while len(done) < minute:
            m = len(done)
            done.append(self._flow_of(sec, midnight + (m + 1) * 60 - 1e-3, _TICKS_PER_MINUTE))
        partial = self._flow_of(sec, t, int(t // 3) - int((midnight + minute * 60) // 3) + 1)
        points: list[tuple[datetime, Flow]] = []
        total = Flow()
        for m, flow in enumerate([*done[:minute], partial]):
            total.add(flow)
            points.append((start + timedelta(minutes=m + 1), total.copy()))
        return points

    def today(self, sec: SimSecurity, t: float) -> Flow:
        """Today's flow so far: the distribution OpenD reports."""
        return self.intraday(sec, t)[-1][1]

    def daily(self, sec: SimSecurity, t: float, first: date, last: date) -> list[tuple[date, Flow]]:
        """One flow per trading day from `first` to `last` (today's from its trades)."""
        today = self.market.local(sec, t).date()
        out: list[tuple[date, Flow]] = []
        for bar in self.market.day_bars(sec, t, first=first):
            day = bar.time.date()
            if day > last:
                break
            if day == today:
                out.append((day, self.today(sec, t)))
                continue
            turnover = bar.turnover * sec.multiplier
            position = (bar.close - bar.open) / max(bar.high - bar.low, 1e-9)
            net = turnover * 0.12 * position
            gross = turnover * 0.45
            flow = Flow()
            shares = [
                noise(self.market.seed, "flowshare", sec.code, day, k) + 0.2 for k in range(4)
            ]
            total = sum(shares)
            for k in range(4):
                part = shares[k] / total
                flow.inflow[k] = part * (gross + net) / 2
                flow.outflow[k] = part * (gross - net) / 2
            out.append((day, flow))
        return out
