"""Framing against the golden example from the protocol reference, and the decoder's bounds."""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opend.framing import HEADER_SIZE, FrameDecoder, FramingError, check_sha1, encode_frame

GOLDEN_BODY = b'{"c2s":{"securityList":[{"market":1,"code":"00700"}]}}'
GOLDEN_HEADER = bytes.fromhex(
    "4654bc0b00000100070000003600000004b38ea0a13b83868105168bb10ca6bae4ff96930000000000000000"
)


def test_golden_header() -> None:
    assert len(GOLDEN_BODY) == 54
    assert encode_frame(3004, 7, GOLDEN_BODY) == GOLDEN_HEADER + GOLDEN_BODY


@given(
    bodies=st.lists(st.binary(max_size=300), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=1, max_value=97), max_size=20),
)
def test_decoder_reassembles_any_chunking(bodies: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(encode_frame(3000 + i, i, body) for i, body in enumerate(bodies))
    decoder = FrameDecoder()
    frames = []
    pos = 0
    for cut in cuts:
        frames += decoder.feed(stream[pos : pos + cut])
        pos += cut
    frames += decoder.feed(stream[pos:])
    assert [f.body for f in frames] == bodies
    assert [f.serial for f in frames] == list(range(len(bodies)))
    assert decoder.pending == 0
    for frame in frames:
        check_sha1(frame, frame.body)


def test_bad_magic_is_rejected_before_buffering() -> None:
    with pytest.raises(FramingError, match="magic"):
        FrameDecoder().feed(b"XX" + encode_frame(1001, 1, b"{}")[2:])


def test_oversized_length_is_rejected_from_the_header_alone() -> None:
    header = bytearray(encode_frame(1001, 1, b""))
    header[12:16] = (2**31).to_bytes(4, "little")
    decoder = FrameDecoder()
    with pytest.raises(FramingError, match="exceeds"):
        decoder.feed(bytes(header[:HEADER_SIZE]))


def test_sha1_mismatch() -> None:
    (frame,) = FrameDecoder().feed(encode_frame(1001, 1, b'{"a":1}'))
    with pytest.raises(FramingError, match="SHA-1"):
        check_sha1(frame, b'{"a":2}')
    assert frame.sha1 == hashlib.sha1(b'{"a":1}').digest()
