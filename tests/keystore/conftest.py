"""Fixtures for keystore tests: a keys file in the per-test temporary home, and either ledger."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keystore.hashing import TEST_ONLY_CHEAP_PARAMS
from keystore.issuing import issue_key
from keystore.ledger import Ledger, SqliteLedger
from keystore.records import KeyRecord, Limits
from keystore.store import KeyStore


@pytest.fixture
def keys_path(isolated_home: Path) -> Path:
    """Where this test's keys.json lives (not created yet)."""
    return isolated_home / ".config" / "futu" / "keys.json"


@pytest.fixture
def store(keys_path: Path) -> KeyStore:
    """A KeyStore on the test's keys file."""
    return KeyStore(keys_path)


def cheap_key(
    store: KeyStore,
    key_id: str,
    scopes: tuple[str, ...] = ("qot:read",),
    limits: Limits | None = None,
    **kwargs: object,
) -> tuple[str, KeyRecord]:
    """Issue a key with test-only cheap argon2 parameters (many keys, fast tests)."""
    return issue_key(
        store,
        key_id=key_id,
        scopes=frozenset(scopes),
        limits=limits or Limits(),
        argon2_params=TEST_ONLY_CHEAP_PARAMS,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(params=["sqlite", "redis"])
def open_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Ledger]]:
    """Opens the same ledger again each call (a restart, another process): the SQLite file in
    this test's folder, or the session's redis-server emptied for this test. The shared suite
    runs every test against both."""
    opened: list[Ledger] = []
    if request.param == "sqlite":

        def make() -> Ledger:
            opened.append(SqliteLedger(tmp_path / "ledger.sqlite"))
            return opened[-1]

    else:
        from keystore.ledger_redis import RedisLedger

        server = request.getfixturevalue("redis_server")

        def make() -> Ledger:
            opened.append(RedisLedger(server.url))
            return opened[-1]

    yield make
    for ledger in opened:
        ledger.close()
