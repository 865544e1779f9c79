"""The tool table: names, scopes and annotations as in the contract; flat, snapshotted schemas."""

import ast
import json
import os
from pathlib import Path
from typing import Any

import pytest

from futu_mcp.config import DEFAULT_TOOLSETS
from futu_mcp.tools.registry import all_tools, parse_toolsets, toolset_names
from futu_mcp.toolspec import visible_tools

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"
QUOTE = {
    "futu_get_quote",
    "futu_get_kline",
    "futu_get_orderbook",
    "futu_get_ticker",
    "futu_get_rt",
    "futu_get_snapshot",
    "futu_get_static",
    "futu_get_broker",
    "futu_ping",
    "futu_list_plates",
    "futu_plate_stocks",
}
ACCOUNT = {
    "futu_list_accounts",
    "futu_get_funds",
    "futu_get_positions",
    "futu_get_orders",
    "futu_get_deals",
}
TRADE = {"futu_place_order", "futu_modify_order", "futu_cancel_order"}
HISTORY = {
    "futu_get_history_orders",
    "futu_get_history_deals",
    "futu_get_max_trd_qtys",
    "futu_get_order_fee",
    "futu_get_margin_ratio",
    "futu_get_cash_flow",
}
CALENDAR = {"futu_get_market_state", "futu_get_trading_days"}
DERIVATIVES = {
    "futu_get_option_expirations",
    "futu_get_option_chain",
    "futu_get_warrant",
    "futu_get_future_info",
    "futu_get_reference",
}
RESEARCH = {
    "futu_get_capital_flow",
    "futu_get_capital_distribution",
    "futu_get_owner_plate",
    "futu_get_ipo_list",
    "futu_get_stock_filter",
    "futu_get_rehab",
}
WATCHLIST = {"futu_get_user_security_group", "futu_get_user_security", "futu_get_price_reminder"}
# The issue-14 sets: quote-scoped reads.
MARKET_READS = CALENDAR | DERIVATIVES | RESEARCH | WATCHLIST
ALL = parse_toolsets("all")


def published() -> list[dict[str, Any]]:
    """What tools/list shows a key with every scope, in wire form."""
    return [
        {
            "name": t.name,
            "title": t.title,
            "description": t.description,
            "inputSchema": t.input_schema(),
            "outputSchema": t.output_schema,
            "annotations": t.annotations.model_dump(by_alias=True, exclude_none=True),
        }
        for t in all_tools()
    ]


def test_the_tools_their_sets_and_their_scopes() -> None:
    tools = {t.name: t for t in all_tools()}
    assert set(tools) == QUOTE | ACCOUNT | TRADE | HISTORY | MARKET_READS
    assert len(all_tools()) == 41
    sets = {"quote": QUOTE, "account": ACCOUNT, "trade": TRADE}
    sets |= {"history": HISTORY, "calendar": CALENDAR, "derivatives": DERIVATIVES}
    sets |= {"research": RESEARCH, "watchlist": WATCHLIST}
    for toolset, names in sets.items():
        assert {t.name for t in all_tools() if t.toolset == toolset} == names
    default = {t.name for t in all_tools() if t.toolset in DEFAULT_TOOLSETS}
    assert default == QUOTE | ACCOUNT | TRADE and len(default) == 19
    for name in QUOTE | MARKET_READS:
        assert tools[name].scopes() == {"qot:read"}
    for name in ACCOUNT | HISTORY:
        assert tools[name].scopes() == {"acc:read"}
    for name in TRADE:
        assert tools[name].scopes() == {"trade:real", "trade:simulate"}
        args = tools[name].args
        assert tools[name].scope_for(args.model_validate(_minimal(name))) == "trade:simulate"
        real = args.model_validate({**_minimal(name), "trd_env": "REAL"})
        assert tools[name].scope_for(real) == "trade:real"


def _minimal(name: str) -> dict[str, Any]:
    if name == "futu_place_order":
        return {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": 300}
    return {"order_id": "1", "qty": 1} if name == "futu_modify_order" else {"order_id": "1"}


def test_annotations_follow_the_kind_of_tool() -> None:
    for tool in all_tools():
        ann = tool.annotations
        assert ann.open_world_hint is True
        if tool.name in TRADE:
            assert ann.read_only_hint is False and ann.destructive_hint is True
        else:
            assert ann.read_only_hint is True and ann.destructive_hint is False
    by_name = {t.name: t.annotations for t in all_tools()}
    assert by_name["futu_place_order"].idempotent_hint is False
    assert by_name["futu_cancel_order"].idempotent_hint is True


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_input_schemas_are_flat_strict_and_string_enums() -> None:
    for tool in all_tools():
        schema = tool.input_schema()
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        for node in _walk(schema):
            assert not {"anyOf", "oneOf", "allOf", "$ref", "$defs"} & set(node), tool.name
            if "enum" in node:
                assert node["type"] == "string"
                assert all(isinstance(v, str) for v in node["enum"])
            if "type" in node:
                assert isinstance(node["type"], str), tool.name
        for name, prop in schema["properties"].items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"


def test_every_tool_has_a_description_and_an_object_output_schema() -> None:
    for tool in all_tools():
        assert len(tool.description) > 80
        assert tool.output_schema["type"] == "object"
        assert tool.output_schema["required"]


def _shown(scopes: set[str], *, read_only: bool = False, toolsets: Any = ALL) -> set[str]:
    shown = visible_tools(all_tools(), toolsets=toolsets, read_only=read_only, scopes=scopes)
    return {t.name for t in shown}


def test_visible_tools_follow_toolsets_scopes_and_read_only() -> None:
    assert _shown({"qot:read"}) == QUOTE | MARKET_READS
    assert _shown({"acc:read"}) == ACCOUNT | HISTORY
    assert _shown({"trade:simulate"}) == TRADE
    assert _shown({"trade:real"}) == TRADE
    everything = {"qot:read", "acc:read", "trade:simulate", "trade:real"}
    assert _shown(everything, read_only=True) == QUOTE | ACCOUNT | HISTORY | MARKET_READS
    assert _shown(set()) == set()
    assert _shown(everything, toolsets=DEFAULT_TOOLSETS) == QUOTE | ACCOUNT | TRADE
    assert _shown(everything, toolsets={"history"}) == HISTORY
    assert _shown({"qot:read"}, toolsets={"history", "trade"}) == set()
    # Served at all (no key yet): toolsets and read-only decide.
    served = visible_tools(all_tools(), toolsets={"trade", "calendar"}, read_only=True)
    assert {t.name for t in served} == CALENDAR


def test_toolset_names_expand_and_unknown_ones_are_refused() -> None:
    assert parse_toolsets("default") == set(DEFAULT_TOOLSETS)
    assert parse_toolsets("all") == {
        *("quote", "account", "trade", "history", "calendar"),
        *("derivatives", "research", "watchlist"),
    }
    assert parse_toolsets(" Quote , history,") == {"quote", "history"}
    assert parse_toolsets(["default", "calendar"]) == {*DEFAULT_TOOLSETS, "calendar"}
    with pytest.raises(ValueError) as err:
        parse_toolsets("quote,histroy")
    assert str(err.value) == (
        "unknown toolset 'histroy' (valid: quote, account, trade, history, calendar, "
        "derivatives, research, watchlist, default, all)"
    )
    with pytest.raises(ValueError, match="expected one or more of quote, account"):
        parse_toolsets(" , ")
    assert toolset_names()[-2:] == ("default", "all")


def test_published_schemas_match_the_snapshot() -> None:
    """A change to what LLM clients see must be deliberate: UPDATE_SNAPSHOTS=1 rewrites it."""
    current = published()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(
            json.dumps(current, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if os.environ.get("UPDATE_SNAPSHOTS") != "1":
            pytest.fail(
                f"snapshot {SNAPSHOT.name} was missing and has been written; review and commit it"
            )
    assert current == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def _imports(path: Path) -> set[str]:
    """The modules a source file imports (at any depth: lazy imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_tool_module_imports_the_registry_and_toolspec_imports_no_tool() -> None:
    """The registry imports the tool modules, never the other way round (no import cycle)."""
    package = Path(__file__).resolve().parents[2] / "futu_mcp"
    for module in (package / "tools").glob("*.py"):
        if module.name != "registry.py":
            assert "futu_mcp.tools.registry" not in _imports(module), module.name
    spec_imports = _imports(package / "toolspec.py") | _imports(package / "tools" / "__init__.py")
    assert not {name for name in spec_imports if name.startswith("futu_mcp.tools")}
    assert not list(package.glob("tools_*.py"))  # the old flat modules are gone
