"""Waiting on a condition with a deadline (tests never sleep a fixed time instead)."""

import asyncio
import time
from collections.abc import Callable


async def until(condition: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Poll `condition` every few milliseconds; fail the test if it is not true by the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        await asyncio.sleep(0.005)


def client_tasks_left() -> list[str]:
    """Names of the client's background tasks still running (must be none after close)."""
    return [
        t.get_name()
        for t in asyncio.all_tasks()
        if t.get_name().startswith("opend-") and not t.done()
    ]
