"""The usage ledger: order-rate and daily-value counters, last use, client order ids, which key
placed which order and revoked kids. `Ledger` is the interface; `SqliteLedger` (beside keys.json,
the default) and `keystore.ledger_redis.RedisLedger` (shared by several replicas) implement it.

In the SQLite ledger, check-and-reserve is one `BEGIN IMMEDIATE` transaction, so N concurrent orders from any mix of
threads and processes against a limit of k admit exactly k. A reservation stays (it is the
order's footprint in the window and the day) unless the order is rejected or fails, when
`release` gives it back. Times are wall-clock UTC so several processes agree.
"""

import functools
import json
import math
import os
import sqlite3
import threading
import time as monotonic_time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import parse_qs, urlsplit

from keystore.errors import LedgerError, LedgerUnavailable
from keystore.paths import ledger_path
from keystore.private_files import privacy_problem
from keystore.records import format_amount

LEDGER_PASSWORD_ENV = "FUTU_LEDGER_PASSWORD"
RATE_WINDOW_S = 60.0
CLIENT_ORDER_TTL_S = 24 * 3600.0
# Rows older than this can no longer count toward any window or day.
_KEEP_S = 2 * 24 * 3600.0
_BUSY_TIMEOUT_MS = 30_000
_USE_WRITE_INTERVAL_S = 1.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reservations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id TEXT NOT NULL,
    ts REAL NOT NULL,
    market TEXT NOT NULL,
    currency TEXT NOT NULL,
    day TEXT NOT NULL,
    amount TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_key_ts ON reservations (key_id, ts);
CREATE TABLE IF NOT EXISTS daily_totals (
    key_id TEXT NOT NULL,
    market TEXT NOT NULL,
    currency TEXT NOT NULL,
    day TEXT NOT NULL,
    total TEXT NOT NULL,
    PRIMARY KEY (key_id, market, currency, day)
);
CREATE TABLE IF NOT EXISTS key_use (
    key_id TEXT PRIMARY KEY,
    last_used REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS client_orders (
    key_id TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    created_at REAL NOT NULL,
    digest TEXT,
    PRIMARY KEY (key_id, client_order_id)
);
CREATE TABLE IF NOT EXISTS revoked_kids (
    kid TEXT PRIMARY KEY,
    revoked_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    key_id TEXT NOT NULL,
    acc_id INTEGER NOT NULL,
    order_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (key_id, order_id, acc_id)
);
"""


@dataclass(frozen=True)
class Reservation:
    """One admitted place/modify: its slot in the rate window and its share of the day."""

    id: int
    key_id: str
    market: str
    currency: str
    day: str
    amount: Decimal


@dataclass(frozen=True)
class LimitDenial:
    """Why the ledger refused: the policy reason and the contract's error text."""

    reason: Literal["rate", "daily_value"]
    message: str


def rate_denial(max_per_minute: int, wait_s: float) -> LimitDenial:
    """The rate refusal, saying when the next order fits (whole seconds, rounded up, so a
    retry at that time is admitted). Never past the window: a request timed just before a
    racing one took the lock may see that one's slot a few ms "in the future"."""
    wait = min(max(math.ceil(wait_s), 1), math.ceil(RATE_WINDOW_S))
    return LimitDenial(
        "rate", f"limit check failed: rate limit {max_per_minute}/min; retry in {wait} s"
    )


@dataclass(frozen=True)
class ClientOrderState:
    """What a repeated `client_order_id` means: new (yours now), pending, done (`result`), or
    conflict (the id was first used with other order arguments)."""

    status: Literal["new", "pending", "done", "conflict"]
    result: dict[str, Any] | None = None


@dataclass(frozen=True)
class KeyUsage:
    """One key's footprint now: orders in the last 60 s and value per (market, currency) today."""

    orders_last_minute: int
    daily: dict[tuple[str, str], Decimal]


class Ledger(Protocol):
    """What futu-mcp and futucli need of a ledger; every method is blocking (call it from a
    worker thread in async code) and thread-safe. A ledger that cannot be reached raises
    `LedgerUnavailable`, so limits fail closed."""

    def describe(self) -> str:
        """Where the ledger is, for logs and /healthz (never a password)."""
        ...

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
        """Check the 60 s window and the day's total and reserve, in one atomic step."""
        ...

    def release(self, reservation: Reservation) -> None:
        """Give back a reservation whose order was rejected, failed or never sent (idempotent)."""
        ...

    def daily_total(
        self, key_id: str, market: str, currency: str, now: datetime | None = None
    ) -> Decimal:
        """Value reserved so far on the UTC day of `now`."""
        ...

    def usage(self, key_ids: list[str], now: datetime | None = None) -> dict[str, KeyUsage]:
        """Each key's orders in the last minute and value per market today (`futucli ledger`)."""
        ...

    def record_use(self, key_id: str, now: datetime | None = None) -> None:
        """Note that a key was used."""
        ...

    def last_used(self) -> dict[str, datetime]:
        """When each key was last used, for list-keys."""
        ...

    def begin_client_order(
        self,
        key_id: str,
        client_order_id: str,
        now: datetime | None = None,
        digest: str | None = None,
    ) -> ClientOrderState:
        """Claim a client_order_id for this key (24 h); a repeat learns it is pending or done."""
        ...

    def finish_client_order(
        self, key_id: str, client_order_id: str, result: dict[str, Any]
    ) -> None:
        """Store the first result; a repeat of this client_order_id returns it for 24 h."""
        ...

    def abandon_client_order(self, key_id: str, client_order_id: str) -> None:
        """The order was not sent: forget the id so a retry may place it."""
        ...

    def record_order(
        self, key_id: str, acc_id: int, order_id: str, now: datetime | None = None
    ) -> None:
        """Remember that this key placed this order."""
        ...

    def order_accounts(self, key_id: str, order_id: str) -> set[int]:
        """The accounts in which this key placed an order with this id."""
        ...

    def record_revocation(self, kid: str, now: datetime | None = None) -> None:
        """Note that the key with this kid is revoked (revoke-key, rotate-key's old kid)."""
        ...

    def revoked_kids(self) -> dict[str, datetime]:
        """Every kid recorded as revoked, with when."""
        ...

    def close(self) -> None:
        """Let go of connections (tests, shutdown)."""
        ...


_T = TypeVar("_T")


def _fail_closed(method: Callable[..., _T]) -> Callable[..., _T]:
    """A check that cannot write its SQLite file (disk full, I/O error, locked past the busy
    timeout) is the ledger being unavailable: the order is refused with `limit ledger
    unavailable: ...`, as with an unreachable Redis, never an internal error."""

    @functools.wraps(method)
    def checked(self: "SqliteLedger", *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.OperationalError as exc:
            raise LedgerUnavailable(f"{self.path}: {exc}") from None

    return checked


class SqliteLedger:
    """The SQLite ledger beside keys.json; thread-safe (a connection per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._use_written: dict[str, float] = {}
        self._create()

    def describe(self) -> str:
        """The ledger file's path."""
        return str(self.path)

    @_fail_closed
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
        """Check the 60 s window and the day's total, and reserve, in one atomic step.

        `amount` is what counts toward the daily cap (a modify's increase). With
        `commit=False` (dry run) the checks run, nothing is kept, and an admit returns None.
        """
        when = (now or datetime.now(UTC)).astimezone(UTC)
        ts = when.timestamp()
        day = when.date().isoformat()
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "DELETE FROM reservations WHERE key_id = ? AND ts < ?", (key_id, ts - _KEEP_S)
            )
            if max_per_minute is not None:
                # The k-th newest reservation in the window: if there is one, the window is
                # full until it leaves (k rows read at most, however busy the window).
                kth = conn.execute(
                    "SELECT ts FROM reservations WHERE key_id = ? AND ts > ?"
                    " ORDER BY ts DESC LIMIT 1 OFFSET ?",
                    (key_id, ts - RATE_WINDOW_S, max_per_minute - 1),
                ).fetchone()
                if kth is not None:
                    conn.execute("ROLLBACK")
                    return rate_denial(max_per_minute, kth[0] + RATE_WINDOW_S - ts)
            row = conn.execute(
                "SELECT total FROM daily_totals"
                " WHERE key_id = ? AND market = ? AND currency = ? AND day = ?",
                (key_id, market, currency, day),
            ).fetchone()
            total = Decimal(row[0]) if row else Decimal(0)
            new_total = total + amount
            if max_daily is not None and amount > 0 and new_total > max_daily:
                conn.execute("ROLLBACK")
                return LimitDenial(
                    "daily_value",
                    f"limit check failed: daily value {format_amount(new_total)} "
                    f"exceeds {format_amount(max_daily)}",
                )
            cursor = conn.execute(
                "INSERT INTO reservations (key_id, ts, market, currency, day, amount)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (key_id, ts, market, currency, day, str(amount)),
            )
            conn.execute(
                "INSERT INTO daily_totals (key_id, market, currency, day, total)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_id, market, currency, day)"
                " DO UPDATE SET total = excluded.total",
                (key_id, market, currency, day, str(new_total)),
            )
            reservation_id = cursor.lastrowid
            if not commit:
                conn.execute("ROLLBACK")
                return None
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        assert reservation_id is not None
        return Reservation(reservation_id, key_id, market, currency, day, amount)

    def release(self, reservation: Reservation) -> None:
        """Give back a reservation whose order was rejected, failed or never sent (idempotent)."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            deleted = conn.execute(
                "DELETE FROM reservations WHERE id = ?", (reservation.id,)
            ).rowcount
            if deleted:
                row = conn.execute(
                    "SELECT total FROM daily_totals"
                    " WHERE key_id = ? AND market = ? AND currency = ? AND day = ?",
                    (reservation.key_id, reservation.market, reservation.currency, reservation.day),
                ).fetchone()
                if row is not None:
                    total = max(Decimal(row[0]) - reservation.amount, Decimal(0))
                    conn.execute(
                        "UPDATE daily_totals SET total = ?"
                        " WHERE key_id = ? AND market = ? AND currency = ? AND day = ?",
                        (
                            str(total),
                            reservation.key_id,
                            reservation.market,
                            reservation.currency,
                            reservation.day,
                        ),
                    )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def daily_total(
        self, key_id: str, market: str, currency: str, now: datetime | None = None
    ) -> Decimal:
        """Value reserved so far on the UTC day of `now` (for listings and tests)."""
        day = (now or datetime.now(UTC)).astimezone(UTC).date().isoformat()
        row = (
            self._conn()
            .execute(
                "SELECT total FROM daily_totals"
                " WHERE key_id = ? AND market = ? AND currency = ? AND day = ?",
                (key_id, market, currency, day),
            )
            .fetchone()
        )
        return Decimal(row[0]) if row else Decimal(0)

    def usage(self, key_ids: list[str], now: datetime | None = None) -> dict[str, KeyUsage]:
        """Each key's orders in the last minute and value per (market, currency) today."""
        when = (now or datetime.now(UTC)).astimezone(UTC)
        ts, day = when.timestamp(), when.date().isoformat()
        conn = self._conn()
        found: dict[str, KeyUsage] = {}
        for key_id in key_ids:
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM reservations WHERE key_id = ? AND ts > ? AND ts <= ?",
                (key_id, ts - RATE_WINDOW_S, ts),
            ).fetchone()
            rows = conn.execute(
                "SELECT market, currency, total FROM daily_totals WHERE key_id = ? AND day = ?",
                (key_id, day),
            ).fetchall()
            daily = {(m, c): Decimal(t) for m, c, t in rows if Decimal(t) > 0}
            found[key_id] = KeyUsage(int(count), daily)
        return found

    def record_use(self, key_id: str, now: datetime | None = None) -> None:
        """Note that a key was used; written at most once a second per key per process."""
        tick = monotonic_time.monotonic()
        last = self._use_written.get(key_id)
        if last is not None and tick - last < _USE_WRITE_INTERVAL_S:
            return
        self._use_written[key_id] = tick
        ts = (now or datetime.now(UTC)).timestamp()
        self._conn().execute(
            "INSERT INTO key_use (key_id, last_used) VALUES (?, ?) ON CONFLICT (key_id)"
            " DO UPDATE SET last_used = max(last_used, excluded.last_used)",
            (key_id, ts),
        )

    def last_used(self) -> dict[str, datetime]:
        """When each key was last used, for list-keys."""
        rows = self._conn().execute("SELECT key_id, last_used FROM key_use").fetchall()
        return {key_id: datetime.fromtimestamp(ts, UTC) for key_id, ts in rows}

    @_fail_closed
    def begin_client_order(
        self,
        key_id: str,
        client_order_id: str,
        now: datetime | None = None,
        digest: str | None = None,
    ) -> ClientOrderState:
        """Claim a client_order_id for this key (24 h); a repeat learns it is pending or done.

        `digest` names the order's arguments: a repeat with another digest is a conflict, never
        the first order's result (the caller would believe a different order was placed).
        """
        ts = (now or datetime.now(UTC)).timestamp()
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "DELETE FROM client_orders WHERE created_at < ?", (ts - CLIENT_ORDER_TTL_S,)
            )
            row = conn.execute(
                "SELECT status, result, digest FROM client_orders"
                " WHERE key_id = ? AND client_order_id = ?",
                (key_id, client_order_id),
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO client_orders (key_id, client_order_id, status, created_at, digest)"
                    " VALUES (?, ?, 'pending', ?, ?)",
                    (key_id, client_order_id, ts, digest),
                )
                state = ClientOrderState("new")
            elif row[2] is not None and digest is not None and row[2] != digest:
                state = ClientOrderState("conflict")
            elif row[0] == "done":
                state = ClientOrderState("done", json.loads(row[1]))
            else:
                state = ClientOrderState("pending")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return state

    def finish_client_order(
        self, key_id: str, client_order_id: str, result: dict[str, Any]
    ) -> None:
        """Store the first result; a repeat of this client_order_id returns it for 24 h."""
        self._conn().execute(
            "UPDATE client_orders SET status = 'done', result = ?"
            " WHERE key_id = ? AND client_order_id = ?",
            (json.dumps(result, default=str), key_id, client_order_id),
        )

    def abandon_client_order(self, key_id: str, client_order_id: str) -> None:
        """The order was not sent: forget the id so a retry may place it."""
        self._conn().execute(
            "DELETE FROM client_orders"
            " WHERE key_id = ? AND client_order_id = ? AND status = 'pending'",
            (key_id, client_order_id),
        )

    def record_order(
        self, key_id: str, acc_id: int, order_id: str, now: datetime | None = None
    ) -> None:
        """Remember that this key placed this order: only its placer may modify or cancel it.

        Keyed by the key's id (not its kid), so ownership survives rotate-key.
        """
        ts = (now or datetime.now(UTC)).timestamp()
        self._conn().execute(
            "INSERT OR IGNORE INTO orders (key_id, acc_id, order_id, created_at)"
            " VALUES (?, ?, ?, ?)",
            (key_id, int(acc_id), str(order_id), ts),
        )

    def order_accounts(self, key_id: str, order_id: str) -> set[int]:
        """The accounts in which this key placed an order with this id (usually one, or none)."""
        rows = (
            self._conn()
            .execute(
                "SELECT acc_id FROM orders WHERE key_id = ? AND order_id = ?",
                (key_id, str(order_id)),
            )
            .fetchall()
        )
        return {int(acc_id) for (acc_id,) in rows}

    def record_revocation(self, kid: str, now: datetime | None = None) -> None:
        """Note that the key with this kid is revoked; the first time recorded is kept."""
        ts = (now or datetime.now(UTC)).timestamp()
        self._conn().execute(
            "INSERT OR IGNORE INTO revoked_kids (kid, revoked_at) VALUES (?, ?)", (kid, ts)
        )

    def revoked_kids(self) -> dict[str, datetime]:
        """Every kid recorded as revoked, with when."""
        rows = self._conn().execute("SELECT kid, revoked_at FROM revoked_kids").fetchall()
        return {kid: datetime.fromtimestamp(ts, UTC) for kid, ts in rows}

    def close(self) -> None:
        """Close this thread's connection (tests, shutdown)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local.conn = None

    def _create(self) -> None:
        folder = self.path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except OSError as exc:
            raise LedgerError(f"cannot open ledger {self.path}: {exc.strerror}") from None
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        problem = privacy_problem(self.path, st)
        if problem:
            raise LedgerError(f"refusing to use ledger {problem}")
        try:
            conn = self._conn()
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(client_orders)")}
            if "digest" not in columns:  # a ledger from before digests were kept
                conn.execute("ALTER TABLE client_orders ADD COLUMN digest TEXT")
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"ledger {self.path} is not usable: {exc}") from None

    def _conn(self) -> sqlite3.Connection:
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        # A forked child must not reuse its parent's connection.
        if conn is None or local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous=FULL")
            local.conn, local.pid = conn, os.getpid()
        return conn


def url_has_password(url: str) -> bool:
    """True when a ledger URL carries a password: before the host or as the `password` query
    parameter (redis-py reads both). Command lines refuse either: `ps` shows arguments."""
    parts = urlsplit(url)
    return parts.password is not None or "password" in parse_qs(parts.query)


def open_ledger(url: str | None, keys_file: Path, password: str | None = None) -> Ledger:
    """The SQLite ledger beside `keys_file`, or, for a `redis://` / `rediss://` URL, the Redis
    ledger (with `password` when the URL has none; the local SQLite ledger keeps a copy of order
    owners for cancels while Redis is down). Raises LedgerError for anything else."""
    local = SqliteLedger(ledger_path(keys_file))
    if url is None:
        return local
    if not url.startswith(("redis://", "rediss://")):
        raise LedgerError(
            f"ledger: expected redis://HOST:PORT/DB or rediss://HOST:PORT/DB, got {url.split('@')[-1]!r}"
        )
    try:
        from keystore.ledger_redis import RedisLedger
    except ImportError:
        raise LedgerError(
            "ledger: a redis:// ledger needs the redis client: pip install 'futu-mcp[redis]'"
        ) from None
    return RedisLedger(url, password=password, local=local)
