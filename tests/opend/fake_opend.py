"""A hand-written, scriptable OpenD for client tests, able to misbehave on purpose.

It answers InitConnect properly (optionally RSA + AES-CBC, like an OpenD with a key configured),
then hands every other frame to a test-supplied handler that may reply correctly, send garbage,
stay silent or hang up. Not the product simulator (`opend.sim`): this one exists to break rules.
"""

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from opend.client import OpenDClient
from opend.crypto import AesCodec, CryptoError, PacketEncAlgo, rsa_decrypt, rsa_encrypt
from opend.framing import Frame, FrameDecoder, FramingError, check_sha1, encode_frame
from opend.protoids import ProtoId


@dataclass
class Link:
    """One client connection as the fake sees it."""

    writer: asyncio.StreamWriter
    codec: AesCodec | None = None
    requests: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)

    def send_raw(self, data: bytes) -> None:
        """Write bytes exactly as given."""
        self.writer.write(data)

    def reply(self, frame: Frame, s2c: dict[str, Any] | None = None, **top: Any) -> None:
        """A well-formed reply to `frame`: retType 0 and `s2c`, unless `top` overrides."""
        body: dict[str, Any] = {"retType": 0, "retMsg": "", "errCode": 0}
        if s2c is not None:
            body["s2c"] = s2c
        body.update(top)
        self.send(frame.proto_id, frame.serial, json.dumps(body).encode())

    def send(self, proto_id: int, serial: int, plain: bytes) -> None:
        """A frame with a correct header, encrypted when the link is."""
        wire = self.codec.encrypt(plain) if self.codec else None
        self.writer.write(encode_frame(proto_id, serial, plain, wire_body=wire))

    def close(self) -> None:
        """Hang up."""
        self.writer.close()


Handler = Callable[[Link, Frame, dict[str, Any]], Awaitable[None] | None]


async def answer_ok(link: Link, frame: Frame, body: dict[str, Any]) -> None:
    """Default behaviour: every request succeeds with an empty s2c (KeepAlive echoes time)."""
    if frame.proto_id == ProtoId.KEEP_ALIVE:
        link.reply(frame, {"time": body["c2s"]["time"]})
    else:
        link.reply(frame, {})


class FakeOpenD:
    """Listens on 127.0.0.1:<free port>; `handler` decides what each request gets."""

    def __init__(
        self,
        handler: Handler = answer_ok,
        *,
        keep_alive_interval: int = 10,
        rsa_key: Any = None,
        init_hook: Callable[[Link, Frame], bool] | None = None,
    ) -> None:
        self.handler = handler
        self.keep_alive_interval = keep_alive_interval
        self.rsa_key = rsa_key
        self.init_hook = init_hook
        self.links: list[Link] = []
        self.accepted = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_conn_id = 7_000_000_000_000_000_001

    async def start(self) -> None:
        """Listen (again on the same port after a stop)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every client."""
        if self._server is not None:
            self._server.close()
        for link in self.links:
            link.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> "FakeOpenD":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def requests(self, proto_id: int) -> list[dict[str, Any]]:
        """Bodies of every request of one protocol, over all links."""
        return [body for link in self.links for p, _s, body in link.requests if p == proto_id]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await self._run_link(reader, writer)

    async def _run_link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        link = Link(writer)
        self.links.append(link)
        decoder = FrameDecoder()
        try:
            while data := await reader.read(65536):
                for frame in decoder.feed(data):
                    await self._on_frame(link, frame)
                await writer.drain()
        except (ConnectionError, FramingError, CryptoError, ValueError):
            pass  # a real OpenD just hangs up on a client it cannot understand
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _on_frame(self, link: Link, frame: Frame) -> None:
        if frame.proto_id == ProtoId.INIT_CONNECT:
            # The hook sees the raw frame first, so it can answer even what it cannot decrypt.
            if self.init_hook is not None and self.init_hook(link, frame):
                return
            plain = rsa_decrypt(self.rsa_key, frame.body) if self.rsa_key else frame.body
            check_sha1(frame, plain)
            body = json.loads(plain)
            link.requests.append((frame.proto_id, frame.serial, body))
            self._next_conn_id += 1
            s2c = {
                "serverVer": 1001,
                "loginUserID": "12345678",
                "connID": str(self._next_conn_id),
                "connAESKey": "0123456789abcdef",
                "keepAliveInterval": self.keep_alive_interval,
                "aesCBCiv": "fedcba9876543210",
            }
            reply = json.dumps({"retType": 0, "retMsg": "", "s2c": s2c}).encode()
            wire = rsa_encrypt(self.rsa_key, reply) if self.rsa_key else None
            link.writer.write(encode_frame(frame.proto_id, frame.serial, reply, wire_body=wire))
            if self.rsa_key:
                algo = PacketEncAlgo(body["c2s"].get("packetEncAlgo", 0))
                link.codec = AesCodec(s2c["connAESKey"], algo, s2c["aesCBCiv"])
            return
        plain = link.codec.decrypt(frame.body) if link.codec else frame.body
        check_sha1(frame, plain)
        body = json.loads(plain)
        link.requests.append((frame.proto_id, frame.serial, body))
        result = self.handler(link, frame, body)
        if result is not None:
            await result


def fast_client(port: int, **options: object) -> OpenDClient:
    """A client with short timers (1 s requests, 10-50 ms reconnect backoff) for scripted tests."""
    settings: dict[str, object] = {
        "request_timeout": 1.0,
        "connect_timeout": 1.0,
        "reconnect_base": 0.01,
        "reconnect_cap": 0.05,
    }
    settings.update(options)
    return OpenDClient("127.0.0.1", port, **settings)  # type: ignore[arg-type]
