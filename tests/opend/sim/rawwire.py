"""A minimal raw-socket OpenD client for the simulator's tests: framing only, no opend.client.

The simulator is tested against this and against the official SDK, never against our own
client, so a bug shared by our client and the simulator cannot hide.
"""

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from opend.framing import Frame, FrameDecoder, ProtoFmt, encode_frame
from opend.protoids import ProtoId

INIT_C2S = {"clientVer": 300, "clientID": "sim-test", "recvNotify": False, "packetEncAlgo": -1}


class RawConn:
    """One TCP connection speaking framed JSON (or protobuf) requests, one at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.decoder = FrameDecoder()
        self.pending: list[Frame] = []
        self.serial = 100
        self.conn_id = 0
        self.init: dict[str, Any] = {}

    @classmethod
    async def open(cls, address: tuple[str, int], *, init: bool = True) -> "RawConn":
        """Connect and (by default) run InitConnect."""
        reader, writer = await asyncio.open_connection(*address)
        conn = cls(reader, writer)
        if init:
            reply = await conn.request(ProtoId.INIT_CONNECT, INIT_C2S)
            assert reply["retType"] == 0, reply
            conn.init = reply["s2c"]
            conn.conn_id = int(reply["s2c"]["connID"])
        return conn

    def next_serial(self) -> int:
        """A fresh request serial."""
        self.serial += 1
        return self.serial

    async def send_raw(self, data: bytes) -> None:
        """Write bytes as they are (for malformed-stream tests)."""
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, proto_id: int, c2s: dict[str, Any], serial: int | None = None) -> int:
        """Send a JSON request without waiting; return its serial."""
        serial = serial or self.next_serial()
        body = json.dumps({"c2s": c2s}).encode()
        await self.send_raw(encode_frame(proto_id, serial, body, ProtoFmt.JSON))
        return serial

    async def receive(self, timeout: float = 5.0) -> tuple[int, int, dict[str, Any]]:
        """The next reply as (proto_id, serial, body dict); raises on EOF or timeout."""
        async with asyncio.timeout(timeout):
            while not self.pending:
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionError("closed by the simulator")
                self.pending.extend(self.decoder.feed(data))
        frame = self.pending.pop(0)
        return frame.proto_id, frame.serial, json.loads(frame.body)

    async def request(self, proto_id: int, c2s: dict[str, Any]) -> dict[str, Any]:
        """Send one JSON request and return the reply body; checks the echoed serial."""
        serial = await self.send(proto_id, c2s)
        got_proto, got_serial, body = await self.receive()
        assert (got_proto, got_serial) == (proto_id, serial)
        return body

    async def ok(self, proto_id: int, c2s: dict[str, Any]) -> dict[str, Any]:
        """A request that must succeed; returns its s2c."""
        reply = await self.request(proto_id, c2s)
        assert reply["retType"] == 0, reply
        return reply.get("s2c", {})

    async def error(self, proto_id: int, c2s: dict[str, Any]) -> str:
        """A request that must fail; returns OpenD's retMsg."""
        reply = await self.request(proto_id, c2s)
        assert reply["retType"] != 0, reply
        assert "s2c" not in reply
        return reply["retMsg"]

    async def closed_by_peer(self, timeout: float = 5.0) -> bool:
        """True once the simulator has closed the connection (EOF within `timeout`)."""
        try:
            async with asyncio.timeout(timeout):
                while await self.reader.read(65536):
                    pass
        except TimeoutError:
            return False
        except ConnectionError:
            return True
        return True

    async def close(self) -> None:
        """Close our side."""
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
