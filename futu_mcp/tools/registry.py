"""The one registry of tools: every toolset, its tools, and which sets a server serves.

A tool module exports `TOOLS`; this table says which toolset each module's tools belong to and
stamps that name on them, so a tool's set is stated once. `default` is the original 19 tools (an
existing config sees exactly those); `all` is every set.

A set's modules are imported only when its tools are asked for: checking `--toolsets` names
(config loading, `futucli mcp-config`) imports none, and a server imports only the sets it
serves. Start-up to the first tools/list is a measured goal (bench/bench_mcp.py).
"""

from collections.abc import Collection
from dataclasses import replace
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING

from futu_mcp.config import DEFAULT_TOOLSETS

if TYPE_CHECKING:
    # Only a type here: the toolspec imports mcp, which checking names must not wait for.
    from futu_mcp.toolspec import ToolSpec

# Each set and the modules under futu_mcp.tools whose TOOLS it holds, in tools/list order.
_SET_MODULES: dict[str, tuple[str, ...]] = {
    "quote": ("quote", "plates"),
    "account": ("account",),
    "trade": ("trade",),
    "history": ("history",),
    "calendar": ("calendar",),
    "derivatives": ("derivatives",),
    "research": ("research",),
    "watchlist": ("watchlist",),
}
# Names that stand for several sets.
GROUPS = {"default": DEFAULT_TOOLSETS, "all": tuple(_SET_MODULES)}


@cache
def _set_tools(name: str) -> tuple["ToolSpec", ...]:
    """One set's tools, each stamped with the set's name (its modules imported on first ask)."""
    return tuple(
        replace(spec, toolset=name)
        for module in _SET_MODULES[name]
        for spec in import_module(f"futu_mcp.tools.{module}").TOOLS
    )


def tools_of(sets: Collection[str]) -> tuple["ToolSpec", ...]:
    """The tools of the named sets, in the order tools/list shows them."""
    return tuple(spec for name in _SET_MODULES if name in sets for spec in _set_tools(name))


def all_tools() -> tuple["ToolSpec", ...]:
    """Every tool of every set, in the order tools/list shows them, each carrying its set."""
    return tools_of(_SET_MODULES)


def toolset_names() -> tuple[str, ...]:
    """The names `--toolsets` accepts: each set, then the groups."""
    return (*_SET_MODULES, *GROUPS)


def parse_toolsets(raw: str | list[str] | tuple[str, ...]) -> frozenset[str]:
    """The sets named by `raw` ("quote,history" or a TOML list), groups expanded.

    Raises ValueError naming the valid names for a name that is no set: a typo must not
    silently serve fewer tools than asked."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    names = [str(item).strip().lower() for item in items if str(item).strip()]
    if not names:
        raise ValueError(f"expected one or more of {', '.join(toolset_names())}")
    sets: set[str] = set()
    for name in names:
        if name in GROUPS:
            sets.update(GROUPS[name])
        elif name in _SET_MODULES:
            sets.add(name)
        else:
            raise ValueError(f"unknown toolset {name!r} (valid: {', '.join(toolset_names())})")
    return frozenset(sets)
