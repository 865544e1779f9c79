"""Which (security, subscription type) pairs this connection holds, and which can go.

OpenD charges one quota unit per pair and lets a pair be unsubscribed only a minute after it was
subscribed. The book reuses what is held, plans what to add, picks idle pairs to release (least
recently used first) and says in plain words when the quota is exhausted. It does no I/O; the
client sends the Qot_Sub requests it plans.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from opend.codes import Security
from opend.enums import SubType
from opend.errors import SubscriptionQuotaExceeded

Item = tuple[Security, SubType]

OPEND_MIN_HOLD = 60.0


@dataclass(slots=True)
class _Held:
    since: float
    last_used: float


class SubscriptionBook:
    """Subscription state of one connection (reset when the connection is replaced)."""

    def __init__(
        self,
        quota: int,
        *,
        min_hold: float = OPEND_MIN_HOLD,
        idle_after: float = OPEND_MIN_HOLD,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if quota < 1:
            raise ValueError("subscription quota must be at least 1")
        self.quota = quota
        self.min_hold = min_hold
        self.idle_after = idle_after
        self._clock = clock
        self._held: dict[Item, _Held] = {}

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, item: object) -> bool:
        return item in self._held

    def held(self) -> list[Item]:
        """Every pair currently subscribed."""
        return list(self._held)

    def touch(self, items: Iterable[Item]) -> None:
        """Record that a quote call is using these pairs now."""
        now = self._clock()
        for item in items:
            held = self._held.get(item)
            if held is not None:
                held.last_used = now

    def missing(self, items: Iterable[Item]) -> list[Item]:
        """The pairs not yet subscribed, in order, without duplicates."""
        return [i for i in dict.fromkeys(items) if i not in self._held]

    def _releasable(self, now: float, keep: set[Item]) -> list[Item]:
        ready = [
            (held.last_used, item)
            for item, held in self._held.items()
            if item not in keep
            and now - held.since >= self.min_hold
            and now - held.last_used >= self.idle_after
        ]
        return [item for _, item in sorted(ready, key=lambda pair: pair[0])]

    def plan(self, wanted: Iterable[Item]) -> tuple[list[Item], list[Item]]:
        """(pairs to subscribe, idle pairs to release first) so `wanted` fits in the quota.

        Raises `SubscriptionQuotaExceeded` when it cannot fit even after releasing idle pairs.
        """
        wanted = list(dict.fromkeys(wanted))
        add = self.missing(wanted)
        over = len(self._held) + len(add) - self.quota
        if over <= 0:
            return add, []
        now = self._clock()
        releasable = self._releasable(now, set(wanted))
        if len(releasable) >= over:
            return add, releasable[:over]
        if len(wanted) > self.quota:
            raise SubscriptionQuotaExceeded(
                f"this call needs {len(wanted)} quote subscriptions but the quota is {self.quota}; "
                "ask for fewer codes at once"
            )
        busy = [h for i, h in self._held.items() if i not in releasable and i not in wanted]
        waits = [
            max(self.min_hold - (now - h.since), self.idle_after - (now - h.last_used), 0.0)
            for h in busy
        ]
        waits.sort()
        retry = waits[over - len(releasable) - 1] if len(waits) >= over - len(releasable) else 60
        raise SubscriptionQuotaExceeded(
            f"quote subscription quota exhausted: {len(self._held)} of {self.quota} in use "
            f"and OpenD lets a subscription go only after a minute; retry in {max(1, int(retry + 0.999))} s"
        )

    def idle(self) -> list[Item]:
        """Pairs unused long enough (and held at least OpenD's minimum) to release now."""
        return self._releasable(self._clock(), set())

    def added(self, items: Iterable[Item]) -> None:
        """Record a successful subscribe."""
        now = self._clock()
        for item in items:
            self._held[item] = _Held(since=now, last_used=now)

    def removed(self, items: Iterable[Item]) -> None:
        """Record a successful unsubscribe."""
        for item in items:
            self._held.pop(item, None)

    def reset(self) -> None:
        """Forget everything: a new connection starts with no subscriptions."""
        self._held.clear()
