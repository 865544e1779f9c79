"""A separate process that reserves against a shared ledger (run with `python -m`).

Usage: python -m tests.keystore.ledger_worker LEDGER THREADS VALUE MAX_PER_MINUTE MAX_DAILY
LEDGER is a SQLite file or a redis:// URL.
Prints "ready", waits for a line on stdin, then runs THREADS concurrent place orders and prints
how many were admitted. "-" means no limit.
"""

import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from keystore.ledger import Ledger, SqliteLedger
from keystore.policy import Request, authorize
from keystore.records import KeyRecord, Limits, ValueLimit


def shared_key(max_per_minute: int | None, max_daily: Decimal | None) -> KeyRecord:
    """The key every worker (and the test itself) orders with."""
    return KeyRecord(
        id="shared",
        kid="SHAREDK1",
        hash="sha256:" + "0" * 64,
        scopes=frozenset({"trade:simulate"}),
        limits=Limits(
            max_orders_per_minute=max_per_minute,
            max_daily_value=ValueLimit(max_daily) if max_daily is not None else None,
        ),
        confirm_orders="never",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def place(value: Decimal) -> Request:
    """One HK place order of `value` HKD."""
    return Request(scope="trade:simulate", kind="place", market="HK", value=value, currency="HKD")


def open_spec(spec: str) -> Ledger:
    """The ledger a worker argument names: a redis:// URL or a SQLite file."""
    if spec.startswith("redis://"):
        from keystore.ledger_redis import RedisLedger

        return RedisLedger(spec)
    return SqliteLedger(Path(spec))


def run_threads(ledger: Ledger, key: KeyRecord, value: Decimal, threads: int) -> int:
    """Start `threads` orders at once; returns how many were admitted."""
    barrier = threading.Barrier(threads)
    admitted: list[bool] = []

    def one() -> None:
        barrier.wait()
        admitted.append(authorize(key, place(value), ledger=ledger).allowed)

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(admitted)


def main() -> None:
    path, threads, value, per_minute, daily = sys.argv[1:6]
    key = shared_key(
        None if per_minute == "-" else int(per_minute),
        None if daily == "-" else Decimal(daily),
    )
    ledger = open_spec(path)
    print("ready", flush=True)
    sys.stdin.readline()
    print(run_threads(ledger, key, Decimal(value), int(threads)), flush=True)


if __name__ == "__main__":
    main()
