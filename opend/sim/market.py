"""The seeded price process and everything derived from it: quotes, books, tickers, RT, klines.

Every number is a pure function of (seed, security, simulated time), so the same seed gives the
same data and a client can cross-check one view against another: today's day bar closes at the
current price, minute bars lie inside the day's high and low, the book straddles the last price.

Daily closes follow a mean-reverting walk in log price around each security's level, so prices
stay plausible for years. Within a day the price follows a path through the day's open, high,
low and close, one knot a minute; the current price is interpolated between knots. Each market's
session is its whole local calendar day: the simulator never closes.
"""

import functools
import hashlib
import math
import random
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate, pairwise

from opend.codes import QotMarket
from opend.enums import KLType, TickerDirect
from opend.market_rules import MARKET_TZ
from opend.sim.exchange import EXCHANGE_OF, is_trading_day
from opend.sim.universe import SimSecurity, round_to_tick, step_price

EPOCH = date(2018, 1, 1)
MINUTES = 1440
_PHI = 0.95  # daily mean reversion of the log price
_TICK_EVERY = 3.0  # seconds between simulated trades
_BOOK_REFRESH = 5.0  # seconds a book's volumes stay the same


_MINUTE_KL = {
    KLType.K_1M: 1,
    KLType.K_3M: 3,
    KLType.K_5M: 5,
    KLType.K_10M: 10,
    KLType.K_15M: 15,
    KLType.K_30M: 30,
    KLType.K_60M: 60,
    KLType.K_120M: 120,
    KLType.K_180M: 180,
    KLType.K_240M: 240,
}

HK_BROKERS: tuple[tuple[int, str], ...] = (
    (1049, "Goldman Sachs (Asia) Securities"),
    (2840, "Morgan Stanley Hong Kong Securities"),
    (4975, "J.P. Morgan Broking (Hong Kong)"),
    (5338, "UBS Securities Hong Kong"),
    (6996, "China Investment Information Services"),
    (8579, "Futu Securities International"),
    (9056, "HSBC Broking Securities (Asia)"),
    (1799, "Bright Smart Securities"),
    (3440, "Citigroup Global Markets Asia"),
    (6999, "China International Capital Corporation HK"),
    (7388, "Huatai Financial Holdings (Hong Kong)"),
    (8126, "BOCI Securities"),
)


def noise(*parts: object) -> float:
    """A deterministic uniform number in [0, 1) keyed by `parts`."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return struct.unpack("<Q", digest)[0] / 2.0**64


@dataclass(frozen=True, slots=True)
class DayRecord:
    """One trading day's full-session values (today's are revealed as time passes)."""

    day: date
    open: float
    high: float
    low: float
    close: float
    volume: int


@dataclass(frozen=True, slots=True)
class Bar:
    """A kline bar in continuous prices; handlers round to the tick grid when they emit it."""

    time: datetime  # local time OpenD prints: bar end for minute bars, the day for daily bars
    open: float
    high: float
    low: float
    close: float
    volume: int
    turnover: float
    last_close: float


@dataclass(frozen=True, slots=True)
class DaySoFar:
    """Today's session up to now: what a quote or snapshot reports."""

    open: float
    high: float
    low: float
    price: float
    last_close: float
    volume: int
    turnover: float


@dataclass(frozen=True, slots=True)
class Tick:
    """One simulated trade."""

    time: float
    sequence: int
    price: float
    volume: int
    direction: TickerDirect


@dataclass(frozen=True, slots=True)
class RtPoint:
    """One time-sharing point: the minute's last price and the day's average so far."""

    time: datetime
    minute: int
    price: float
    avg_price: float
    volume: int
    turnover: float
    last_close: float


class _DayPath:
    """One day's minute knots and running sums, built once and cached."""

    __slots__ = ("cum_turnover", "cum_volume", "knots", "prefix_high", "prefix_low", "record")

    def __init__(self, sec: SimSecurity, record: DayRecord, seed: int) -> None:
        rng = random.Random(f"{seed}:{sec.code}:{record.day}:path")
        o, c, hi, lo = record.open, record.close, record.high, record.low
        a, b = sorted(rng.sample(range(60, MINUTES - 60), 2))
        ih, il = (a, b) if rng.random() < 0.5 else (b, a)
        waypoints = sorted([(0, o), (ih, hi), (il, lo), (MINUTES, c)])
        sigma = sec.daily_vol / math.sqrt(MINUTES)
        knots = [o]
        for (start, p0), (end, p1) in pairwise(waypoints):
            n = end - start
            walk = [0.0]
            for _ in range(n):
                walk.append(walk[-1] + rng.gauss(0.0, sigma))
            x0, x1 = math.log(p0), math.log(p1)
            for j in range(1, n + 1):
                x = x0 + (x1 - x0) * j / n + walk[j] - walk[n] * j / n
                knots.append(min(hi, max(lo, math.exp(x))))
        self._finish(knots, record, rng)

    @classmethod
    def derived(cls, knots: list[float], record: DayRecord, rng: random.Random) -> "_DayPath":
        """A derivative's day: its price at each of the underlying's knots."""
        path = cls.__new__(cls)
        path._finish(knots, record, rng)
        return path

    def _finish(self, knots: list[float], record: DayRecord, rng: random.Random) -> None:
        self.knots = knots
        weights = [0.6 + rng.random() + 0.8 * abs(m / MINUTES - 0.5) for m in range(MINUTES)]
        total = sum(weights)
        volume = record.volume
        # Running sums with accumulate: the same additions in the same order as a loop, faster.
        cum_volume = [0, *map(round, accumulate(volume * w / total for w in weights))]
        traded = [b - a for a, b in pairwise(cum_volume)]
        mids = [(a + b) / 2 for a, b in pairwise(knots)]
        self.cum_volume = cum_volume
        self.cum_turnover = list(
            accumulate((v * p for v, p in zip(traded, mids, strict=True)), initial=0.0)
        )
        self.prefix_high = list(accumulate(knots, max))
        self.prefix_low = list(accumulate(knots, min))
        self.record = record


class _History:
    """Daily records of one security on its exchange's trading days since EPOCH (or its
    listing), grown on demand: no bar on a weekend or a holiday (years without a holiday table
    trade every weekday, see opend.sim.exchange)."""

    def __init__(self, sec: SimSecurity, seed: int) -> None:
        self.sec = sec
        self.seed = seed
        self._exchange = EXCHANGE_OF[sec.security.market]
        self._rng = random.Random(f"{seed}:{sec.code}:daily")
        self.level = sec.base_price * math.exp(self._rng.gauss(0.0, 0.02))
        self._y = self._rng.gauss(0.0, sec.daily_vol * 3)
        self.days: list[date] = []
        self.records: list[DayRecord] = []
        self._next = EPOCH
        self._last_close = self.level * math.exp(self._y)
        # Shared by every simulator of this seed in the process (see _shared_history), some of
        # them on other threads: one extends it at a time.
        self._lock = threading.Lock()

    def _step(
        self, day: date, rng: random.Random, y_prev: float, prev_close: float
    ) -> tuple[DayRecord, float]:
        vol = self.sec.daily_vol
        y = _PHI * y_prev + rng.gauss(0.0, vol)
        close = self.level * math.exp(y)
        open_ = prev_close * math.exp(rng.gauss(0.0, vol * 0.25))
        high = max(open_, close) * math.exp(abs(rng.gauss(0.0, vol * 0.5)) + vol * 0.1)
        low = min(open_, close) * math.exp(-abs(rng.gauss(0.0, vol * 0.5)) - vol * 0.1)
        volume = int(self.sec.avg_volume * math.exp(rng.gauss(0.0, 0.3)))
        return DayRecord(day, open_, high, low, close, volume), y

    def extend_to(self, last: date) -> None:
        """Generate every trading day up to and including `last`."""
        with self._lock:
            self._extend_to(last)

    def _extend_to(self, last: date) -> None:
        while self._next <= last:
            day = self._next
            self._next += timedelta(days=1)
            if not is_trading_day(self._exchange, day):
                continue
            record, self._y = self._step(day, self._rng, self._y, self._last_close)
            self._last_close = record.close
            self.days.append(day)
            self.records.append(record)

    def record(self, day: date) -> DayRecord:
        """The record of a trading day (generated), or of a weekend or holiday `today` (the
        simulator trades around the clock unless --hours real; derived from the day before)."""
        self.extend_to(day)
        if is_trading_day(self._exchange, day):
            return self.records[self.index(day)]
        before = self.index(day) - 1  # the last trading day before `day`
        prev = self.records[before]
        rng = random.Random(f"{self.seed}:{self.sec.code}:{day}:weekend")
        y_prev = math.log(prev.close / self.level)
        return self._step(day, rng, y_prev, prev.close)[0]

    def index(self, day: date) -> int:
        """Index of `day` in `days`, or where it would be inserted."""
        lo, hi = 0, len(self.days)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.days[mid] < day:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def trading_days(self, today: date) -> list[date]:
        """Trading days from the first bar up to yesterday, then today (even on a weekend or a
        holiday: the simulator trades around the clock unless --hours real)."""
        self.extend_to(today)
        first = max(EPOCH, self.sec.list_date)
        start = self.index(first)
        end = self.index(today)
        return [*self.days[start:end], today]


@functools.cache
def _shared_history(sec: SimSecurity, seed: int) -> _History:
    """One security's daily records for a seed: a pure function of both, generated once per
    process (years of records cost tens of milliseconds a security) and only ever appended."""
    return _History(sec, seed)


class _DerivedHistory(_History):
    """A derivative's days: its underlying's trading days from its listing. A day's record is
    its value at the underlying's open, high, low and close (a few evaluations, so a year of
    day bars stays cheap); its minute path stays within that record."""

    def __init__(self, sec: SimSecurity, seed: int, data: "MarketData") -> None:
        self.sec = sec
        self.seed = seed
        self._data = data
        self._records: dict[date, DayRecord] = {}
        assert sec.derived is not None
        self._under = sec.derived.underlying
        self._seen = -1  # the underlying's day count when `_days` was taken
        self._days: list[date] = []

    @property
    def days(self) -> list[date]:  # type: ignore[override]
        under = self._data.hist(self._under).days
        if len(under) != self._seen:
            self._seen = len(under)
            self._days = [d for d in under if d >= self.sec.list_date]
        return self._days

    def extend_to(self, last: date) -> None:
        self._data.hist(self._under).extend_to(last)

    def record(self, day: date) -> DayRecord:
        cached = self._records.get(day)
        if cached is None:
            cached = self._records[day] = self._data.derived_record(self.sec, day)
        return cached

    def trading_days(self, today: date) -> list[date]:
        days = self._data.hist(self._under).trading_days(today)
        return [d for d in days if d >= self.sec.list_date]


class MarketData:
    """Seeded market data for the whole universe at any simulated time."""

    def __init__(self, securities: dict[str, SimSecurity], seed: int) -> None:
        self.seed = seed
        self.securities = securities
        self._history = {code: _shared_history(sec, seed) for code, sec in securities.items()}
        self._paths: OrderedDict[tuple[str, date], _DayPath] = OrderedDict()
        self._year_cache: dict[tuple[str, date], tuple[float, float]] = {}
        self._prev_closes: dict[tuple[str, date], float] = {}
        self._midnights: dict[tuple[QotMarket, date], float] = {}
        self._now_cache: dict[tuple[str, float], DaySoFar] = {}

    # --- time ------------------------------------------------------------------------------

    @staticmethod
    def local(sec: SimSecurity, t: float) -> datetime:
        """`t` as the security's market local time (what OpenD prints)."""
        return datetime.fromtimestamp(t, MARKET_TZ[sec.security.market])

    def _midnight(self, sec: SimSecurity, day: date) -> float:
        key = (sec.security.market, day)
        cached = self._midnights.get(key)
        if cached is None:
            tz = MARKET_TZ[sec.security.market]
            cached = self._midnights[key] = datetime(
                day.year, day.month, day.day, tzinfo=tz
            ).timestamp()
        return cached

    # --- days and paths --------------------------------------------------------------------

    def hist(self, sec: SimSecurity) -> _History:
        """The daily history of a security, made on first use for securities listed after start
        (derivatives, indexes)."""
        history = self._history.get(sec.code)
        if history is None:
            history = self._history[sec.code] = (
                _shared_history(sec, self.seed)
                if sec.derived is None
                else _DerivedHistory(sec, self.seed, self)
            )
        return history

    def _record(self, sec: SimSecurity, day: date) -> DayRecord:
        return self.hist(sec).record(day)

    def derived_record(self, sec: SimSecurity, day: date) -> DayRecord:
        """A derivative's day: open and close at the underlying's, high and low the extremes of
        its value over the underlying's range at the day's start and end (time decay moves a
        value monotonically within a day, so these bound every minute)."""
        derivation = sec.derived
        assert derivation is not None
        under = self._record(derivation.underlying, day)
        start = self._midnight(sec, day)
        end = start + MINUTES * 60
        open_ = derivation.value(under.open, start)
        close = derivation.value(under.close, end)
        corners = [
            derivation.value(spot, when)
            for spot in (under.high, under.low)
            for when in (start, end)
        ]
        rng = random.Random(f"{self.seed}:{sec.code}:{day}:volume")
        volume = int(sec.avg_volume * math.exp(rng.gauss(0.0, 0.3)))
        return DayRecord(
            day, open_, max(open_, close, *corners), min(open_, close, *corners), close, volume
        )

    def derived_path(self, sec: SimSecurity, day: date) -> _DayPath:
        """A derivative's minute path on `day`: its value at each knot of the underlying, kept
        within the day's record."""
        key = (sec.code, day)
        path = self._paths.get(key)
        if path is None:
            derivation = sec.derived
            assert derivation is not None
            record = self._record(sec, day)
            under = self._path(derivation.underlying, day)
            midnight = self._midnight(sec, day)
            knots = [
                min(record.high, max(record.low, value))
                for value in derivation.minute_values(under.knots, midnight)
            ]
            rng = random.Random(f"{self.seed}:{sec.code}:{day}:path")
            path = _DayPath.derived(knots, record, rng)
            self._remember(key, path)
        return path

    def _remember(self, key: tuple[str, date], path: _DayPath) -> None:
        self._paths[key] = path
        if len(self._paths) > 512:
            self._paths.popitem(last=False)

    def _path(self, sec: SimSecurity, day: date) -> _DayPath:
        if sec.derived is not None:
            return self.derived_path(sec, day)
        key = (sec.code, day)
        path = self._paths.get(key)
        if path is None:
            path = _DayPath(sec, self._record(sec, day), self.seed)
            self._remember(key, path)
        else:
            self._paths.move_to_end(key)
        return path

    def prev_close(self, sec: SimSecurity, day: date) -> float:
        """The close of the last trading day before `day` (its open on the first day)."""
        return self._prev_close(sec, day)

    def day_range(self, sec: SimSecurity, first: date, last: date) -> tuple[float, float]:
        """(lowest low, highest high) of the whole trading days from `first` to `last`."""
        records = [
            self._record(sec, d) for d in self.hist(sec).trading_days(last) if first <= d <= last
        ]
        return min(r.low for r in records), max(r.high for r in records)

    def _prev_close(self, sec: SimSecurity, day: date) -> float:
        key = (sec.code, day)
        cached = self._prev_closes.get(key)
        if cached is None:
            history = self.hist(sec)
            history.extend_to(day)
            before = history.days[: history.index(day)]
            first = max(EPOCH, sec.list_date)
            cached = (
                self._record(sec, before[-1]).close
                if before and before[-1] >= first
                else self._record(sec, day).open
            )
            self._prev_closes[key] = cached
        return cached

    def _position(self, sec: SimSecurity, t: float) -> tuple[_DayPath, int, float]:
        """Today's path, the minute index and the fraction of it elapsed at `t`."""
        today = self.local(sec, t).date()
        path = self._path(sec, today)
        elapsed = min(max(t - self._midnight(sec, today), 0.0), MINUTES * 60 - 1e-6)
        minute = int(elapsed // 60)
        return path, minute, (elapsed - minute * 60) / 60

    def session_end(self, sec: SimSecurity, t: float) -> float:
        """When the session that `t` falls in ends (the next local midnight): DAY orders expire."""
        today = self.local(sec, t).date()
        return self._midnight(sec, today + timedelta(days=1))

    def session_elapsed(self, sec: SimSecurity, t: float) -> float:
        """Fraction of today's session gone by at `t` (for volume ratios)."""
        _path, minute, frac = self._position(sec, t)
        return (minute + frac) / MINUTES

    # --- prices ----------------------------------------------------------------------------

    def price(self, sec: SimSecurity, t: float) -> float:
        """The continuous price at `t` (before rounding to the tick grid)."""
        path, minute, frac = self._position(sec, t)
        a, b = path.knots[minute], path.knots[minute + 1]
        return a + (b - a) * frac

    def last_price(self, sec: SimSecurity, t: float) -> float:
        """The last traded price: the continuous price on the tick grid."""
        return round_to_tick(sec.tick_rule, self.price(sec, t))

    def day_so_far(self, sec: SimSecurity, t: float) -> DaySoFar:
        """Today's open, high, low, volume and turnover up to `t`."""
        key = (sec.code, t)
        cached = self._now_cache.get(key)
        if cached is None:
            if len(self._now_cache) > 4096:
                self._now_cache.clear()
            cached = self._now_cache[key] = self._compute_day_so_far(sec, t)
        return cached

    def _compute_day_so_far(self, sec: SimSecurity, t: float) -> DaySoFar:
        path, minute, frac = self._position(sec, t)
        price = path.knots[minute] + (path.knots[minute + 1] - path.knots[minute]) * frac
        volume = (
            path.cum_volume[minute] + (path.cum_volume[minute + 1] - path.cum_volume[minute]) * frac
        )
        turnover = (
            path.cum_turnover[minute]
            + (path.cum_turnover[minute + 1] - path.cum_turnover[minute]) * frac
        )
        market = sec.tick_rule
        return DaySoFar(
            open=round_to_tick(market, path.knots[0]),
            high=round_to_tick(market, max(path.prefix_high[minute], price)),
            low=round_to_tick(market, min(path.prefix_low[minute], price)),
            price=round_to_tick(market, price),
            last_close=round_to_tick(market, self._prev_close(sec, path.record.day)),
            volume=int(volume),
            turnover=turnover,
        )

    def book(
        self, sec: SimSecurity, t: float, levels: int = 10
    ) -> tuple[list[tuple[float, int, int]], list[tuple[float, int, int]]]:
        """(asks, bids) as (price, volume, order count), best first, one tick apart."""
        market = sec.tick_rule
        mid = self.price(sec, t)
        bid = round_to_tick(market, mid, down=True)
        ask = round_to_tick(market, mid, down=False)
        if ask <= bid:
            ask = step_price(market, bid, 1)
        unit = sec.lot_size if sec.lot_size > 1 else 100
        window = int(t // _BOOK_REFRESH)
        asks, bids = [], []
        for level in range(levels):
            for side, start, sign, out in (("a", ask, 1, asks), ("b", bid, -1, bids)):
                price = step_price(market, start, sign * level)
                lots = 1 + int(noise(self.seed, sec.code, side, level, window) * 40)
                count = 1 + int(noise(self.seed, sec.code, side, level, window, "n") * 12)
                out.append((price, lots * unit, min(count, lots)))
        return asks, bids

    def tickers(self, sec: SimSecurity, t: float, count: int) -> list[Tick]:
        """The last `count` simulated trades up to `t`, oldest first."""
        market = sec.tick_rule
        unit = sec.lot_size if sec.lot_size > 1 else 10
        last = int(t // _TICK_EVERY)
        ticks: list[Tick] = []
        prev_price = round_to_tick(market, self.price(sec, (last - count) * _TICK_EVERY))
        for seq in range(last - count + 1, last + 1):
            when = seq * _TICK_EVERY
            price = round_to_tick(market, self.price(sec, when))
            if price > prev_price:
                direction = TickerDirect.BUY
            elif price < prev_price:
                direction = TickerDirect.SELL
            else:
                # An unchanged price still traded at someone's bid or ask.
                side = noise(self.seed, sec.code, "dir", seq)
                direction = (
                    TickerDirect.BUY
                    if side < 0.45
                    else TickerDirect.SELL
                    if side < 0.9
                    else TickerDirect.NEUTRAL
                )
            volume = unit * (1 + int(noise(self.seed, sec.code, "tick", seq) * 30))
            ticks.append(Tick(when, seq, price, volume, direction))
            prev_price = price
        return ticks

    def rt(self, sec: SimSecurity, t: float) -> list[RtPoint]:
        """Today's time-sharing points, one per elapsed minute plus the current one."""
        path, minute, _frac = self._position(sec, t)
        market = sec.tick_rule
        midnight = self._midnight(sec, path.record.day)
        last_close = round_to_tick(market, self._prev_close(sec, path.record.day))
        now = self.day_so_far(sec, t)
        points = []
        for m in range(minute + 1):
            if m < minute:
                price = path.knots[m + 1]
                volume = path.cum_volume[m + 1] - path.cum_volume[m]
                turnover = path.cum_turnover[m + 1] - path.cum_turnover[m]
                cum_v, cum_t = path.cum_volume[m + 1], path.cum_turnover[m + 1]
            else:
                price = now.price
                volume = now.volume - path.cum_volume[m]
                turnover = now.turnover - path.cum_turnover[m]
                cum_v, cum_t = now.volume, now.turnover
            points.append(
                RtPoint(
                    time=self.local(sec, midnight + m * 60),
                    minute=m,
                    price=round_to_tick(market, price),
                    avg_price=round(cum_t / cum_v, 4) if cum_v else round_to_tick(market, price),
                    volume=int(volume),
                    turnover=turnover,
                    last_close=last_close,
                )
            )
        return points

    def brokers(self, sec: SimSecurity, t: float) -> tuple[list[tuple[int, str, int]], ...]:
        """(ask brokers, bid brokers) as (id, name, level) for the first three book levels."""
        window = int(t // _BOOK_REFRESH)
        sides: list[list[tuple[int, str, int]]] = [[], []]
        for side_index, side in enumerate(("a", "b")):
            for level in range(1, 4):
                picks = 1 + int(noise(self.seed, sec.code, side, level, window, "k") * 3)
                first = int(noise(self.seed, sec.code, side, level, window) * len(HK_BROKERS))
                for pick in range(picks):
                    broker_id, name = HK_BROKERS[(first + 5 * pick) % len(HK_BROKERS)]
                    sides[side_index].append((broker_id, name, level))
        return sides[0], sides[1]

    def year_range(self, sec: SimSecurity, t: float) -> tuple[float, float]:
        """(52-week high, 52-week low) including today so far; past days cached per day."""
        today = self.local(sec, t).date()
        key = (sec.code, today)
        past = self._year_cache.get(key)
        if past is None:
            first = today - timedelta(days=365)
            days = [d for d in self.hist(sec).trading_days(today)[:-1] if d >= first]
            records = [self._record(sec, d) for d in days] or [self._record(sec, today)]
            past = (max(r.high for r in records), min(r.low for r in records))
            self._year_cache[key] = past
        now = self.day_so_far(sec, t)
        market = sec.tick_rule
        return (
            max(round_to_tick(market, past[0]), now.high),
            min(round_to_tick(market, past[1]), now.low),
        )

    # --- klines ----------------------------------------------------------------------------

    def _day_bar(self, sec: SimSecurity, day: date, t: float, last_close: float) -> Bar:
        if day == self.local(sec, t).date():
            now = self.day_so_far(sec, t)
            open_, high, low, close = now.open, now.high, now.low, now.price
            volume, turnover = now.volume, now.turnover
        else:
            r = self._record(sec, day)
            open_, high, low, close, volume = r.open, r.high, r.low, r.close, r.volume
            turnover = volume * (open_ + high + low + close) / 4
        when = datetime(day.year, day.month, day.day, tzinfo=MARKET_TZ[sec.security.market])
        return Bar(when, open_, high, low, close, volume, turnover, last_close)

    def day_bars(self, sec: SimSecurity, t: float, first: date | None = None) -> list[Bar]:
        """Daily bars from `first` (default: the start of history) up to today's partial bar."""
        today = self.local(sec, t).date()
        days = self.hist(sec).trading_days(today)
        bars: list[Bar] = []
        start = 0
        if first is not None:
            start = next((i for i, d in enumerate(days) if d >= first), len(days))
        last_close = self._prev_close(sec, days[start]) if start < len(days) else 0.0
        for day in days[start:]:
            bar = self._day_bar(sec, day, t, last_close)
            bars.append(bar)
            last_close = bar.close
        return bars

    def minute_bars(self, sec: SimSecurity, day: date, t: float) -> list[Bar]:
        """One-minute bars of a day up to `t` (the current minute's bar is partial)."""
        path = self._path(sec, day)
        midnight = self._midnight(sec, day)
        end = min(t, midnight + MINUTES * 60)
        bars: list[Bar] = []
        last_close = self._prev_close(sec, day)
        for m in range(MINUTES):
            start = midnight + m * 60
            if start >= end:
                break
            a = path.knots[m]
            if start + 60 <= end:
                b = path.knots[m + 1]
                volume = path.cum_volume[m + 1] - path.cum_volume[m]
                turnover = path.cum_turnover[m + 1] - path.cum_turnover[m]
            else:
                frac = (end - start) / 60
                b = a + (path.knots[m + 1] - a) * frac
                volume = int((path.cum_volume[m + 1] - path.cum_volume[m]) * frac)
                turnover = (path.cum_turnover[m + 1] - path.cum_turnover[m]) * frac
            bars.append(
                Bar(
                    self.local(sec, start + 60),
                    a,
                    max(a, b),
                    min(a, b),
                    b,
                    volume,
                    turnover,
                    last_close,
                )
            )
            last_close = b
        return bars

    def klines(
        self, sec: SimSecurity, kl_type: KLType, t: float, first: date | None = None
    ) -> list[Bar]:
        """Bars of any kline type from `first` (minute types: that day) up to now, oldest first."""
        today = self.local(sec, t).date()
        if kl_type in _MINUTE_KL:
            days = self.hist(sec).trading_days(today)
            days = [d for d in days if d >= first] if first is not None else days[-2:]
            minutes: list[Bar] = []
            for day in days:
                minutes.extend(self.minute_bars(sec, day, t))
            return _aggregate_minutes(minutes, _MINUTE_KL[kl_type])
        days_bars = self.day_bars(sec, t, first)
        if kl_type == KLType.K_DAY:
            return days_bars
        key = {
            KLType.K_WEEK: lambda d: d.isocalendar()[:2],
            KLType.K_MON: lambda d: (d.year, d.month),
            KLType.K_QUARTER: lambda d: (d.year, (d.month - 1) // 3),
            KLType.K_YEAR: lambda d: d.year,
        }.get(kl_type)
        if key is None:
            raise ValueError(f"unsupported kline type {kl_type}")
        return _aggregate(days_bars, lambda bar: key(bar.time.date()), first_time=True)

    def bars_between(
        self,
        sec: SimSecurity,
        kl_type: KLType,
        t: float,
        begin: datetime,
        end: datetime,
        after: float | None,
        limit: int,
    ) -> tuple[list[Bar], bool]:
        """Bars timed in [begin, end] and after the cursor `after`, at most `limit` of them, and
        whether more remain (Qot_RequestHistoryKL pages). Minute bars are built a day at a time."""
        today = self.local(sec, t).date()
        if kl_type in _MINUTE_KL:
            first = begin.date() - timedelta(days=1)
            if after is not None:
                first = max(first, self.local(sec, after).date() - timedelta(days=1))
            days = [d for d in self.hist(sec).trading_days(today) if first <= d <= end.date()]
            candidates: list[Bar] = []
            for day in days:
                for bar in _aggregate_minutes(self.minute_bars(sec, day, t), _MINUTE_KL[kl_type]):
                    if begin <= bar.time <= end and (after is None or bar.time.timestamp() > after):
                        candidates.append(bar)
                        if len(candidates) > limit:
                            return candidates[:limit], True
            return candidates, False
        bars = [
            b
            for b in self.klines(sec, kl_type, t)
            if begin <= b.time <= end and (after is None or b.time.timestamp() > after)
        ]
        return bars[:limit], len(bars) > limit


def _aggregate_minutes(bars: list[Bar], size: int) -> list[Bar]:
    if size == 1:
        return bars

    def bucket(bar: Bar) -> tuple[date, int]:
        start = bar.time - timedelta(minutes=1)
        return start.date(), (start.hour * 60 + start.minute) // size

    return _aggregate(bars, bucket, first_time=False, size=size)


def _aggregate(
    bars: list[Bar], key: Callable[[Bar], object], *, first_time: bool, size: int = 1
) -> list[Bar]:
    """Merge consecutive bars with the same key (week, month, N-minute bucket)."""
    out: list[Bar] = []
    group: list[Bar] = []

    def flush() -> None:
        if not group:
            return
        if first_time:
            when = group[0].time
        else:
            day, index = key(group[0])
            midnight = datetime(day.year, day.month, day.day, tzinfo=group[0].time.tzinfo)
            when = midnight + timedelta(minutes=(index + 1) * size)
        out.append(
            Bar(
                when,
                group[0].open,
                max(b.high for b in group),
                min(b.low for b in group),
                group[-1].close,
                sum(b.volume for b in group),
                sum(b.turnover for b in group),
                group[0].last_close,
            )
        )

    current = None
    for bar in bars:
        k = key(bar)
        if group and k != current:
            flush()
            group = []
        current = k
        group.append(bar)
    flush()
    return out
