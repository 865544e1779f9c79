"""The simulated OpenD's TCP side: connections, framing, encryption, keep-alive, fault hooks.

`Simulator` runs on the caller's asyncio loop (`async with Simulator() as sim`);
`SimulatorThread` runs one on its own loop in a background thread for synchronous code (the
official SDK, subprocess-based end-to-end tests). Requests are processed in arrival order; the
fault hooks act on the replies: `stall` holds them, `drop_after` processes a request and closes
the connection instead of answering, `latency_ms` delays every reply; `set_logged_in(False)`
(or `logged_in=False`) plays an OpenD that is up but whose login to Futu failed. With
`quote_limits=True` it refuses quote requests past OpenD's documented rates and history K-line
requests past the quota (`history_kl_quota` securities per 30 days); off by default.
"""

import asyncio
import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from opend import pbschema
from opend.codes import QotMarket
from opend.crypto import (
    AesCodec,
    CryptoError,
    PacketEncAlgo,
    load_rsa_key,
    random_aes_key,
    rsa_decrypt,
    rsa_encrypt,
)
from opend.framing import Frame, FrameDecoder, FramingError, ProtoFmt, check_sha1, encode_frame
from opend.protoids import ProtoId
from opend.sim import pushes
from opend.sim.handlers import ConnInfo, error_reply, respond
from opend.sim.limits import DEFAULT_HISTORY_KL_QUOTA
from opend.sim.pbcodec import BadRequest, decode_request, encode_response, formats
from opend.sim.state import DEFAULT_TRADE_PASSWORD, SimState
from opend.sim.trading import Deal, Order

log = logging.getLogger("opend.sim")

MAX_CONNECTIONS = 128
_MAX_REQUEST_BODY = 4 * 1024 * 1024
T = TypeVar("T")


class _Connection:
    """One client connection: its decoder, crypto and pending (parked or delayed) replies."""

    def __init__(
        self,
        sim: "Simulator",
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        conn_id: int,
        rejected: bool,
    ) -> None:
        self.sim = sim
        self.reader = reader
        self.writer = writer
        self.info = ConnInfo(conn_id, sim.keepalive_interval, random_aes_key(), random_aes_key())
        self.rejected = rejected
        self.decoder = FrameDecoder(_MAX_REQUEST_BODY)
        self.aes: AesCodec | None = None
        self.last_recv = asyncio.get_running_loop().time()
        self.parked: list[tuple[int, bytes]] = []
        self.closed = False
        self._pending_aes: AesCodec | None = None
        self._batch: list[bytes] | None = None  # replies collected while one read is processed
        # Delayed replies (latency_ms) go through one queue so they leave in order.
        self._outbox: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        self._outbox_task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Read frames until the peer goes away or the stream is broken."""
        try:
            while not self.closed:
                data = await self.reader.read(65536)
                if not data:
                    break
                self.last_recv = asyncio.get_running_loop().time()
                # Replies to one read go out in one write: a send per reply costs more than a
                # snapshot does.
                self._batch = []
                try:
                    for frame in self.decoder.feed(data):
                        await self._on_frame(frame)
                        if self.closed:
                            break
                finally:
                    batch, self._batch = self._batch, None
                if batch and not self.closed:
                    self.writer.write(b"".join(batch))
                if not self.closed:
                    await self.writer.drain()
        except FramingError as exc:
            log.info("conn %s: closing on a broken stream: %s", self.info.conn_id, exc)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.close()

    async def _on_frame(self, frame: Frame) -> None:
        proto_id, fmt = frame.proto_id, frame.fmt
        self.sim.requests_seen[proto_id] += 1
        if fmt not in (ProtoFmt.JSON, ProtoFmt.PROTOBUF):
            fmt = ProtoFmt.JSON
        if fmt == ProtoFmt.PROTOBUF and not pbschema.available():
            # A JSON reply labelled protobuf would make the SDK log parse errors forever.
            log.warning(
                "conn %s: closed: it sent a protobuf body (the official SDK's default), and "
                "protobuf needs the official schemas: pip install 'futu-mcp[sim-protobuf]', or "
                "switch the SDK to JSON with SysConfig.set_proto_fmt(ProtoFMT.Json) before "
                "opening a context",
                self.info.conn_id,
            )
            self.close()
            return
        if self.rejected:
            self._send(
                proto_id,
                frame.serial,
                fmt,
                error_reply(
                    f"Too many connections: OpenD accepts at most {self.sim.max_connections}"
                ),
            )
            self.close()
            return
        try:
            plaintext = self._decrypt(frame)
            check_sha1(frame, plaintext)
        except (CryptoError, FramingError) as exc:
            self._send(
                proto_id, frame.serial, fmt, error_reply(f"Invalid packet: {exc}"), encrypt=False
            )
            return
        if not self.info.initialized and proto_id != ProtoId.INIT_CONNECT:
            self._send(
                proto_id,
                frame.serial,
                fmt,
                error_reply("InitConnect first: the connection is not initialised"),
            )
            return
        try:
            c2s = decode_request(proto_id, frame.fmt, plaintext)
        except BadRequest as exc:
            self._send(proto_id, frame.serial, fmt, error_reply(f"Invalid request: {exc}"))
            return
        try:
            reply = respond(self.sim.state, self.info, proto_id, c2s)
        except Exception:  # a handler bug must cost one reply, not the connection
            log.exception("conn %s: handler for %s failed", self.info.conn_id, proto_id)
            reply = error_reply(f"Internal error handling protocol {proto_id}")
        rsa_reply = False
        if proto_id == ProtoId.INIT_CONNECT and reply["retType"] == 0:
            rsa_reply = self._start_session(c2s)
        if self.sim.take_drop_after(proto_id):
            self.close()
            return
        self._send(proto_id, frame.serial, fmt, reply, rsa=rsa_reply)

    def _decrypt(self, frame: Frame) -> bytes:
        if frame.proto_id == ProtoId.INIT_CONNECT and self.sim.rsa_key is not None:
            return rsa_decrypt(self.sim.rsa_key, frame.body)
        if self.aes is not None:
            return self.aes.decrypt(frame.body)
        return frame.body

    def _start_session(self, c2s: dict[str, Any]) -> bool:
        """After a successful InitConnect: switch on AES if a key is configured."""
        self.info.initialized = True
        if self.sim.rsa_key is None:
            return False
        algo = PacketEncAlgo(int(c2s.get("packetEncAlgo", PacketEncAlgo.FTAES_ECB)))
        if algo is PacketEncAlgo.NONE:
            algo = PacketEncAlgo.FTAES_ECB
        self.info.encrypted = True
        self._pending_aes = AesCodec(self.info.aes_key, algo, self.info.aes_iv)
        return True

    def _send(
        self,
        proto_id: int,
        serial: int,
        fmt: int,
        reply: dict[str, Any],
        *,
        rsa: bool = False,
        encrypt: bool = True,
    ) -> None:
        try:
            body = encode_response(proto_id, fmt, reply)
        except Exception:
            log.exception(
                "conn %s: reply to %s does not fit the schema", self.info.conn_id, proto_id
            )
            body = encode_response(
                proto_id, fmt, error_reply(f"Internal error encoding protocol {proto_id}")
            )
        wire_body = None
        if rsa:
            wire_body = rsa_encrypt(self.sim.rsa_key, body)  # type: ignore[arg-type]
            self.aes = self._pending_aes
        elif encrypt and self.aes is not None:
            wire_body = self.aes.encrypt(body)
        data = encode_frame(proto_id, serial, body, fmt, wire_body)
        self.deliver(proto_id, data)

    def deliver(self, proto_id: int, data: bytes) -> None:
        """Write a reply now, later (latency) or when unstalled."""
        if self.closed:
            return
        if self.sim.is_stalled(proto_id):
            self.parked.append((proto_id, data))
            return
        if self.sim.latency_ms <= 0:
            if self._batch is not None:
                self._batch.append(data)
            else:
                self.writer.write(data)
            return
        loop = asyncio.get_running_loop()
        self._outbox.put_nowait((loop.time() + self.sim.latency_ms / 1000, data))
        if self._outbox_task is None:
            self._outbox_task = loop.create_task(self._send_delayed())

    async def _send_delayed(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.closed:
            due, data = await self._outbox.get()
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.closed:
                return
            self.writer.write(data)
            with contextlib.suppress(ConnectionError):
                await self.writer.drain()

    def push(self, proto_id: int, s2c: dict[str, Any]) -> None:
        """Send a push in the connection's push format (InitConnect pushProtoFmt)."""
        if self.closed or not self.info.initialized:
            return
        fmt = ProtoFmt.PROTOBUF if self.info.push_fmt == ProtoFmt.PROTOBUF else ProtoFmt.JSON
        self._send(proto_id, 0, fmt, {"retType": 0, "retMsg": "", "errCode": 0, "s2c": s2c})

    def flush_parked(self) -> None:
        """Send the replies held while stalled, in order."""
        parked, self.parked = self.parked, []
        for proto_id, data in parked:
            self.deliver(proto_id, data)

    def close(self) -> None:
        """Close the socket and release the connection's subscriptions."""
        if self.closed:
            return
        self.closed = True
        if self._batch:
            # Replies to requests before the one that closed the link still go out first.
            self.writer.write(b"".join(self._batch))
            self._batch = []
        if self._outbox_task is not None:
            self._outbox_task.cancel()
        self.writer.close()
        self.sim._forget(self)


class Simulator:
    """A simulated OpenD on the running asyncio loop; see the module docstring."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: int = 1,
        trade_password: str = DEFAULT_TRADE_PASSWORD,
        rsa_key_path: Path | None = None,
        latency_ms: int = 0,
        start_time: float | None = None,
        keepalive_interval: int = 10,
        keepalive_timeout: float | None = None,
        max_connections: int = MAX_CONNECTIONS,
        subscription_quota: int = 100,
        push_interval: float = 1.0,
        logged_in: bool = True,
        quote_limits: bool = False,
        history_kl_quota: int = DEFAULT_HISTORY_KL_QUOTA,
        real_hours: bool = False,
    ) -> None:
        self.host = host
        self._port = port
        self.state = SimState(
            seed=seed,
            trade_password=trade_password,
            start_time=start_time,
            subscription_quota=subscription_quota,
            logged_in=logged_in,
            quote_limits=quote_limits,
            history_kl_quota=history_kl_quota,
            real_hours=real_hours,
        )
        self.rsa_key = load_rsa_key(rsa_key_path) if rsa_key_path else None
        self.latency_ms = latency_ms
        self.keepalive_interval = keepalive_interval
        # OpenD's own timeout is unconfirmed; three missed intervals is what the SDK tolerates too.
        self.keepalive_timeout = (
            keepalive_timeout if keepalive_timeout is not None else 3.0 * keepalive_interval
        )
        self.max_connections = max_connections
        self._server: asyncio.Server | None = None
        self._connections: dict[int, _Connection] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._next_conn_id = 7_143_839_420_431_376_000
        self._stalled: set[int | None] = set()
        self._drop_after: set[int] = set()
        # Frames received per protocol id, so tests can count a client's round trips.
        self.requests_seen: Counter[int] = Counter()
        self.push_interval = push_interval
        self._pusher: asyncio.Task[None] | None = None
        self.state.trading.listeners.append(self._on_trade_event)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen (again, on the same port after a stop)."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._on_client, self.host, self._port, reuse_address=True
        )
        self._port = self._server.sockets[0].getsockname()[1]
        log.info(
            "OpenD simulator listening on %s:%s (formats: %s)",
            self.host,
            self._port,
            ", ".join(self.formats),
        )
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        self._pusher = asyncio.get_running_loop().create_task(self._push_quotes())

    async def stop(self) -> None:
        """Stop listening and close every connection; the state (orders, clock) is kept."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self.drop_connections()
        for name in ("_sweeper", "_pusher"):
            task = getattr(self, name)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                setattr(self, name, None)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def __aenter__(self) -> "Simulator":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound."""
        return self.host, self._port

    @property
    def formats(self) -> list[str]:
        """Body formats served: json always, protobuf when the official schemas are installed."""
        return formats()

    @property
    def push_accounts(self) -> set[int]:
        """Accounts some connection receives order and fill pushes for (Trd_SubAccPush)."""
        return {acc for conn in self._connections.values() for acc in conn.info.push_accounts}

    @property
    def connection_count(self) -> int:
        """Open client connections."""
        return len(self._connections)

    # --- fault hooks -----------------------------------------------------------------------

    def drop_connections(self) -> None:
        """Close every client connection now."""
        for conn in list(self._connections.values()):
            conn.close()

    def stall(self, proto_id: int | None = None) -> None:
        """Hold replies (to one protocol, or all) until `unstall`; requests are still processed."""
        self._stalled.add(proto_id)

    def unstall(self) -> None:
        """Release every held reply, in order."""
        self._stalled.clear()
        for conn in list(self._connections.values()):
            conn.flush_parked()

    def is_stalled(self, proto_id: int) -> bool:
        """True while replies to this protocol are held."""
        return bool(self._stalled) and (None in self._stalled or proto_id in self._stalled)

    def drop_after(self, proto_id: int) -> None:
        """Process the next request of this protocol, then close its connection without a reply."""
        self._drop_after.add(proto_id)

    def take_drop_after(self, proto_id: int) -> bool:
        """True (once) if the reply to this protocol is to be lost by closing the connection."""
        if proto_id in self._drop_after:
            self._drop_after.discard(proto_id)
            return True
        return False

    def advance(self, seconds: float) -> None:
        """Move the simulated clock forward (prices move, resting orders may fill)."""
        self.state.advance(seconds)

    def roll_over(self, market: QotMarket = QotMarket.HK) -> float:
        """Move on to the next trading day of `market` (see `SimState.roll_over`)."""
        return self.state.roll_over(market)

    def set_logged_in(self, logged_in: bool) -> None:
        """Play OpenD's login to Futu succeeding or failing (GetGlobalState and every quote
        and trade request follow it at once)."""
        self.state.logged_in = logged_in

    # --- internals -------------------------------------------------------------------------

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._next_conn_id += 1
        rejected = len(self._connections) >= self.max_connections
        conn = _Connection(self, reader, writer, self._next_conn_id, rejected)
        if not rejected:
            self._connections[conn.info.conn_id] = conn
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await conn.run()
        finally:
            if task is not None:
                self._tasks.discard(task)

    def _forget(self, conn: _Connection) -> None:
        if self._connections.pop(conn.info.conn_id, None) is not None:
            self.state.subscriptions.connection_closed(
                conn.info.conn_id, self.state.clock.monotonic()
            )

    async def _sweep(self) -> None:
        """Drop connections that stopped sending (KeepAlive or anything else); match orders."""
        loop = asyncio.get_running_loop()
        period = min(1.0, self.keepalive_timeout / 4)
        while True:
            await asyncio.sleep(period)
            now = loop.time()
            for conn in list(self._connections.values()):
                if now - conn.last_recv > self.keepalive_timeout:
                    log.info(
                        "conn %s: no keep-alive for %.1f s, closing",
                        conn.info.conn_id,
                        now - conn.last_recv,
                    )
                    conn.close()
            if not self.state.clock.frozen:
                self.state.trading.match(self.state.clock.now())

    def _on_trade_event(self, order: Order, deal: Deal | None) -> None:
        """Order and fill pushes to the connections that asked for the account."""
        for conn in list(self._connections.values()):
            if order.acc_id not in conn.info.push_accounts:
                continue
            conn.push(*pushes.order_push(self.state, order))
            if deal is not None:
                conn.push(*pushes.fill_push(self.state, deal))

    async def _push_quotes(self) -> None:
        """Every push interval, push what changed for each registered subscription."""
        while True:
            await asyncio.sleep(self.push_interval)
            for conn in list(self._connections.values()):
                for key in sorted(conn.info.push_keys):
                    try:
                        result = pushes.quote_push(
                            self.state, conn.info, *key, conn.info.last_push.get(key) or None
                        )
                    except Exception:  # a push bug must not stop the others
                        log.exception("conn %s: push of %s failed", conn.info.conn_id, key)
                        continue
                    if result is not None:
                        conn.info.last_push[key] = result[1]
                        conn.push(*result)


class SimulatorThread:
    """A `Simulator` on its own event loop in a daemon thread, for synchronous callers."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        self._args = (host, port)
        self._options = options
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.sim: Simulator | None = None

    def start(self) -> "SimulatorThread":
        """Start the thread and wait until the simulator listens."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self.sim = Simulator(*self._args, **self._options)
                loop.run_until_complete(self.sim.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.sim.stop())
            loop.close()

        self._thread = threading.Thread(target=main, name="opend-sim", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop the simulator and join its thread."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> "SimulatorThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, fn: Callable[[Simulator], T], timeout: float = 10.0) -> T:
        """Run `fn(sim)` on the simulator's loop and return its result (thread-safe)."""
        assert self._loop is not None and self.sim is not None, "SimulatorThread is not started"
        sim = self.sim

        async def run() -> T:
            return fn(sim)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the simulator listens on."""
        return self.call(lambda s: s.address)

    @property
    def state(self) -> SimState:
        """The simulator's state; read it only through `call` while requests may be running."""
        assert self.sim is not None
        return self.sim.state

    def drop_connections(self) -> None:
        """Thread-safe `Simulator.drop_connections`."""
        self.call(lambda s: s.drop_connections())

    def stall(self, proto_id: int | None = None) -> None:
        """Thread-safe `Simulator.stall`."""
        self.call(lambda s: s.stall(proto_id))

    def unstall(self) -> None:
        """Thread-safe `Simulator.unstall`."""
        self.call(lambda s: s.unstall())

    def drop_after(self, proto_id: int) -> None:
        """Thread-safe `Simulator.drop_after`."""
        self.call(lambda s: s.drop_after(proto_id))

    def advance(self, seconds: float) -> None:
        """Thread-safe `Simulator.advance`."""
        self.call(lambda s: s.advance(seconds))

    def roll_over(self, market: QotMarket = QotMarket.HK) -> float:
        """Thread-safe `Simulator.roll_over`."""
        return self.call(lambda s: s.roll_over(market))

    def set_logged_in(self, logged_in: bool) -> None:
        """Thread-safe `Simulator.set_logged_in`."""
        self.call(lambda s: s.set_logged_in(logged_in))
