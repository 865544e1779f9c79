"""Quote protocols without subscription: static info, snapshots, plates."""

from collections.abc import Callable
from typing import Any

from opend.codes import QotMarket
from opend.enums import Plate, SecurityType
from opend.market_rules import tick_size
from opend.protoids import ProtoId
from opend.sim.handlers.common import (
    ConnInfo,
    Handler,
    SimError,
    as_int,
    earnings_per_share,
    local_time,
    midnight_stamp,
    required,
    securities_between,
    securities_of,
    stamp,
    static_info,
    turnover_rate,
    wire_sec,
)
from opend.sim.handlers.derivatives import snapshot_ex, static_with_ex
from opend.sim.state import SimState
from opend.sim.universe import PLATE_MARKETS, SimSecurity

MAX_SNAPSHOT_CODES = 400


def get_static_info(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetStaticInfo (3202): by securityList, else by market and security type."""
    if c2s.get("securityList"):
        chosen = securities_of(state, c2s)
    else:
        market = as_int(c2s.get("market", 0), "market")
        sec_type = as_int(c2s.get("secType", 0), "secType")
        chosen = [
            s
            for s in state.securities.values()
            if int(s.security.market) == market and (not sec_type or int(s.sec_type) == sec_type)
        ]
    return {"staticInfoList": [static_with_ex(state, s) for s in chosen]}


def get_security_snapshot(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetSecuritySnapshot (3203): quote, book top and fundamentals, no subscription needed."""
    securities = securities_between(state, c2s, MAX_SNAPSHOT_CODES)
    now = state.clock.now()
    return {"snapshotList": [_snapshot(state, sec, now) for sec in securities]}


def _snapshot(state: SimState, sec: SimSecurity, now: float) -> dict[str, Any]:
    day = state.market.day_so_far(sec, now)
    asks, bids = state.market.book(sec, now, 1)
    year_high, year_low = state.market.year_range(sec, now)
    elapsed = state.market.session_elapsed(sec, now)
    basic = {
        "security": wire_sec(sec),
        "name": sec.name,
        "type": int(sec.sec_type),
        "isSuspend": False,
        "listTime": sec.list_date.isoformat(),
        "lotSize": sec.lot_size,
        "priceSpread": float(tick_size(sec.tick_rule, day.price)),
        "updateTime": local_time(state, sec, now),
        "highPrice": day.high,
        "openPrice": day.open,
        "lowPrice": day.low,
        "lastClosePrice": day.last_close,
        "curPrice": day.price,
        "volume": str(day.volume),
        "turnover": round(day.turnover, 2),
        "turnoverRate": turnover_rate(sec, day.volume),
        "listTimestamp": midnight_stamp(sec, sec.list_date),
        "updateTimestamp": stamp(now),
        "askPrice": asks[0][0],
        "bidPrice": bids[0][0],
        "askVol": str(asks[0][1]),
        "bidVol": str(bids[0][1]),
        "amplitude": round((day.high - day.low) / day.last_close * 100, 3)
        if day.last_close
        else 0.0,
        "avgPrice": round(day.turnover / day.volume, 3) if day.volume else day.price,
        "volumeRatio": round(day.volume / (sec.avg_volume * max(elapsed, 1e-3)), 3)
        if sec.avg_volume
        else 0.0,
        "bidAskRatio": round((bids[0][1] - asks[0][1]) / (bids[0][1] + asks[0][1]) * 100, 3),
        "highest52WeeksPrice": year_high,
        "lowest52WeeksPrice": year_low,
        "secStatus": 1,
    }
    snapshot: dict[str, Any] = {"basic": basic, **snapshot_ex(state, sec, now)}
    if sec.sec_type is SecurityType.STOCK:
        eps = earnings_per_share(sec)
        market_cap = day.price * sec.shares_outstanding
        nav_per_share = sec.base_price / 3
        snapshot["equityExData"] = {
            "issuedShares": str(sec.shares_outstanding),
            "issuedMarketVal": round(market_cap, 2),
            "netAsset": round(nav_per_share * sec.shares_outstanding, 2),
            "netProfit": round(eps * sec.shares_outstanding, 2),
            "earningsPershare": round(eps, 4),
            "outstandingShares": str(sec.shares_outstanding),
            "outstandingMarketVal": round(market_cap, 2),
            "netAssetPershare": round(nav_per_share, 4),
            "eyRate": round(eps / day.price * 100, 3),
            "peRate": round(day.price / eps, 3),
            "pbRate": round(day.price / nav_per_share, 3),
            "peTTMRate": round(day.price / eps, 3),
            "dividendTTM": round(eps * 0.3, 4),
            "dividendRatioTTM": round(eps * 0.3 / day.price * 100, 3),
            "dividendLFY": round(eps * 0.3, 4),
            "dividendLFYRatio": round(eps * 0.3 / day.price * 100, 3),
        }
    return snapshot


def get_plate_set(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetPlateSet (3204): the plates of a market, by kind (0 = all)."""
    market = as_int(required(c2s, "market"), "market")
    kind = as_int(required(c2s, "plateSetType"), "plateSetType")
    try:
        plate_market = PLATE_MARKETS[QotMarket(market)]
        kind_enum = Plate(kind)
    except (ValueError, KeyError):
        raise SimError(f"Unsupported market {market} or plateSetType {kind}") from None
    plates = [
        {
            "plate": {"market": int(p.security.market), "code": p.security.code},
            "name": p.name,
            "plateType": int(p.plate_type),
        }
        for p in state.plates.values()
        if p.security.market is plate_market and kind_enum in (Plate.ALL, p.plate_type)
    ]
    return {"plateInfoList": plates}


_SORT_KEYS: dict[int, Callable[[SimState, SimSecurity, float], Any]] = {
    1: lambda state, sec, now: sec.code,
    2: lambda state, sec, now: state.market.last_price(sec, now),
    10: lambda state, sec, now: state.market.day_so_far(sec, now).volume,
    11: lambda state, sec, now: state.market.day_so_far(sec, now).turnover,
}


def get_plate_security(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetPlateSecurity (3205): a plate's members as static info, sorted as asked."""
    plate_obj = required(c2s, "plate")
    if not isinstance(plate_obj, dict):
        raise SimError("invalid request: plate must be a security")
    market = as_int(plate_obj.get("market"), "plate.market")
    code = str(plate_obj.get("code", ""))
    try:
        key = f"{PLATE_MARKETS[QotMarket(market)].name}.{code}"
    except (ValueError, KeyError):
        raise SimError(f"Unknown plate {market}.{code}") from None
    plate = state.plates.get(key)
    if plate is None:
        raise SimError(f"Unknown plate {key}")
    members = [state.securities[m] for m in plate.members]
    sort_key = _SORT_KEYS.get(as_int(c2s.get("sortField", 1), "sortField"), _SORT_KEYS[1])
    now = state.clock.now()
    members.sort(key=lambda s: sort_key(state, s, now), reverse=c2s.get("ascend") is False)
    return {"staticInfoList": [static_info(s) for s in members]}


HANDLERS: dict[int, Handler] = {
    ProtoId.QOT_GET_STATIC_INFO: get_static_info,
    ProtoId.QOT_GET_SECURITY_SNAPSHOT: get_security_snapshot,
    ProtoId.QOT_GET_PLATE_SET: get_plate_set,
    ProtoId.QOT_GET_PLATE_SECURITY: get_plate_security,
}
