"""The contract's error texts and how they reach the client.

A refusal is a `ToolFailure` carrying the exact text from DESIGN.md; the tool wrapper turns it
into `CallToolResult(is_error=True)` (the SDK's `ToolError` would prefix it). `reason` is the
short code written to the audit log and the denial metric.
"""

import re
from typing import TYPE_CHECKING, Any

from mcp.types import CallToolResult, TextContent
from pydantic_core import to_json

from futu_mcp.presentation import present
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
    """Structured content plus the same JSON as text, for clients that read only `content`;
    values in the form `results.present` gives every result."""
    data = present(data)
    # pydantic's encoder: the same compact UTF-8 JSON as json.dumps, in a quarter of the time.
    text = to_json(data, fallback=str).decode()
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


# OpenD refuses a REAL order while trading is locked with texts that vary by version and
# language ("Not unlock trade, please unlock first", "请先解锁交易"); all name the unlock.
_LOCKED = re.compile(r"unlock|解锁", re.IGNORECASE)
UNLOCK_ADVICE = ": run futucli unlock-trade"


async def gateway_error_text(client: "OpenDClient", exc: OpenDError) -> str:
    """`gateway error: <OpenD's message>`, with what to do when OpenD is not logged in to Futu
    or trading is locked (the reply and the order's audit line both use this text)."""
    text = f"gateway error: {await client.explain(exc)}"
    return text + UNLOCK_ADVICE if _LOCKED.search(exc.message) else text
