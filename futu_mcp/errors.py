"""The contract's error texts and how they reach the client.

A refusal is a `ToolFailure` carrying the exact text from DESIGN.md; the tool wrapper turns it
into `CallToolResult(is_error=True)` (the SDK's `ToolError` would prefix it). `reason` is the
short code written to the audit log and the denial metric.
"""

import json
from typing import TYPE_CHECKING, Any

from mcp.types import CallToolResult, TextContent

from opend.errors import OpenDError

if TYPE_CHECKING:
    from opend.client import OpenDClient

INTERNAL_ERROR = "internal error (see server log)"


class ToolFailure(Exception):
    """A call refused or failed with a text the user may see and search for."""

    def __init__(self, text: str, reason: str = "error", *, decision: str = "deny") -> None:
        super().__init__(text)
        self.text = text
        self.reason = reason
        self.decision = decision


def invalid_argument(field: str, why: str) -> ToolFailure:
    """`invalid argument: <field>: <why>`."""
    return ToolFailure(f"invalid argument: {field}: {why}", "invalid_argument")


def error_result(text: str) -> CallToolResult:
    """A tool error whose text the client sees exactly as given."""
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def ok_result(data: dict[str, Any]) -> CallToolResult:
    """Structured content plus the same JSON as text, for clients that read only `content`."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


async def gateway_error_text(client: "OpenDClient", exc: OpenDError) -> str:
    """`gateway error: <OpenD's message>`, with what to do when OpenD is not logged in to Futu
    (the reply and the order's audit line both use this text)."""
    return f"gateway error: {await client.explain(exc)}"
