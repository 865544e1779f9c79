"""OpenD's own limits, enforced by the simulator: request rate windows, subscription quota and
the history K-line quota.

Times are the simulator clock's monotonic seconds, so a test can step past a window instead of
sleeping through it.
"""

from collections import deque
from dataclasses import dataclass, field

from opend.protoids import ProtoId

UNSUB_MIN_SECONDS = 60.0
# OpenD's documented quote request limits (requests per 30 s, per OpenD user), enforced only
# when the simulator is started with quote_limits. RequestHistoryKL counts first pages only.
QUOTE_RATE_LIMITS: dict[int, tuple[int, str]] = {
    ProtoId.QOT_GET_SECURITY_SNAPSHOT: (60, "Qot_GetSecuritySnapshot requests"),
    ProtoId.QOT_REQUEST_HISTORY_KL: (60, "Qot_RequestHistoryKL first pages"),
    ProtoId.QOT_GET_PLATE_SET: (10, "Qot_GetPlateSet requests"),
    ProtoId.QOT_GET_PLATE_SECURITY: (10, "Qot_GetPlateSecurity requests"),
    ProtoId.QOT_GET_MARKET_STATE: (10, "Qot_GetMarketState requests"),
    ProtoId.QOT_REQUEST_TRADE_DATE: (30, "Qot_RequestTradeDate requests"),
    ProtoId.QOT_GET_OPTION_EXPIRATION_DATE: (60, "Qot_GetOptionExpirationDate requests"),
    ProtoId.QOT_GET_OPTION_CHAIN: (10, "Qot_GetOptionChain requests"),
    ProtoId.QOT_GET_WARRANT: (60, "Qot_GetWarrant requests"),
    ProtoId.QOT_GET_FUTURE_INFO: (30, "Qot_GetFutureInfo requests"),
    ProtoId.QOT_GET_REFERENCE: (10, "Qot_GetReference requests (futures)"),
    ProtoId.QOT_GET_CAPITAL_FLOW: (30, "Qot_GetCapitalFlow requests"),
    ProtoId.QOT_GET_CAPITAL_DISTRIBUTION: (30, "Qot_GetCapitalDistribution requests"),
    ProtoId.QOT_GET_OWNER_PLATE: (10, "Qot_GetOwnerPlate requests"),
    ProtoId.QOT_GET_IPO_LIST: (10, "Qot_GetIpoList requests"),
    ProtoId.QOT_STOCK_FILTER: (10, "Qot_StockFilter requests"),
    ProtoId.QOT_REQUEST_REHAB: (60, "Qot_RequestRehab requests"),
    ProtoId.QOT_GET_USER_SECURITY_GROUP: (10, "Qot_GetUserSecurityGroup requests"),
    ProtoId.QOT_GET_USER_SECURITY: (10, "Qot_GetUserSecurity requests"),
    ProtoId.QOT_GET_PRICE_REMINDER: (10, "Qot_GetPriceReminder requests"),
}
QUOTE_RATE_WINDOW = 30.0
# OpenD's documented limits of account queries (requests per 30 s per account; margin ratios per
# user), always enforced, as OpenD does.
QUERY_RATE_LIMITS: dict[int, tuple[int, str]] = {
    ProtoId.TRD_GET_HISTORY_ORDER_LIST: (10, "Trd_GetHistoryOrderList requests per account"),
    ProtoId.TRD_GET_HISTORY_ORDER_FILL_LIST: (
        10,
        "Trd_GetHistoryOrderFillList requests per account",
    ),
    ProtoId.TRD_GET_MAX_TRD_QTYS: (10, "Trd_GetMaxTrdQtys requests per account"),
    ProtoId.TRD_GET_ORDER_FEE: (10, "Trd_GetOrderFee requests per account"),
    ProtoId.TRD_FLOW_SUMMARY: (20, "Trd_FlowSummary requests per account"),
    ProtoId.TRD_GET_MARGIN_RATIO: (10, "Trd_GetMarginRatio requests"),
}
DEFAULT_HISTORY_KL_QUOTA = 100
# Most copies of the docs say 30 days; the newest (2026) says 7. The longer one is the stricter.
HISTORY_KL_QUOTA_DAYS = 30


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


class HistoryKLQuota:
    """Distinct securities whose history K-lines were fetched within the last `days` days.

    One unit per security (every K-line type of it included), taken by its first request in
    the window; fetching it again inside the window is free. Times are simulated epoch seconds,
    as Qot_RequestHistoryKLQuota reports them.
    """

    def __init__(self, quota: int, days: int = HISTORY_KL_QUOTA_DAYS) -> None:
        if isinstance(quota, bool) or not isinstance(quota, int) or quota < 0:
            raise ValueError(f"history K-line quota must be a whole number >= 0, got {quota!r}")
        self.quota = quota
        self.days = days
        self._first: dict[str, float] = {}

    def used(self, now: float) -> dict[str, float]:
        """Securities counted at `now` and when each was first fetched in the window."""
        start = now - self.days * 86400.0
        for code in [c for c, t in self._first.items() if t < start]:
            del self._first[code]
        return dict(self._first)

    def use(self, code: str, now: float, *, enforce: bool) -> None:
        """Count a fetch of `code`; with `enforce`, raise LimitExceeded (counting nothing) when
        it needs a unit and none is left."""
        used = self.used(now)
        if code in used:
            return
        if enforce and len(used) >= self.quota:
            # The simulator's own wording: OpenD's text for this refusal is not documented.
            raise LimitExceeded(
                f"History KL quota exhausted: {len(used)} of {self.quota} securities used in "
                f"the last {self.days} days, {code} would need one more (securities already "
                f"fetched in that window can still be fetched)"
            )
        self._first[code] = now
