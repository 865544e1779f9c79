"""One live TCP link to OpenD: InitConnect, keep-alive, and any number of requests in flight.

Requests are matched to replies by the header serial. Anything wrong with the byte stream (bad
magic, oversized body, SHA-1 mismatch, undecryptable body) closes the link with a logged reason;
every request still waiting then fails at once. So does a KeepAlive left unanswered for the
request timeout: a frozen OpenD (process stopped, socket open) is noticed, not waited on. A
request that times out sends such a KeepAlive at once rather than at the next interval. Reconnecting is the owner's job (`OpenDClient`):
a `Connection` is used once and thrown away.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opend import c2s
from opend.enums import PacketEncAlgo
from opend.errors import (
    CryptoError,
    GatewayNotConnected,
    OpenDError,
    OutcomeUnknown,
    ProtocolError,
    RequestTimeout,
)
from opend.framing import Frame, FrameDecoder, FramingError, check_sha1, encode_frame
from opend.models import InitInfo
from opend.protoids import ProtoId

if TYPE_CHECKING:
    # opend.crypto (and cryptography) is imported only for a link with an RSA key: most links
    # have none, and start-up time is a measured goal (bench/bench_mcp.py).
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from opend.crypto import AesCodec

log = logging.getLogger(__name__)

READ_CHUNK = 256 * 1024
SERIAL_LIMIT = 1 << 32

Body = dict[str, Any]


def encode_body(payload: Body) -> bytes:
    """The request body OpenD expects: `{"c2s": {...}}`, compact UTF-8 JSON."""
    return json.dumps({"c2s": payload}, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_reply(proto_id: int, body: bytes) -> Body:
    """A reply's `s2c` (empty dict when absent); `OpenDError` with OpenD's text when retType != 0."""
    try:
        reply = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError(
            f"OpenD's reply to protocol {proto_id} is not JSON", proto_id=proto_id
        ) from None
    if not isinstance(reply, dict):
        raise ProtocolError(
            f"OpenD's reply to protocol {proto_id} is not an object", proto_id=proto_id
        )
    try:
        ret_type = int(reply.get("retType", -400))
        err_code = int(reply.get("errCode") or 0)
    except (TypeError, ValueError):
        raise ProtocolError(f"OpenD's reply to protocol {proto_id} has a bad retType") from None
    if ret_type != 0:
        message = str(
            reply.get("retMsg") or f"OpenD failed protocol {proto_id} (retType {ret_type})"
        )
        raise OpenDError(message, ret_type=ret_type, err_code=err_code, proto_id=proto_id)
    s2c = reply.get("s2c")
    return s2c if isinstance(s2c, dict) else {}


class Connection:
    """A link after a successful InitConnect; dies on the first stream error, never reopens."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        address: str,
        info: InitInfo,
        codec: "AesCodec | None",
        *,
        request_timeout: float,
        keepalive_interval: float | None,
        dead_after: float | None,
        first_serial: int,
        decoder: FrameDecoder,
    ) -> None:
        self.address = address
        self.info = info
        self.request_timeout = request_timeout
        self._reader = reader
        self._writer = writer
        self._codec = codec
        self._decoder = decoder
        self._serial = first_serial
        self._pending: dict[int, tuple[int, asyncio.Future[bytes]]] = {}
        self._closed = asyncio.Event()
        self._probe = asyncio.Event()  # set by a timed-out request: send a KeepAlive now
        self.close_reason: str | None = None
        self._last_received = time.monotonic()
        # A nonsensical interval from the server must not turn keep-alive into a busy loop.
        server_interval = min(max(float(info.keep_alive_interval or 10), 1.0), 600.0)
        self.keepalive_interval = keepalive_interval or server_interval * 0.8
        self.dead_after = dead_after or max(server_interval * 3, self.keepalive_interval * 2)
        self._reader_task = asyncio.create_task(self._read_loop(), name=f"opend-read {address}")
        self._keepalive_task = asyncio.create_task(
            self._keepalive_loop(), name=f"opend-keepalive {address}"
        )
        self.keepalives_sent = 0
        # Receives (proto id, s2c) of each push in PUSH_PROTOS; set by the owner right after open.
        self.on_push: Callable[[int, Body], None] | None = None

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        client_id: str,
        rsa_key: "RSAPrivateKey | None" = None,
        connect_timeout: float = 10.0,
        request_timeout: float = 12.0,
        keepalive_interval: float | None = None,
        dead_after: float | None = None,
    ) -> "Connection":
        """Connect and run InitConnect; raises GatewayNotConnected (with the reason) on failure."""
        address = f"{host}:{port}"
        try:
            async with asyncio.timeout(connect_timeout):
                reader, writer = await asyncio.open_connection(host, port)
        except TimeoutError:
            raise GatewayNotConnected(
                address, f"connect timed out after {connect_timeout:g} s"
            ) from None
        except OSError as exc:
            raise GatewayNotConnected(address, _os_reason(exc)) from None
        decoder = FrameDecoder()
        try:
            async with asyncio.timeout(connect_timeout):
                info = await _init_connect(reader, writer, decoder, client_id, rsa_key)
        except BaseException as exc:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            if isinstance(exc, TimeoutError):
                raise GatewayNotConnected(
                    address,
                    f"no InitConnect reply within {connect_timeout:g} s: not an OpenD API "
                    "port, or OpenD not responding?",
                ) from None
            if isinstance(exc, GatewayNotConnected):
                raise
            if isinstance(exc, _NotOpenD):
                raise GatewayNotConnected(
                    address, f"not an OpenD: it answered InitConnect in another protocol ({exc})"
                ) from None
            if isinstance(exc, OpenDError):
                raise GatewayNotConnected(address, f"InitConnect refused: {exc}") from None
            if isinstance(exc, OSError) and exc.errno is not None:  # a reset, not our message
                raise GatewayNotConnected(
                    address, f"InitConnect failed: {_os_reason(exc)}"
                ) from None
            if isinstance(exc, Exception):  # bad bytes, bad crypto, a malformed S2C...
                raise GatewayNotConnected(address, f"InitConnect failed: {exc}") from None
            raise
        codec = None
        if rsa_key is not None:
            from opend.crypto import AesCodec

            try:
                codec = AesCodec(info.conn_aes_key, PacketEncAlgo.AES_CBC, info.aes_cbc_iv)
            except CryptoError as exc:
                writer.close()
                raise GatewayNotConnected(
                    address, f"InitConnect gave no usable AES key: {exc}"
                ) from None
        return cls(
            reader,
            writer,
            address,
            info,
            codec,
            request_timeout=request_timeout,
            keepalive_interval=keepalive_interval,
            dead_after=dead_after,
            first_serial=INIT_SERIAL + 1,
            decoder=decoder,
        )

    # ---- state ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the link is gone (for whatever reason, see `close_reason`)."""
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        """Return when the link has closed."""
        await self._closed.wait()

    def next_serial(self) -> int:
        """A fresh serial for the header (and for packetID.serialNo of trade writes)."""
        serial = self._serial
        self._serial = serial % (SERIAL_LIMIT - 1) + 1
        return serial

    @property
    def in_flight(self) -> int:
        """Requests sent and not yet answered."""
        return len(self._pending)

    # ---- requests ------------------------------------------------------------------------

    async def request(
        self,
        proto_id: int,
        body: Body,
        *,
        serial: int | None = None,
        timeout: float | None = None,
        write: bool = False,
        on_sent: Callable[[], None] | None = None,
    ) -> Body:
        """Send one request and wait for its reply's `s2c`.

        `write=True` marks an order write (place/modify): if the reply never comes the order may
        have happened, so that raises `OutcomeUnknown` instead of a retryable error. `on_sent`
        runs right after the bytes are handed to the socket (the order throttle's send time).
        """
        if self.closed:
            raise GatewayNotConnected(self.address, self.close_reason or "closed")
        if serial is None:
            serial = self.next_serial()
        plain = encode_body(body)
        wire = self._codec.encrypt(plain) if self._codec else None
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[serial] = (proto_id, future)
        limit = self.request_timeout if timeout is None else timeout
        try:
            self._writer.write(encode_frame(proto_id, serial, plain, wire_body=wire))
            if on_sent is not None:
                on_sent()
            await self._writer.drain()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that races with the reply, leaving a cancelled caller running.
            async with asyncio.timeout(limit):
                reply = await future
        except TimeoutError:
            if proto_id != ProtoId.KEEP_ALIVE:
                self._probe.set()
            if write:
                raise outcome_unknown(proto_id, f"no reply within {limit:g} s") from None
            raise RequestTimeout(self.address, proto_id, limit) from None
        except _LinkLost as lost:
            if write:
                raise outcome_unknown(proto_id, f"connection lost: {lost}") from None
            raise GatewayNotConnected(
                self.address, f"connection lost before the reply: {lost}"
            ) from None
        except (ConnectionError, OSError) as exc:
            self.close(f"write failed: {_os_reason(exc)}")
            if write:
                raise outcome_unknown(proto_id, "connection lost while sending") from None
            raise GatewayNotConnected(self.address, self.close_reason or "closed") from None
        finally:
            entry = self._pending.get(serial)
            if entry is not None and entry[1] is future:
                del self._pending[serial]
        try:
            return decode_reply(proto_id, reply)
        except ProtocolError as exc:
            if write:
                raise outcome_unknown(proto_id, f"its reply could not be read ({exc})") from None
            raise

    # ---- background ----------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self._reader.read(READ_CHUNK)
                if not data:
                    self.close("OpenD closed the connection")
                    return
                self._last_received = time.monotonic()
                for frame in self._decoder.feed(data):
                    self._dispatch(frame)
        except FramingError as exc:
            log.warning("closing link to OpenD %s: %s", self.address, exc)
            self.close(f"bad data from OpenD: {exc}")
        except CryptoError as exc:
            log.warning("closing link to OpenD %s: %s", self.address, exc)
            self.close(f"undecryptable data from OpenD: {exc}")
        except (ConnectionError, OSError) as exc:
            self.close(_os_reason(exc))
        except Exception as exc:  # never leave a dead reader behind a link that looks alive
            log.exception("closing link to OpenD %s: unexpected error", self.address)
            self.close(f"client error reading from OpenD: {exc}")

    def _dispatch(self, frame: Frame) -> None:
        body = self._codec.decrypt(frame.body) if self._codec else frame.body
        check_sha1(frame, body)
        if frame.proto_id in PUSH_PROTOS:  # never requested, so never a reply
            self._push(frame.proto_id, body)
            return
        entry = self._pending.get(frame.serial)
        if entry is None or entry[0] != frame.proto_id:
            # Other pushes (order updates, notifications) and replies to timed-out requests.
            log.debug(
                "dropping proto %s serial %s: no request waiting", frame.proto_id, frame.serial
            )
            return
        future = entry[1]
        if not future.done():
            future.set_result(body)

    def _push(self, proto_id: int, body: bytes) -> None:
        """Hand a push's `s2c` to `on_push`; a bad push is logged and dropped, never fatal."""
        handler = self.on_push
        if handler is None:
            return
        try:
            handler(proto_id, decode_reply(proto_id, body))
        except Exception:
            log.warning("dropping push %s from OpenD %s", proto_id, self.address, exc_info=True)

    async def _keepalive_loop(self) -> None:
        while not self.closed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(self.keepalive_interval, self.dead_after / 2)):
                    await self._probe.wait()
            self._probe.clear()
            silent = time.monotonic() - self._last_received
            if silent > self.dead_after:
                log.warning("closing link to OpenD %s: silent for %.1f s", self.address, silent)
                self.close(f"no data from OpenD for {silent:.0f} s")
                return
            try:
                await self.request(
                    ProtoId.KEEP_ALIVE, c2s.keep_alive(time.time()), timeout=self.request_timeout
                )
            except RequestTimeout:
                why = f"no reply to KeepAlive within {self.request_timeout:g} s"
                log.warning("closing link to OpenD %s: %s", self.address, why)
                self.close(why)
                return
            except OpenDError:
                continue
            self.keepalives_sent += 1

    def close(self, reason: str) -> None:
        """Close the link now; every waiting request fails with `reason`. Idempotent."""
        if self._closed.is_set():
            return
        self.close_reason = reason
        self._closed.set()
        current = asyncio.current_task()
        for task in (self._reader_task, self._keepalive_task):
            if task is not current:
                task.cancel()
        self._writer.close()
        pending, self._pending = self._pending, {}
        for _proto, future in pending.values():
            if not future.done():
                future.set_exception(_LinkLost(reason))

    async def aclose(self, reason: str = "closed by client") -> None:
        """Close and wait until the background tasks have finished."""
        self.close(reason)
        current = asyncio.current_task()
        tasks = [t for t in (self._reader_task, self._keepalive_task) if t is not current]
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()


INIT_SERIAL = 1

# Pushes routed to `Connection.on_push`; every other unmatched frame is dropped.
PUSH_PROTOS = frozenset({ProtoId.QOT_UPDATE_BASIC_QOT})


class _LinkLost(Exception):
    """Internal: the link closed while a request waited."""


class _NotOpenD(Exception):
    """Internal: the peer answered InitConnect with bytes that are not OpenD frames."""


def outcome_unknown(proto_id: int, why: str) -> OutcomeUnknown:
    """The error for an order write that was sent but whose result we cannot know."""
    name = "place order" if proto_id == ProtoId.TRD_PLACE_ORDER else "modify/cancel order"
    return OutcomeUnknown(
        f"outcome unknown: the {name} request was sent but {why}; "
        "check futu_get_orders before trying again",
        ret_type=-200,
        proto_id=proto_id,
    )


def _os_reason(exc: BaseException) -> str:
    """Short human reason for a socket error ("connection refused")."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"host name not resolved: {exc.strerror or exc}"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text[0].lower() + text[1:]


async def _init_connect(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    decoder: FrameDecoder,
    client_id: str,
    rsa_key: "RSAPrivateKey | None",
) -> InitInfo:
    """Send InitConnect and read frames until its reply (nothing else may be sent before)."""
    plain = encode_body(c2s.init_connect(client_id, rsa_key is not None))
    wire = None
    if rsa_key is not None:
        from opend.crypto import rsa_encrypt

        wire = rsa_encrypt(rsa_key, plain)
    writer.write(encode_frame(ProtoId.INIT_CONNECT, INIT_SERIAL, plain, wire_body=wire))
    await writer.drain()
    # The usual cause of a failed InitConnect is a key on one side only, or different keys.
    hint = (
        " (does OpenD require an RSA key?)"
        if rsa_key is None
        else " (is the same RSA key configured in OpenD?)"
    )
    while True:
        data = await reader.read(READ_CHUNK)
        if not data:
            if decoder.pending:  # a short reply in some other protocol, then hang-up
                raise _NotOpenD(f"{decoder.pending} bytes, then it closed the connection")
            raise ConnectionResetError(f"OpenD closed the connection during InitConnect{hint}")
        try:
            frames = decoder.feed(data)
        except FramingError as exc:
            raise _NotOpenD(str(exc)) from None
        for frame in frames:
            if frame.proto_id != ProtoId.INIT_CONNECT or frame.serial != INIT_SERIAL:
                continue
            plaintext_reply = hashlib.sha1(frame.body).digest() == frame.sha1
            if rsa_key is None or plaintext_reply:
                body = frame.body
            else:
                from opend.crypto import rsa_decrypt

                try:
                    body = rsa_decrypt(rsa_key, frame.body)
                    check_sha1(frame, body)
                except (CryptoError, FramingError):
                    raise FramingError(f"InitConnect reply could not be decrypted{hint}") from None
            check_sha1(frame, body)
            try:
                s2c = decode_reply(ProtoId.INIT_CONNECT, body)
            except ProtocolError:
                raise FramingError(f"InitConnect reply is not JSON{hint}") from None
            if rsa_key is not None and plaintext_reply:
                raise FramingError(
                    "OpenD answered InitConnect unencrypted: it has no RSA key configured, "
                    "so the client must not use one either"
                )
            info = InitInfo.from_wire(s2c)
            if not info.conn_id:
                raise FramingError("InitConnect reply has no connID")
            return info
