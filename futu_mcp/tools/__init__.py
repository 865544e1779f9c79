"""The tools, one module per toolset; `futu_mcp.tools.registry` collects them.

This package's own module imports nothing, so a tool module importing a sibling never runs the
registry (no import cycle between the registry and the tools)."""
