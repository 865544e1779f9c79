"""Field helpers every handler area shares: reading c2s fields, naming securities, times."""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opend.codes import QotMarket
from opend.enums import SubType
from opend.market_rules import MARKET_TZ
from opend.sim.state import SimState
from opend.sim.universe import SimSecurity, round_to_tick

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class SimError(Exception):
    """A request the simulated OpenD refuses: retType and retMsg of the error reply."""

    def __init__(self, message: str, ret_type: int = -1, err_code: int = 0) -> None:
        super().__init__(message)
        self.ret_type = ret_type
        self.err_code = err_code


@dataclass
class ConnInfo:
    """What a handler may know about the connection a request came on."""

    conn_id: int
    keepalive_interval: int
    aes_key: str
    aes_iv: str
    encrypted: bool = False
    client_id: str = ""
    push_fmt: int = 1
    initialized: bool = False
    # Quote items with push registration (Qot_Sub isRegOrUnRegPush) and the last body pushed.
    push_keys: set[tuple[str, int]] = field(default_factory=set)
    last_push: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    push_accounts: set[int] = field(default_factory=set)  # Trd_SubAccPush
    # packetID.serialNo of every PlaceOrder/ModifyOrder seen here: OpenD's anti-replay memory.
    packet_serials: set[int] = field(default_factory=set)


Handler = Callable[[SimState, ConnInfo, dict[str, Any]], dict[str, Any] | None]


def as_int(value: Any, name: str) -> int:
    """A c2s field as an integer, or the request is invalid."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SimError(f"invalid request: {name} must be an integer") from None


def required(c2s: dict[str, Any], name: str) -> Any:
    """A field the .proto marks required: OpenD refuses the request without it."""
    if name not in c2s:
        raise SimError(f"invalid request: missing required field {name}")
    return c2s[name]


def as_float(value: Any, name: str) -> float | None:
    """A c2s number (None stays None); NaN and infinities are refused."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SimError(f"invalid request: {name} must be a number") from None
    # Protobuf JSON reads "NaN" and "Infinity"; no order rule below can judge them.
    if not math.isfinite(number):
        raise SimError(f"invalid request: {name} must be a finite number")
    return number


def wire_sec(sec: SimSecurity) -> dict[str, Any]:
    """A Qot_Common.Security for a simulated security."""
    return {"market": int(sec.security.market), "code": sec.security.code}


def security_of(state: SimState, obj: Any) -> SimSecurity:
    """The simulated security a Qot_Common.Security names; unknown ones are refused."""
    if not isinstance(obj, dict) or "market" not in obj or "code" not in obj:
        raise SimError("invalid request: a security needs market and code")
    market = as_int(obj["market"], "security.market")
    try:
        name = QotMarket(market).name
    except ValueError:
        raise SimError(f"Unknown market {market}") from None
    code = str(obj["code"])
    sec = state.resolve(f"{name}.{code}")
    if sec is None:
        raise SimError(f"Unknown stock {name}.{code}")
    return sec


def securities_of(state: SimState, c2s: dict[str, Any]) -> list[SimSecurity]:
    """The securities of the request's securityList."""
    items = c2s.get("securityList", [])
    if not isinstance(items, list):
        raise SimError("invalid request: securityList must be a list")
    return [security_of(state, item) for item in items]


def securities_between(state: SimState, c2s: dict[str, Any], most: int) -> list[SimSecurity]:
    """The securities of securityList, which must hold 1 to `most` of them."""
    securities = securities_of(state, c2s)
    if not securities:
        raise SimError("invalid request: securityList must not be empty")
    if len(securities) > most:
        raise SimError(f"Too many securities: at most {most} per request")
    return securities


def tick_price(sec: SimSecurity, value: float) -> float:
    """A price rounded to the security's tick, as OpenD reports prices."""
    return round_to_tick(sec.tick_rule, value)


def turnover_rate(sec: SimSecurity, volume: int, digits: int = 3) -> float:
    """Volume as a percentage of the shares outstanding (0 for contracts and indexes, which
    have none)."""
    if not sec.shares_outstanding:
        return 0.0
    return round(volume / sec.shares_outstanding * 100, digits)


def stamp(t: float) -> float:
    """A timestamp field: seconds with millisecond precision."""
    return round(t, 3)


def local_time(state: SimState, sec: SimSecurity, t: float) -> str:
    """A time as the security's exchange writes it (local wall clock)."""
    return state.market.local(sec, t).strftime(TIME_FORMAT)


def need_sub(state: SimState, conn: ConnInfo, sec: SimSecurity, sub_type: SubType) -> None:
    """Refuse a subscribed-data request for an item this connection has not subscribed."""
    if not state.subscriptions.is_subscribed(conn.conn_id, (sec.code, int(sub_type))):
        raise SimError(
            f"{sec.code} is not subscribed to {sub_type.name} on this connection: "
            "subscribe first (Qot_Sub)"
        )


def name_of(sec: SimSecurity) -> dict[str, Any]:
    """The security and name fields most quote replies start with."""
    return {"security": wire_sec(sec), "name": sec.name}


def midnight_stamp(sec: SimSecurity, day: Any) -> float:
    """The timestamp of a day's start at the security's exchange."""
    tz = MARKET_TZ[sec.security.market]
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def earnings_per_share(sec: SimSecurity) -> float:
    """A fixed earnings figure per share: plausible P/E ratios (15-30) at the base price."""
    return sec.base_price / (15 + sec.sec_id % 16)


def parse_time(text: str, sec: SimSecurity, *, end: bool) -> datetime:
    """A request's time at the security's exchange; a bare date ends at 23:59:59 when `end`."""
    tz = MARKET_TZ[sec.security.market]
    for fmt, is_date in (("%Y-%m-%d %H:%M:%S", False), ("%Y-%m-%d", True)):
        try:
            parsed = datetime.strptime(text.strip(), fmt).replace(tzinfo=tz)
        except ValueError:
            continue
        if is_date and end:
            parsed += timedelta(days=1, seconds=-1)
        return parsed
    raise SimError(f"invalid time {text!r}: use yyyy-MM-dd or yyyy-MM-dd HH:mm:ss")


def static_info(sec: SimSecurity) -> dict[str, Any]:
    """A Qot_Common.SecurityStaticInfo (basic part) for a simulated security."""
    return {
        "basic": {
            "security": wire_sec(sec),
            "id": str(sec.sec_id),
            "lotSize": sec.lot_size,
            "secType": int(sec.sec_type),
            "name": sec.name,
            "listTime": sec.list_date.isoformat(),
            "delisting": False,
            "listTimestamp": midnight_stamp(sec, sec.list_date),
        }
    }
