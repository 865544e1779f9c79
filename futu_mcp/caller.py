"""Who is calling over HTTP: the Bearer token of each request (stdio's key: `futu_mcp.startup`).

It ends in the keystore's `KeyVerifier`, which returns the key's CURRENT record (a revocation
made by another process is seen on the next call). The token itself is kept only in memory,
never logged, never put in an exception message.
"""

import hashlib
import hmac
import logging
import os
import secrets
from typing import Any

from mcp.server.auth.provider import AccessToken
from pydantic import ConfigDict

from keystore.errors import KeystoreError, Unauthorized
from keystore.records import KeyRecord
from keystore.store import fingerprint_of
from keystore.verify import KeyVerifier

log = logging.getLogger("futu_mcp.caller")

WARM_TOKENS = 10_000  # bound on remembered tags; a flood of new tokens only empties it
COLD_VERIFY_THREADS = 2  # worker threads cold verifies may hold (the keystore hashes 2 at a time)


class KeyAccessToken(AccessToken):
    """The SDK's access token plus our key record, so a tool needs no second lookup."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    key: Any = None

    def __repr__(self) -> str:
        return f"KeyAccessToken(client_id={self.client_id!r})"

    __str__ = __repr__


class Refused(Exception):
    """An HTTP request whose key may not be served; `description` is the RFC 6750
    error_description the client sees (never the token), `reason` its metrics label."""

    def __init__(
        self, reason: str, description: str, *, key_id: str | None = None, status: int = 401
    ) -> None:
        super().__init__(description)
        self.reason = reason
        self.description = description
        self.key_id = key_id
        self.status = status


class BearerVerifier:
    """Checks `Authorization: Bearer` on every HTTP request: an active key, or Refused."""

    def __init__(self, verifier: KeyVerifier) -> None:
        self._verifier = verifier
        # Tags (keyed HMAC, never the token) of tokens this process has verified: their next
        # check is a keystore cache hit, cheap enough to run on the event loop. Unknown tokens
        # may cost an argon2 run, so they go to a worker thread.
        self._tag_key = secrets.token_bytes(32)
        # tag -> the access token last built for it; reused while the keystore hands back the
        # same record (a changed keys.json gives new records, so a new token is built).
        self._warm: dict[bytes, KeyAccessToken | None] = {}
        self._stamp: object = None
        import anyio

        # Cold verifies get threads of their own: a flood of made-up tokens waits here, never
        # in anyio's shared pool that the trade path's ledger and audit writes need.
        self._cold = anyio.CapacityLimiter(COLD_VERIFY_THREADS)

    async def authenticate(self, token: str) -> KeyAccessToken:
        """The caller's access token, built on the key's current record. Raises Refused:
        "invalid key" (unknown, malformed, wrong secret), "key revoked", "key expired"."""
        import anyio.to_thread

        tag = hmac.new(
            self._tag_key, token.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).digest()
        try:
            stamp = fingerprint_of(os.stat(self._verifier.keys_file))
        except OSError:
            stamp = None
        if stamp != self._stamp:
            # keys.json changed: the keystore flushes its cache, so every token is cold again.
            self._warm.clear()
            self._stamp = stamp
        try:
            if tag in self._warm:
                record = self._verifier.verify(token)
            else:
                record = await anyio.to_thread.run_sync(
                    self._verifier.verify, token, limiter=self._cold
                )
                if len(self._warm) >= WARM_TOKENS:
                    self._warm.clear()
                self._warm[tag] = None
        except Unauthorized as exc:
            self._warm.pop(tag, None)
            log.info("HTTP request refused: %s token", exc.reason)
            raise Refused("invalid_key", "invalid key") from None
        except KeystoreError as exc:
            self._warm.pop(tag, None)
            log.error("keys file unusable, refusing HTTP request: %s", exc)
            raise Refused("keys_file", "keys file unusable (see server log)", status=503) from None
        status = record.status()
        if status != "active":
            log.info("HTTP request refused: key %s is %s", record.id, status)
            raise Refused(status, f"key {status}", key_id=record.id)
        built = self._warm.get(tag)
        if built is not None and built.key is record and built.token == token:
            return built
        built = KeyAccessToken(
            token=token,
            client_id=record.id,
            subject=record.id,
            scopes=sorted(record.scopes),
            key=record,
        )
        if tag in self._warm:
            self._warm[tag] = built
        return built


def key_of_request(request: Any) -> KeyRecord | None:
    """The record the Bearer check attached to this HTTP request (None on stdio)."""
    if request is None:
        return None
    user = request.scope.get("user")
    token = getattr(user, "access_token", None)
    return getattr(token, "key", None)
