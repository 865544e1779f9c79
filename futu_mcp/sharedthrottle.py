"""OpenD's per-account order limits counted in the Redis ledger, so replicas sharing an OpenD
account share its 15 place / 30 s and 20 modify-or-cancel / 30 s windows (and minimum gaps).

The `opend` package only knows the `SharedWindows` interface; this adapter is where the ledger
comes in. If Redis cannot answer, the request is left to this process's own window: orders are
refused by the ledger anyway, and a cancel must keep working.
"""

import logging

import anyio.to_thread

from keystore.errors import LedgerError
from keystore.ledger_redis import RedisLedger
from opend.throttle import GAP_MARGIN, SAFETY_MARGIN, Limit

log = logging.getLogger("futu_mcp.ledger")


class LedgerWindows:
    """`opend.throttle.SharedWindows` on a Redis ledger."""

    def __init__(self, ledger: RedisLedger) -> None:
        self._ledger = ledger

    async def book(self, kind: str, acc_id: int, limit: Limit) -> tuple[bool, float]:
        """Count one request in the account's shared window (Redis's clock)."""
        slug = kind.replace("/", "-").replace(" ", "-")
        try:
            return await anyio.to_thread.run_sync(
                self._ledger.book_gateway_request,
                slug,
                acc_id,
                limit.count,
                limit.window + SAFETY_MARGIN,
                limit.min_gap + GAP_MARGIN if limit.min_gap else 0.0,
            )
        except LedgerError as exc:
            log.warning("%s: %s counted by this replica only", exc, kind)
            return True, 0.0
