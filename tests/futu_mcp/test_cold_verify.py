"""Cold Bearer verifies (an argon2 run each) never hold anyio's shared worker threads, which
the trade path needs for its ledger and audit writes."""

import threading
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from futu_mcp.caller import COLD_VERIFY_THREADS, BearerVerifier, Refused
from keystore.verify import KeyVerifier

pytestmark = pytest.mark.anyio


class SlowVerifier(KeyVerifier):
    """A verifier whose every check takes until the test lets it go (an argon2 flood)."""

    def __init__(self, keys_file: Path) -> None:
        super().__init__(keys_file)
        self.running = 0
        self.release = threading.Event()

    def verify(self, token: str) -> Any:
        self.running += 1
        self.release.wait(10)
        return super().verify(token)


async def refused(bearer: BearerVerifier, token: str) -> None:
    """Authenticate a made-up token: it is refused."""
    with pytest.raises(Refused):
        await bearer.authenticate(token)


async def test_a_flood_of_cold_tokens_leaves_the_shared_thread_pool_free(
    keys_file: Path, make_key: Any
) -> None:
    make_key("exists", "qot:read")
    slow = SlowVerifier(keys_file)
    bearer = BearerVerifier(slow)
    shared = anyio.to_thread.current_default_thread_limiter()
    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(refused, bearer, f"fc_made{i:04d}_up")
        deadline = time.monotonic() + 10
        while slow.running < COLD_VERIFY_THREADS:
            assert time.monotonic() < deadline, "cold verifies did not start"
            await anyio.sleep(0.01)
        assert shared.borrowed_tokens == 0
        assert slow.running == COLD_VERIFY_THREADS
        # The trade path's worker-thread calls still run at once.
        with anyio.fail_after(2):
            assert await anyio.to_thread.run_sync(lambda: 42) == 42
        slow.release.set()
