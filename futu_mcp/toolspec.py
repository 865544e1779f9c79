"""What a tool is (`ToolSpec`) and the one filter deciding who sees it; the registry of every
tool is `futu_mcp.tools.registry`.

A tool is one `ToolSpec` value; nothing about a tool is restated elsewhere. Read tools declare
their scope; trade tools take theirs from the call's `trd_env` (`trade:real` for REAL,
`trade:simulate` otherwise). A read tool's handler returns its result; a trade tool's handler
only returns the `OrderPlan`, which the server hands to `tradepath.run_trade`: no trade tool
can skip a check, because none runs one itself.
"""

from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from mcp.types import ToolAnnotations

from futu_mcp.args import ToolArgs

if TYPE_CHECKING:
    from futu_mcp.appstate import Call

# A read tool's handler returns its result; a trade tool's returns its tradepath.OrderPlan.
Handler = Callable[["Call", Any], Awaitable[Any]]

TRADE_SCOPES = {"REAL": "trade:real", "SIMULATE": "trade:simulate"}


@dataclass(frozen=True)
class ToolSpec:
    """Everything about one tool: what the client sees and what runs."""

    name: str
    title: str
    description: str
    args: type[ToolArgs]
    output_schema: dict[str, Any]
    handler: Handler
    kind: Literal["read", "trade"] = "read"
    scope: str | None = None  # None: by trd_env (trade tools)
    idempotent: bool = True
    toolset: str = ""  # stamped by futu_mcp.tools.registry from the module that holds the tool

    def scope_for(self, args: ToolArgs) -> str:
        """The scope this call needs."""
        if self.scope is not None:
            return self.scope
        return TRADE_SCOPES[getattr(args, "trd_env", "SIMULATE")]

    def scopes(self) -> frozenset[str]:
        """Scopes any one of which lets a key see this tool in tools/list."""
        return frozenset({self.scope}) if self.scope else frozenset(TRADE_SCOPES.values())

    @property
    def annotations(self) -> ToolAnnotations:
        """Read tools are read-only; trade tools are destructive. All reach the outside world."""
        read = self.kind == "read"
        return ToolAnnotations(
            title=self.title,
            read_only_hint=read,
            destructive_hint=not read,
            idempotent_hint=self.idempotent,
            open_world_hint=True,
        )

    def input_schema(self) -> dict[str, Any]:
        """The published input schema: flat, no anyOf/oneOf/$ref, unknown names refused."""
        return flat_schema(self.args)


def flat_schema(model: type[ToolArgs]) -> dict[str, Any]:
    """JSON schema of an argument model with optional fields collapsed to their plain type."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    props: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        props[name] = _flatten(prop, defs)
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if schema.get("required"):
        out["required"] = list(schema["required"])
    return out


def _flatten(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    prop = {k: v for k, v in prop.items() if k != "title"}
    if "$ref" in prop:
        target = defs[prop.pop("$ref").rsplit("/", 1)[-1]]
        prop = {**_flatten(target, defs), **prop}
    for key in ("anyOf", "oneOf"):
        if key in prop:
            branches = [b for b in prop.pop(key) if b.get("type") != "null"]
            if len(branches) != 1:
                raise ValueError(f"cannot flatten a union of {len(branches)} types")
            prop = {**_flatten(branches[0], defs), **prop}
    if prop.get("default", 0) is None:
        del prop["default"]
    if "items" in prop:
        prop["items"] = _flatten(prop["items"], defs)
    if "properties" in prop:  # an object in a list (a screen's conditions)
        prop["properties"] = {k: _flatten(v, defs) for k, v in prop["properties"].items()}
    return prop


def visible_tools(
    table: Iterable[ToolSpec],
    *,
    toolsets: Collection[str],
    read_only: bool,
    scopes: Collection[str] | None = None,
) -> list[ToolSpec]:
    """The tools shown, decided in this order: the tool's toolset is on, `read_only` does not
    hide it (trade tools, for everyone), and the key holds one of its scopes. `scopes=None`
    skips the last step: the tools a server serves at all (any other name is `unknown tool`)."""
    return [
        spec
        for spec in table
        if spec.toolset in toolsets
        and not (read_only and spec.kind == "trade")
        and (scopes is None or bool(spec.scopes() & set(scopes)))
    ]
