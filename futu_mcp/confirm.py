"""Asking the person to confirm an order through MCP elicitation.

A key's `confirm_orders` (`real`: REAL orders only, `all`, `never`) decides whether to ask. A
client that did not declare elicitation cannot ask, so the order is refused with the key setting
that allows unattended orders; it is never sent unasked.
"""

from typing import Any, Literal

from pydantic import BaseModel, Field

from futu_mcp.errors import ToolFailure

Answer = Literal["accept", "decline", "cancel"]


class Confirm(BaseModel):
    """The form the client shows: one yes/no."""

    confirm: bool = Field(description="Send this order now")


def needs_confirmation(confirm_orders: str, trd_env: str) -> bool:
    """Whether this key's orders in `trd_env` must be confirmed by a person."""
    return confirm_orders == "all" or (confirm_orders == "real" and trd_env == "REAL")


def client_can_elicit(ctx: Any) -> bool:
    """Whether the client declared the elicitation capability in its handshake."""
    try:
        caps = ctx.client_capabilities
    except Exception:  # no session capabilities in this protocol era
        return False
    return caps is not None and caps.elicitation is not None


async def ask(ctx: Any, summary: str, *, key_id: str, confirm_orders: str) -> Answer:
    """Show `summary` to the person; their answer. Raises ToolFailure if the client cannot ask."""
    if not client_can_elicit(ctx):
        raise ToolFailure(
            f"confirmation required but this MCP client cannot ask (no elicitation support): key "
            f"{key_id} has confirm_orders={confirm_orders}; to allow unattended orders, use a key "
            f"created with `futucli gen-key --confirm-orders never`",
            "confirmation",
        )
    try:
        result = await ctx.elicit(summary, Confirm)
    except Exception as exc:  # the back-channel failed: not confirmed, so not sent
        raise ToolFailure(
            "confirmation required but the client could not be asked (use a client with "
            "elicitation over stdio or stateful HTTP)",
            "confirmation",
        ) from exc
    if result.action == "accept" and getattr(result.data, "confirm", False):
        return "accept"
    return "cancel" if result.action == "cancel" else "decline"
