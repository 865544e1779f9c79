"""Market calendars: each market's state now (Qot_GetMarketState) and its trading days
(Qot_RequestTradeDate), both from the exchange tables in opend.sim.exchange."""

from datetime import date, datetime
from typing import Any

from opend.protoids import ProtoId
from opend.sim.exchange import (
    EXCHANGE_OF,
    ZONE,
    Exchange,
    is_half_day,
    is_trading_day,
    reported_state,
    trading_days,
)
from opend.sim.handlers.common import (
    ConnInfo,
    Handler,
    SimError,
    as_int,
    required,
    securities_between,
    security_of,
    wire_sec,
)
from opend.sim.state import SimState

MAX_MARKET_STATE_CODES = 400
# Qot_Common.TradeDateMarket → the calendars whose common trading days it has. Stock Connect
# (4 northbound, 5 southbound) trades only when both sides do; the few extra Connect closures
# around holidays (settlement days) are not modelled.
_TRADE_DATE_MARKETS: dict[int, tuple[Exchange, ...]] = {
    1: (Exchange.HK,),
    2: (Exchange.US,),
    3: (Exchange.CN,),
    4: (Exchange.CN, Exchange.HK),
    5: (Exchange.HK, Exchange.CN),
}
_TRADE_DATE_WHOLE, _TRADE_DATE_MORNING = 0, 1
# OpenD answers from ten years back up to the end of the current year.
_YEARS_BACK = 10


def get_market_state(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetMarketState (3223): the state each security's market is in, as the simulator
    trades it: real sessions with real hours on, else always open."""
    securities = securities_between(state, c2s, MAX_MARKET_STATE_CODES)
    now = state.clock.now()
    return {
        "marketInfoList": [
            {
                "security": wire_sec(sec),
                "name": sec.name,
                "marketState": int(reported_state(sec.security.market, now, state.real_hours)),
            }
            for sec in securities
        ]
    }


def _date(text: Any, name: str) -> date:
    # Docs say yyyy-MM-dd; the SDK sends yyyy-MM-dd HH:MM:SS for some protocols: take both.
    try:
        return datetime.strptime(str(text).strip()[:10], "%Y-%m-%d").date()
    except ValueError:
        raise SimError(f"invalid {name} {text!r}: use yyyy-MM-dd") from None


def request_trade_date(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_RequestTradeDate (3219): the trading days of a market (or of a security's market)
    between beginTime and endTime; HK half days are morning-only days."""
    market = as_int(required(c2s, "market"), "market")
    if c2s.get("security"):
        exchanges: tuple[Exchange, ...] = (
            EXCHANGE_OF[security_of(state, c2s["security"]).security.market],
        )
    elif market in _TRADE_DATE_MARKETS:
        exchanges = _TRADE_DATE_MARKETS[market]
    else:
        raise SimError(f"Unsupported market {market}: use 1 (HK), 2 (US), 3 (CN), 4 or 5")
    first = _date(required(c2s, "beginTime"), "beginTime")
    last = _date(required(c2s, "endTime"), "endTime")
    if last < first:
        raise SimError("endTime is before beginTime")
    today = datetime.fromtimestamp(state.clock.now(), ZONE[exchanges[0]]).date()
    oldest = date(today.year - _YEARS_BACK, 1, 1)
    newest = date(today.year, 12, 31)
    if first < oldest or last > newest:
        raise SimError(f"Trading days are available from {oldest} to {newest}")
    main = exchanges[0]
    days = [
        d
        for d in trading_days(main, first, last)
        if all(is_trading_day(other, d) for other in exchanges[1:])
    ]
    zone = ZONE[main]
    return {
        "tradeDateList": [
            {
                "time": d.isoformat(),
                "timestamp": datetime(d.year, d.month, d.day, tzinfo=zone).timestamp(),
                "tradeDateType": _TRADE_DATE_MORNING
                if main is Exchange.HK and is_half_day(main, d)
                else _TRADE_DATE_WHOLE,
            }
            for d in days
        ]
    }


HANDLERS: dict[int, Handler] = {
    ProtoId.QOT_GET_MARKET_STATE: get_market_state,
    ProtoId.QOT_REQUEST_TRADE_DATE: request_trade_date,
}
