"""Errors raised by the key store.

Callers tell a broken keys.json (an operator must fix a file) apart from a caller who presented a
bad token (answer "unauthorized" and nothing more).
"""

from typing import Literal

UnauthorizedReason = Literal["malformed", "checksum", "unknown", "mismatch", "throttled"]


class KeystoreError(Exception):
    """Base of every error this package raises, so callers can catch the package as a whole."""


class KeysFileError(KeystoreError):
    """keys.json cannot be used as it is; the message names the file and the fix."""


class Unauthorized(KeystoreError):
    """A token was refused. The message never contains the token, only why it was refused.

    `reason` lets the CLI say "typo?" for a bad checksum while a network caller only ever sees a
    generic unauthorized answer.
    """

    def __init__(self, reason: UnauthorizedReason, message: str | None = None) -> None:
        self.reason: UnauthorizedReason = reason
        super().__init__(message or _MESSAGES[reason])


_MESSAGES: dict[str, str] = {
    "malformed": "not a futu-mcp API key (expected fc_<kid>_<secret>)",
    "checksum": "API key checksum does not match (typo?)",
    "unknown": "unknown API key",
    "mismatch": "API key does not match its record",
    "throttled": "too many wrong API keys with this key's id just now; try again in a second",
}


class NoSuchKey(KeystoreError):
    """No record has the given id (revoke-key / rotate-key of a typo'd id)."""


class DuplicateKey(KeystoreError):
    """A record with this id (or kid) already exists; ids are unique in keys.json."""


class LedgerError(KeystoreError):
    """The usage ledger cannot be used (permissions, corruption); limits then fail closed."""


class LedgerUnavailable(LedgerError):
    """The shared ledger (Redis) cannot be reached now: orders and modifies are refused with
    this message; the next call tries again."""

    def __init__(self, why: str) -> None:
        super().__init__(f"limit ledger unavailable: {why}")
        self.why = why
