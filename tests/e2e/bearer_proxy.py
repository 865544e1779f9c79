"""A loopback HTTP proxy that adds `Authorization: Bearer <key>` to every request it forwards.

For clients that cannot be given a header, such as the MCP conformance suite's CLI: through
the proxy they send what any configured futu-mcp client sends. Everything else (the Host and
Origin headers the DNS-rebinding checks look at, bodies, streamed replies) passes unchanged.
Each request gets its own upstream connection (`Connection: close`), so a request's head is
always the first thing read on a connection.
"""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

HOP_BY_HOP = (b"connection:", b"keep-alive:", b"authorization:", b"proxy-")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


def _rewrite(head: bytes, token: str) -> bytes:
    lines = head.split(b"\r\n")
    kept = [line for line in lines[1:] if line and not line.lower().startswith(HOP_BY_HOP)]
    added = [b"Authorization: Bearer " + token.encode(), b"Connection: close"]
    return b"\r\n".join([lines[0], *kept, *added]) + b"\r\n\r\n"


@contextmanager
def bearer_proxy(upstream: tuple[str, int], token: str) -> Iterator[int]:
    """Run the proxy on 127.0.0.1 (port chosen at run time, yielded) until the block ends."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            head = await client_r.readuntil(b"\r\n\r\n")
            up_r, up_w = await asyncio.open_connection(*upstream)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            client_w.close()
            return
        up_w.write(_rewrite(head, token))
        await asyncio.gather(_pipe(client_r, up_w), _pipe(up_r, client_w))

    async def serve() -> None:
        stop.append(asyncio.Event())
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        async with server:
            await stop[0].wait()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    stop: list[asyncio.Event] = []
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise AssertionError("the Bearer proxy did not start")
    try:
        yield port[0]
    finally:
        loop.call_soon_threadsafe(stop[0].set)
        thread.join(10)
        loop.close()
