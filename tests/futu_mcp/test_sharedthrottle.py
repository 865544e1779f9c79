"""OpenD's per-account order windows shared through the Redis ledger: two processes' throttles
(two OrderThrottle objects on two connections) share one window and one minimum gap."""

import time

import pytest

from futu_mcp.sharedthrottle import LedgerWindows
from keystore.ledger_redis import RedisLedger
from opend.errors import Throttled
from opend.throttle import Limit, OrderThrottle
from tests.redisserver import RedisServer

pytestmark = pytest.mark.anyio


def replica(server: RedisServer, place: Limit) -> OrderThrottle:
    return OrderThrottle(place=place, shared=LedgerWindows(RedisLedger(server.url)))


async def test_two_replicas_share_the_accounts_window(redis_server: RedisServer) -> None:
    limit = Limit(3, 30.0)
    first, second = replica(redis_server, limit), replica(redis_server, limit)
    for throttle in (first, second, first):
        async with throttle.place(101) as permit:
            permit.sent()
    with pytest.raises(Throttled) as refused:
        async with second.place(101):
            pass
    assert "place order: 3 per 30 s for account 101" in str(refused.value)
    assert 0 < refused.value.retry_after <= 30.25
    # Another account has its own window; modify/cancel has its own too.
    async with second.place(102) as permit:
        permit.sent()
    async with second.modify(101) as permit:
        permit.sent()


async def test_the_minimum_gap_holds_across_replicas(redis_server: RedisServer) -> None:
    limit = Limit(10, 30.0, 0.2)
    first, second = replica(redis_server, limit), replica(redis_server, limit)
    async with first.place(101) as permit:
        permit.sent()
    started = time.monotonic()
    async with second.place(101) as permit:
        permit.sent()
    assert time.monotonic() - started >= 0.2


async def test_an_unreachable_ledger_leaves_the_count_to_this_replica(tmp_path: object) -> None:
    from pathlib import Path

    down = RedisServer(Path(str(tmp_path)))  # never started
    throttle = OrderThrottle(place=Limit(1, 30.0), shared=LedgerWindows(RedisLedger(down.url)))
    async with throttle.place(101) as permit:  # a cancel must still go out
        permit.sent()
    with pytest.raises(Throttled):  # and this process's own window still counts
        async with throttle.place(101):
            pass
