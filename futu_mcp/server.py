"""Build the MCPServer from the tool table, and the one wrapper every tool call runs through.

The wrapper resolves the caller, validates arguments (`invalid argument: <field>: <why>`),
checks the scope of read tools and runs trade tools' plans through `tradepath.run_trade` (scope,
policy, reservation, confirmation, audit, send: no trade tool runs a step itself), turns every
failure into a contract text, audits, counts, and never lets a traceback reach the client.
"""

import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.types import CallToolResult, InputRequiredResult, ListToolsResult
from mcp.types import Tool as MCPTool
from pydantic import ConfigDict, ValidationError

from futu_mcp.appstate import AppState, Call
from futu_mcp.args import first_error
from futu_mcp.caller import key_of_request
from futu_mcp.confirm import NeedInput
from futu_mcp.errors import (
    INTERNAL_ERROR,
    ToolFailure,
    error_result,
    gateway_error_text,
    ok_result,
)
from futu_mcp.tools.registry import tools_of
from futu_mcp.toolspec import ToolSpec, visible_tools
from futu_mcp.tradepath import run_trade
from keystore.errors import KeystoreError, LedgerError, Unauthorized
from keystore.policy import Request
from opend.errors import GatewayNotConnected, OpenDError

log = logging.getLogger("futu_mcp")

# Failures that are not a policy refusal, counted as errors rather than denials.
NOT_DENIALS = frozenset(
    {"invalid_argument", "error", "gateway", "audit", "outcome_unknown", "auth"}
)

FIRST_CONNECT_WAIT = 5.0

UNSERVED_METHODS = (
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
)

# An error (gateway down, bad reply) is not a policy decision: the call was allowed.
AUDIT_DECISION = {"ok": "allow", "denied": "deny", "declined": "declined", "invalid": "deny"}

INSTRUCTIONS = (
    "Futu brokerage tools through OpenD. Codes are MARKET.CODE (HK.00700, US.AAPL). "
    "Trade tools default to trd_env=SIMULATE (paper trading); REAL needs a key with trade:real. "
    "Use dry_run=true to see an order's value and checks without sending it. "
    "If an order's outcome is unknown, check futu_get_orders before trying again."
)


class _RawArgs(ArgModelBase):
    """Hands the raw arguments to our wrapper, which validates them itself (own error texts)."""

    model_config = ConfigDict(extra="allow")

    def model_dump_one_level(self) -> dict[str, Any]:
        return {"raw": dict(self.model_extra or {})}


def current_key(state: AppState, request: Any) -> Any:
    """The caller's key record now: from the Bearer check (HTTP) or re-verified (stdio)."""
    key = key_of_request(request)
    if key is not None:
        return key
    if state.stdio_key is None:
        raise ToolFailure("key not valid: no credentials on this request", "auth")
    try:
        return state.stdio_key.current(state.verifier)
    except Unauthorized as exc:
        raise ToolFailure(f"key not valid: {exc.reason}", "auth") from None
    except KeystoreError as exc:
        log.error("keys file unusable: %s", exc)
        raise ToolFailure("key not valid: keys file unusable (see server log)", "auth") from None


async def run_tool(
    spec: ToolSpec, ctx: Any, raw: dict[str, Any]
) -> CallToolResult | InputRequiredResult:
    """Run one call of `spec`: the single place where results and errors are shaped."""
    rctx = ctx.request_context
    state: AppState = rctx.lifespan_context
    transport = "stdio" if rctx.request is None else "http"
    start = time.perf_counter()
    key = None
    call: Call | None = None
    outcome, reason, error = "ok", None, None
    data: dict[str, Any] | None = None
    try:
        key = current_key(state, rctx.request)
        await state.note_use(key.id)
        try:
            args = spec.args.model_validate(raw)
        except ValidationError as exc:
            raise ToolFailure(first_error(exc), "invalid_argument") from None
        call = Call(state=state, key=key, transport=transport, ctx=ctx, tool=spec.name)
        if spec.kind == "read":
            call.allow(Request(scope=spec.scope_for(args)))
        client = state.client
        if not client.connected and client.last_error is None:
            # Still on the first connection attempt (just started): wait for it to end, so the
            # answer is the link or why there is none. Later calls answer at once.
            await client.wait_first_attempt(FIRST_CONNECT_WAIT)
        if spec.kind == "trade":
            data = await run_trade(call, args, spec.handler)
        else:
            data = await spec.handler(call, args)
    except NeedInput as exc:
        # Not a result yet: the client asks the person and calls again with the answer.
        return exc.result
    except ToolFailure as exc:
        error, reason = exc.text, exc.reason
        outcome = {"deny": "denied", "declined": "declined"}.get(exc.decision, "error")
        if reason in NOT_DENIALS:
            outcome = "invalid" if reason == "invalid_argument" else "error"
    except GatewayNotConnected as exc:
        outcome, reason, error = "error", "gateway", str(exc)
    except LedgerError as exc:
        # A client_order_id claim or an owner lookup the ledger could not answer: fail closed.
        outcome, reason, error = "error", "ledger", str(exc)
    except OpenDError as exc:
        outcome, reason, error = "error", "gateway", await gateway_error_text(state.client, exc)
    except Exception:
        log.exception("tool %s failed", spec.name)
        outcome, reason, error = "error", "internal", INTERNAL_ERROR
    seconds = time.perf_counter() - start
    key_id = key.id if key is not None else "<invalid>"
    state.metrics.call(spec.name, outcome, key_id, seconds)
    if call is None or not call.audited:
        record = {
            "key_id": key_id,
            "kid": key.kid if key is not None else None,
            "transport": transport,
            "tool": spec.name,
            "phase": "call",
            "arguments": raw,
            "decision": AUDIT_DECISION.get(outcome, "allow"),
            "reason": reason,
            "error": error,
            "latency_ms": round(seconds * 1000, 3),
        }
        if spec.kind == "read":
            state.audit_later(record)
        else:
            await state.audit_write(record, fsync=False)
    if error is not None:
        return error_result(error)
    assert data is not None
    return ok_result(data)


def _published(spec: ToolSpec, input_schema: dict[str, Any]) -> MCPTool:
    return MCPTool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=input_schema,
        output_schema=spec.output_schema,
        annotations=spec.annotations,
    )


def _sdk_tool(spec: ToolSpec, input_schema: dict[str, Any]) -> Tool:
    async def fn(raw: dict[str, Any], ctx: Any) -> CallToolResult | InputRequiredResult:
        return await run_tool(spec, ctx, raw)

    return Tool(
        fn=fn,
        name=spec.name,
        title=spec.title,
        description=spec.description,
        parameters=input_schema,
        fn_metadata=FuncMetadata(arg_model=_RawArgs, output_schema=spec.output_schema),
        is_async=True,
        context_kwarg="ctx",
        annotations=spec.annotations,
    )


def build_server(state: AppState, table: Sequence[ToolSpec] | None = None) -> MCPServer:
    """The MCPServer for `state`: the tools of its toolsets (not hidden by `--read-only`) from
    the table, tools/list filtered per caller. A tool not served answers `unknown tool`, as one
    that does not exist."""
    from importlib.metadata import version

    config = state.config
    table = tools_of(config.toolsets) if table is None else table
    specs = visible_tools(table, toolsets=config.toolsets, read_only=config.read_only)
    # Each schema is built once (pydantic's schema generation is a measured part of start-up).
    schemas = {s.name: s.input_schema() for s in specs}
    published = {s.name: _published(s, schemas[s.name]) for s in specs}

    async def list_visible_tools(mctx: Any, call_next: Any) -> Any:
        if mctx.method != "tools/list":
            return await call_next(mctx)
        try:
            key = current_key(state, mctx.request)
            # A revoked or expired key may use nothing, so it is shown nothing.
            scopes = key.scopes if key.status() == "active" else frozenset()
        except ToolFailure:
            scopes = frozenset()
        shown = visible_tools(
            specs, toolsets=config.toolsets, read_only=config.read_only, scopes=scopes
        )
        return ListToolsResult(tools=[published[s.name] for s in shown])

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[AppState]:
        await state.client.start()
        try:
            yield state
        finally:
            await state.client.close()
            await state.audit_close()

    kwargs: dict[str, Any] = {}
    if state.request_state_key is not None:
        from mcp.server.request_state import RequestStateSecurity

        kwargs["request_state_security"] = RequestStateSecurity(keys=[state.request_state_key])
    server = MCPServer(
        "futu-mcp",
        version=version("futu-mcp"),
        instructions=INSTRUCTIONS,
        tools=[_sdk_tool(s, schemas[s.name]) for s in specs],
        lifespan=lifespan,
        middleware=[list_visible_tools],
        log_level=state.config.log_level,  # type: ignore[arg-type]
        **kwargs,
    )
    drop_unserved_methods(server)
    return server


def drop_unserved_methods(server: MCPServer) -> None:
    """Unregister the prompt and resource methods: we serve neither.

    MCPServer registers their handlers whatever it holds, and the SDK advertises a capability
    for each registered handler (the low-level `Server.get_capabilities`), so clients were told
    of empty `prompts` and `resources`, and `prompts/get` answered error code 0 with a traceback
    in the log. Unregistered, they are not advertised and answer -32601 (method not found). The
    SDK has no public way to unregister a handler."""
    handlers = server._lowlevel_server._request_handlers
    for method in UNSERVED_METHODS:
        handlers.pop(method, None)
