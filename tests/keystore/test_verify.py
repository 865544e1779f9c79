"""KeyVerifier: kid lookup, one hash per token, cache flushed on file change, bounded hashing."""

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

import keystore.verify as verify_module
from keystore.errors import KeysFileError, Unauthorized
from keystore.hashing import TEST_ONLY_CHEAP_PARAMS
from keystore.issuing import issue_key, rotate_key
from keystore.records import Limits
from keystore.store import KeyStore
from keystore.tokens import generate_token
from keystore.verify import KeyVerifier
from tests.keystore.conftest import cheap_key


class HashSpy:
    """Counts real hash verifications and the most that ran at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        self._real = verify_module.verify_hash
        monkeypatch.setattr(verify_module, "verify_hash", self)

    def __call__(self, stored: str, token: str) -> bool:
        with self._lock:
            self.calls += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            return self._real(stored, token)
        finally:
            with self._lock:
                self.active -= 1


def test_verify_then_cache(
    store: KeyStore, keys_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, record = cheap_key(store, "a")
    spy = HashSpy(monkeypatch)
    verifier = KeyVerifier(keys_path)
    assert verifier.verify(token) == record
    assert verifier.verify(token) == record
    assert spy.calls == 1


def test_unknown_kid_never_costs_a_hash(
    store: KeyStore, keys_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cheap_key(store, "a")
    spy = HashSpy(monkeypatch)
    verifier = KeyVerifier(keys_path)
    stranger, _ = generate_token()
    for _ in range(3):
        with pytest.raises(Unauthorized) as info:
            verifier.verify(stranger)
        assert info.value.reason == "unknown"
        assert stranger not in str(info.value)
    assert spy.calls == 0


def test_wrong_secret_for_known_kid_is_a_mismatch_and_cached(
    store: KeyStore, keys_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, record = cheap_key(store, "a")
    spy = HashSpy(monkeypatch)
    verifier = KeyVerifier(keys_path)
    forged, _ = generate_token(record.kid)
    for _ in range(3):
        with pytest.raises(Unauthorized) as info:
            verifier.verify(forged)
        assert info.value.reason == "mismatch"
    assert spy.calls == 1


def test_bad_checksum_and_malformed(store: KeyStore, keys_path: Path) -> None:
    token, _ = cheap_key(store, "a")
    verifier = KeyVerifier(keys_path)
    typo = token[:30] + ("x" if token[30] != "x" else "y") + token[31:]
    with pytest.raises(Unauthorized) as info:
        verifier.verify(typo)
    assert info.value.reason == "checksum"
    with pytest.raises(Unauthorized) as info:
        verifier.verify("Bearer " + token)
    assert info.value.reason == "malformed"


def test_rotation_flushes_the_cache(store: KeyStore, keys_path: Path) -> None:
    token, _ = cheap_key(store, "a")
    verifier = KeyVerifier(keys_path)
    verifier.verify(token)
    new_token, new_record = rotate_key(store, "a", argon2_params=TEST_ONLY_CHEAP_PARAMS)
    with pytest.raises(Unauthorized):
        verifier.verify(token)
    assert verifier.verify(new_token) == new_record


def test_revocation_is_seen_on_the_next_call(store: KeyStore, keys_path: Path) -> None:
    token, _ = cheap_key(store, "a")
    verifier = KeyVerifier(keys_path)
    assert verifier.verify(token).revoked_at is None
    store.revoke("a")
    assert verifier.verify(token).revoked_at is not None


def test_a_ledger_revocation_shows_in_verify_and_in_records(
    store: KeyStore, keys_path: Path
) -> None:
    """A replica whose keys.json is stale still sees a revocation from the shared ledger, both
    per token and in the listing the HTTP session sweep reads."""
    token, record = cheap_key(store, "a")
    cheap_key(store, "b")
    verifier = KeyVerifier(keys_path)
    when = datetime(2026, 12, 1, tzinfo=UTC)
    verifier.revocations = lambda: {record.kid: when}
    assert verifier.verify(token).status() == "revoked"
    listed = {r.id: r.revoked_at for r in verifier.records()}
    assert listed == {"a": when, "b": None}


def test_missing_and_broken_file(keys_path: Path, store: KeyStore) -> None:
    with pytest.raises(KeysFileError, match="not found"):
        KeyVerifier(keys_path)
    token, _ = cheap_key(store, "a")
    verifier = KeyVerifier(keys_path)
    keys_path.chmod(0o644)
    with pytest.raises(KeysFileError, match="chmod 600"):
        verifier.verify(token)


def test_concurrent_hashes_are_bounded(
    store: KeyStore, keys_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Real contract-cost argon2 (about 20 ms each) so the verifies overlap in time.
    tokens = [
        issue_key(store, key_id=f"k{i}", scopes=frozenset({"qot:read"}), limits=Limits())[0]
        for i in range(6)
    ]
    spy = HashSpy(monkeypatch)
    verifier = KeyVerifier(keys_path, max_concurrent_hashes=2)
    barrier = threading.Barrier(len(tokens))
    errors: list[BaseException] = []

    def run(token: str) -> None:
        barrier.wait()
        try:
            verifier.verify(token)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert spy.calls == 6
    assert spy.max_active == 2


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failed_guesses_for_a_known_kid_cost_a_bounded_number_of_hashes(
    store: KeyStore, keys_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kid is public and the CRC is not secret: fresh wrong secrets for a known kid must not
    buy an argon2 run each. The warm real token is never slowed; a cold one gets through once
    the kid's next hash is due."""
    token, record = cheap_key(store, "a")
    spy = HashSpy(monkeypatch)
    clock = FakeClock()
    verifier = KeyVerifier(keys_path, clock=clock)
    assert verifier.verify(token) == record  # warm from here on
    for _ in range(50):
        forged, _ = generate_token(record.kid)
        with pytest.raises(Unauthorized) as info:
            verifier.verify(forged)
        assert info.value.reason in ("mismatch", "throttled")
        assert verifier.verify(token) == record
    budget = verify_module.FAILED_HASH_BUDGET
    assert spy.calls == 1 + budget + 1  # the real token, the budget, one throttled slot
    assert info.value.reason == "throttled"
    assert "try again" in str(info.value) and forged not in str(info.value)
    # keys.json changes, so the real token is cold again: it waits for the kid's next slot.
    cheap_key(store, "b")
    with pytest.raises(Unauthorized) as info:
        verifier.verify(token)
    assert info.value.reason == "throttled"
    clock.now += verify_module.THROTTLED_HASH_INTERVAL_S
    assert verifier.verify(token) == record
    # Once the window has passed, wrong secrets are hashed (and refused) as before.
    clock.now += verify_module.FAILED_HASH_WINDOW_S
    forged, _ = generate_token(record.kid)
    calls = spy.calls
    with pytest.raises(Unauthorized) as info:
        verifier.verify(forged)
    assert info.value.reason == "mismatch" and spy.calls == calls + 1
