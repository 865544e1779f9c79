"""Client-side mirror of OpenD's request limits, applied before anything is sent.

Orders: per account, with a minimum gap. Quotes (snapshot, history K-line first pages, plate
lists, plate members, market state, trading days) and margin ratios: per OpenD user, which for
us is one window per protocol per client, since a client talks to one OpenD as one user.
Account queries (history orders and fills, max quantities, order fees, cash flow): per account.

OpenD's rule "N per 30 s" means the 1st and the (N+1)th request must be more than 30 s apart,
plus a minimum gap between consecutive requests. Refusing here gives the caller a clear
"retry in N s" instead of an OpenD rejection (and keeps a burst from tripping OpenD at all).

OpenD measures the gap between *arrivals*. So writes to one account go out one at a time, each
waiting `min_gap + GAP_MARGIN` after the moment the previous one's bytes were written (not after
its planned time: a write can leave late when the event loop is busy), and the margin absorbs
the jitter between our write and OpenD's reading of it.
"""

import asyncio
import bisect
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from opend.errors import Throttled
from opend.protoids import ProtoId


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` requests in any `window` seconds, at least `min_gap` seconds apart."""

    count: int
    window: float
    min_gap: float = 0.0


PLACE_ORDER_LIMIT = Limit(15, 30.0, 0.02)
MODIFY_ORDER_LIMIT = Limit(20, 30.0, 0.04)
# OpenD's documented quote request limits (no minimum gap is documented for these), with the
# words a refusal uses for each. RequestHistoryKL counts only a security's first page.
QUOTE_LIMITS: dict[int, tuple[str, Limit]] = {
    ProtoId.QOT_GET_SECURITY_SNAPSHOT: ("security snapshot", Limit(60, 30.0)),
    ProtoId.QOT_REQUEST_HISTORY_KL: ("history K-line (first page)", Limit(60, 30.0)),
    ProtoId.QOT_GET_PLATE_SET: ("plate list", Limit(10, 30.0)),
    ProtoId.QOT_GET_PLATE_SECURITY: ("plate securities", Limit(10, 30.0)),
    ProtoId.QOT_GET_MARKET_STATE: ("market state", Limit(10, 30.0)),
    ProtoId.QOT_REQUEST_TRADE_DATE: ("trading days", Limit(30, 30.0)),
    ProtoId.TRD_GET_MARGIN_RATIO: ("margin ratio", Limit(10, 30.0)),
    # Issue 14's protocols (reference/opend-protocol-more.md §1.2, from each API page's limits).
    ProtoId.QOT_GET_OPTION_EXPIRATION_DATE: ("option expiration dates", Limit(60, 30.0)),
    ProtoId.QOT_GET_OPTION_CHAIN: ("option chain", Limit(10, 30.0)),
    ProtoId.QOT_GET_WARRANT: ("warrants", Limit(60, 30.0)),
    ProtoId.QOT_GET_FUTURE_INFO: ("future info", Limit(30, 30.0)),
    ProtoId.QOT_GET_REFERENCE: ("related securities", Limit(10, 30.0)),
    ProtoId.QOT_GET_CAPITAL_FLOW: ("capital flow", Limit(30, 30.0)),
    ProtoId.QOT_GET_CAPITAL_DISTRIBUTION: ("capital distribution", Limit(30, 30.0)),
    ProtoId.QOT_GET_OWNER_PLATE: ("owner plates", Limit(10, 30.0)),
    ProtoId.QOT_GET_IPO_LIST: ("IPO list", Limit(10, 30.0)),
    ProtoId.QOT_STOCK_FILTER: ("stock filter", Limit(10, 30.0)),
    ProtoId.QOT_REQUEST_REHAB: ("rehab", Limit(60, 30.0)),
    ProtoId.QOT_GET_USER_SECURITY_GROUP: ("watchlist groups", Limit(10, 30.0)),
    ProtoId.QOT_GET_USER_SECURITY: ("watchlist securities", Limit(10, 30.0)),
    ProtoId.QOT_GET_PRICE_REMINDER: ("price reminders", Limit(10, 30.0)),
}
# OpenD's documented limits of account queries, counted per account (acc_id).
ACCOUNT_LIMITS: dict[int, tuple[str, Limit]] = {
    ProtoId.TRD_GET_HISTORY_ORDER_LIST: ("history orders", Limit(10, 30.0)),
    ProtoId.TRD_GET_HISTORY_ORDER_FILL_LIST: ("history fills", Limit(10, 30.0)),
    ProtoId.TRD_GET_MAX_TRD_QTYS: ("max trade quantities", Limit(10, 30.0)),
    ProtoId.TRD_GET_ORDER_FEE: ("order fees", Limit(10, 30.0)),
    ProtoId.TRD_FLOW_SUMMARY: ("cash flow", Limit(20, 30.0)),
}
# Added to every window: OpenD's clock starts when it receives, ours when we send.
SAFETY_MARGIN = 0.25
# Added to every minimum gap: OpenD measures the gap when it reads a request, and two writes
# spaced exactly min_gap apart arrive closer than that whenever the first is read late (a busy
# machine, a network hop; 10 ms was not enough on a loaded two-core host). A burst of 15 orders
# to one account then takes 0.75 s instead of 0.3 s; the 15-per-30-s window is the real bound.
GAP_MARGIN = 0.03


@dataclass(slots=True)
class Slot:
    """One booked request: booked at `at`, moved to its send time once its bytes are written."""

    at: float


class SlidingWindow:
    """Requests of one (kind, account) pair, oldest first, never more than `limit.count`."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self._slots: deque[Slot] = deque(maxlen=limit.count)
        self._last_sent: float | None = None
        # Held from the gap wait until the bytes are written, so writes leave in booking order.
        self.gate = asyncio.Lock()

    def book(self, now: float) -> Slot:
        """Count a request at `now`, or raise `Throttled` (a refused attempt uses no slot)."""
        return self.book_many(now, 1)[0]

    def book_many(self, now: float, n: int) -> list[Slot]:
        """Count `n` requests at `now`, all or none: a call that needs several requests is
        refused before its first one rather than cut off half-way."""
        if not 1 <= n <= self.limit.count:
            raise ValueError(f"one call can book 1 to {self.limit.count} requests, not {n}")
        window = self.limit.window + SAFETY_MARGIN
        times = sorted(slot.at for slot in self._slots)
        live = times[bisect.bisect_left(times, now - window) :]
        excess = len(live) + n - self.limit.count
        if excess > 0:
            raise Throttled(
                f"{self.limit.count} per {self.limit.window:g} s",
                window - (now - live[excess - 1]),
            )
        slots = [Slot(now) for _ in range(n)]
        self._slots.extend(slots)
        return slots

    def wait_before_send(self, now: float) -> float:
        """Seconds to wait so this write arrives at least the minimum gap after the last one."""
        if self._last_sent is None or not self.limit.min_gap:
            return 0.0
        return max(0.0, self._last_sent + self.limit.min_gap + GAP_MARGIN - now)

    def sent(self, slot: Slot, at: float) -> None:
        """Record when a booked request actually left (the window then counts from there)."""
        slot.at = max(slot.at, at)
        self._last_sent = max(self._last_sent or at, at)


class SendPermit:
    """The right to write one order request now; `sent()` right after the write lets the next go."""

    def __init__(self, window: SlidingWindow, slot: Slot, clock: Callable[[], float]) -> None:
        self._window = window
        self._slot = slot
        self._clock = clock
        self._held = True

    def sent(self) -> None:
        """The bytes are written: record the time and let the next write to this account wait."""
        if self._held:
            self._window.sent(self._slot, self._clock())
            self.release()

    def release(self) -> None:
        """Give up the turn without recording a send (nothing was written). Idempotent."""
        if self._held:
            self._held = False
            self._window.gate.release()


class SharedWindows(Protocol):
    """Order windows several processes share (futu-mcp replicas on one OpenD account)."""

    async def book(self, kind: str, acc_id: int, limit: Limit) -> tuple[bool, float]:
        """Count one request: (True, seconds to wait before sending it) or (False, seconds
        until a slot frees). Counts nothing when it cannot answer, and says (True, 0)."""
        ...


class OrderThrottle:
    """Per-account windows for place orders and for modify/cancel orders; with `shared`, a
    request must also fit the windows every process of the account shares."""

    def __init__(
        self,
        place: Limit = PLACE_ORDER_LIMIT,
        modify: Limit = MODIFY_ORDER_LIMIT,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedWindows | None = None,
    ) -> None:
        self._limits = {"place order": place, "modify/cancel order": modify}
        self._windows: dict[tuple[str, int], SlidingWindow] = {}
        self._clock = clock
        self._shared = shared

    def _book(self, kind: str, acc_id: int) -> tuple[SlidingWindow, Slot]:
        window = self._windows.get((kind, acc_id))
        if window is None:
            window = self._windows[(kind, acc_id)] = SlidingWindow(self._limits[kind])
        try:
            return window, window.book(self._clock())
        except Throttled as exc:
            raise Throttled(
                f"{kind}: {window.limit.count} per {window.limit.window:g} s for account {acc_id}",
                exc.retry_after,
            ) from None

    @asynccontextmanager
    async def _permit(self, kind: str, acc_id: int) -> AsyncIterator[SendPermit]:
        shared_wait = 0.0
        if self._shared is not None:
            limit = self._limits[kind]
            booked, shared_wait = await self._shared.book(kind, acc_id, limit)
            if not booked:
                raise Throttled(
                    f"{kind}: {limit.count} per {limit.window:g} s for account {acc_id}",
                    shared_wait,
                )
        # Booked before queueing: the 16th order of a burst is refused at once, not after a wait.
        window, slot = self._book(kind, acc_id)
        await window.gate.acquire()
        permit = SendPermit(window, slot, self._clock)
        try:
            delay = max(window.wait_before_send(self._clock()), shared_wait)
            if delay > 0:
                await asyncio.sleep(delay)
            yield permit
        finally:
            # Nothing written (link down, cancelled): the slot stays counted, which is safe.
            permit.release()

    def place(self, acc_id: int) -> AbstractAsyncContextManager[SendPermit]:
        """Book a place order for the account and wait for its turn; `Throttled` when full."""
        return self._permit("place order", acc_id)

    def modify(self, acc_id: int) -> AbstractAsyncContextManager[SendPermit]:
        """Book a modify or cancel for the account and wait for its turn; `Throttled` when full."""
        return self._permit("modify/cancel order", acc_id)


class QuoteThrottle:
    """One window per rate-limited query protocol: per OpenD user for quotes and margin ratios,
    per account for account queries; quote requests need no turn-taking."""

    def __init__(
        self,
        limits: dict[int, tuple[str, Limit]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        account_limits: dict[int, tuple[str, Limit]] | None = None,
    ) -> None:
        self._limits = QUOTE_LIMITS if limits is None else limits
        self._account_limits = ACCOUNT_LIMITS if account_limits is None else account_limits
        self._windows: dict[tuple[int, int | None], SlidingWindow] = {}
        self._clock = clock

    def book(self, proto_id: int, requests: int = 1, acc_id: int | None = None) -> None:
        """Count `requests` of a protocol about to be sent (for `acc_id` when OpenD counts it per
        account), or raise `Throttled` and count none.

        A protocol without a documented limit is never refused.
        """
        per_account = proto_id in self._account_limits
        entry = (self._account_limits if per_account else self._limits).get(proto_id)
        if entry is None:
            return
        what, limit = entry
        key = (proto_id, acc_id if per_account else None)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = SlidingWindow(limit)
        if requests > limit.count:
            raise ValueError(
                f"{what}: this call needs {requests} requests, more than OpenD allows "
                f"in {limit.window:g} s ({limit.count}); split it"
            )
        scope = f"for account {acc_id}" if per_account else "per OpenD user"
        try:
            window.book_many(self._clock(), requests)
        except Throttled as exc:
            raise Throttled(
                f"{what}: {limit.count} per {limit.window:g} s {scope}", exc.retry_after
            ) from None
