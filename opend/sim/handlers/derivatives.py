"""Derivatives: option expiries and chains, HK warrants and CBBCs, futures info, references,
and the option/warrant/future extension data of static info and snapshots."""

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from opend.codes import QotMarket
from opend.enums import SecurityType, WrtType
from opend.market_rules import MARKET_TZ
from opend.protoids import ProtoId
from opend.sim import futures, options
from opend.sim.futures import FutureContract
from opend.sim.handlers.common import (
    ConnInfo,
    Handler,
    SimError,
    as_float,
    as_int,
    midnight_stamp,
    parse_time,
    required,
    securities_of,
    security_of,
    static_info,
    wire_sec,
)
from opend.sim.options import OptionContract
from opend.sim.state import SimState
from opend.sim.universe import SimSecurity
from opend.sim.warrants import Warrant

MAX_CHAIN_DAYS = 30  # OpenD: an option chain request spans at most 30 days of expiries
MAX_WARRANTS = 200
MAX_FUTURE_CODES = 200
_DATE = "%Y-%m-%d"


def _today(state: SimState, sec: SimSecurity) -> date:
    return state.market.local(sec, state.clock.now()).date()


def _day_stamp(sec: SimSecurity, day: date) -> float:
    return midnight_stamp(sec, day)


# --- extension data ----------------------------------------------------------------------


def _option_static(contract: OptionContract) -> dict[str, Any]:
    under = contract.option_class.underlying
    return {
        "type": 1 if contract.is_call else 2,
        "owner": wire_sec(under),
        "strikeTime": contract.expiry.strftime(_DATE),
        "strikePrice": float(contract.strike),
        "suspend": False,
        "market": contract.option_class.market.name,
        "strikeTimestamp": _day_stamp(under, contract.expiry),
        "expirationCycle": int(contract.cycle),
        "optionStandardType": 1,
        "optionSettlementMode": 2,
    }


def _future_static(contract: FutureContract) -> dict[str, Any]:
    index = futures.INDEXES[contract.product.index]
    return {
        "lastTradeTime": "" if contract.main else contract.last_trade_day.strftime(_DATE),
        "lastTradeTimestamp": 0.0 if contract.main else _day_stamp(index, contract.last_trade_day),
        "isMainContract": contract.main,
    }


def static_with_ex(state: SimState, sec: SimSecurity) -> dict[str, Any]:
    """A SecurityStaticInfo with the option, warrant or future extension a derivative has."""
    info = static_info(sec)
    terms = state.derivatives.terms(sec)
    if isinstance(terms, OptionContract):
        info["optionExData"] = _option_static(terms)
    elif isinstance(terms, FutureContract):
        info["futureExData"] = _future_static(terms)
    elif isinstance(terms, Warrant):
        info["warrantExData"] = {"type": int(terms.kind), "owner": wire_sec(terms.underlying)}
    return info


def snapshot_ex(state: SimState, sec: SimSecurity, now: float) -> dict[str, Any]:
    """A snapshot's extension data for a derivative (empty for stocks and indexes)."""
    terms = state.derivatives.terms(sec)
    if isinstance(terms, OptionContract):
        return {"optionExData": _option_snapshot(state, sec, terms, now)}
    if isinstance(terms, FutureContract):
        return {"futureExData": _future_snapshot(state, sec, terms, now)}
    if isinstance(terms, Warrant):
        return {"warrantExData": _warrant_snapshot(state, sec, terms, now)}
    return {}


def _option_greeks(state: SimState, contract: OptionContract, now: float) -> dict[str, float]:
    """Greeks, implied volatility (percent) and open interest at `now`: the model alone, cheap
    enough to screen a whole chain."""
    spot = state.market.price(contract.option_class.underlying, now)
    greeks = contract.greeks(spot, now)
    return {
        "impliedVolatility": round(contract.implied_vol(spot, now) * 100, 3),
        "delta": round(greeks.delta, 5),
        "gamma": round(greeks.gamma, 5),
        "vega": round(greeks.vega, 5),
        "theta": round(greeks.theta, 5),
        "rho": round(greeks.rho, 5),
        "openInterest": float(state.derivatives.open_interest(contract)),
        "netOpenInterest": 0.0,
    }


def _option_values(
    state: SimState, sec: SimSecurity, contract: OptionContract, now: float
) -> dict[str, float]:
    """The greeks plus what needs the contract's own trading: premium (percent) and volume."""
    spot = state.market.price(contract.option_class.underlying, now)
    price = state.market.last_price(sec, now)
    strike = float(contract.strike)
    breakeven = strike + price if contract.is_call else strike - price
    return {
        **_option_greeks(state, contract, now),
        "premium": round((breakeven - spot) / spot * 100 * (1 if contract.is_call else -1), 3),
        "vol": float(state.market.day_so_far(sec, now).volume),
    }


def _option_snapshot(
    state: SimState, sec: SimSecurity, contract: OptionContract, now: float
) -> dict[str, Any]:
    values = _option_values(state, sec, contract, now)
    under = contract.option_class.underlying
    size = contract.option_class.contract_size
    spot = state.market.last_price(under, now)
    return {
        "type": 1 if contract.is_call else 2,
        "owner": wire_sec(under),
        "strikeTime": contract.expiry.strftime(_DATE),
        "strikePrice": float(contract.strike),
        "contractSize": size,
        "contractSizeFloat": float(size),
        "openInterest": int(values["openInterest"]),
        "impliedVolatility": values["impliedVolatility"],
        "premium": values["premium"],
        "delta": values["delta"],
        "gamma": values["gamma"],
        "vega": values["vega"],
        "theta": values["theta"],
        "rho": values["rho"],
        "strikeTimestamp": _day_stamp(under, contract.expiry),
        "netOpenInterest": 0,
        "expiryDateDistance": (contract.expiry - _today(state, under)).days,
        "contractNominalValue": round(spot * size, 2),
        "ownerLotMultiplier": float(contract.option_class.lots_per_contract),
        "optionAreaType": 1,  # American: listed stock options
        "contractMultiplier": float(size),
    }


def _future_snapshot(
    state: SimState, sec: SimSecurity, contract: FutureContract, now: float
) -> dict[str, Any]:
    day = state.market.day_so_far(sec, now)
    open_interest = int(sec.avg_volume * 1.1)
    change = int((state.market.price(sec, now) - day.last_close) / max(day.last_close, 1) * 40_000)
    index = futures.INDEXES[contract.product.index]
    return {
        "lastSettlePrice": day.last_close,
        "position": open_interest,
        "positionChange": change,
        "lastTradeTime": contract.last_trade_day.strftime(_DATE),
        "lastTradeTimestamp": _day_stamp(index, contract.last_trade_day),
        "isMainContract": contract.main,
    }


def _warrant_values(state: SimState, sec: SimSecurity, w: Warrant, now: float) -> dict[str, Any]:
    spot = state.market.last_price(w.underlying, now)
    price = state.market.last_price(sec, now)
    greeks = w.greeks(spot, now)
    sign = 1.0 if w.kind in (WrtType.CALL, WrtType.BULL) else -1.0
    breakeven = w.strike + sign * price * w.ratio
    street = int(w.issue_size * (0.05 + 0.6 * abs(greeks.delta * w.ratio) * 0.5))
    leverage = spot / (price * w.ratio)
    itm = (spot - w.strike) / w.strike * 100 * sign
    return {
        "spot": spot,
        "price": price,
        "premium": round((breakeven - spot) / spot * 100 * sign, 3),
        "breakEvenPoint": round(breakeven, 3),
        "leverage": round(leverage, 3),
        "effectiveLeverage": round(abs(greeks.delta) * w.ratio * leverage, 3),
        "ipop": round(itm, 3),
        "street": street,
        "streetRate": round(street / w.issue_size * 100, 3),
        "delta": round(greeks.delta * w.ratio, 4),
        "implied": round(w.implied_vol() * 100, 3) if not w.is_cbbc else 0.0,
        "conversionPrice": round(price * w.ratio, 3),
        "priceRecoveryRatio": round((spot - w.call_level) / w.call_level * 100, 3)
        if w.is_cbbc
        else 0.0,
    }


def _hk_time(day: date) -> tuple[str, float]:
    moment = datetime.combine(day, time(0, 0), MARKET_TZ[QotMarket.HK])
    return day.strftime(_DATE), moment.timestamp()


def _warrant_snapshot(state: SimState, sec: SimSecurity, w: Warrant, now: float) -> dict[str, Any]:
    v = _warrant_values(state, sec, w, now)
    maturity, maturity_ts = _hk_time(w.maturity)
    last_trade, last_trade_ts = _hk_time(w.last_trade_day)
    return {
        "conversionRate": w.ratio,
        "warrantType": int(w.kind),
        "strikePrice": w.strike,
        "maturityTime": maturity,
        "endTradeTime": last_trade,
        "owner": wire_sec(w.underlying),
        "recoveryPrice": w.call_level,
        "streetVolumn": str(v["street"]),
        "issueVolumn": str(w.issue_size),
        "streetRate": v["streetRate"],
        "delta": v["delta"],
        "impliedVolatility": v["implied"],
        "premium": v["premium"],
        "maturityTimestamp": maturity_ts,
        "endTradeTimestamp": last_trade_ts,
        "leverage": v["leverage"],
        "ipop": v["ipop"],
        "breakEvenPoint": v["breakEvenPoint"],
        "conversionPrice": v["conversionPrice"],
        "priceRecoveryRatio": v["priceRecoveryRatio"],
        "issuerCode": w.issuer.name,
    }


# --- options -----------------------------------------------------------------------------


def _option_class(state: SimState, c2s: dict[str, Any]) -> tuple[SimSecurity, Any]:
    owner = security_of(state, required(c2s, "owner"))
    index_type = as_int(c2s.get("indexOptionType", 1) or 1, "indexOptionType")
    if index_type not in (1, 2):
        raise SimError(f"Unknown indexOptionType {index_type}")
    return owner, options.OPTION_CLASSES.get(owner.code) if index_type == 1 else None


def get_option_expiration_date(
    state: SimState, conn: ConnInfo, c2s: dict[str, Any]
) -> dict[str, Any]:
    """Qot_GetOptionExpirationDate (3224): the listed expiries of an underlying's options."""
    owner, option_class = _option_class(state, c2s)
    if option_class is None:
        return {"dateList": []}
    today = _today(state, owner)
    return {
        "dateList": [
            {
                "strikeTime": expiry.strftime(_DATE),
                "strikeTimestamp": _day_stamp(owner, expiry),
                "optionExpiryDateDistance": (expiry - today).days,
                "cycle": int(cycle),
            }
            for expiry, cycle in options.expiries(option_class, today)
        ]
    }


_FILTER_KEYS = (
    "impliedVolatility",
    "delta",
    "gamma",
    "vega",
    "theta",
    "rho",
    "openInterest",
    "netOpenInterest",
)


def _passes(
    state: SimState,
    sec: SimSecurity,
    contract: OptionContract,
    now: float,
    data_filter: dict[str, Any],
) -> bool:
    """Whether a series meets every range of a chain's dataFilter (volume, which needs the
    contract's day, only when a volume range is asked for)."""
    wants_volume = "volMin" in data_filter or "volMax" in data_filter
    values = (
        _option_values(state, sec, contract, now)
        if wants_volume
        else _option_greeks(state, contract, now)
    )
    for key in (*_FILTER_KEYS, "vol"):
        if key not in values:
            continue
        low = as_float(data_filter.get(f"{key}Min"), f"dataFilter.{key}Min")
        high = as_float(data_filter.get(f"{key}Max"), f"dataFilter.{key}Max")
        if (low is not None and values[key] < low) or (high is not None and values[key] > high):
            return False
    return True


def get_option_chain(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetOptionChain (3209): the series expiring in [beginTime, endTime] (at most 30 days
    apart), by type, in/out of the money and greeks ranges; static data with option ex-data."""
    owner, option_class = _option_class(state, c2s)
    begin = parse_time(str(required(c2s, "beginTime")), owner, end=False).date()
    end = parse_time(str(required(c2s, "endTime")), owner, end=True).date()
    if end < begin:
        raise SimError("endTime is before beginTime")
    if (end - begin).days > MAX_CHAIN_DAYS:
        raise SimError(
            f"The time span between beginTime and endTime cannot exceed {MAX_CHAIN_DAYS} days"
        )
    kind = as_int(c2s.get("type", 0) or 0, "type")
    condition = as_int(c2s.get("condition", 0) or 0, "condition")
    if kind not in (0, 1, 2) or condition not in (0, 1, 2):
        raise SimError(f"Unknown type {kind} or condition {condition}")
    data_filter = c2s.get("dataFilter") or {}
    if not isinstance(data_filter, dict):
        raise SimError("invalid request: dataFilter must be an object")
    if option_class is None:
        return {"optionChain": []}
    now = state.clock.now()
    today = _today(state, owner)
    spot = state.market.price(owner, now)
    chains = []
    for expiry, cycle in options.expiries(option_class, today):
        if not begin <= expiry <= end:
            continue
        rows = []
        for strike in options.strikes(option_class):
            row: dict[str, Any] = {}
            for is_call, side in ((True, "call"), (False, "put")):
                if kind and kind != (1 if is_call else 2):
                    continue
                in_money = spot > float(strike) if is_call else spot < float(strike)
                if condition and condition != (1 if in_money else 2):
                    continue
                contract = options.OptionContract(option_class, expiry, cycle, is_call, strike)
                sec = state.derivatives.lookup(contract.full_code, now)
                if sec is None:
                    continue
                if data_filter and not _passes(state, sec, contract, now, data_filter):
                    continue
                row[side] = static_with_ex(state, sec)
            if row:
                rows.append(row)
        chains.append(
            {
                "strikeTime": expiry.strftime(_DATE),
                "option": rows,
                "strikeTimestamp": _day_stamp(owner, expiry),
            }
        )
    return {"optionChain": chains}


# --- warrants ----------------------------------------------------------------------------


def _warrant_row(state: SimState, sec: SimSecurity, w: Warrant, now: float) -> dict[str, Any]:
    day = state.market.day_so_far(sec, now)
    asks, bids = state.market.book(sec, now, 1)
    v = _warrant_values(state, sec, w, now)
    maturity, maturity_ts = _hk_time(w.maturity)
    listed, listed_ts = _hk_time(w.list_date)
    last_trade, last_trade_ts = _hk_time(w.last_trade_day)
    row = {
        "stock": wire_sec(sec),
        "owner": wire_sec(w.underlying),
        "type": int(w.kind),
        "issuer": int(w.issuer),
        "maturityTime": maturity,
        "maturityTimestamp": maturity_ts,
        "listTime": listed,
        "listTimestamp": listed_ts,
        "lastTradeTime": last_trade,
        "lastTradeTimestamp": last_trade_ts,
        "conversionRatio": w.ratio,
        "lotSize": w.lot_size,
        "strikePrice": w.strike,
        "lastClosePrice": day.last_close,
        "name": w.name,
        "curPrice": day.price,
        "priceChangeVal": round(day.price - day.last_close, 3),
        "changeRate": round((day.price - day.last_close) / day.last_close * 100, 3),
        "status": 1,
        "bidPrice": bids[0][0],
        "askPrice": asks[0][0],
        "bidVol": str(bids[0][1]),
        "askVol": str(asks[0][1]),
        "volume": str(day.volume),
        "turnover": round(day.turnover, 2),
        "score": round(
            50
            + 40
            * (1 - min(abs(v["premium"]), 40) / 40)
            * min(day.volume / max(sec.avg_volume, 1), 1),
            1,
        ),
        "premium": v["premium"],
        "breakEvenPoint": v["breakEvenPoint"],
        "leverage": v["leverage"],
        "ipop": v["ipop"],
        "conversionPrice": v["conversionPrice"],
        "streetRate": v["streetRate"],
        "streetVol": str(v["street"]),
        "amplitude": round((day.high - day.low) / day.last_close * 100, 3),
        "issueSize": str(w.issue_size),
        "highPrice": day.high,
        "lowPrice": day.low,
        "effectiveLeverage": v["effectiveLeverage"],
    }
    if w.is_cbbc:
        row["recoveryPrice"] = w.call_level
        row["priceRecoveryRatio"] = v["priceRecoveryRatio"]
    else:
        row["impliedVolatility"] = v["implied"]
        row["delta"] = v["delta"]
    return row


# sortField (Qot_Common.SortField) → the row value it sorts by.
_WARRANT_SORT: dict[int, Callable[[dict[str, Any]], Any]] = {
    1: lambda r: r["stock"]["code"],
    2: lambda r: r["curPrice"],
    3: lambda r: r["priceChangeVal"],
    4: lambda r: r["changeRate"],
    5: lambda r: r["status"],
    6: lambda r: r["bidPrice"],
    7: lambda r: r["askPrice"],
    8: lambda r: int(r["bidVol"]),
    9: lambda r: int(r["askVol"]),
    10: lambda r: int(r["volume"]),
    11: lambda r: r["turnover"],
    12: lambda r: r["score"],
    13: lambda r: r["premium"],
    14: lambda r: r["effectiveLeverage"],
    15: lambda r: r.get("delta", 0.0),
    16: lambda r: r.get("impliedVolatility", 0.0),
    17: lambda r: r["type"],
    18: lambda r: r["strikePrice"],
    19: lambda r: r["breakEvenPoint"],
    20: lambda r: r["maturityTimestamp"],
    21: lambda r: r["listTimestamp"],
    22: lambda r: r["lastTradeTimestamp"],
    23: lambda r: r["leverage"],
    24: lambda r: r["ipop"],
    25: lambda r: r.get("recoveryPrice", 0.0),
    26: lambda r: r["conversionPrice"],
    27: lambda r: r["conversionRatio"],
    28: lambda r: r["streetRate"],
    29: lambda r: int(r["streetVol"]),
    30: lambda r: r["amplitude"],
    31: lambda r: r["name"],
    32: lambda r: r["issuer"],
    33: lambda r: r["lotSize"],
    34: lambda r: int(r["issueSize"]),
}
# c2s range filter prefix → the row value it bounds.
_WARRANT_RANGES: dict[str, Callable[[dict[str, Any]], float]] = {
    "curPrice": lambda r: r["curPrice"],
    "strikePrice": lambda r: r["strikePrice"],
    "street": lambda r: r["streetRate"],
    "conversion": lambda r: r["conversionRatio"],
    "vol": lambda r: float(r["volume"]),
    "premium": lambda r: r["premium"],
    "leverageRatio": lambda r: r["leverage"],
    "delta": lambda r: r.get("delta", 0.0),
    "implied": lambda r: r.get("impliedVolatility", 0.0),
    "recoveryPrice": lambda r: r.get("recoveryPrice", 0.0),
    "priceRecoveryRatio": lambda r: r.get("priceRecoveryRatio", 0.0),
}


def get_warrant(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetWarrant (3210): HK warrants and CBBCs, filtered, sorted and paged."""
    begin = as_int(required(c2s, "begin"), "begin")
    num = as_int(required(c2s, "num"), "num")
    sort_field = as_int(required(c2s, "sortField"), "sortField")
    ascend = bool(required(c2s, "ascend"))
    if begin < 0 or not 0 < num <= MAX_WARRANTS:
        raise SimError(f"num must be between 1 and {MAX_WARRANTS} and begin at least 0")
    sort_key = _WARRANT_SORT.get(sort_field)
    if sort_key is None:
        raise SimError(f"Unsupported sortField {sort_field} for warrants")
    owner = security_of(state, c2s["owner"]) if c2s.get("owner") else None
    if owner is not None and owner.security.market is not QotMarket.HK:
        raise SimError("Warrants are only available for HK securities")
    types = {as_int(t, "typeList") for t in c2s.get("typeList") or []}
    issuers = {as_int(i, "issuerList") for i in c2s.get("issuerList") or []}
    maturity_min = c2s.get("maturityTimeMin")
    maturity_max = c2s.get("maturityTimeMax")
    status = as_int(c2s.get("status", 0) or 0, "status")
    price_type = as_int(c2s.get("priceType", 0) or 0, "priceType")
    now = state.clock.now()
    hk_today = datetime.fromtimestamp(now, MARKET_TZ[QotMarket.HK]).date()
    rows = []
    for w in state.derivatives.warrants_on(hk_today):
        if owner is not None and w.owner != owner.code:
            continue
        if (types and int(w.kind) not in types) or (issuers and int(w.issuer) not in issuers):
            continue
        if maturity_min and w.maturity < _date_of(str(maturity_min)):
            continue
        if maturity_max and w.maturity > _date_of(str(maturity_max)):
            continue
        if status not in (0, 1):
            continue  # every listed issue here trades normally
        sec = state.derivatives.lookup(f"HK.{w.code}", now)
        if sec is None:
            continue  # a called CBBC
        row = _warrant_row(state, sec, w, now)
        if price_type and price_type != (2 if row["ipop"] > 0 else 1):
            continue
        if not _in_ranges(row, c2s):
            continue
        rows.append(row)
    rows.sort(key=lambda r: r["stock"]["code"])
    rows.sort(key=sort_key, reverse=not ascend)
    page = rows[begin : begin + num]
    return {"lastPage": begin + num >= len(rows), "allCount": len(rows), "warrantDataList": page}


def _date_of(text: str) -> date:
    try:
        return datetime.strptime(text.strip()[:10], _DATE).date()
    except ValueError:
        raise SimError(f"invalid time {text!r}: use yyyy-MM-dd") from None


def _in_ranges(row: dict[str, Any], c2s: dict[str, Any]) -> bool:
    for prefix, read in _WARRANT_RANGES.items():
        value = read(row)
        low = as_float(c2s.get(f"{prefix}Min"), f"{prefix}Min")
        high = as_float(c2s.get(f"{prefix}Max"), f"{prefix}Max")
        if (low is not None and value < low) or (high is not None and value > high):
            return False
    return True


# --- futures and references --------------------------------------------------------------


def _future_info(state: SimState, sec: SimSecurity) -> dict[str, Any]:
    contract = state.derivatives.terms(sec)
    if not isinstance(contract, FutureContract):
        raise SimError(f"{sec.code} is not a future")
    product = contract.product
    index = futures.INDEXES[product.index]
    info: dict[str, Any] = {
        "name": sec.name,
        "security": wire_sec(sec),
        "lastTradeTime": "" if contract.main else contract.last_trade_day.strftime(_DATE),
        "owner": wire_sec(index),
        "ownerOther": "",
        "exchange": product.exchange,
        "contractType": "Index Futures",
        "contractSize": float(product.multiplier),
        "contractSizeUnit": f"{index.currency.name} x index point",
        "quoteCurrency": index.currency.name,
        "minVar": float(product.tick),
        "minVarUnit": "index point",
        "quoteUnit": "index point",
        "tradeTime": [{"begin": float(b), "end": float(e)} for b, e in product.trade_times],
        "timeZone": product.time_zone,
        "exchangeFormatUrl": "",
    }
    if not contract.main:
        info["lastTradeTimestamp"] = _day_stamp(index, contract.last_trade_day)
    else:
        info["origin"] = {"market": int(sec.security.market), "code": contract.month_code}
    return info


def get_future_info(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetFutureInfo (3218): contract terms and sessions of futures."""
    chosen = securities_of(state, c2s)
    if not chosen:
        raise SimError("invalid request: securityList must not be empty")
    if len(chosen) > MAX_FUTURE_CODES:
        raise SimError(f"Too many securities: at most {MAX_FUTURE_CODES} per request")
    return {"futureInfoList": [_future_info(state, sec) for sec in chosen]}


def get_reference(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetReference (3206): an underlying's warrants (1), or a main contract's months (2)."""
    sec = security_of(state, required(c2s, "security"))
    kind = as_int(required(c2s, "referenceType"), "referenceType")
    now = state.clock.now()
    if kind == 1:
        if sec.sec_type is not SecurityType.STOCK:
            return {"staticInfoList": []}
        found = [
            state.derivatives.lookup(f"HK.{w.code}", now)
            for w in state.derivatives.warrants_on(_today(state, sec))
            if w.owner == sec.code
        ]
        return {"staticInfoList": [static_with_ex(state, s) for s in found if s is not None]}
    if kind == 2:
        contract = state.derivatives.terms(sec)
        if not isinstance(contract, FutureContract) or not contract.main:
            return {"staticInfoList": []}
        months = futures.contracts(contract.product, _today(state, sec))
        found = [
            state.derivatives.lookup(f"{sec.security.market.name}.{m.code}", now) for m in months
        ]
        return {"staticInfoList": [static_with_ex(state, s) for s in found if s is not None]}
    raise SimError(f"Unknown referenceType {kind}")


HANDLERS: dict[int, Handler] = {
    ProtoId.QOT_GET_OPTION_EXPIRATION_DATE: get_option_expiration_date,
    ProtoId.QOT_GET_OPTION_CHAIN: get_option_chain,
    ProtoId.QOT_GET_WARRANT: get_warrant,
    ProtoId.QOT_GET_FUTURE_INFO: get_future_info,
    ProtoId.QOT_GET_REFERENCE: get_reference,
}
