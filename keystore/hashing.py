"""Token hashes as stored in keys.json: argon2id for keys we issue, `sha256:<hex>` read.

argon2 is slow on purpose (about 16 ms here); the verifier makes it one hash per token per
process, so only this module knows the formats.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass

SHA256_PREFIX = "sha256:"
_SHA256_HEX = re.compile(r"(?:sha256:)?([0-9a-fA-F]{64})")


@dataclass(frozen=True)
class Argon2Params:
    """argon2id cost parameters; the default is OWASP's m=19 MiB, t=2, p=1."""

    time_cost: int = 2
    memory_cost_kib: int = 19 * 1024
    parallelism: int = 1
    hash_len: int = 32
    salt_len: int = 16


ARGON2_PARAMS = Argon2Params()
# Test-only: lets a test create many records quickly. Never a default anywhere.
TEST_ONLY_CHEAP_PARAMS = Argon2Params(time_cost=1, memory_cost_kib=8, parallelism=1)


def hash_token(token: str, params: Argon2Params = ARGON2_PARAMS) -> str:
    """The argon2id PHC string stored for a newly issued token."""
    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_cost_kib,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        salt_len=params.salt_len,
        type=Type.ID,
    )
    return hasher.hash(token)


def sha256_hash(token: str) -> str:
    """The FUTU-OpenD-rs form `sha256:<hex>` of a token."""
    return SHA256_PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def sha256_digest(stored: str) -> str | None:
    """The lowercase hex digest of a `sha256:<hex>` (or bare hex) record, else None."""
    match = _SHA256_HEX.fullmatch(stored)
    return match.group(1).lower() if match else None


def is_supported_hash(stored: str) -> bool:
    """Whether a keys.json `hash` value has a form this package can verify."""
    return stored.startswith("$argon2id$") or sha256_digest(stored) is not None


def is_argon2(stored: str) -> bool:
    """Whether checking this hash costs an argon2 run (and so needs the concurrency bound)."""
    return stored.startswith("$argon2")


def verify_hash(stored: str, token: str) -> bool:
    """Whether `token` matches `stored`, in constant time for the sha256 form."""
    digest = sha256_digest(stored)
    if digest is not None:
        actual = hashlib.sha256(token.encode("utf-8")).hexdigest()
        return hmac.compare_digest(actual, digest)
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(stored, token)
    except (VerificationError, InvalidHashError):
        return False
