"""OpenD packet framing: the 44-byte little-endian header and an incremental stream decoder.

Shared by the client and the simulator so both sides agree byte for byte. The decoder never
buffers more than one header plus one bounded body: a peer that announces a huge body, or sends
anything but the `FT` magic, gets a `FramingError` and the caller closes the connection.
"""

import hashlib
import struct
from dataclasses import dataclass
from enum import IntEnum

HEADER = struct.Struct("<2sIBBII20s8s")
HEADER_SIZE = HEADER.size  # 44
MAGIC = b"FT"
PROTO_VERSION = 0
RESERVED = bytes(8)
MAX_BODY_SIZE = 64 * 1024 * 1024


class ProtoFmt(IntEnum):
    """Body encoding announced in the header; a response uses the request's format."""

    PROTOBUF = 0
    JSON = 1


class FramingError(Exception):
    """The byte stream is not a valid OpenD packet stream; the connection must be closed."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One packet as read off the wire. `body` is still encrypted when the link is encrypted."""

    proto_id: int
    fmt: int
    serial: int
    sha1: bytes
    body: bytes


def encode_frame(
    proto_id: int,
    serial: int,
    body: bytes,
    fmt: int = ProtoFmt.JSON,
    wire_body: bytes | None = None,
) -> bytes:
    """Header + body. The SHA-1 covers the plaintext `body`; `wire_body` is what is sent if encrypted."""
    sent = body if wire_body is None else wire_body
    header = HEADER.pack(
        MAGIC,
        proto_id,
        fmt,
        PROTO_VERSION,
        serial,
        len(sent),
        hashlib.sha1(body).digest(),
        RESERVED,
    )
    return header + sent


def check_sha1(frame: Frame, plaintext: bytes) -> None:
    """Raise `FramingError` unless the header's SHA-1 matches the (decrypted) body."""
    if hashlib.sha1(plaintext).digest() != frame.sha1:
        raise FramingError(f"SHA-1 mismatch in packet proto {frame.proto_id} serial {frame.serial}")


class FrameDecoder:
    """Turns arbitrary chunks of a byte stream into whole frames.

    Feed it whatever `read()` returned; it returns the frames completed so far and keeps the
    rest. Bad magic or an oversized body raise `FramingError` before any body is buffered.
    """

    def __init__(self, max_body_size: int = MAX_BODY_SIZE) -> None:
        self._buffer = bytearray()
        self._max_body_size = max_body_size

    def feed(self, data: bytes) -> list[Frame]:
        """Append `data` and return every complete frame now available, in order."""
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= HEADER_SIZE:
            magic, proto_id, fmt, _ver, serial, body_len, sha1, _reserved = HEADER.unpack_from(
                self._buffer
            )
            if magic != MAGIC:
                raise FramingError(f"bad magic {bytes(magic)!r}")
            if body_len > self._max_body_size:
                raise FramingError(f"body length {body_len} exceeds {self._max_body_size}")
            end = HEADER_SIZE + body_len
            if len(self._buffer) < end:
                break
            frames.append(Frame(proto_id, fmt, serial, sha1, bytes(self._buffer[HEADER_SIZE:end])))
            del self._buffer[:end]
        return frames

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)
