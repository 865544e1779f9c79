"""API-key tokens: `fc_<kid>_<secret><crc>`, and the legacy FUTU-OpenD-rs `fc_<32 hex>`.

The kid is public (the lookup key shown in list-keys, audit, metrics); the secret carries 256
bits; the CRC32 lets a typo be caught before any hash runs.
"""

import re
import secrets
import zlib
from dataclasses import dataclass
from typing import Literal

from keystore.errors import Unauthorized

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PREFIX = "fc_"
KID_LEN = 8
SECRET_LEN = 43
CRC_LEN = 6
TOKEN_LEN = len(PREFIX) + KID_LEN + 1 + SECRET_LEN + CRC_LEN
# For secret-scanning rules (GitHub custom patterns, gitleaks).
TOKEN_REGEX = r"\bfc_[0-9A-Za-z]{8}_[0-9A-Za-z]{49}\b"

_V2 = re.compile(r"fc_([0-9A-Za-z]{8})_([0-9A-Za-z]{43})([0-9A-Za-z]{6})")
_LEGACY = re.compile(r"fc_[0-9a-f]{32}")
_KID = re.compile(r"[0-9A-Za-z]{8}")
_INDEX = {c: i for i, c in enumerate(BASE62)}


@dataclass(frozen=True)
class ParsedToken:
    """A token that passed the format and checksum checks; `kid` is None for legacy tokens."""

    kind: Literal["v2", "legacy"]
    kid: str | None


def b62encode(value: int, width: int) -> str:
    """Fixed-width base62 (zero-padded), so every token has the same length."""
    if value < 0 or value >= 62**width:
        raise ValueError("value does not fit the width")
    digits = []
    for _ in range(width):
        value, rem = divmod(value, 62)
        digits.append(BASE62[rem])
    return "".join(reversed(digits))


def b62decode(text: str) -> int:
    """Inverse of b62encode; raises ValueError on a character outside the alphabet."""
    value = 0
    for ch in text:
        try:
            value = value * 62 + _INDEX[ch]
        except KeyError:
            raise ValueError("not base62") from None
    return value


def checksum(body: str) -> str:
    """CRC32 of `fc_<kid>_<secret>` as 6 base62 characters (62**6 > 2**32)."""
    return b62encode(zlib.crc32(body.encode("ascii")), CRC_LEN)


def new_kid() -> str:
    """A fresh random kid (about 47 bits): unique enough to look keys up, and not secret."""
    return b62encode(secrets.randbelow(62**KID_LEN), KID_LEN)


def is_kid(text: str) -> bool:
    """Whether `text` has a kid's form (8 base62 characters)."""
    return _KID.fullmatch(text) is not None


def generate_token(kid: str | None = None) -> tuple[str, str]:
    """A new token and its kid, from the `secrets` CSPRNG (32 bytes of secret)."""
    kid = kid if kid is not None else new_kid()
    if not is_kid(kid):
        raise ValueError("a kid is 8 base62 characters")
    secret = b62encode(int.from_bytes(secrets.token_bytes(32), "big"), SECRET_LEN)
    body = f"{PREFIX}{kid}_{secret}"
    return body + checksum(body), kid


def parse_token(token: str) -> ParsedToken:
    """Check the format and the checksum, never the secret.

    Raises Unauthorized("malformed") for anything that is not a token and
    Unauthorized("checksum") when the CRC does not match (almost always a typo).
    """
    if len(token) == TOKEN_LEN:
        match = _V2.fullmatch(token)
        if match is None:
            raise Unauthorized("malformed")
        if checksum(token[:-CRC_LEN]) != match.group(3):
            raise Unauthorized("checksum")
        return ParsedToken("v2", match.group(1))
    if _LEGACY.fullmatch(token):
        return ParsedToken("legacy", None)
    raise Unauthorized("malformed")
