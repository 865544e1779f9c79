"""Who is calling: token -> current KeyRecord, with at most one argon2 run per token per process.

Order of work per call: HMAC of the token -> cache hit (warm path, no hash, no parse); else
format + CRC -> kid lookup (an unknown kid never costs a hash) -> one bounded hash verify.
A stat of keys.json per call notices a change (a revocation by another process) and flushes
the caches, so the next call sees the new file.

A kid is public and the CRC is not secret, so anyone who knows a kid can make up tokens that
reach the hash. After FAILED_HASH_BUDGET wrong secrets for one kid within FAILED_HASH_WINDOW_S,
that kid's unverified tokens are hashed at most once per THROTTLED_HASH_INTERVAL_S (the others
are refused as "throttled" at once); its warm tokens are cache hits and never wait.
"""

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from keystore.errors import Unauthorized
from keystore.hashing import is_argon2, sha256_digest, verify_hash
from keystore.records import KeyRecord
from keystore.store import (
    Fingerprint,
    KeysFile,
    fingerprint_of,
    keys_file_error,
    read_keys_file,
)
from keystore.tokens import parse_token

# Bounded so a flood of distinct bad tokens cannot grow memory without limit.
_NEGATIVE_CACHE_SIZE = 4096
FAILED_HASH_BUDGET = 10
FAILED_HASH_WINDOW_S = 60.0
THROTTLED_HASH_INTERVAL_S = 1.0


class KeyVerifier:
    """Resolves tokens against one keys.json; thread-safe, one instance per process."""

    def __init__(
        self,
        keys_file: Path,
        max_concurrent_hashes: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys_file = Path(keys_file)
        self._process_key = secrets.token_bytes(32)
        self._hash_slots = threading.BoundedSemaphore(max_concurrent_hashes)
        self._clock = clock
        self._failures_lock = threading.Lock()
        # kid -> times of its latest failed hashes; kid -> when its last throttled hash ran.
        # Keyed by kids that have a record, so bounded by the size of keys.json.
        self._failures: dict[str, deque[float]] = {}
        self._throttled_hash_at: dict[str, float] = {}
        self._reload_lock = threading.Lock()
        self._fingerprint: Fingerprint | None = None
        self._by_kid: dict[str, KeyRecord] = {}
        self._by_sha256: dict[str, KeyRecord] = {}
        # HMAC(process key, token) -> record id; values are only ever record ids.
        self._verified: dict[bytes, str] = {}
        self._by_id: dict[str, KeyRecord] = {}
        self._rejected: OrderedDict[bytes, None] = OrderedDict()
        self._generation = 0
        # kid -> when revoked, from the shared ledger: a replica whose keys.json is stale still
        # sees a revocation made elsewhere (futucli revoke-key --ledger).
        self.revocations: Callable[[], Mapping[str, datetime]] | None = None
        self._refresh()

    def verify(self, token: str) -> KeyRecord:
        """The current record for `token` (revoked or expired ones too: policy says why).

        Raises Unauthorized (malformed, checksum, unknown, mismatch, throttled) or KeysFileError.
        """
        return self._with_revocation(self._verify(token))

    def _with_revocation(self, record: KeyRecord) -> KeyRecord:
        """`record`, revoked if the shared ledger says it was (and keys.json does not yet)."""
        revoked_at = None if self.revocations is None else self.revocations().get(record.kid)
        if revoked_at is None or record.revoked_at is not None:
            return record
        return replace(record, revoked_at=revoked_at)

    def _verify(self, token: str) -> KeyRecord:
        self._refresh()
        tag = hmac.new(self._process_key, token.encode("utf-8", "surrogatepass"), hashlib.sha256)
        digest = tag.digest()
        key_id = self._verified.get(digest)
        if key_id is not None:
            record = self._by_id.get(key_id)
            if record is not None:
                return record
        if digest in self._rejected:
            raise Unauthorized("mismatch")
        parsed = parse_token(token)
        # Read the generation before the index: a reload in between then only stops caching.
        generation = self._generation
        if parsed.kind == "legacy":
            record = self._by_sha256.get(hashlib.sha256(token.encode("ascii")).hexdigest())
            if record is None:
                raise Unauthorized("unknown")
            self._remember(digest, record, generation)
            return record
        assert parsed.kid is not None
        candidate = self._by_kid.get(parsed.kid)
        if candidate is None:
            raise Unauthorized("unknown")
        if is_argon2(candidate.hash):
            if not self._may_hash(parsed.kid):
                raise Unauthorized("throttled")
            with self._hash_slots:
                ok = verify_hash(candidate.hash, token)
        else:
            ok = verify_hash(candidate.hash, token)
        if generation != self._generation:
            # keys.json changed while we hashed: the record may be gone or rotated.
            return self._verify(token)
        if not ok:
            self._note_failure(parsed.kid)
            self._reject(digest, generation)
            raise Unauthorized("mismatch")
        self._remember(digest, candidate, generation)
        return candidate

    def records(self) -> tuple[KeyRecord, ...]:
        """All records as currently loaded, with the shared ledger's revocations (for listings,
        metrics labels, and closing the HTTP sessions of keys no longer active)."""
        self._refresh()
        return tuple(self._with_revocation(r) for r in self._by_id.values())

    def _may_hash(self, kid: str) -> bool:
        # Under the budget every token is hashed; over it, one per interval per kid.
        now = self._clock()
        with self._failures_lock:
            failures = self._failures.get(kid)
            if failures is None or len(failures) < FAILED_HASH_BUDGET:
                return True
            if now - failures[0] > FAILED_HASH_WINDOW_S:
                return True
            last = self._throttled_hash_at.get(kid)
            if last is not None and now - last < THROTTLED_HASH_INTERVAL_S:
                return False
            self._throttled_hash_at[kid] = now
            return True

    def _note_failure(self, kid: str) -> None:
        with self._failures_lock:
            failures = self._failures.setdefault(kid, deque(maxlen=FAILED_HASH_BUDGET))
            failures.append(self._clock())

    def _remember(self, digest: bytes, record: KeyRecord, generation: int) -> None:
        # Only into the cache of the file version the token was checked against.
        with self._reload_lock:
            if generation == self._generation:
                self._verified[digest] = record.id

    def _reject(self, digest: bytes, generation: int) -> None:
        with self._reload_lock:
            if generation != self._generation:
                return
            self._rejected[digest] = None
            while len(self._rejected) > _NEGATIVE_CACHE_SIZE:
                self._rejected.popitem(last=False)

    def _current_fingerprint(self) -> Fingerprint:
        try:
            return fingerprint_of(os.stat(self.keys_file))
        except OSError as exc:
            raise keys_file_error(self.keys_file, exc) from None

    def _refresh(self) -> None:
        if self._current_fingerprint() == self._fingerprint:
            return
        with self._reload_lock:
            if self._current_fingerprint() == self._fingerprint:
                return
            self._load(read_keys_file(self.keys_file))

    def _load(self, keys_file: KeysFile) -> None:
        by_kid: dict[str, KeyRecord] = {}
        by_sha: dict[str, KeyRecord] = {}
        by_id: dict[str, KeyRecord] = {}
        for record in keys_file.records:
            by_id[record.id] = record
            if record.kid_stored:
                by_kid[record.kid] = record
            digest = sha256_digest(record.hash)
            if digest is not None:
                by_sha[digest] = record
        # Swap whole dicts (atomic under the GIL) so readers never see a half-built index.
        self._verified = {}
        self._rejected = OrderedDict()
        self._by_kid, self._by_sha256, self._by_id = by_kid, by_sha, by_id
        self._generation += 1
        self._fingerprint = keys_file.fingerprint
