"""Result shapes: output schemas, the row caps that keep a result inside an LLM's context, and
the form every value reaches the client in.

Every list result is `{<rows>: [...], "count": n, "total": N, "truncated": bool}`: when a cap
cuts a result, `truncated` says so and `total` says how many rows there were, so the model can
narrow its question instead of silently missing rows.

`present` is the last step of every result: ids are decimal strings (JavaScript clients round
numbers past 2^53), prices sit on the security's tick grid, money has cents, ratios 4 decimals
(no `-3.9823999999999997`), and a time carries its market's UTC offset.
"""

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from opend.codes import QotMarket
from opend.exchanges import HK_SPREADS, MARKET_TZ
from opend.models import Model

# Field names of each client result class, read once (dataclasses.fields() is not free).
_FIELDS: dict[type, tuple[str, ...]] = {}
_ATOMS = frozenset({str, int, float, bool, type(None)})


def model_dict(value: Any) -> Any:
    """What `Model.to_dict()` (dataclasses.asdict) returns, without asdict's deepcopy of every
    leaf: a quote row costs 3 us instead of 25 us, on every call of every read tool."""
    cls = type(value)
    names = _FIELDS.get(cls)
    if names is None:
        if not dataclasses.is_dataclass(cls):
            if isinstance(value, list | tuple):
                return cls(model_dict(v) for v in value)
            if isinstance(value, dict):
                return {k: model_dict(v) for k, v in value.items()}
            return value  # str, int, float, bool, None: immutable, as asdict's deepcopy gives
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    out = {}
    for name in names:
        field = getattr(value, name)
        out[name] = field if type(field) in _ATOMS else model_dict(field)
    return out


def plain(value: Any) -> Any:
    """A JSON-ready copy: client results via `to_dict()` (already JSON-ready), enums by name,
    Decimals as floats."""
    if isinstance(value, Model) and type(value).to_dict is Model.to_dict:
        return model_dict(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, Decimal):
        return float(value)
    return value


def capped(
    key: str, rows: Sequence[Any], limit: int, *, keep_first: bool = False, **extra: Any
) -> dict[str, Any]:
    """The list result for `rows`, cut to `limit`: the last rows (the most recent), or the
    first ones with `keep_first` (history read forward from a start date)."""
    total = len(rows)
    if total <= limit:
        kept = list(rows)
    else:
        kept = list(rows[:limit]) if keep_first else list(rows[-limit:])
    return {
        key: [plain(r) for r in kept],
        "count": len(kept),
        "total": total,
        "truncated": total > limit,
        **{k: plain(v) for k, v in extra.items()},
    }


def list_schema(
    key: str,
    item: str,
    extra: Mapping[str, dict[str, Any]] | None = None,
    ids: Iterable[str] = (),
) -> dict[str, Any]:
    """Output schema of a capped list result; `item` describes a row for the model, `ids` names
    the row's id fields (decimal strings)."""
    row: dict[str, Any] = {"type": "object"}
    if ids:
        row["properties"] = {name: ID_SCHEMA for name in ids}
    props: dict[str, Any] = {
        key: {"type": "array", "items": row, "description": item},
        "count": {"type": "integer", "description": "rows returned"},
        "total": {"type": "integer", "description": "rows available before the cap"},
        "truncated": {"type": "boolean", "description": "true when the cap cut the result"},
    }
    props.update(extra or {})
    return {"type": "object", "properties": props, "required": [key, "count", "total", "truncated"]}


def object_schema(
    props: Mapping[str, dict[str, Any]], required: Iterable[str] = ()
) -> dict[str, Any]:
    """Output schema of a single-object result."""
    return {"type": "object", "properties": dict(props), "required": list(required)}


# uint64 ids (and int64 ones such as ticker sequences): strings, so no client rounds them.
ID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "description": "decimal id, a string: JavaScript clients round numbers past 2^53",
}
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
    their own `code`, nested rows (book levels) from the enclosing one."""
    if isinstance(value, list):
        return [present(v, market) for v in value]
    if not isinstance(value, dict):
        return value
    market = _market_of(value.get("code")) or market
    out = {}
    for name, field in value.items():
        kind = type(field)
        if kind is dict or kind is list:
            out[name] = present(field, market)
            continue
        shape = _SHAPES.get(name)
        out[name] = field if shape is None else shape(field, market)
    return out


def _market_of(code: Any) -> QotMarket | None:
    if not isinstance(code, str):
        return None
    return QotMarket.__members__.get(code.partition(".")[0])


def _places(price: float, market: QotMarket | None) -> int:
    """Decimal places of the tick at `price`. Where the grid depends on more than the price
    (A-share ETFs step in 0.001, stocks in 0.01), the finest step: an extra place shows no
    noise, a missing one would hide a real price."""
    if market is QotMarket.HK:
        return next((places for upper, places in _HK_PLACES if price <= upper), 0)
    if market is QotMarket.US:
        return 4 if abs(price) < 1 else 2  # US sub-dollar quotes step in 0.0001 (Reg NMS 612)
    return 3


# The HK spread table as (upper bound, decimal places of its tick), in floats: this runs for
# every price of every row.
_HK_PLACES: tuple[tuple[float, int], ...] = tuple(
    (float(upper), max(-int(tick.normalize().as_tuple().exponent), 0)) for upper, tick in HK_SPREADS
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


_SHAPES: dict[str, Callable[[Any, QotMarket | None], Any]] = {
    **dict.fromkeys(PRICE_FIELDS, _price),
    **dict.fromkeys(AVERAGE_FIELDS, _average),
    **dict.fromkeys(MONEY_FIELDS, _money),
    **dict.fromkeys(RATIO_FIELDS, _ratio),
    **dict.fromkeys(ID_FIELDS, _id),
    **dict.fromkeys(TIME_FIELDS, _zoned),
}
