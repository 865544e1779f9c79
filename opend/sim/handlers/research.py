"""Research: capital flow and distribution, owner plates, IPOs, the stock screen, rehab."""

from datetime import date, datetime, timedelta
from typing import Any

from opend.codes import QotMarket
from opend.enums import SortDir
from opend.market_rules import MARKET_TZ
from opend.protoids import ProtoId
from opend.sim import ipo, rehab
from opend.sim.capflow import BIG, MID, SMALL, SUPER, Flow
from opend.sim.handlers.common import (
    TIME_FORMAT,
    ConnInfo,
    Handler,
    SimError,
    as_float,
    as_int,
    local_time,
    midnight_stamp,
    name_of,
    parse_time,
    required,
    securities_of,
    security_of,
    wire_sec,
)
from opend.sim.screener import Condition, FilterError
from opend.sim.state import SimState
from opend.sim.universe import SECURITIES, SimSecurity, owner_plates

MAX_OWNER_PLATE_CODES = 200
MAX_FILTER_ROWS = 200
_HISTORY_DAYS = 365  # OpenD keeps a year of daily capital flow


def _flow_item(flow: Flow, when: str, stamp: float, *, main: bool) -> dict[str, Any]:
    item = {
        "inFlow": round(flow.net(), 2),
        "time": when,
        "timestamp": stamp,
        "superInFlow": round(flow.net(SUPER), 2),
        "bigInFlow": round(flow.net(BIG), 2),
        "midInFlow": round(flow.net(MID), 2),
        "smlInFlow": round(flow.net(SMALL), 2),
    }
    if main:
        item["mainInFlow"] = round(flow.net(SUPER) + flow.net(BIG), 2)
    return item


def get_capital_flow(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetCapitalFlow (3211): today's minute-by-minute net inflow (intraday), or one figure
    per day, week or month over a window of the last year."""
    sec = _stock(state, required(c2s, "security"))
    period = as_int(c2s.get("periodType", 1) or 1, "periodType")
    now = state.clock.now()
    flows = state.capital_flows
    if period == 1:
        items = [
            _flow_item(flow, when.strftime(TIME_FORMAT), when.timestamp(), main=False)
            for when, flow in flows.intraday(sec, now)
        ]
    elif period in (2, 3, 4):
        today = state.market.local(sec, now).date()
        first = today - timedelta(days=_HISTORY_DAYS)
        begin = _day(c2s.get("beginTime"), sec, first)
        end = _day(c2s.get("endTime"), sec, today)
        if end < begin:
            raise SimError("endTime is before beginTime")
        buckets: dict[date, Flow] = {}
        for day, flow in flows.daily(sec, now, max(begin, first), min(end, today)):
            key = {2: day, 3: day - timedelta(days=day.weekday()), 4: day.replace(day=1)}[period]
            buckets.setdefault(key, Flow()).add(flow)
        items = [
            _flow_item(flow, day.strftime("%Y-%m-%d"), midnight_stamp(sec, day), main=True)
            for day, flow in sorted(buckets.items())
        ]
    else:
        raise SimError(f"Unknown periodType {period}")
    reply: dict[str, Any] = {"flowItemList": items}
    if items:
        reply["lastValidTime"] = items[-1]["time"]
        reply["lastValidTimestamp"] = items[-1]["timestamp"]
    return reply


def _market(value: Any, name: str) -> QotMarket:
    raw = as_int(value, name)
    try:
        return QotMarket(raw)
    except ValueError:
        raise SimError(f"Unknown market {raw}") from None


def _day(text: Any, sec: SimSecurity, default: date) -> date:
    if not text:
        return default
    return parse_time(str(text), sec, end=False).date()


def _stock(state: SimState, obj: Any) -> SimSecurity:
    sec = security_of(state, obj)
    if sec.code not in SECURITIES:
        raise SimError(f"Capital flow is only available for stocks, ETFs and warrants ({sec.code})")
    return sec


def get_capital_distribution(
    state: SimState, conn: ConnInfo, c2s: dict[str, Any]
) -> dict[str, Any]:
    """Qot_GetCapitalDistribution (3212): today's inflow and outflow by order size."""
    sec = _stock(state, required(c2s, "security"))
    now = state.clock.now()
    flow = state.capital_flows.today(sec, now)
    reply: dict[str, Any] = {"updateTime": local_time(state, sec, now), "updateTimestamp": now}
    for k, size in ((SUPER, "Super"), (BIG, "Big"), (MID, "Mid"), (SMALL, "Small")):
        reply[f"capitalIn{size}"] = round(flow.inflow[k], 2)
        reply[f"capitalOut{size}"] = round(flow.outflow[k], 2)
    return reply


def get_owner_plate(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetOwnerPlate (3207): the plates each security belongs to."""
    chosen = securities_of(state, c2s)
    if not chosen:
        raise SimError("invalid request: securityList must not be empty")
    if len(chosen) > MAX_OWNER_PLATE_CODES:
        raise SimError(f"Too many securities: at most {MAX_OWNER_PLATE_CODES} per request")
    return {
        "ownerPlateList": [
            {
                **name_of(sec),
                "plateInfoList": [
                    {
                        "plate": p.security.to_wire(),
                        "name": p.name,
                        "plateType": int(p.plate_type),
                    }
                    for p in owner_plates(sec.code)
                ],
            }
            for sec in chosen
        ]
    }


def _ipo_time(day: date, market: QotMarket) -> tuple[str, float]:
    midnight = datetime(day.year, day.month, day.day, tzinfo=MARKET_TZ[market])
    return day.strftime("%Y-%m-%d"), midnight.timestamp()


def get_ipo_list(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetIpoList (3217): a market's coming listings (SH and SZ alike mean A-shares)."""
    market = _market(required(c2s, "market"), "market")
    if market not in (QotMarket.HK, QotMarket.US, QotMarket.SH, QotMarket.SZ):
        return {"ipoList": []}
    today = datetime.fromtimestamp(state.clock.now(), MARKET_TZ[market]).date()
    items = []
    for item in ipo.calendar(state.seed, market, today):
        listed, listed_ts = _ipo_time(item.list_date, item.market)
        entry: dict[str, Any] = {
            "basic": {
                "security": {"market": int(item.market), "code": item.code},
                "name": item.name,
                "listTime": listed,
                "listTimestamp": listed_ts,
            }
        }
        if item.market is QotMarket.HK:
            end, end_ts = _ipo_time(item.apply_end, item.market)
            entry["hkExData"] = {
                "ipoPriceMin": item.price_min,
                "ipoPriceMax": item.price_max,
                "listPrice": 0.0,  # known on the listing day
                "lotSize": item.lot_size,
                "entrancePrice": item.entrance_fee,
                "isSubscribeStatus": today <= item.apply_end,
                "applyEndTime": end,
                "applyEndTimestamp": end_ts,
            }
        elif item.market is QotMarket.US:
            entry["usExData"] = {
                "ipoPriceMin": item.price_min,
                "ipoPriceMax": item.price_max,
                "issueSize": str(item.issue_size),
            }
        else:
            apply, apply_ts = _ipo_time(item.apply_start, item.market)
            win, win_ts = _ipo_time(item.apply_start + timedelta(days=2), item.market)
            entry["cnExData"] = {
                "applyCode": f"7{item.code[1:]}" if item.market is QotMarket.SH else item.code,
                "issueSize": str(item.issue_size),
                "onlineIssueSize": str(item.issue_size // 4),
                "applyUpperLimit": str(item.issue_size // 4000 // 500 * 500),
                "applyLimitMarketValue": str(item.issue_size // 4000 // 500 * 5000),
                "isEstimateIpoPrice": today < item.apply_start,
                "ipoPrice": item.price_min,
                "industryPeRate": item.industry_pe,
                "isEstimateWinningRatio": today < item.apply_start + timedelta(days=2),
                "winningRatio": item.winning_ratio,
                "issuePeRate": item.issue_pe,
                "applyTime": apply,
                "applyTimestamp": apply_ts,
                "winningTime": win,
                "winningTimestamp": win_ts,
                "isHasWon": False,
            }
        items.append(entry)
    return {"ipoList": items}


_KINDS = (
    ("baseFilterList", "base", "baseDataList"),
    ("accumulateFilterList", "accumulate", "accumulateDataList"),
    ("financialFilterList", "financial", "financialDataList"),
)


def _conditions(c2s: dict[str, Any]) -> list[Condition]:
    found: list[Condition] = []
    for list_name, kind, _data in _KINDS:
        items = c2s.get(list_name) or []
        if not isinstance(items, list):
            raise SimError(f"invalid request: {list_name} must be a list")
        for item in items:
            if not isinstance(item, dict):
                raise SimError(f"invalid request: {list_name} items must be objects")
            sort = as_int(item.get("sortDir", 0) or 0, "sortDir")
            if sort not in (0, 1, 2):
                raise SimError(f"Unknown sortDir {sort}")
            found.append(
                Condition(
                    kind=kind,
                    field=as_int(required(item, "fieldName"), "fieldName"),
                    low=as_float(item.get("filterMin"), "filterMin"),
                    high=as_float(item.get("filterMax"), "filterMax"),
                    filtering=item.get("isNoFilter") is False,
                    sort=SortDir(sort),
                    days=as_int(required(item, "days"), "days") if kind == "accumulate" else 0,
                    quarter=as_int(required(item, "quarter"), "quarter")
                    if kind == "financial"
                    else 0,
                )
            )
    if c2s.get("patternFilterList") or c2s.get("customIndicatorFilterList"):
        raise SimError("Pattern and custom indicator filters are not supported by the simulator")
    return found


def stock_filter(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_StockFilter (3215): the market's stocks meeting every condition, paged."""
    begin = as_int(required(c2s, "begin"), "begin")
    num = as_int(required(c2s, "num"), "num")
    if begin < 0 or not 0 < num <= MAX_FILTER_ROWS:
        raise SimError(f"num must be between 1 and {MAX_FILTER_ROWS} and begin at least 0")
    market = _market(required(c2s, "market"), "market")
    plate = c2s.get("plate")
    plate_key = None
    if plate:
        if not isinstance(plate, dict):
            raise SimError("invalid request: plate must be a security")
        plate_key = f"{_market(plate.get('market'), 'plate.market').name}.{plate.get('code')}"
    conditions = _conditions(c2s)
    try:
        rows = state.screener.run(market, plate_key, conditions, state.clock.now())
    except FilterError as exc:
        raise SimError(str(exc)) from None
    page = rows[begin : begin + num]
    data = []
    for row in page:
        entry: dict[str, Any] = {"security": wire_sec(row.sec), "name": row.sec.name}
        for _list, kind, data_name in _KINDS:
            values = []
            for condition, value in zip(conditions, row.values, strict=True):
                if condition.kind != kind:
                    continue
                item: dict[str, Any] = {"fieldName": condition.field, "value": value}
                if kind == "accumulate":
                    item["days"] = condition.days
                if kind == "financial":
                    item["quarter"] = condition.quarter
                values.append(item)
            if values:
                entry[data_name] = values
        data.append(entry)
    return {"lastPage": begin + num >= len(rows), "allCount": len(rows), "dataList": data}


def request_rehab(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_RequestRehab (3105): the security's dividends and splits with their factors."""
    sec = security_of(state, required(c2s, "security"))
    today = state.market.local(sec, state.clock.now()).date()
    rows = []
    for event in rehab.events(sec.code, today):
        row: dict[str, Any] = {
            "time": event.day.strftime("%Y-%m-%d"),
            "timestamp": midnight_stamp(sec, event.day),
            "companyActFlag": str(event.flags),
            "fwdFactorA": event.fwd_a,
            "fwdFactorB": event.fwd_b,
            "bwdFactorA": event.bwd_a,
            "bwdFactorB": event.bwd_b,
        }
        if event.flags & rehab.CompanyAct.SPLIT:
            row["splitBase"] = event.split_base
            row["splitErt"] = event.split_ert
        if event.flags & rehab.CompanyAct.DIVIDEND:
            row["dividend"] = event.dividend
        rows.append(row)
    return {"rehabList": rows}


HANDLERS: dict[int, Handler] = {
    ProtoId.QOT_GET_CAPITAL_FLOW: get_capital_flow,
    ProtoId.QOT_GET_CAPITAL_DISTRIBUTION: get_capital_distribution,
    ProtoId.QOT_GET_OWNER_PLATE: get_owner_plate,
    ProtoId.QOT_GET_IPO_LIST: get_ipo_list,
    ProtoId.QOT_STOCK_FILTER: stock_filter,
    ProtoId.QOT_REQUEST_REHAB: request_rehab,
}
