"""Token format: round trip, checksum, and that every single-character typo is caught."""

import re
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keystore.errors import Unauthorized
from keystore.tokens import (
    BASE62,
    TOKEN_LEN,
    TOKEN_REGEX,
    b62decode,
    b62encode,
    checksum,
    generate_token,
    parse_token,
)

kids = st.text(alphabet=BASE62, min_size=8, max_size=8)


@given(st.integers(min_value=0, max_value=62**43 - 1))
def test_base62_round_trip(value: int) -> None:
    assert b62decode(b62encode(value, 43)) == value


def test_base62_refuses_overflow() -> None:
    with pytest.raises(ValueError):
        b62encode(62**6, 6)


@given(kids)
def test_generated_token_parses_to_its_kid(kid: str) -> None:
    token, got_kid = generate_token(kid)
    assert got_kid == kid
    assert len(token) == TOKEN_LEN == 61
    assert re.fullmatch(TOKEN_REGEX, token)
    parsed = parse_token(token)
    assert (parsed.kind, parsed.kid) == ("v2", kid)
    # The checksum really is CRC32 of everything before it, in base62.
    assert b62decode(token[-6:]) == zlib.crc32(token[:-6].encode())


def test_secrets_differ() -> None:
    tokens = {generate_token("AAAAAAAA")[0] for _ in range(50)}
    assert len(tokens) == 50


@given(kids, st.data())
def test_every_single_character_change_is_caught(kid: str, data: st.DataObject) -> None:
    token, _ = generate_token(kid)
    position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.sampled_from(BASE62 + "_-"))
    if replacement == token[position]:
        return
    changed = token[:position] + replacement + token[position + 1 :]
    with pytest.raises(Unauthorized) as info:
        parse_token(changed)
    assert info.value.reason in ("checksum", "malformed")
    assert changed not in str(info.value)


def test_all_substitutions_of_one_token() -> None:
    token, _ = generate_token()
    caught = 0
    for position in range(len(token)):
        for ch in BASE62:
            if ch == token[position]:
                continue
            with pytest.raises(Unauthorized):
                parse_token(token[:position] + ch + token[position + 1 :])
            caught += 1
    # 59 base62 positions have 61 alternatives; the two underscores have 62.
    assert caught == 59 * 61 + 2 * 62


def test_checksum_typo_is_told_apart_from_garbage() -> None:
    token, _ = generate_token()
    typo = token[:20] + ("a" if token[20] != "a" else "b") + token[21:]
    with pytest.raises(Unauthorized) as info:
        parse_token(typo)
    assert info.value.reason == "checksum"
    assert "typo" in str(info.value)
    for garbage in ("", "fc_", "hello", token + "x", token[:-1], "fc_" + "g" * 32):
        with pytest.raises(Unauthorized) as info:
            parse_token(garbage)
        assert info.value.reason == "malformed"


def test_legacy_token_parses() -> None:
    parsed = parse_token("fc_" + "0123456789abcdef" * 2)
    assert parsed.kind == "legacy"
    assert parsed.kid is None


def test_checksum_is_six_chars() -> None:
    assert len(checksum("fc_AAAAAAAA_" + "B" * 43)) == 6
