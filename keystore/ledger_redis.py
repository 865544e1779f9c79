"""The Redis ledger: what `SqliteLedger` keeps, shared by several futu-mcp replicas.

Every check-and-reserve, release and client-order-id claim is one Lua script, so it is atomic
on the server: N orders racing on any mix of replicas for the last k slots admit exactly k.
Money is kept as integer ten-thousandths (HINCRBY, never floats); a reservation is rounded up
and a cap down, so rounding can only refuse. Every key a script touches is passed in KEYS and
shares the hash tag `{key id}` (one Cluster slot). The rate window is timed by Redis's own
clock (`TIME`) unless a time is given (tests); the UTC day is the caller's clock, so replicas'
clocks must agree (NTP) only around midnight.

A Redis that cannot be reached raises `LedgerUnavailable`; redis-py reconnects on the next
command, so a replica recovers on its own when Redis is back.
"""

import json
import math
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from keystore.errors import LedgerError, LedgerUnavailable
from keystore.ledger import (
    CLIENT_ORDER_TTL_S,
    RATE_WINDOW_S,
    ClientOrderState,
    KeyUsage,
    LimitDenial,
    Reservation,
    SqliteLedger,
    rate_denial,
)
from keystore.records import format_amount

PREFIX = "futu"
SCALE = 10_000  # money is stored in ten-thousandths of a currency unit
_WINDOW_MS = int(RATE_WINDOW_S * 1000)
_DAY_TTL_MS = 2 * 24 * 3600 * 1000
_RESERVATION_TTL_MS = 24 * 3600 * 1000  # a reservation is released, if at all, within the call
_ORDER_OWNER_TTL_MS = 90 * 24 * 3600 * 1000
_CONNECT_TIMEOUT_S = 1.0
_COMMAND_TIMEOUT_S = 2.0

_NOW_MS = """
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[1])
end
"""

# KEYS: window zset, day hash, reservation. ARGV: now ms or '', max per minute or '',
# max daily units or '', units, day field, reservation id, commit (1/0), window ms, day ttl,
# reservation ttl.
_RESERVE = (
    _NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[8]))
if ARGV[2] ~= '' and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  -- The k-th newest slot: the window is full until it leaves (ms from now).
  local kth = redis.call('ZREVRANGE', KEYS[1], tonumber(ARGV[2]) - 1, tonumber(ARGV[2]) - 1, 'WITHSCORES')
  return {'rate', tostring(tonumber(kth[2]) + tonumber(ARGV[8]) - now)}
end
local total = redis.call('HGET', KEYS[2], ARGV[5]) or '0'
local units = tonumber(ARGV[4])
if ARGV[3] ~= '' and units > 0 and tonumber(total) + units > tonumber(ARGV[3]) then
  return {'daily_value', total}
end
if ARGV[7] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[6])
  redis.call('PEXPIRE', KEYS[1], ARGV[8])
  redis.call('HINCRBY', KEYS[2], ARGV[5], ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[9])
  redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[10])
end
return {'ok', total}
"""
)

# KEYS: window zset, day hash, reservation. ARGV: reservation id, day field.
_RELEASE = """
local units = redis.call('GET', KEYS[3])
if not units then return 0 end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('HINCRBY', KEYS[2], ARGV[2], '-' .. units) < 0 then
  redis.call('HSET', KEYS[2], ARGV[2], 0)
end
return 1
"""

# KEYS: client order hash. ARGV: digest or '', ttl ms.
_BEGIN_CLIENT_ORDER = """
local cur = redis.call('HMGET', KEYS[1], 'status', 'digest', 'result')
if not cur[1] then
  redis.call('HSET', KEYS[1], 'status', 'pending', 'digest', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'new'}
end
if cur[2] and cur[2] ~= '' and ARGV[1] ~= '' and cur[2] ~= ARGV[1] then
  return {'conflict'}
end
if cur[1] == 'done' then return {'done', cur[3]} end
return {'pending'}
"""

# KEYS: client order hash. ARGV: result json, ttl ms (if the claim itself has expired).
_FINISH_CLIENT_ORDER = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'status', 'done', 'digest', '', 'result', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  redis.call('HSET', KEYS[1], 'status', 'done', 'result', ARGV[1])
end
return 1
"""

_ABANDON_CLIENT_ORDER = """
if redis.call('HGET', KEYS[1], 'status') == 'pending' then redis.call('DEL', KEYS[1]) end
return 1
"""

# OpenD's per-account request limit (reference: opend-protocol-more.md section 6).
# KEYS: window zset. ARGV: now ms or '', count, window ms, min gap ms, request id.
# Returns {0, wait ms} when full (retry later), {1, wait ms} when booked (send after the wait).
_BOOK_GATEWAY = (
    _NOW_MS
    + """
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
local at = now
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) + tonumber(ARGV[4]) > at then
  at = tonumber(newest[2]) + tonumber(ARGV[4])
end
redis.call('ZADD', KEYS[1], at, ARGV[5])
redis.call('PEXPIRE', KEYS[1], window + tonumber(ARGV[4]) + 1000)
return {1, at - now}
"""
)


def redact(url: str) -> str:
    """`url` without its password (for logs, /healthz and error messages), wherever it stands:
    in the user part or as the `password` query parameter redis-py also reads."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "password" for name, _ in query):
        kept = [(name, value) for name, value in query if name != "password"]
        parts = parts._replace(query=urlencode(kept, safe="/"))
        url = urlunsplit(parts)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def _units_up(amount: Decimal) -> int:
    return math.ceil(amount * SCALE)


def _units_down(amount: Decimal) -> int:
    return math.floor(amount * SCALE)


def _amount(units: str | int) -> Decimal:
    return Decimal(int(units)) / SCALE


def _ms(now: datetime | None) -> str:
    return "" if now is None else str(round(now.timestamp() * 1000))


def _utc(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


class RedisLedger:
    """The ledger in one Redis database (`redis://` or `rediss://` URL); thread-safe."""

    def __init__(
        self, url: str, password: str | None = None, local: SqliteLedger | None = None
    ) -> None:
        """`password` is used when the URL has none. `local` (this machine's SQLite ledger)
        also records which key placed which order, so while Redis is down a replica can still
        let a key cancel the orders it placed through this replica."""
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise LedgerError(
                f"ledger URL must start with redis:// or rediss://, got {redact(url)}"
            )
        self.url = redact(url)
        if "password" in parse_qs(parts.query):
            # ps, /healthz and every refusal would show it: only where redact() finds it.
            raise LedgerError(
                f"ledger URL {self.url}: put the password before the host "
                "(rediss://:PASSWORD@HOST/0) or in FUTU_LEDGER_PASSWORD, not in the query"
            )
        self._secret = parts.password or password
        self._local = local
        try:
            self._db = redis.Redis.from_url(
                url,
                password=self._secret,
                decode_responses=True,
                socket_connect_timeout=_CONNECT_TIMEOUT_S,
                socket_timeout=_COMMAND_TIMEOUT_S,
                # One retry: a pooled connection Redis dropped (restart) is replaced at once.
                retry=Retry(NoBackoff(), 1),
            )
        except ValueError as exc:
            raise LedgerError(f"ledger URL {self.url}: {self._scrub(str(exc))}") from None
        self._reserve = self._db.register_script(_RESERVE)
        self._release = self._db.register_script(_RELEASE)
        self._begin = self._db.register_script(_BEGIN_CLIENT_ORDER)
        self._finish = self._db.register_script(_FINISH_CLIENT_ORDER)
        self._abandon = self._db.register_script(_ABANDON_CLIENT_ORDER)
        self._book = self._db.register_script(_BOOK_GATEWAY)

    def describe(self) -> str:
        """The URL without its password."""
        return self.url

    def check(self) -> None:
        """Raise LedgerUnavailable unless Redis answers now (start-up, /healthz)."""
        with self._talk():
            self._db.ping()

    def reserve(
        self,
        key_id: str,
        *,
        market: str,
        currency: str,
        amount: Decimal,
        max_per_minute: int | None,
        max_daily: Decimal | None,
        now: datetime | None = None,
        commit: bool = True,
    ) -> Reservation | LimitDenial | None:
        """Check the 60 s window and the day's total, and reserve, in one script."""
        day = _utc(now).date().isoformat()
        field = f"{market}|{currency}"
        rid = secrets.randbits(62)
        units = _units_up(amount)
        with self._talk():
            verdict, total = self._reserve(
                keys=[
                    self._key(key_id, "window"),
                    self._key(key_id, "day", day),
                    self._key(key_id, "reservation", str(rid)),
                ],
                args=[
                    _ms(now),
                    "" if max_per_minute is None else max_per_minute,
                    "" if max_daily is None else _units_down(max_daily),
                    units,
                    field,
                    rid,
                    1 if commit else 0,
                    _WINDOW_MS,
                    _DAY_TTL_MS,
                    _RESERVATION_TTL_MS,
                ],
            )
        if verdict == "rate":
            assert max_per_minute is not None
            return rate_denial(max_per_minute, float(total) / 1000)
        if verdict == "daily_value":
            assert max_daily is not None
            return LimitDenial(
                "daily_value",
                f"limit check failed: daily value {format_amount(_amount(total) + amount)} "
                f"exceeds {format_amount(max_daily)}",
            )
        if not commit:
            return None
        return Reservation(rid, key_id, market, currency, day, amount)

    def release(self, reservation: Reservation) -> None:
        """Give back a reservation (idempotent: the second release finds nothing)."""
        r = reservation
        with self._talk():
            self._release(
                keys=[
                    self._key(r.key_id, "window"),
                    self._key(r.key_id, "day", r.day),
                    self._key(r.key_id, "reservation", str(r.id)),
                ],
                args=[r.id, f"{r.market}|{r.currency}"],
            )

    def daily_total(
        self, key_id: str, market: str, currency: str, now: datetime | None = None
    ) -> Decimal:
        """Value reserved so far on the UTC day of `now`."""
        day = _utc(now).date().isoformat()
        with self._talk():
            raw = self._db.hget(self._key(key_id, "day", day), f"{market}|{currency}")
        return _amount(raw or 0)

    def usage(self, key_ids: list[str], now: datetime | None = None) -> dict[str, KeyUsage]:
        """Each key's orders in the last minute and value per (market, currency) today."""
        when = _utc(now)
        ms = round(when.timestamp() * 1000)
        day = when.date().isoformat()
        with self._talk():
            pipe = self._db.pipeline(transaction=False)
            for key_id in key_ids:
                pipe.zcount(self._key(key_id, "window"), f"({ms - _WINDOW_MS}", ms)
                pipe.hgetall(self._key(key_id, "day", day))
            replies = pipe.execute()
        found: dict[str, KeyUsage] = {}
        for i, key_id in enumerate(key_ids):
            count, totals = replies[2 * i], replies[2 * i + 1]
            daily = {}
            for field, units in totals.items():
                market, _, currency = field.partition("|")
                if int(units) > 0:
                    daily[(market, currency)] = _amount(units)
            found[key_id] = KeyUsage(int(count), daily)
        return found

    def record_use(self, key_id: str, now: datetime | None = None) -> None:
        """Note that a key was used (the caller spaces these out)."""
        with self._talk():
            self._db.hset(self._key_shared("use"), key_id, _utc(now).timestamp())

    def last_used(self) -> dict[str, datetime]:
        """When each key was last used, for list-keys."""
        with self._talk():
            rows = self._db.hgetall(self._key_shared("use"))
        return {key_id: datetime.fromtimestamp(float(ts), UTC) for key_id, ts in rows.items()}

    def begin_client_order(
        self,
        key_id: str,
        client_order_id: str,
        now: datetime | None = None,
        digest: str | None = None,
    ) -> ClientOrderState:
        """Claim a client_order_id for this key (24 h, Redis's expiry); a repeat learns it is
        pending, done or a conflict."""
        with self._talk():
            reply = self._begin(
                keys=[self._key(key_id, "client-order", client_order_id)],
                args=[digest or "", int(CLIENT_ORDER_TTL_S * 1000)],
            )
        status = reply[0]
        if status == "done":
            return ClientOrderState("done", json.loads(reply[1]))
        return ClientOrderState(status)

    def finish_client_order(
        self, key_id: str, client_order_id: str, result: dict[str, Any]
    ) -> None:
        """Store the first result; a repeat of this client_order_id returns it for 24 h."""
        with self._talk():
            self._finish(
                keys=[self._key(key_id, "client-order", client_order_id)],
                args=[json.dumps(result, default=str), int(CLIENT_ORDER_TTL_S * 1000)],
            )

    def abandon_client_order(self, key_id: str, client_order_id: str) -> None:
        """The order was not sent: forget the id so a retry may place it."""
        with self._talk():
            self._abandon(keys=[self._key(key_id, "client-order", client_order_id)], args=[])

    def record_order(
        self, key_id: str, acc_id: int, order_id: str, now: datetime | None = None
    ) -> None:
        """Remember that this key placed this order (kept 90 days), here and locally."""
        if self._local is not None:
            self._local.record_order(key_id, acc_id, order_id, now)
        name = self._key(key_id, "order", str(order_id))
        with self._talk():
            pipe = self._db.pipeline(transaction=True)
            pipe.sadd(name, int(acc_id))
            pipe.pexpire(name, _ORDER_OWNER_TTL_MS)
            pipe.execute()

    def order_accounts(self, key_id: str, order_id: str) -> set[int]:
        """The accounts in which this key placed an order with this id (while Redis is down,
        those this replica recorded itself)."""
        try:
            with self._talk():
                members = self._db.smembers(self._key(key_id, "order", str(order_id)))
        except LedgerUnavailable:
            if self._local is None:
                raise
            return self._local.order_accounts(key_id, order_id)
        return {int(m) for m in members}

    def record_revocation(self, kid: str, now: datetime | None = None) -> None:
        """Note that the key with this kid is revoked; the first time recorded is kept."""
        with self._talk():
            self._db.hsetnx(self._key_shared("revoked"), kid, _utc(now).timestamp())

    def revoked_kids(self) -> dict[str, datetime]:
        """Every kid recorded as revoked, with when."""
        with self._talk():
            rows = self._db.hgetall(self._key_shared("revoked"))
        return {kid: datetime.fromtimestamp(float(ts), UTC) for kid, ts in rows.items()}

    def book_gateway_request(
        self, kind: str, acc_id: int, count: int, window_s: float, min_gap_s: float
    ) -> tuple[bool, float]:
        """Count one of OpenD's rate-limited requests for an account across every replica:
        (True, seconds to wait before sending) or (False, seconds until a slot frees)."""
        with self._talk():
            booked, wait_ms = self._book(
                keys=[f"{PREFIX}:{{acc:{int(acc_id)}}}:opend:{kind}"],
                args=[
                    "",
                    count,
                    round(window_s * 1000),
                    round(min_gap_s * 1000),
                    secrets.token_hex(8),
                ],
            )
        return bool(int(booked)), max(float(wait_ms), 0.0) / 1000

    def shared_secret(self, name: str) -> bytes:
        """32 random bytes every replica on this Redis agrees on (the first one to ask makes
        them): the key that seals MCP request state, so a confirmation retried on another
        replica is still recognised."""
        key = self._key_shared(f"secret:{name}")
        with self._talk():
            self._db.set(key, secrets.token_hex(32), nx=True)
            value = self._db.get(key)
        return bytes.fromhex(value)

    def close(self) -> None:
        """Close the connection pool (and the local ledger)."""
        self._db.close()
        if self._local is not None:
            self._local.close()

    @staticmethod
    def _key(key_id: str, *parts: str) -> str:
        return ":".join((PREFIX, f"{{{key_id}}}", *parts))

    @staticmethod
    def _key_shared(name: str) -> str:
        return f"{PREFIX}:{name}"

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    @contextmanager
    def _talk(self) -> Iterator[None]:
        try:
            yield
        except redis.RedisError as exc:
            why = self._scrub(str(exc).strip().rstrip(".")) or type(exc).__name__
            raise LedgerUnavailable(f"{self.url}: {why}") from None
