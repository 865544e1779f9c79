"""Reading trade requests: the account a TrdHeader names, filter conditions, refresh limits."""

from datetime import datetime
from typing import Any

from opend.codes import QotMarket, TrdMarket
from opend.sim.handlers.common import SimError, as_int, parse_time, required
from opend.sim.limits import QUERY_RATE_LIMITS, LimitExceeded, RateWindow
from opend.sim.state import SimState
from opend.sim.trading import Account, TradeError
from opend.sim.universe import SimSecurity


def trd_header(c2s: dict[str, Any]) -> dict[str, Any]:
    """The request's TrdHeader (required on every trade protocol)."""
    header = required(c2s, "header")
    if not isinstance(header, dict):
        raise SimError("invalid request: header must be a TrdHeader")
    return header


def account_of(state: SimState, c2s: dict[str, Any]) -> tuple[Account, dict[str, Any]]:
    """The account a TrdHeader names, and the header to echo in the reply."""
    header = trd_header(c2s)
    acc_id = as_int(required(header, "accID"), "header.accID")
    env = as_int(required(header, "trdEnv"), "header.trdEnv")
    market = as_int(required(header, "trdMarket"), "header.trdMarket")
    try:
        account = state.trading.account(acc_id, env, market)
    except TradeError as exc:
        raise SimError(str(exc)) from None
    echo = {"trdEnv": env, "accID": str(acc_id), "trdMarket": market}
    return account, echo


def refresh_limit(state: SimState, proto: int, account: Account, c2s: dict[str, Any]) -> None:
    """OpenD's limit on refreshCache requests: 10 per 30 s per account and protocol."""
    if c2s.get("refreshCache"):
        _count(state, (proto, account.acc_id), 10, "refreshCache requests per account")


def query_limit(state: SimState, proto: int, account: Account | None) -> None:
    """OpenD's limit on an account query, per account (margin ratios: per user, `account`
    None); always on, as on OpenD (opend.sim.limits.QUERY_RATE_LIMITS)."""
    count, what = QUERY_RATE_LIMITS[proto]
    _count(state, (proto, account.acc_id if account else 0), count, what)


def _count(state: SimState, key: tuple[int, int], count: int, what: str) -> None:
    window = state.account_windows.setdefault(key, RateWindow(count, 30.0, 0.0, what))
    try:
        window.check(state.clock.monotonic())
    except LimitExceeded as exc:
        raise SimError(str(exc)) from None


def filter_conditions(c2s: dict[str, Any]) -> dict[str, Any]:
    """The request's TrdFilterConditions, with its times checked."""
    conditions = c2s.get("filterConditions") or {}
    if not isinstance(conditions, dict):
        raise SimError("invalid request: filterConditions must be an object")
    for name in ("beginTime", "endTime"):
        text = conditions.get(name)
        if text and not _valid_time(str(text)):
            raise SimError(f"invalid {name} {text!r}: use yyyy-MM-dd HH:mm:ss")
    return conditions


def _valid_time(text: str) -> bool:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            datetime.strptime(text.split(".")[0].strip(), fmt)
        except ValueError:
            continue
        return True
    return False


def market_filter(conditions: dict[str, Any], sec: SimSecurity) -> bool:
    """True when the security's market passes filterMarket (0 = any)."""
    market = as_int(conditions.get("filterMarket", 0), "filterMarket")
    if not market:
        return True
    allowed = {
        QotMarket.HK: {TrdMarket.HK},
        QotMarket.US: {TrdMarket.US},
        QotMarket.SH: {TrdMarket.CN, TrdMarket.HKCC},
        QotMarket.SZ: {TrdMarket.CN, TrdMarket.HKCC},
    }[sec.security.market]
    return market in allowed


def code_filter(conditions: dict[str, Any], sec: SimSecurity) -> bool:
    """True when the security passes codeList (empty = any)."""
    codes = conditions.get("codeList") or []
    return not codes or sec.security.code in codes or sec.code in codes


def time_filter(state: SimState, conditions: dict[str, Any], sec: SimSecurity, t: float) -> bool:
    """True when `t` lies within the conditions' beginTime and endTime."""
    when = state.market.local(sec, t)
    for name, is_end in (("beginTime", False), ("endTime", True)):
        text = conditions.get(name)
        if not text:
            continue
        bound = parse_time(str(text).split(".")[0], sec, end=is_end)
        if (when > bound) if is_end else (when < bound):
            return False
    return True


def ms_time(state: SimState, sec: SimSecurity, t: float) -> str:
    """A trade time as OpenD writes it: exchange wall clock with milliseconds."""
    return state.market.local(sec, t).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
