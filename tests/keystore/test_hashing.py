"""Stored hash forms: argon2id with the contract's cost, sha256 (prefixed or bare) read."""

import hashlib

from keystore.hashing import (
    TEST_ONLY_CHEAP_PARAMS,
    hash_token,
    is_supported_hash,
    sha256_hash,
    verify_hash,
)
from keystore.tokens import generate_token


def test_default_hash_is_argon2id_with_contract_cost() -> None:
    token, _ = generate_token()
    stored = hash_token(token)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert token not in stored
    assert verify_hash(stored, token)
    assert not verify_hash(stored, generate_token()[0])


def test_cheap_params_only_when_asked() -> None:
    token, _ = generate_token()
    stored = hash_token(token, TEST_ONLY_CHEAP_PARAMS)
    assert "m=8,t=1" in stored
    assert verify_hash(stored, token)


def test_sha256_forms() -> None:
    token = "fc_" + "ab" * 16
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert sha256_hash(token) == "sha256:" + digest
    for stored in ("sha256:" + digest, digest, digest.upper()):
        assert is_supported_hash(stored)
        assert verify_hash(stored, token)
        assert not verify_hash(stored, token[:-1] + "c")


def test_unsupported_hashes() -> None:
    for stored in ("", "md5:abc", "sha256:1234", "$2b$12$abc", "plaintext"):
        assert not is_supported_hash(stored)
    assert not verify_hash("$argon2id$garbage", "fc_x")
