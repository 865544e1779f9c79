"""Exchange calendars and trading sessions of the simulated markets (HK, US, A shares).

Trading days (Qot_RequestTradeDate), each market's state (Qot_GetMarketState, GetGlobalState)
and, with real hours on, when the matching engine fills orders all come from here.

Holiday tables (weekdays the exchange is closed; weekends are never trading days):
- HKEX 2026: HKSAR gazetted general holidays for 2026 (info.gov.hk/gia/general/202505/16/
  P2025051300354.htm), identical to exchange_calendars 4.13.2 XHKG. 2027: not gazetted yet; the
  projection of exchange_calendars 4.13.2 XHKG. 2025: HKEX's 2025 trading calendar (also
  exchange_calendars XHKG). Half days (morning session only): Lunar New Year's Eve, 24 and 31 Dec.
- NYSE/Nasdaq 2025-2027: NYSE Group holiday releases (2027: release of 2025-12-23), early closes
  at 13:00 ET. Like OpenD's list, ad-hoc closures (such as the national day of mourning on
  2025-01-09) are not in it.
- SSE/SZSE 2025-2026: the exchanges' holiday notices (2026: notice of 2025-12-22), matching
  exchange_calendars XSHG and chinese_calendar; weekend make-up working days are not trading
  days. 2027 is not published yet.
A year without a table counts every weekday as a trading day. The 2025-2027 tables were checked
day by day against exchange_calendars 4.13.2 (XHKG, XNYS, XSHG), early closes included.

Sessions (local time): HKEX pre-open auction 09:00-09:30, continuous 09:30-12:00 and
13:00-16:00, closing auction 16:00-16:10 (futuhk.com support topic2_294). NYSE regular 09:30-16:00
(13:00 on early-close days), pre-market from 04:00, after hours to 20:00. SSE/SZSE call auction
09:15-09:25, continuous 09:30-11:30 and 13:00-14:57, closing call auction 14:57-15:00.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum

from opend.codes import QotMarket
from opend.enums import QotMarketState
from opend.market_rules import MARKET_TZ


class Exchange(Enum):
    """A calendar: the HK, US or mainland China (SH and SZ) stock exchanges."""

    HK = "HK"
    US = "US"
    CN = "CN"


EXCHANGE_OF: dict[QotMarket, Exchange] = {
    QotMarket.HK: Exchange.HK,
    QotMarket.US: Exchange.US,
    QotMarket.SH: Exchange.CN,
    QotMarket.SZ: Exchange.CN,
}
# The time zone each calendar's dates are in.
ZONE = {
    Exchange.HK: MARKET_TZ[QotMarket.HK],
    Exchange.US: MARKET_TZ[QotMarket.US],
    Exchange.CN: MARKET_TZ[QotMarket.SH],
}


def _days(*texts: str) -> frozenset[date]:
    return frozenset(date.fromisoformat(t) for t in texts)


# fmt: off
HOLIDAYS: dict[Exchange, frozenset[date]] = {
    Exchange.HK: _days(
        # 2025
        "2025-01-01", "2025-01-29", "2025-01-30", "2025-01-31", "2025-04-04", "2025-04-18",
        "2025-04-21", "2025-05-01", "2025-05-05", "2025-07-01", "2025-10-01", "2025-10-07",
        "2025-10-29", "2025-12-25", "2025-12-26",
        # 2026
        "2026-01-01", "2026-02-17", "2026-02-18", "2026-02-19", "2026-04-03", "2026-04-06",
        "2026-04-07", "2026-05-01", "2026-05-25", "2026-06-19", "2026-07-01", "2026-10-01",
        "2026-10-19", "2026-12-25",
        # 2027 (projection)
        "2027-01-01", "2027-02-08", "2027-02-09", "2027-03-26", "2027-03-29", "2027-04-05",
        "2027-05-13", "2027-06-09", "2027-07-01", "2027-09-16", "2027-10-01", "2027-10-08",
        "2027-12-27",
    ),
    Exchange.US: _days(
        "2025-01-01", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26", "2025-06-19",
        "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25",
        "2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19",
        "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25",
        "2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18",
        "2027-07-05", "2027-09-06", "2027-11-25", "2027-12-24",
    ),
    Exchange.CN: _days(
        "2025-01-01", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-03",
        "2025-02-04", "2025-04-04", "2025-05-01", "2025-05-02", "2025-05-05", "2025-06-02",
        "2025-10-01", "2025-10-02", "2025-10-03", "2025-10-06", "2025-10-07", "2025-10-08",
        "2026-01-01", "2026-01-02", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
        "2026-02-20", "2026-02-23", "2026-04-06", "2026-05-01", "2026-05-04", "2026-05-05",
        "2026-06-19", "2026-09-25", "2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06",
        "2026-10-07",
    ),
}
# HK: morning session only; US: early close at 13:00 ET.
HALF_DAYS: dict[Exchange, frozenset[date]] = {
    Exchange.HK: _days(
        "2025-01-28", "2025-12-24", "2025-12-31", "2026-02-16", "2026-12-24", "2026-12-31",
        "2027-02-05", "2027-12-24", "2027-12-31",
    ),
    Exchange.US: _days(
        "2025-07-03", "2025-11-28", "2025-12-24", "2026-11-27", "2026-12-24", "2027-11-26",
    ),
    Exchange.CN: frozenset(),
}
# fmt: on
@dataclass(frozen=True, slots=True)
class Phase:
    """A stretch of a trading day in one market state; `trading` when orders match."""

    start: time
    end: time
    state: QotMarketState
    trading: bool


def _t(text: str) -> time:
    return time.fromisoformat(text)


_S = QotMarketState
_PHASES: dict[Exchange, tuple[Phase, ...]] = {
    Exchange.HK: (
        Phase(_t("09:00"), _t("09:30"), _S.AUCTION, False),
        Phase(_t("09:30"), _t("12:00"), _S.MORNING, True),
        Phase(_t("12:00"), _t("13:00"), _S.REST, False),
        Phase(_t("13:00"), _t("16:00"), _S.AFTERNOON, True),
        Phase(_t("16:00"), _t("16:10"), _S.HK_CAS, False),
    ),
    Exchange.US: (
        Phase(_t("04:00"), _t("09:30"), _S.PRE_MARKET_BEGIN, False),
        Phase(_t("09:30"), _t("16:00"), _S.AFTERNOON, True),
        Phase(_t("16:00"), _t("20:00"), _S.AFTER_HOURS_BEGIN, False),
        Phase(_t("20:00"), time.max, _S.AFTER_HOURS_END, False),
    ),
    Exchange.CN: (
        Phase(_t("09:15"), _t("09:25"), _S.AUCTION, False),
        Phase(_t("09:25"), _t("09:30"), _S.WAITING_OPEN, False),
        Phase(_t("09:30"), _t("11:30"), _S.MORNING, True),
        Phase(_t("11:30"), _t("13:00"), _S.REST, False),
        Phase(_t("13:00"), _t("14:57"), _S.AFTERNOON, True),
        Phase(_t("14:57"), _t("15:00"), _S.AUCTION, False),
    ),
}
_HALF_DAY_PHASES: dict[Exchange, tuple[Phase, ...]] = {
    Exchange.HK: (
        *_PHASES[Exchange.HK][:2],
        Phase(_t("12:00"), _t("12:10"), _S.HK_CAS, False),
    ),
    Exchange.US: (
        _PHASES[Exchange.US][0],
        Phase(_t("09:30"), _t("13:00"), _S.AFTERNOON, True),
        Phase(_t("13:00"), _t("17:00"), _S.AFTER_HOURS_BEGIN, False),
        Phase(_t("17:00"), time.max, _S.AFTER_HOURS_END, False),
    ),
    Exchange.CN: (),
}


# Without real hours the simulator trades around the clock; its markets then report these states:
# Asian markets their morning session, US its regular one.
ALWAYS_OPEN: dict[Exchange, QotMarketState] = {
    Exchange.HK: QotMarketState.MORNING,
    Exchange.US: QotMarketState.AFTERNOON,
    Exchange.CN: QotMarketState.MORNING,
}


def reported_state(market: QotMarket, t: float, real_hours: bool) -> QotMarketState:
    """What the simulator says a market is doing at `t`: its real session with real hours on,
    else the open state it always trades in."""
    exchange = EXCHANGE_OF[market]
    return state_at(exchange, t) if real_hours else ALWAYS_OPEN[exchange]


def is_trading_day(exchange: Exchange, day: date) -> bool:
    """True when the exchange trades on `day` (a weekday that is not a holiday)."""
    return day.weekday() < 5 and day not in HOLIDAYS[exchange]


def is_half_day(exchange: Exchange, day: date) -> bool:
    """True on a trading day with only the morning session (HK) or an early close (US)."""
    return day in HALF_DAYS[exchange] and is_trading_day(exchange, day)


def trading_days(exchange: Exchange, first: date, last: date) -> list[date]:
    """Trading days from `first` to `last`, both included."""
    days = []
    day = first
    while day <= last:
        if is_trading_day(exchange, day):
            days.append(day)
        day += timedelta(days=1)
    return days


def phases(exchange: Exchange, day: date) -> tuple[Phase, ...]:
    """The day's sessions in order (none on a day without trading)."""
    if not is_trading_day(exchange, day):
        return ()
    return (_HALF_DAY_PHASES if is_half_day(exchange, day) else _PHASES)[exchange]


def local(exchange: Exchange, t: float) -> datetime:
    """`t` on the exchange's wall clock."""
    return datetime.fromtimestamp(t, ZONE[exchange])


def state_at(exchange: Exchange, t: float) -> QotMarketState:
    """The market's state at `t`: its session, or CLOSED outside them."""
    phase = _phase_at(exchange, t)
    return phase.state if phase else QotMarketState.CLOSED


def is_trading(exchange: Exchange, t: float) -> bool:
    """True when orders match at `t` (continuous trading)."""
    phase = _phase_at(exchange, t)
    return bool(phase and phase.trading)


def _phase_at(exchange: Exchange, t: float) -> Phase | None:
    when = local(exchange, t)
    clock = when.time()
    for phase in phases(exchange, when.date()):
        if phase.start <= clock < phase.end or (phase.end == time.max and clock >= phase.start):
            return phase
    return None


def _stamp(exchange: Exchange, day: date, clock: time) -> float:
    return datetime.combine(day, clock, ZONE[exchange]).timestamp()


def trading_sessions(exchange: Exchange, day: date) -> list[tuple[float, float]]:
    """The day's continuous sessions as (start, end) timestamps (none on a closed day)."""
    return [
        (_stamp(exchange, day, p.start), _stamp(exchange, day, p.end))
        for p in phases(exchange, day)
        if p.trading
    ]


def trading_day_close(exchange: Exchange, t: float) -> float:
    """End of continuous trading on the trading day whose session `t` is in or before: when an
    order placed at `t` that is good for the day expires."""
    day = local(exchange, t).date()
    for _ in range(30):  # no exchange closes for 30 days in a row
        sessions = trading_sessions(exchange, day)
        if sessions and sessions[-1][1] > t:
            return sessions[-1][1]
        day += timedelta(days=1)
    raise RuntimeError(f"no trading day within 30 days after {day} on {exchange.value}")


def next_trading_moment(exchange: Exchange, t: float) -> float:
    """`t` itself when orders match then, else the start of the next continuous session."""
    if is_trading(exchange, t):
        return t
    day = local(exchange, t).date()
    for _ in range(30):
        for start, _end in trading_sessions(exchange, day):
            if start > t:
                return start
        day += timedelta(days=1)
    raise RuntimeError(f"no trading day within 30 days after {day} on {exchange.value}")
