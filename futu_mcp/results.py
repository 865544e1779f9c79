"""Result shapes: output schemas and the row caps that keep a result inside an LLM's context.

Every list result is `{<rows>: [...], "count": n, "total": N, "truncated": bool}`: when a cap
cuts a result, `truncated` says so and `total` says how many rows there were, so the model can
narrow its question instead of silently missing rows.
"""

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

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
    Decimals as floats. Plain values and plain containers are told apart by their exact type
    first: rows are often plain already (a tool's own dicts), and this runs on every value of
    every result."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        return {
            k if type(k) is str else str(k): v if type(v) in _ATOMS else plain(v)
            for k, v in value.items()
        }
    if kind is list:
        return [v if type(v) in _ATOMS else plain(v) for v in value]
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


def page_result(key: str, rows: Sequence[Any], num: int, page: Any) -> dict[str, Any]:
    """The result of a search OpenD answers a page at a time (begin/num): the page's rows, how
    many match in all (`page.all_count`) and whether no more follow (`page.last_page`)."""
    return capped(
        key, rows, num, keep_first=True, all_count=page.all_count, last_page=page.last_page
    )


# The fields `page_result` adds, for its tool's output schema (`list_schema`'s `extra`).
PAGE_FIELDS: dict[str, dict[str, Any]] = {
    "all_count": {"type": "integer"},
    "last_page": {"type": "boolean"},
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


# Ids are strings in every schema: JavaScript clients round numbers past 2^53.
ID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "description": "decimal id, a string: JavaScript clients round numbers past 2^53",
}
