"""The one registry of tools: every toolset, its tools, and which sets a server serves.

A tool module exports `TOOLS`; this table says which toolset each module's tools belong to and
stamps that name on them, so a tool's set is stated once. `default` is the original 19 tools (an
existing config sees exactly those); `all` is every set.
"""

from dataclasses import replace
from functools import cache

from futu_mcp.config import DEFAULT_TOOLSETS
from futu_mcp.tools import (
    account,
    calendar,
    derivatives,
    history,
    plates,
    quote,
    research,
    trade,
    watchlist,
)
from futu_mcp.toolspec import ToolSpec

_MODULE_TOOLS: dict[str, tuple[ToolSpec, ...]] = {
    "quote": (*quote.TOOLS, *plates.TOOLS),
    "account": account.TOOLS,
    "trade": trade.TOOLS,
    "history": history.TOOLS,
    "calendar": calendar.TOOLS,
    "derivatives": derivatives.TOOLS,
    "research": research.TOOLS,
    "watchlist": watchlist.TOOLS,
}
# Names that stand for several sets.
GROUPS = {"default": DEFAULT_TOOLSETS, "all": tuple(_MODULE_TOOLS)}


@cache
def all_tools() -> tuple[ToolSpec, ...]:
    """Every tool of every set, in the order tools/list shows them, each carrying its set."""
    return tuple(
        replace(spec, toolset=name) for name, specs in _MODULE_TOOLS.items() for spec in specs
    )


def toolset_names() -> tuple[str, ...]:
    """The names `--toolsets` accepts: each set, then the groups."""
    return (*_MODULE_TOOLS, *GROUPS)


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
        elif name in _MODULE_TOOLS:
            sets.add(name)
        else:
            raise ValueError(f"unknown toolset {name!r} (valid: {', '.join(toolset_names())})")
    return frozenset(sets)
