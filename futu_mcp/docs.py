"""The tools reference, rendered from the tool table (README and `futu-mcp --list-tools`).

Docs derived from the same table as tools/list cannot drift from what clients see; a test
checks that the README's copy is current.
"""

import json

from futu_mcp.tools.registry import all_tools
from futu_mcp.toolspec import ToolSpec


def _arguments(spec: ToolSpec) -> str:
    schema = spec.input_schema()
    required = set(schema.get("required", []))
    parts = []
    for name, prop in schema["properties"].items():
        if name in required:
            parts.append(f"**{name}**")
        elif "default" in prop:
            parts.append(f"{name}={json.dumps(prop['default'])}")
        else:
            parts.append(name)
    return ", ".join(parts) or "none"


def _scope(spec: ToolSpec) -> str:
    return spec.scope or "trade:simulate / trade:real (by trd_env)"


def tools_markdown() -> str:
    """A Markdown table of every tool: name, toolset, scope, kind, arguments (required in
    bold)."""
    rows = [
        "| tool | toolset | scope | kind | arguments (**required**) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for spec in all_tools():
        kind = "read-only" if spec.kind == "read" else "destructive"
        rows.append(
            f"| `{spec.name}` | {spec.toolset} | `{_scope(spec)}` | {kind} | {_arguments(spec)} |"
        )
    return "\n".join(rows) + "\n"
