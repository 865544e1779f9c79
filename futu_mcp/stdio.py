"""stdio without a thread per line, and an answer for every line a client sends.

The SDK's `stdio_server()` reads each request line and writes each reply (write, then flush) in
worker threads: three thread round trips per call, about 0.35 ms of a 0.6 ms round trip on this
machine. When stdin and stdout are pipes or sockets (how MCP clients spawn servers), the event
loop serves them instead; anything else (a file, a terminal) is read and written by threads.
The SDK's own tasks read and write the wire (`_MessageReader`, `_MessageWriter`): no task of
ours stands between the pipe and the SDK, each of which would cost a pass of the event loop
per message. For the same reason the client's first request is looked at here, not by the SDK's
`Server.run`: its dual-era loop relays every message of the connection through a task of its
own after that request picked the protocol era. A handshake (2025) connection, what today's
clients open, is served by the SDK's public `serve_loop` reading our stream directly, with the
dual-era loop's one rule kept (a request carrying the 2026-07-28 envelope on it is refused,
`-32600`); a 2026-07-28 connection goes to the dual-era loop as before. Measured on
bench/bench_mcp.py's positions call (about 1.3 ms): 47 µs wall and 0.1 ms server CPU less.

The SDK also answers nothing to a line it cannot use. Here a line that is not JSON gets a
JSON-RPC `-32700` reply (`id: null`), a JSON value that is not a JSON-RPC message `-32600`
(with its `id` when it has a usable one), and a line over MAX_LINE_BYTES `-32600` too; the
server goes on serving after each.

As the SDK does, fd 0 and fd 1 are diverted while serving (0 reads /dev/null, 1 writes to
stderr), so a stray print from any library or child process can never corrupt the protocol.
"""

import asyncio
import fcntl
import json
import os
import stat
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Self

import anyio
import mcp_types as types
from mcp.server.mcpserver import MCPServer
from mcp.server.runner import serve_dual_era_loop, serve_loop
from mcp.shared.message import SessionMessage

STDIN, STDOUT, STDERR = 0, 1, 2
CHUNK = 1 << 16

# A longer request line is answered with an error and skipped, so a client that never sends a
# newline cannot grow our memory without bound.
MAX_LINE_BYTES = 16 * 1024 * 1024

# Messages before the client's first request kept for the serving loop (a bare
# `notifications/initialized` is the one that matters); the SDK's dual-era loop keeps as many.
PRE_REQUEST_MESSAGES = 8

# The SDK's dual-era loop's refusal, word for word.
MODERN_ON_HANDSHAKE = (
    "this connection serves the handshake protocol era; "
    "requests carrying the 2026-07-28 envelope are not accepted on it"
)


def is_stream_fd(fd: int) -> bool:
    """A pipe or a socket: what the event loop can read and write without threads (a terminal
    is left alone: making it non-blocking would surprise the shell that shares it)."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _Lines:
    """Request lines from a byte source; None stands for a line over MAX_LINE_BYTES (skipped
    whole, however it arrives)."""

    def __init__(self, read: Callable[[int], Awaitable[bytes]]) -> None:
        self._read = read
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer known to hold no newline
        self._skipping = False  # inside an over-long line: drop up to its newline

    def __aiter__(self) -> "_Lines":
        return self

    async def __anext__(self) -> bytes | None:
        while True:
            end = self._buffer.find(b"\n", self._scanned)
            if end >= 0:
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                self._scanned = 0
                if self._skipping:
                    self._skipping = False
                    continue
                return None if len(line) > MAX_LINE_BYTES else line
            self._scanned = len(self._buffer)
            if self._scanned > MAX_LINE_BYTES:
                self._buffer.clear()
                self._scanned = 0
                if not self._skipping:
                    self._skipping = True
                    return None
            chunk = await self._read(CHUNK)
            if not chunk:
                if self._buffer and not self._skipping:
                    line = bytes(self._buffer)
                    self._buffer.clear()
                    return line
                raise StopAsyncIteration
            self._buffer += chunk


def is_modern_request(message: types.JSONRPCMessage) -> bool:
    """A request in the 2026-07-28 era: it carries the per-request envelope's protocol version
    in `params._meta` (`initialize` never is: that handshake does not exist at 2026 versions,
    even when a client stamps the envelope on it). The SDK's dual-era loop's rule."""
    if not isinstance(message, types.JSONRPCRequest) or message.method == "initialize":
        return False
    meta = (message.params or {}).get("_meta")
    return isinstance(meta, Mapping) and types.PROTOCOL_VERSION_META_KEY in meta


def parse(line: bytes | None) -> SessionMessage | types.JSONRPCError:
    """The message on a line, or the error reply the line gets: `-32600` for an over-long
    line (None) or a JSON value that is not a JSON-RPC message, `-32700` for one that is not
    JSON. A good line is parsed once, by the SDK's own parser."""
    if line is None:
        message = f"Invalid Request: line longer than {MAX_LINE_BYTES} bytes"
        return _error(None, types.INVALID_REQUEST, message)
    try:
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError:
        pass
    try:
        value = json.loads(line)
    except ValueError as exc:
        return _error(None, types.PARSE_ERROR, f"Parse error: not JSON ({exc})")
    msg_id = value.get("id") if isinstance(value, dict) else None
    if isinstance(msg_id, bool) or not isinstance(msg_id, int | str):
        msg_id = None
    return _error(msg_id, types.INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message")


def _error(msg_id: Any, code: int, message: str) -> types.JSONRPCError:
    return types.JSONRPCError(
        jsonrpc="2.0", id=msg_id, error=types.ErrorData(code=code, message=message)
    )


def _divert() -> tuple[int, int, Callable[[], None]]:
    """Private copies of fd 0 and fd 1 for the transports; fd 0 then reads /dev/null and fd 1
    writes to stderr. Returns (in, out, restore)."""
    sys.stdout.flush()
    saved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3) for fd in (STDIN, STDOUT)]
    wire_in = fcntl.fcntl(STDIN, fcntl.F_DUPFD_CLOEXEC, 3)
    wire_out = fcntl.fcntl(STDOUT, fcntl.F_DUPFD_CLOEXEC, 3)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, STDIN)
    finally:
        os.close(null)
    os.dup2(STDERR, STDOUT)

    def restore() -> None:
        for fd, copy in zip((STDIN, STDOUT), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
            # The transports made the shared pipes non-blocking; give them back as found.
            os.set_blocking(fd, True)

    return wire_in, wire_out, restore


Read = Callable[[int], Awaitable[bytes]]
Write = Callable[[bytes], Awaitable[None]]


@asynccontextmanager
async def _loop_io(wire_in: int, wire_out: int) -> AsyncIterator[tuple[Read, Write]]:
    """Read and write pipes or sockets on the event loop."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=CHUNK, loop=loop)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader, loop=loop),
        os.fdopen(wire_in, "rb", buffering=0),
    )
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
    )
    writer = asyncio.StreamWriter(transport, protocol, None, loop)

    async def write(data: bytes) -> None:
        writer.write(data)
        await writer.drain()  # waits while the client is not reading

    try:
        yield reader.read, write
    finally:
        transport.close()


@asynccontextmanager
async def _thread_io(wire_in: int, wire_out: int) -> AsyncIterator[tuple[Read, Write]]:
    """Read and write anything else (a file, a terminal) in worker threads."""
    import anyio.to_thread

    async def read(size: int) -> bytes:
        # A read blocked in its thread is left behind on cancel (the process is ending).
        return await anyio.to_thread.run_sync(os.read, wire_in, size, abandon_on_cancel=True)

    writing = threading.Lock()

    def write_all(data: bytes) -> None:
        # Sends from several tasks run in several threads: one whole line at a time.
        with writing:
            view = memoryview(data)
            while view:
                view = view[os.write(wire_out, view) :]

    async def write(data: bytes) -> None:
        await anyio.to_thread.run_sync(write_all, data)

    try:
        yield read, write
    finally:
        # wire_in stays open: an abandoned read may still block on it, and a closed number
        # could be reused under it.
        os.close(wire_out)


class _Closable:
    """What the SDK's streams share: closing (an `async with` closes), after which they refuse."""

    _closed = False

    async def aclose(self) -> None:
        self._closed = True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class _MessageReader(_Closable):
    """The SDK's read stream: each `receive` reads the next line from the wire itself, so no
    task stands between the pipe and the SDK (a hop through the event loop per message); a
    line that is no message is answered here and skipped, and so is, on a handshake-era
    connection (`handshake_era`), a request carrying the 2026-07-28 envelope."""

    def __init__(self, read: Read, answer: Callable[[types.JSONRPCError], Awaitable[None]]) -> None:
        self._lines = _Lines(read)
        self._answer = answer
        self._lead: deque[SessionMessage] = deque()  # read by `opening_request`, not yet taken
        self.handshake_era = False

    async def opening_request(self) -> types.JSONRPCRequest | None:
        """Read up to the client's first request (None if the client leaves first), keeping
        it and up to PRE_REQUEST_MESSAGES messages before it for `receive`, as the SDK's
        dual-era loop does when it looks at the same request."""
        while True:
            try:
                message = await self._read_message()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                return None
            if isinstance(message.message, types.JSONRPCRequest):
                self._lead.append(message)
                return message.message
            if len(self._lead) < PRE_REQUEST_MESSAGES:
                self._lead.append(message)

    async def receive(self) -> SessionMessage:
        if self._lead and not self._closed:
            return self._lead.popleft()
        return await self._read_message()

    async def _read_message(self) -> SessionMessage:
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                line = await anext(self._lines)
            except StopAsyncIteration:
                raise anyio.EndOfStream from None
            if line is not None and not line.strip():
                continue  # an empty line carries no message
            parsed = parse(line)
            if isinstance(parsed, SessionMessage):
                if not (self.handshake_era and is_modern_request(parsed.message)):
                    return parsed
                parsed = _error(parsed.message.id, types.INVALID_REQUEST, MODERN_ON_HANDSHAKE)
            await self._answer(parsed)

    def __aiter__(self) -> "_MessageReader":
        return self

    async def __anext__(self) -> SessionMessage:
        try:
            return await self.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None


class _MessageWriter(_Closable):
    """The SDK's write stream: `send` writes the message's line to the wire itself (no writer
    task to hand it to), waiting while the client is not reading."""

    def __init__(self, write: Write) -> None:
        self._write = write

    async def send(self, item: SessionMessage) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        text = item.message.model_dump_json(by_alias=True, exclude_unset=True)
        await self._write(text.encode() + b"\n")

    async def answer(self, error: types.JSONRPCError) -> None:
        """Reply to a line that is no message (the reader's answer)."""
        await self.send(SessionMessage(error))


@asynccontextmanager
async def stdio_streams() -> AsyncIterator[tuple[_MessageReader, _MessageWriter]]:
    """The SDK's (read, write) message streams over stdin/stdout."""
    wire_in, wire_out, restore = _divert()
    io = _loop_io if is_stream_fd(wire_in) and is_stream_fd(wire_out) else _thread_io
    try:
        async with io(wire_in, wire_out) as (read, write):
            writer = _MessageWriter(write)
            yield _MessageReader(read, writer.answer), writer
    finally:
        restore()


async def serve_stdio(server: MCPServer) -> None:
    """Serve `server` on stdin/stdout until the client closes stdin, in the protocol era its
    first request opens (see the module's docstring). (The SDK has no public handle on its
    low-level server; `run_stdio_async` reaches it the same way.)"""
    lowlevel = server._lowlevel_server
    options = lowlevel.create_initialization_options()
    async with stdio_streams() as (read_stream, write_stream), lowlevel.lifespan(lowlevel) as state:
        opening = await read_stream.opening_request()
        modern = opening is not None and is_modern_request(opening)
        read_stream.handshake_era = not modern
        serve = serve_dual_era_loop if modern else serve_loop
        await serve(lowlevel, read_stream, write_stream, lifespan_state=state, init_options=options)
