"""RSA and AES as OpenD does them, checked against PyCryptodome (what the official SDK uses)."""

from pathlib import Path

import pytest
from Crypto.Cipher import AES, PKCS1_v1_5
from Crypto.PublicKey import RSA
from hypothesis import given
from hypothesis import strategies as st

from opend.crypto import (
    AesCodec,
    CryptoError,
    PacketEncAlgo,
    generate_rsa_key_pem,
    load_rsa_key,
    random_aes_key,
    rsa_decrypt,
    rsa_encrypt,
)

KEY = "0123456789abcdef"
IV = "fedcba9876543210"


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rsa") / "opend.pem"
    path.write_bytes(generate_rsa_key_pem())
    return path


def test_rsa_round_trip_in_chunks_and_sdk_can_read_it(key_file: Path) -> None:
    key = load_rsa_key(key_file)
    plain = b'{"c2s":{"clientVer":300,"clientID":"futu-mcp"}}' * 5  # > 100 bytes: 3 chunks
    cipher = rsa_encrypt(key, plain)
    assert len(cipher) == 128 * 3
    assert rsa_decrypt(key, cipher) == plain
    sdk_key = PKCS1_v1_5.new(RSA.import_key(key_file.read_bytes()))
    assert b"".join(sdk_key.decrypt(cipher[i : i + 128], None) for i in range(0, 384, 128)) == plain


def test_rsa_wrong_key_or_bad_length_is_a_clear_error(tmp_path: Path, key_file: Path) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(generate_rsa_key_pem())
    cipher = rsa_encrypt(load_rsa_key(key_file), b"hello")
    try:
        wrong = rsa_decrypt(load_rsa_key(other), cipher)
    except CryptoError as exc:
        assert "different key" in str(exc)
    else:  # implicit rejection: garbage, which the SHA-1 check then refuses
        assert wrong != b"hello"
    with pytest.raises(CryptoError, match="not a multiple of 128"):
        rsa_decrypt(load_rsa_key(key_file), cipher[:-1])


def test_missing_or_non_rsa_key_file(tmp_path: Path) -> None:
    with pytest.raises(CryptoError, match="cannot load"):
        load_rsa_key(tmp_path / "absent.pem")


def test_cbc_matches_pycryptodome_and_restarts_each_packet() -> None:
    codec = AesCodec(KEY, PacketEncAlgo.AES_CBC, IV)
    plain = b'{"c2s":{"time":"1764140000"}}'
    cipher = codec.encrypt(plain)
    assert codec.encrypt(plain) == cipher  # same IV for every packet
    pad = 16 - len(plain) % 16
    expected = AES.new(KEY.encode(), AES.MODE_CBC, IV.encode()).encrypt(plain + bytes([pad]) * pad)
    assert cipher == expected


def test_ftaes_ecb_layout() -> None:
    codec = AesCodec(KEY, PacketEncAlgo.FTAES_ECB)
    plain = b"x" * 20
    cipher = codec.encrypt(plain)
    assert len(cipher) == 48
    assert cipher[-16:] == bytes(15) + bytes([20 % 16])
    assert AES.new(KEY.encode(), AES.MODE_ECB).decrypt(cipher[:32]) == plain + bytes(12)
    assert codec.decrypt(cipher) == plain


@given(plain=st.binary(max_size=200), algo=st.sampled_from(list(PacketEncAlgo)[1:]))
def test_aes_round_trip_any_body(plain: bytes, algo: PacketEncAlgo) -> None:
    codec = AesCodec(KEY, algo, IV)
    assert codec.decrypt(codec.encrypt(plain)) == plain


def test_aes_rejects_bad_input() -> None:
    with pytest.raises(CryptoError, match="16 bytes"):
        AesCodec("short", PacketEncAlgo.AES_CBC, IV)
    with pytest.raises(CryptoError, match="IV"):
        AesCodec(KEY, PacketEncAlgo.AES_CBC, None)
    codec = AesCodec(KEY, PacketEncAlgo.AES_CBC, IV)
    with pytest.raises(CryptoError, match="multiple of 16"):
        codec.decrypt(b"abc")
    other = AesCodec("ffffffffffffffff", PacketEncAlgo.AES_CBC, IV)
    with pytest.raises(CryptoError):
        for n in range(40):  # a wrong key yields bad padding almost always; one hit suffices
            other.decrypt(codec.encrypt(b"y" * n))


def test_random_keys_are_16_chars_and_differ() -> None:
    keys = {random_aes_key() for _ in range(10)}
    assert len(keys) == 10 and all(len(k) == 16 for k in keys)
