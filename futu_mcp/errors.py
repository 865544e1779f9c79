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
# How long a failed call may wait for GetGlobalState to say whether OpenD is logged in.
LOGIN_CHECK_TIMEOUT_S = 2.0


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
    """`gateway error: <OpenD's message>`, plus what to do when OpenD is not logged in to Futu.

    OpenD's own refusal rarely says it is not logged in, so only then (an error path) is
    GetGlobalState asked; a call that succeeds costs no extra round trip.
    """
    import anyio

    text = f"gateway error: {exc.message}"
    if type(exc) is not OpenDError:  # ours (throttle, timeout, bad reply), not OpenD's refusal
        return text
    with anyio.move_on_after(LOGIN_CHECK_TIMEOUT_S):
        try:
            advice = (await client.get_global_state()).login_advice(client.address)
        except OpenDError:
            return text
        if advice is not None:
            return f"{text}; {advice}"
    return text
