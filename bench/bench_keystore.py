"""Benchmark of the key store's hot paths (a script, not a timed test).

Prints: cold verify (one argon2id run at the contract cost), warm verify (cached), the
warm/cold ratio; legacy sha256 verify; ledger reservations per second, against the raw cost of
an SQLite write transaction in the same run as the baseline.
Goals: warm verify < 20 µs; >= 1,000 reservations/s.

Run: .venv/bin/python bench/bench_keystore.py
"""

import hashlib
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from keystore.hashing import sha256_hash
from keystore.issuing import issue_key
from keystore.ledger import Reservation, SqliteLedger
from keystore.records import KeyRecord, Limits
from keystore.store import KeyStore
from keystore.verify import KeyVerifier

COLD_RUNS = 15
WARM_RUNS = 200_000
RESERVATIONS = 3_000
THREADS = 4


def bench_verify(folder: Path) -> tuple[float, float, float]:
    """Median cold verify, mean warm verify and mean cold legacy verify, in seconds."""
    keys_file = folder / "keys.json"
    store = KeyStore(keys_file)
    token, _ = issue_key(store, key_id="bench", scopes=frozenset({"qot:read"}), limits=Limits())
    legacy = "fc_" + os.urandom(16).hex()
    store.add(
        KeyRecord(
            id="legacy",
            kid=hashlib.sha256(legacy.encode()).hexdigest()[:8],
            hash=sha256_hash(legacy),
            scopes=frozenset({"qot:read"}),
            limits=Limits(),
            confirm_orders="never",
            created_at=datetime.now(UTC),
            kid_stored=False,
        )
    )
    cold = []
    legacy_cold = []
    for _ in range(COLD_RUNS):
        verifier = KeyVerifier(keys_file)
        start = time.perf_counter()
        verifier.verify(token)
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        verifier.verify(legacy)
        legacy_cold.append(time.perf_counter() - start)
    verify = verifier.verify
    start = time.perf_counter()
    for _ in range(WARM_RUNS):
        verify(token)
    warm = (time.perf_counter() - start) / WARM_RUNS
    return statistics.median(cold), warm, statistics.median(legacy_cold)


def bench_ledger(folder: Path) -> tuple[float, float, float, float]:
    """Reservations per second (check-and-reserve with rate and daily caps) on a new ledger and
    in steady state, the same with threads contending, and the baseline of bare SQLite write transactions per second with the
    same durability settings."""
    ledger = SqliteLedger(folder / "ledger.sqlite")
    # First pass on a new ledger: the WAL file grows, and each fsync also writes metadata.
    fresh_rate = _reservations(ledger)
    reserve_rate = _reservations(ledger)
    threaded_rate = _threaded_reservations(ledger, THREADS)
    conn = sqlite3.connect(folder / "base.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    start = time.perf_counter()
    for i in range(RESERVATIONS):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (?)", (str(i),))
        conn.execute("COMMIT")
    base_rate = RESERVATIONS / (time.perf_counter() - start)
    return fresh_rate, reserve_rate, threaded_rate, base_rate


def _reservations(ledger: SqliteLedger) -> float:
    start = time.perf_counter()
    for i in range(RESERVATIONS):
        outcome = ledger.reserve(
            f"key{i % 10}",
            market="HK",
            currency="HKD",
            amount=Decimal("100.5"),
            max_per_minute=10**9,
            max_daily=Decimal(10**12),
        )
        assert isinstance(outcome, Reservation)
    return RESERVATIONS / (time.perf_counter() - start)


def _threaded_reservations(ledger: SqliteLedger, threads: int) -> float:
    """Reservations per second with `threads` threads contending for the write lock."""
    per_thread = RESERVATIONS // threads

    def work(n: int) -> None:
        for _ in range(per_thread):
            ledger.reserve(
                f"t{n}",
                market="US",
                currency="USD",
                amount=Decimal(1),
                max_per_minute=10**9,
                max_daily=None,
            )

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return per_thread * threads / (time.perf_counter() - start)


def main() -> None:
    """Run both benchmarks and print the numbers and ratios."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "futu"
        cold, warm, legacy = bench_verify(folder)
        fresh_rate, reserve_rate, threaded_rate, base_rate = bench_ledger(folder)
    print(f"verify cold (argon2id m=19MiB t=2 p=1): {cold * 1e3:8.2f} ms   (median of {COLD_RUNS})")
    print(f"verify warm (cached):                   {warm * 1e6:8.2f} µs   (mean of {WARM_RUNS})")
    print(
        f"warm/cold ratio:                        {warm / cold:8.5f}   ({cold / warm:,.0f}x faster)"
    )
    print(f"verify cold legacy sha256:              {legacy * 1e6:8.2f} µs")
    print(f"ledger reservations, new ledger:        {fresh_rate:8.0f} /s")
    print(f"ledger reservations, steady state:      {reserve_rate:8.0f} /s")
    print(f"ledger reservations, {THREADS} threads:         {threaded_rate:8.0f} /s")
    print(f"baseline bare SQLite write txn:         {base_rate:8.0f} /s")
    print(f"reservations/baseline ratio:            {reserve_rate / base_rate:8.2f}")
    print(
        f"goal warm < 20 µs: {'met' if warm < 20e-6 else 'MISSED'}; "
        f"goal >= 1000 reservations/s: {'met' if reserve_rate >= 1000 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
