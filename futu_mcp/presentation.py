"""The form every result's values reach the client in, applied last (`errors.ok_result`).

Ids are decimal strings (JavaScript clients round numbers past 2^53), prices sit on the
security's tick grid, money has cents and ratios 4 decimals (no `-3.9823999999999997`), and a
quote or order time carries its market's UTC offset (OpenD writes local exchange time without
saying which). A row's market comes from its own `code`; nested rows (book levels) take the
enclosing row's.
"""

from bisect import bisect_left
from collections.abc import Callable
from datetime import datetime
from typing import Any

from opend.codes import QotMarket
from opend.market_rules import HK_SPREADS, MARKET_TZ

# uint64 ids (and int64 ones such as ticker sequences): strings, so no client rounds them.
ID_FIELDS = frozenset(
    {
        "acc_id",
        "order_id",
        "order_id_ex",
        "deal_id",
        "deal_id_ex",
        "cashflow_id",
        "position_id",
        "conn_id",
        "stock_id",
        "sequence",
    }
)
PRICE_FIELDS = frozenset(
    {
        "price",
        "last_price",
        "open_price",
        "high_price",
        "low_price",
        "prev_close_price",
        "open",
        "close",
        "high",
        "low",
        "last_close",
        "cur_price",
        "ask_price",
        "bid_price",
        "nominal_price",
        "aux_price",
        "highest52weeks_price",
        "lowest52weeks_price",
        "price_spread",
    }
)
# Averages fall between ticks: one more place than the grid, at least 3 as Futu's app shows.
AVERAGE_FIELDS = frozenset(
    {"avg_price", "cost_price", "average_cost", "diluted_cost", "dealt_avg_price"}
)
MONEY_FIELDS = frozenset(
    {
        "value",
        "turnover",
        "market_val",
        "pl_val",
        "today_pl_val",
        "today_trd_val",
        "today_buy_val",
        "today_sell_val",
        "unrealized_pl",
        "realized_pl",
        "total_market_val",
        "circular_market_val",
        "net_asset",
        "net_profit",
        "power",
        "max_power_short",
        "net_cash_power",
        "total_assets",
        "securities_assets",
        "fund_assets",
        "bond_assets",
        "cash",
        "long_mv",
        "short_mv",
        "pending_asset",
        "frozen_cash",
        "debt_cash",
        "avl_withdrawal_cash",
        "max_withdrawal",
        "available_funds",
        "initial_margin",
        "margin_call_margin",
        "maintenance_margin",
        "fee_amount",
        "cashflow_amount",
        "long_required_im",
        "short_required_im",
    }
)
RATIO_FIELDS = frozenset(
    {
        "pl_ratio",
        "change_rate",
        "turnover_rate",
        "amplitude",
        "volume_ratio",
        "pe_ratio",
        "pb_ratio",
        "pe_ttm_ratio",
        "ey_ratio",
        "dividend_ratio_ttm",
        "dividend_ttm",
        "earning_per_share",
        "net_asset_per_share",
        "short_fee_rate",
        "alert_long_ratio",
        "alert_short_ratio",
        "im_long_ratio",
        "im_short_ratio",
        "mcm_long_ratio",
        "mcm_short_ratio",
        "mm_long_ratio",
        "mm_short_ratio",
    }
)
# Local market times as OpenD writes them ("2026-12-07 09:30:00[.123]"), zone not said.
TIME_FIELDS = frozenset(
    {
        "time",
        "time_key",
        "update_time",
        "create_time",
        "updated_time",
        "svr_recv_time_bid",
        "svr_recv_time_ask",
        "last_trade_time",
    }
)
RATIO_PLACES = 4
MONEY_PLACES = 2


def present(value: Any, market: QotMarket | None = None) -> Any:
    """`value` (JSON-ready, from `plain`) as the client gets it; rows take their market from
    their own `code`, nested rows (book levels) from the enclosing one.

    This runs on every value of every result, so a row is copied whole and only its shaped
    fields (known from its field names, worked out once per set of names) and its nested
    rows are visited, not each of its values. A shape leaves a value of another type as it
    is (a nested row under a shaped name has been presented already)."""
    kind = type(value)
    if kind is list:
        return [present(v, market) for v in value]
    if kind is not dict:
        return value
    code = value.get("code")
    if type(code) is str:
        market = _MARKETS.get(code.partition(".")[0], market)
    out = dict(value)
    kinds = set(map(type, value.values()))
    if dict in kinds or list in kinds:
        for name, field in value.items():
            if type(field) is dict or type(field) is list:
                out[name] = present(field, market)
    for name, shape in _shapes_of(value):
        out[name] = shape(out[name], market)
    return out


# A row's field names (in order) → its shaped fields and their shapes; results have few layouts.
_layouts: dict[tuple[str, ...], tuple[tuple[str, "Shape"], ...]] = {}
_LAYOUTS_KEPT = 1024


def _shapes_of(row: dict[str, Any]) -> tuple[tuple[str, "Shape"], ...]:
    names = tuple(row)
    found = _layouts.get(names)
    if found is None:
        if len(_layouts) >= _LAYOUTS_KEPT:
            _layouts.clear()
        found = _layouts[names] = tuple((name, _SHAPES[name]) for name in names if name in _SHAPES)
    return found


_MARKETS: dict[str, QotMarket] = dict(QotMarket.__members__)


def _market_of(code: Any) -> QotMarket | None:
    if not isinstance(code, str):
        return None
    return _MARKETS.get(code.partition(".")[0])


def _places(price: float, market: QotMarket | None) -> int:
    """Decimal places of the tick at `price`. Where the grid depends on more than the price
    (A-share ETFs step in 0.001, stocks in 0.01), the finest step: an extra place shows no
    noise, a missing one would hide a real price."""
    if market is QotMarket.HK:
        band = bisect_left(_HK_UPPERS, price)  # the first band whose upper bound >= price
        return _HK_BAND_PLACES[band] if band < len(_HK_BAND_PLACES) else 0
    if market is QotMarket.US:
        return 4 if abs(price) < 1 else 2  # US sub-dollar quotes step in 0.0001 (Reg NMS 612)
    return 3


# The HK spread table as upper bounds and the decimal places of each band's tick, in floats:
# this runs for every price of every row.
_HK_UPPERS: tuple[float, ...] = tuple(float(upper) for upper, _tick in HK_SPREADS)
_HK_BAND_PLACES: tuple[int, ...] = tuple(
    max(-int(tick.normalize().as_tuple().exponent), 0) for _upper, tick in HK_SPREADS
)


def _price(value: Any, market: QotMarket | None) -> Any:
    if type(value) is not float:
        return value
    return round(value, 6 if market is None else _places(value, market))


def _average(value: Any, market: QotMarket | None) -> Any:
    if type(value) is not float:
        return value
    return round(value, max(_places(value, market) + 1, 3))


def _money(value: Any, market: QotMarket | None) -> Any:
    return round(value, MONEY_PLACES) if type(value) is float else value


def _ratio(value: Any, market: QotMarket | None) -> Any:
    return round(value, RATIO_PLACES) if type(value) is float else value


def _id(value: Any, market: QotMarket | None) -> Any:
    return str(value) if type(value) is int else value


def _zoned(text: Any, market: QotMarket | None) -> Any:
    """`2026-12-07 09:30:00[.123]` in `market`'s zone as ISO 8601 with its offset; anything else
    (no market, already zoned, not a time) unchanged."""
    if (
        type(text) is not str
        or market is None
        or len(text) < 19
        or text[10] != " "
        or len(text) > 26
    ):
        return text
    offset = _offsets.get((market, text[:13]))
    if offset is None:
        offset = _offset(market, text)
        if offset is None:
            return text
    return f"{text[:10]}T{text[11:]}{offset}"


def instant(text: str | None, code: str | None) -> float:
    """A local market time of the security `code` as a POSIX timestamp, to sort rows of
    several markets (HK and US orders) in the order they happened; 0 when unknown."""
    zoned = _zoned(text, _market_of(code))
    try:
        return datetime.fromisoformat(zoned).timestamp() if zoned != text else 0.0
    except (TypeError, ValueError):
        return 0.0


# (market, "YYYY-MM-DD HH") → "+08:00": a zone's offset changes only on the hour, and working
# it out costs more than the rest of a row.
_offsets: dict[tuple[QotMarket, str], str] = {}
_OFFSETS_KEPT = 4096


def _offset(market: QotMarket, text: str) -> str | None:
    zone = MARKET_TZ.get(market)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if zone is None or when.tzinfo is not None:
        return None
    offset = when.replace(tzinfo=zone).isoformat()[19:]
    offset = offset[offset.find("+") if "+" in offset else offset.rfind("-") :]
    if len(_offsets) >= _OFFSETS_KEPT:
        _offsets.clear()
    _offsets[(market, text[:13])] = offset
    return offset


Shape = Callable[[Any, QotMarket | None], Any]
_SHAPES: dict[str, Shape] = {
    **dict.fromkeys(PRICE_FIELDS, _price),
    **dict.fromkeys(AVERAGE_FIELDS, _average),
    **dict.fromkeys(MONEY_FIELDS, _money),
    **dict.fromkeys(RATIO_FIELDS, _ratio),
    **dict.fromkeys(ID_FIELDS, _id),
    **dict.fromkeys(TIME_FIELDS, _zoned),
}
