"""Client-side mirror of OpenD's per-account order limits, applied before anything is sent.

OpenD's rule "N per 30 s" means the 1st and the (N+1)th request must be more than 30 s apart,
plus a minimum gap between consecutive requests. Refusing here gives the caller a clear
"retry in N s" instead of an OpenD rejection (and keeps a burst from tripping OpenD at all).
"""

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from opend.errors import Throttled


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` requests in any `window` seconds, at least `min_gap` seconds apart."""

    count: int
    window: float
    min_gap: float = 0.0


PLACE_ORDER_LIMIT = Limit(15, 30.0, 0.02)
MODIFY_ORDER_LIMIT = Limit(20, 30.0, 0.04)
# Added to every window: OpenD's clock starts when it receives, ours when we send.
SAFETY_MARGIN = 0.25


class SlidingWindow:
    """Send times of one (kind, account) pair, newest last, never more than `limit.count`."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self._sent: deque[float] = deque(maxlen=limit.count)

    def reserve(self, now: float) -> float:
        """Book a send; return how long to wait first (min gap), or raise `Throttled`."""
        window = self.limit.window + SAFETY_MARGIN
        if len(self._sent) == self.limit.count and now - self._sent[0] <= window:
            raise Throttled(
                f"{self.limit.count} per {self.limit.window:g} s", window - (now - self._sent[0])
            )
        at = max(now, self._sent[-1] + self.limit.min_gap) if self._sent else now
        self._sent.append(at)
        return at - now


class OrderThrottle:
    """Per-account windows for place orders and for modify/cancel orders."""

    def __init__(
        self,
        place: Limit = PLACE_ORDER_LIMIT,
        modify: Limit = MODIFY_ORDER_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"place order": place, "modify/cancel order": modify}
        self._windows: dict[tuple[str, int], SlidingWindow] = {}
        self._clock = clock

    def _reserve(self, kind: str, acc_id: int) -> float:
        window = self._windows.get((kind, acc_id))
        if window is None:
            window = self._windows[(kind, acc_id)] = SlidingWindow(self._limits[kind])
        try:
            return window.reserve(self._clock())
        except Throttled as exc:
            raise Throttled(
                f"{kind}: {window.limit.count} per {window.limit.window:g} s for account {acc_id}",
                exc.retry_after,
            ) from None

    def reserve_place(self, acc_id: int) -> float:
        """Book a place order for the account; seconds to wait before sending, or `Throttled`."""
        return self._reserve("place order", acc_id)

    def reserve_modify(self, acc_id: int) -> float:
        """Book a modify or cancel for the account; seconds to wait, or `Throttled`."""
        return self._reserve("modify/cancel order", acc_id)
