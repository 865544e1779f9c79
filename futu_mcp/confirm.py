"""Asking the person to confirm an order through MCP elicitation.

A key's `confirm_orders` (`real`: REAL orders only, `all`, `never`) decides whether to ask. A
client that did not declare elicitation cannot ask, so the order is refused with the key setting
that allows unattended orders; it is never sent unasked.

Both protocol eras are served: up to 2025-11-25 the server asks mid-call (`ctx.elicit`); from
2026-07-28 the call ends with an `InputRequiredResult` and the client retries with the answer.
The retry re-runs every check, and an answer counts only for the exact summary it was given
(its digest travels in the SDK-sealed `request_state`), so a changed order is asked again.
"""

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, Field

from futu_mcp.errors import ToolFailure

MODERN = "2026-07-28"
ANSWER_KEY = "futu_confirm_order"

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


class NeedInput(Exception):
    """The 2026-07-28 way to ask: end this round with `result`; the client retries with the answer."""

    def __init__(self, result: Any) -> None:
        super().__init__("confirmation asked")
        self.result = result


def _modern(ctx: Any) -> bool:
    version = getattr(ctx, "protocol_version", None)
    return version is not None and version >= MODERN


def _digest(summary: str) -> str:
    return hashlib.sha256(summary.encode()).hexdigest()


def _answer_from_retry(ctx: Any, summary: str) -> Answer | None:
    """The person's answer carried by this retry, if it answers exactly this summary."""
    responses = ctx.input_responses or {}
    answer = responses.get(ANSWER_KEY)
    if answer is None or ctx.request_state != _digest(summary):
        return None
    if answer.action == "accept":
        return "accept" if (answer.content or {}).get("confirm") is True else "decline"
    return "cancel" if answer.action == "cancel" else "decline"


def _input_required(summary: str) -> Any:
    from mcp.server.elicitation import render_elicitation_schema
    from mcp.types import ElicitRequest, ElicitRequestFormParams, InputRequiredResult

    request = ElicitRequest(
        params=ElicitRequestFormParams(
            message=summary, requested_schema=render_elicitation_schema(Confirm)
        )
    )
    return InputRequiredResult(input_requests={ANSWER_KEY: request}, request_state=_digest(summary))


async def ask(
    ctx: Any, summary: str, *, key_id: str, confirm_orders: str, stateless: bool = False
) -> Answer:
    """Show `summary` to the person; their answer. Raises ToolFailure if the client cannot ask,
    or NeedInput when the question must travel as an `InputRequiredResult`. A `stateless`
    server (futu-mcp --stateless) has no back-channel: only the 2026-07-28 retry can ask."""
    cannot = (
        f"key {key_id} has confirm_orders={confirm_orders}; to allow unattended orders, use a "
        f"key created with `futucli gen-key --confirm-orders never`"
    )
    if stateless and not _modern(ctx):
        raise ToolFailure(
            f"confirmation required but futu-mcp --stateless cannot ask mid-call (a client of "
            f"protocol {MODERN} can): {cannot}",
            "confirmation",
        )
    if not client_can_elicit(ctx):
        raise ToolFailure(
            f"confirmation required but this MCP client cannot ask (no elicitation support): "
            f"{cannot}",
            "confirmation",
        )
    if _modern(ctx):
        answer = _answer_from_retry(ctx, summary)
        if answer is None:
            raise NeedInput(_input_required(summary))
        return answer
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
