"""The ledger watch: up/down with the reason, revoked kids fed to the key check, and a revocation
that outlives an empty Redis."""

from pathlib import Path

import pytest

from futu_mcp.ledgerwatch import LedgerWatch
from keystore.ledger_redis import PREFIX, RedisLedger
from keystore.store import KeyStore
from keystore.verify import KeyVerifier
from tests.keystore.conftest import cheap_key
from tests.redisserver import RedisServer


def test_up_down_and_back_with_revocations_kept(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        watch = LedgerWatch(RedisLedger(redis.url))
        watch.poll()
        assert (watch.up, watch.error, watch.revoked()) == (True, None, {})
        RedisLedger(redis.url).record_revocation("KID00001")
        watch.poll()
        assert set(watch.revoked()) == {"KID00001"}
        redis.stop()
        watch.poll()
        assert not watch.up
        assert watch.error is not None
        assert watch.error.startswith(f"limit ledger unavailable: {redis.url}: ")
        assert set(watch.revoked()) == {"KID00001"}  # still in force while Redis is down
        redis.start()  # back, and empty
        watch.poll()
        assert (watch.up, watch.error) == (True, None)
        assert set(watch.revoked()) == {"KID00001"}
    finally:
        redis.stop()


def test_a_damaged_revocation_is_a_ledger_down_not_a_dead_watch(
    redis_server: RedisServer,
) -> None:
    """A revocation time Redis cannot give back as a number (hand-edited) makes the read fail
    with a ValueError: the watch reports the ledger down (orders refused) and keeps polling,
    where it used to let the thread die and report 'up' for ever."""
    import redis

    watch = LedgerWatch(RedisLedger(redis_server.url), interval=0.05)
    watch.start()
    try:
        with redis.Redis.from_url(redis_server.url) as raw:
            raw.hset(f"{PREFIX}:revoked", "KID00002", "yesterday")
            watch.poll()
            assert not watch.up
            assert watch.error is not None
            assert watch.error.startswith("limit ledger unavailable: ValueError(")
            raw.hset(f"{PREFIX}:revoked", "KID00002", "1796644800")
        watch.poll()
        assert watch.up and set(watch.revoked()) == {"KID00002"}
        assert watch._thread is not None and watch._thread.is_alive()
    finally:
        watch.stop()


def test_the_key_check_refuses_a_kid_the_ledger_says_is_revoked(
    keys_path: Path, redis_server: RedisServer
) -> None:
    token, record = cheap_key(KeyStore(keys_path), "bot")
    verifier = KeyVerifier(keys_path)
    watch = LedgerWatch(RedisLedger(redis_server.url), interval=0.05)
    watch.start()
    try:
        verifier.revocations = watch.revoked
        assert verifier.verify(token).status() == "active"
        RedisLedger(redis_server.url).record_revocation(record.kid)
        watch.poll()
        revoked = verifier.verify(token)
        assert revoked.status() == "revoked"
        assert revoked.revoked_at == watch.revoked()[record.kid]
    finally:
        watch.stop()


@pytest.fixture
def keys_path(isolated_home: Path) -> Path:
    return isolated_home / ".config" / "futu" / "keys.json"
