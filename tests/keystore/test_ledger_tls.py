"""The Redis ledger over TLS (`rediss://`): a real redis-server serving TLS only, with a
self-signed certificate the URL names as its CA (`?ssl_ca_certs=PATH`)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from keystore.errors import LedgerUnavailable
from keystore.ledger import LimitDenial, Reservation
from keystore.ledger_redis import RedisLedger
from tests.keystore.test_ledger import reserve
from tests.redisserver import RedisServer

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path, tls=True)
    server.start()
    yield server
    server.stop()


def test_limits_hold_over_tls(tls_redis: RedisServer) -> None:
    assert tls_redis.url.startswith("rediss://")
    ledger = RedisLedger(tls_redis.url)
    try:
        ledger.check()
        assert isinstance(reserve(ledger, NOW, per_minute=1), Reservation)
        denial = reserve(ledger, NOW, per_minute=1)
        assert isinstance(denial, LimitDenial) and denial.reason == "rate"
    finally:
        ledger.close()


def test_an_untrusted_certificate_or_plain_text_fails_closed(tls_redis: RedisServer) -> None:
    untrusted = f"rediss://127.0.0.1:{tls_redis.port}/0"  # the system CAs do not know it
    plain = f"redis://127.0.0.1:{tls_redis.port}/0"
    for url in (untrusted, plain):
        ledger = RedisLedger(url)
        try:
            with pytest.raises(LedgerUnavailable, match=r"^limit ledger unavailable: redis"):
                ledger.check()
            with pytest.raises(LedgerUnavailable):
                reserve(ledger, NOW, per_minute=1)
        finally:
            ledger.close()
