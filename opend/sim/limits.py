"""OpenD's own limits, enforced by the simulator: request rate windows and subscription quota.

Times are the simulator clock's monotonic seconds, so a test can step past a window instead of
sleeping through it.
"""

from collections import deque
from dataclasses import dataclass, field

UNSUB_MIN_SECONDS = 60.0


class LimitExceeded(Exception):
    """A request OpenD would refuse because of one of its limits; the text is the reply's retMsg."""


@dataclass
class RateWindow:
    """At most `limit` requests per `window` seconds (the 1st and the (N+1)th more than `window`
    apart, as Futu's Q&A defines it) and at least `min_gap` seconds between two requests."""

    limit: int
    window: float
    min_gap: float = 0.0
    what: str = "requests"
    _times: deque[float] = field(default_factory=deque)

    def check(self, now: float) -> None:
        """Record a request at `now`, or raise LimitExceeded without recording it."""
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()
        if self._times and now - self._times[-1] < self.min_gap:
            raise LimitExceeded(
                f"Request too frequent: {self.what} need at least {self.min_gap:g} s between them"
            )
        if len(self._times) >= self.limit:
            retry = self.window - (now - self._times[0])
            raise LimitExceeded(
                f"Request too frequent: at most {self.limit} {self.what} per {self.window:g} s, "
                f"retry in {max(retry, 0.0):.1f} s"
            )
        self._times.append(now)


class Subscriptions:
    """Per-connection subscriptions sharing one quota, with OpenD's one-minute minimum.

    A unit is one (security, SubType). It is held while any connection holds it, and for the rest
    of its first minute after the last holder disconnects (OpenD unsubscribes closed connections
    only once the minimum has passed).
    """

    def __init__(self, quota: int) -> None:
        self.quota = quota
        self._holders: dict[tuple[str, int], dict[int, float]] = {}
        self._lingering: dict[tuple[str, int], float] = {}

    def used(self, now: float) -> int:
        """Quota units in use at `now`."""
        for key, until in list(self._lingering.items()):
            if until <= now:
                del self._lingering[key]
        return len(self._holders.keys() | self._lingering.keys())

    def subscribe(self, conn_id: int, keys: list[tuple[str, int]], now: float) -> None:
        """Hold `keys` for a connection, or raise LimitExceeded if the quota cannot cover them."""
        used = self.used(now)
        new = {k for k in keys if k not in self._holders and k not in self._lingering}
        if used + len(new) > self.quota:
            raise LimitExceeded(
                f"Subscription quota exceeded: {used} of {self.quota} used, "
                f"this request needs {len(new)} more"
            )
        for key in keys:
            holders = self._holders.setdefault(key, {})
            holders.setdefault(conn_id, now)
            self._lingering.pop(key, None)

    def unsubscribe(self, conn_id: int, keys: list[tuple[str, int]] | None, now: float) -> None:
        """Release `keys` (None = all of the connection's); all or nothing, one minute minimum."""
        if keys is None:
            keys = [k for k, holders in self._holders.items() if conn_id in holders]
        held = [k for k in keys if conn_id in self._holders.get(k, {})]
        for key in held:
            if now - self._holders[key][conn_id] < UNSUB_MIN_SECONDS:
                raise LimitExceeded(
                    f"Unsubscribe failed: {key[0]} was subscribed less than one minute ago"
                )
        for key in held:
            self._drop(key, conn_id, now, linger=False)

    def is_subscribed(self, conn_id: int, key: tuple[str, int]) -> bool:
        """True if this connection holds the unit (OpenD serves subscribed data per connection)."""
        return conn_id in self._holders.get(key, {})

    def connection_closed(self, conn_id: int, now: float) -> None:
        """Release a closed connection's units, keeping young ones counted until their minute ends."""
        for key in [k for k, holders in self._holders.items() if conn_id in holders]:
            self._drop(key, conn_id, now, linger=True)

    def held_by(self, conn_id: int) -> list[tuple[str, int]]:
        """Units a connection holds (Qot_GetSubInfo)."""
        return [k for k, holders in self._holders.items() if conn_id in holders]

    def connections(self) -> list[int]:
        """Connections holding at least one unit, oldest id first."""
        return sorted({c for holders in self._holders.values() for c in holders})

    def _drop(self, key: tuple[str, int], conn_id: int, now: float, *, linger: bool) -> None:
        holders = self._holders[key]
        since = holders.pop(conn_id)
        if not holders:
            del self._holders[key]
            if linger and now - since < UNSUB_MIN_SECONDS:
                self._lingering[key] = max(self._lingering.get(key, 0.0), since + UNSUB_MIN_SECONDS)
