"""Streamable HTTP: MCP at `/mcp` behind a per-request Bearer check, `/metrics`, `/healthz`,
all behind `futu_mcp.hostcheck` (Host/Origin on every path) and `futu_mcp.gate` (keys, each
key's share of sessions).

Behind a proxy or in a container, clients use a name the server cannot guess, and the Host
check answers "421 Misdirected Request": `--allowed-hosts that.name` is the fix.
"""

import json
import logging
import socket
import sys
from typing import Any

from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.responses import Response

from futu_mcp.appstate import AppState
from futu_mcp.caller import BearerVerifier
from futu_mcp.config import is_loopback, url_host
from futu_mcp.gate import Gate
from futu_mcp.hostcheck import HostCheck, transport_security
from futu_mcp.sessions import SessionBook

log = logging.getLogger("futu_mcp.http")


def warn_if_exposed(host: str) -> bool:
    """Log one warning when `host` is reachable from other machines: Bearer keys would cross
    the network in clear text. True when it warned."""
    if is_loopback(host):
        return False
    log.warning(
        "listening on %s, which other machines can reach: API keys travel in clear text over "
        "plain HTTP; put a TLS-terminating proxy in front (or bind 127.0.0.1)",
        host,
    )
    return True


def add_routes(server: MCPServer, state: AppState) -> None:
    """`/metrics` (Prometheus text, no token) and `/healthz` (gateway state, no token)."""

    server.custom_route("/metrics", methods=["GET"])(state.metrics.respond)

    @server.custom_route("/healthz", methods=["GET"])
    async def healthz(request: Request) -> Response:
        client = state.client
        body: dict[str, Any] = {
            "status": "ok" if client.connected else "degraded",
            "gateway": client.address,
            "gateway_connected": client.connected,
        }
        if client.last_error and not client.connected:
            body["gateway_error"] = client.last_error
        watch = state.ledger_watch
        if watch is not None:
            body["ledger"] = watch.ledger.describe()
            body["ledger_up"] = watch.up
            if not watch.up:
                body["status"] = "degraded"
                body["ledger_error"] = watch.error
        return Response(json.dumps(body), media_type="application/json")


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else starts so a taken port is one clear
    line (StartupError) rather than a traceback from inside the web server."""
    from futu_mcp.startup import StartupError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


async def serve(server: MCPServer, state: AppState, sock: socket.socket) -> None:
    """Run the HTTP server on `sock` until stopped; print the bound address to stderr once
    it accepts connections."""
    import anyio
    import uvicorn

    config = state.config
    host, port = sock.getsockname()[:2]
    warn_if_exposed(host)
    add_routes(server, state)
    security = transport_security(host, port, config.allowed_hosts)
    sdk_app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=config.stateless,
        max_request_body_size=config.max_body_bytes,
        transport_security=security,
        host=host,
        # Sessions are counted and closed per key by the gate; one global limit would let one
        # key's flood lock every other key out.
        max_sessions=None,
        session_idle_timeout=None,
    )
    # --stateless serves without sessions: nothing to count, and a cap would only limit how
    # many requests one key may have in flight.
    book = None
    if not config.stateless:
        book = SessionBook(config.max_sessions_per_key, config.session_idle_timeout)
        state.metrics.watch_sessions(book.counts)
    gate = Gate(
        sdk_app,
        bearer=BearerVerifier(state.verifier),
        book=book,
        sessions=server.session_manager,
        count_refusal=state.metrics.http_refusal,
    )
    uv = uvicorn.Server(
        uvicorn.Config(
            HostCheck(gate, security),
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=3,
            h11_max_incomplete_event_size=64 * 1024,
        )
    )
    async with anyio.create_task_group() as tg:

        async def web() -> None:
            await uv.serve([sock])
            tg.cancel_scope.cancel()  # the sweeps stop with the server

        tg.start_soon(web)
        while not uv.started:
            if uv.should_exit:
                return
            await anyio.sleep(0.02)
        tg.start_soon(gate.reap, state.verifier.records)
        print(
            f"futu-mcp: listening on http://{url_host(host)}:{port}/mcp",
            file=sys.stderr,
            flush=True,
        )
