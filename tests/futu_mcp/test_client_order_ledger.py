"""A client_order_id whose outcome the ledger cannot take (Redis gone right after the order went
out): the caller still hears the order's result, and nothing is raised over it."""

from pathlib import Path
from typing import Any

import pytest

from futu_mcp.appstate import Call
from futu_mcp.tradepath import with_client_order_id
from keystore.ledger_redis import RedisLedger
from tests.futu_mcp.test_server import make_state
from tests.redisserver import RedisServer

pytestmark = pytest.mark.anyio


async def test_an_unrecordable_outcome_still_reaches_the_caller(
    sim: Any, keys_file: Path, make_key: Any, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        token = make_key("bot", "qot:read,trade:simulate")
        state = make_state(sim, keys_file, token)
        state.ledger = RedisLedger(redis.url)
        key = state.stdio_key.current(state.verifier)  # type: ignore[union-attr]
        call = Call(state, key, "stdio", None, "futu_place_order")

        async def order_then_redis_dies() -> dict[str, Any]:
            redis.stop()
            return {"order_id": "4242", "status": "SUBMITTED"}

        result = await with_client_order_id(call, "c-1", order_then_redis_dies, digest="d")
        assert result == {"order_id": "4242", "status": "SUBMITTED", "client_order_id": "c-1"}
    finally:
        redis.stop()
