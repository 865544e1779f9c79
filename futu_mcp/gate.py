"""The door in front of the SDK's HTTP app: the key on `/mcp`, and each key's share of sessions.

In order, for every HTTP request:
1. Host and Origin (DNS rebinding) for every path, `/metrics` and `/healthz` too: 421 or 403,
   by `futu_mcp.hostcheck.HostCheck`, which stands in front of the gate.
2. On `/mcp`, the Bearer key: missing, unknown, revoked or expired is a 401 with an RFC 6750
   `WWW-Authenticate` saying which, before any session exists. A revoked or expired key's open
   sessions are closed at once.
3. A request that would open a session (no `Mcp-Session-Id`, handshake era) needs a free slot
   in its key's `max_sessions_per_key`, else 429 with a JSON-RPC error naming the setting.
   Other keys are never affected: the SDK's own global session limit is not used.
The SDK then serves the request as usual. `reap` closes sessions idle past
`session_idle_timeout` and those of keys revoked or expired meanwhile, through the same
DELETE a client would send, so the SDK frees them as it does any closed session.
"""

import json
import logging
from collections.abc import Callable
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.authentication import AuthCredentials
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from futu_mcp.caller import BearerVerifier, Refused
from futu_mcp.sessions import SessionBook
from keystore.errors import KeystoreError
from keystore.records import KeyRecord

log = logging.getLogger("futu_mcp.http")

REAP_INTERVAL = 1.0  # seconds between sweeps (at most a quarter of the idle timeout)
SESSION_HEADER = MCP_SESSION_ID_HEADER.lower().encode("latin-1")
PROTOCOL_HEADER = b"mcp-protocol-version"


def unauthorized(description: str) -> Response:
    """A 401 in RFC 6750 form; `description` says which (never the token)."""
    body = {"error": "invalid_token", "error_description": description}
    return Response(
        json.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'
        },
    )


def rpc_error(message: str, status: int) -> Response:
    """A JSON-RPC error body (no request id) with an HTTP status, as the SDK answers its own."""
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": -32000, "message": message}}
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((v for k, v in scope["headers"] if k == name), None)


class Gate:
    """ASGI app wrapping the SDK's: see the module docstring for what it checks, in order (behind
    a HostCheck)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        bearer: BearerVerifier,
        book: SessionBook | None,
        sessions: StreamableHTTPSessionManager,
        count_refusal: Callable[[str], None],
        mcp_path: str = "/mcp",
    ) -> None:
        self.app = app
        self.count_refusal = count_refusal
        self.bearer = bearer
        self.book = book
        self.sessions = sessions
        self.mcp_path = mcp_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] != self.mcp_path:
            await self.app(scope, receive, send)
            return
        auth = (_header(scope, b"authorization") or b"").decode("latin-1")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            self.count_refusal("missing_key")
            await unauthorized("missing key")(scope, receive, send)
            return
        try:
            access = await self.bearer.authenticate(token.strip())
        except Refused as exc:
            self.count_refusal(exc.reason)
            if exc.key_id is not None:
                await self.close_key(exc.key_id, exc.description)
            if exc.status == 401:
                await unauthorized(exc.description)(scope, receive, send)
            else:
                await rpc_error(exc.description, exc.status)(scope, receive, send)
            return
        user = AuthenticatedUser(access)
        scope["user"] = user
        scope["auth"] = AuthCredentials(access.scopes)
        if self.book is None:
            await self.app(scope, receive, send)
            return
        session_id = _header(scope, SESSION_HEADER)
        if session_id is not None:
            await self._in_session(session_id.decode("latin-1"), access.key, scope, receive, send)
        elif scope["method"] == "POST" and self._opens_session(scope):
            await self._open(access.key, user, scope, receive, send)
        else:
            await self.app(scope, receive, send)

    @staticmethod
    def _opens_session(scope: Scope) -> bool:
        """Handshake-era requests without a session may open one; 2026-07-28 ones never do."""
        version = _header(scope, PROTOCOL_HEADER)
        return version is None or version.decode("latin-1") in HANDSHAKE_PROTOCOL_VERSIONS

    async def _open(
        self, key: KeyRecord, user: Any, scope: Scope, receive: Receive, send: Send
    ) -> None:
        assert self.book is not None
        if not self.book.reserve(key.id):
            self.count_refusal("session_cap")
            log.warning(
                "refused a new session for key %s: it holds %d (max_sessions_per_key)",
                key.id,
                self.book.per_key,
            )
            message = (
                f"too many open sessions for key {key.id}: {self.book.per_key} is the limit "
                f"(max_sessions_per_key); end one with DELETE, or wait until one is idle for "
                f"{self.book.idle_timeout:g} s (session_idle_timeout)"
            )
            await rpc_error(message, 429)(scope, receive, send)
            return
        opened: str | None = None

        async def watch(message: Message) -> None:
            nonlocal opened
            if message["type"] == "http.response.start" and message["status"] < 400:
                value = next(
                    (v for k, v in message["headers"] if k.lower() == SESSION_HEADER), None
                )
                opened = None if value is None else value.decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self.book.settle(key.id, opened, user, _header(scope, b"host") or b"")

    async def _in_session(
        self, session_id: str, key: KeyRecord, scope: Scope, receive: Receive, send: Send
    ) -> None:
        assert self.book is not None
        session = self.book.get(session_id)
        if session is None or session.key_id != key.id:
            # Not one of this key's sessions: the SDK answers 404, and the book is not touched
            # (another key's request must neither end nor keep alive a session it does not own).
            await self.app(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.book.enter(session_id)
        try:
            await self.app(scope, receive, watch)
        finally:
            self.book.leave(session_id)
            # Ended by the client (DELETE), or unknown to the SDK (404): the slot is free.
            if status == 404 or (scope["method"] == "DELETE" and status < 300):
                self.book.drop(session_id)

    async def close_key(self, key_id: str, why: str) -> None:
        """Close every session the key holds (revoked or expired)."""
        if self.book is not None:
            for session_id in self.book.of_key(key_id):
                await self.close(session_id, why)

    async def close(self, session_id: str, why: str) -> None:
        """End a session as its client's DELETE would: the SDK stops serving and frees it."""
        assert self.book is not None
        session = self.book.drop(session_id)
        if session is None:
            return
        log.info("closing session of key %s: %s", session.key_id, why)
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "DELETE",
            "scheme": "http",
            "path": self.mcp_path,
            "raw_path": self.mcp_path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", session.host), (SESSION_HEADER, session_id.encode())],
            "client": None,
            "server": None,
            "user": session.owner,
        }
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def discard(message: Message) -> None:
            return None

        await self.sessions.handle_request(scope, receive, discard)

    async def reap(self, records: Callable[[], tuple[KeyRecord, ...]]) -> None:
        """Close idle sessions and those of keys no longer active, until cancelled."""
        import anyio

        book = self.book
        if book is None:
            return
        interval = min(REAP_INTERVAL, book.idle_timeout / 4)
        while True:
            await anyio.sleep(interval)
            for session_id in book.idle():
                await self.close(session_id, f"idle for {book.idle_timeout:g} s")
            held = book.key_ids()
            if held:
                try:
                    current = {r.id: r for r in records()}
                except KeystoreError as exc:
                    log.error("keys file unusable, sessions kept until it is fixed: %s", exc)
                    continue
                for key_id in held:
                    record = current.get(key_id)
                    status = "removed" if record is None else record.status()
                    if status != "active":
                        await self.close_key(key_id, f"key {status}")
