"""A plain round-robin HTTP load balancer in asyncio: each request goes to the next replica.

Stands in for the load balancer in front of `futu-mcp --stateless` replicas (bench_replicas.py
and the replica tests). It is deliberately dumb, like a balancer without stickiness: it reads one
request (head and Content-Length body), sends it to the next upstream with `Connection: close`,
and copies the answer back, streamed, until the upstream closes; the client then opens a new
connection for its next request, which lands on the next replica.
"""

import asyncio
import itertools
from collections.abc import Sequence

_MAX_HEAD = 64 * 1024


class RoundRobinProxy:
    """Listens on 127.0.0.1 (a port chosen at run time) and spreads requests over `upstreams`."""

    def __init__(self, upstreams: Sequence[tuple[str, int]]) -> None:
        self._next = itertools.cycle(list(upstreams))
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.forwarded = 0

    async def start(self) -> None:
        """Start listening; `port` is then set."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and hang up on clients still connected."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._clients):
                writer.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > _MAX_HEAD:
                return
            lines = head.decode("latin-1").split("\r\n")
            kept = [lines[0]]
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if not line or name.strip().lower() == "connection":
                    continue
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
                kept.append(line)
            body = await reader.readexactly(length) if length else b""
            host, port = next(self._next)
            self.forwarded += 1
            up_reader, up_writer = await asyncio.open_connection(host, port)
            try:
                up_writer.write(("\r\n".join([*kept, "Connection: close"]) + "\r\n\r\n").encode())
                up_writer.write(body)
                await up_writer.drain()
                while chunk := await up_reader.read(65536):
                    writer.write(chunk)
                    await writer.drain()
            finally:
                up_writer.close()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self._clients.discard(writer)
            writer.close()
