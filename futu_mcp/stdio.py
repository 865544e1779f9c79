"""stdio without a thread per line: the SDK's stdio loop fed by asyncio pipe transports.

The SDK's `stdio_server()` reads each request line and writes each reply (write, then flush) in
worker threads: three thread round trips per call, about 0.35 ms of a 0.6 ms round trip on this
machine. When stdin and stdout are pipes or sockets (how MCP clients spawn servers), we give the
same SDK loop (message parsing, error handling) line streams served by the event loop instead.
Anything else (a file, a terminal) keeps the SDK's own path.

As the SDK does, fd 0 and fd 1 are diverted while serving (0 reads /dev/null, 1 writes to
stderr), so a stray print from any library or child process can never corrupt the protocol.
"""

import asyncio
import fcntl
import os
import stat
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server

STDIN, STDOUT, STDERR = 0, 1, 2


def is_stream_fd(fd: int) -> bool:
    """A pipe or a socket: what the event loop can read and write without threads (a terminal
    is left alone: making it non-blocking would surprise the shell that shares it)."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


# A longer request line is dropped (the SDK answers the remains as unparsable), so a client that
# never sends a newline cannot grow our memory without bound; reading pauses at twice this.
MAX_LINE_BYTES = 16 * 1024 * 1024


class _Lines:
    """Request lines from a StreamReader, as the SDK's loop iterates a text file."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> "_Lines":
        return self

    async def __anext__(self) -> str:
        try:
            line = await self._reader.readline()
        except ValueError:  # longer than MAX_LINE_BYTES: the reader has dropped what it held
            return "\n"
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", "replace")


class _Replies:
    """Reply lines into a pipe transport; `flush` waits while the client is not reading."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


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


@asynccontextmanager
async def pipe_streams() -> AsyncIterator[tuple[Any, Any]]:
    """The SDK's (read, write) message streams over stdin/stdout pipes, served by the loop."""
    loop = asyncio.get_running_loop()
    wire_in, wire_out, restore = _divert()
    try:
        reader = asyncio.StreamReader(limit=MAX_LINE_BYTES, loop=loop)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader, loop=loop),
            os.fdopen(wire_in, "rb", buffering=0),
        )
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
        )
        writer = asyncio.StreamWriter(transport, protocol, None, loop)
        try:
            async with stdio_server(_Lines(reader), _Replies(writer)) as streams:  # type: ignore[arg-type]
                yield streams
        finally:
            transport.close()
    finally:
        restore()


async def serve_stdio(server: MCPServer) -> None:
    """Serve `server` on stdin/stdout until the client closes stdin. (The SDK has no public
    handle on its low-level server; `run_stdio_async` reaches it the same way.)"""
    if not (is_stream_fd(STDIN) and is_stream_fd(STDOUT)):
        await server.run_stdio_async()
        return
    lowlevel = server._lowlevel_server
    async with pipe_streams() as (read_stream, write_stream):
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
