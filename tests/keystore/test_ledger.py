"""Ledger: sliding window, UTC day, restarts, client order ids, owners, revocations; the shared
suite runs against the SQLite and the Redis ledger (`open_ledger`), then file safety (SQLite)."""

import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from keystore.errors import LedgerError
from keystore.ledger import KeyUsage, Ledger, LimitDenial, Reservation, SqliteLedger
from keystore.paths import ledger_path

Open = Callable[[], Ledger]

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def reserve(ledger: Ledger, at: datetime, amount: int = 100, **limits: object) -> object:
    return ledger.reserve(
        "k",
        market="HK",
        currency="HKD",
        amount=Decimal(amount),
        now=at,
        max_per_minute=limits.get("per_minute"),  # type: ignore[arg-type]
        max_daily=limits.get("daily"),  # type: ignore[arg-type]
    )


def test_file_is_private_and_beside_keys(tmp_path: Path) -> None:
    path = ledger_path(tmp_path / "futu" / "keys.json")
    assert path == tmp_path / "futu" / "keys.ledger.sqlite"
    SqliteLedger(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_refuses_a_ledger_others_can_write(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    SqliteLedger(path)
    path.chmod(0o666)
    with pytest.raises(LedgerError, match="chmod 600"):
        SqliteLedger(path)


def test_refuses_a_ledger_owned_by_someone_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "l.sqlite"
    SqliteLedger(path)
    owner = path.stat().st_uid
    monkeypatch.setattr(os, "getuid", lambda: owner + 4242)
    with pytest.raises(LedgerError, match=f"uid {owner}"):
        SqliteLedger(path)


def test_refuses_a_corrupt_ledger(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    path.chmod(0o600)
    with pytest.raises(LedgerError, match="not usable"):
        SqliteLedger(path)


def test_sliding_window_is_exact(open_ledger: Open) -> None:
    ledger = open_ledger()
    # The fixed-window exploit: 3 just before a minute boundary, 3 just after.
    start = NOW.replace(second=57)
    got = [reserve(ledger, start + timedelta(seconds=i), per_minute=3) for i in range(6)]
    assert [isinstance(g, Reservation) for g in got] == [True, True, True, False, False, False]
    denial, next_denial = got[3], got[4]
    assert isinstance(denial, LimitDenial) and isinstance(next_denial, LimitDenial)
    # Asked 3 s after the first admitted order: it leaves the window 57 s later.
    assert denial.message == "limit check failed: rate limit 3/min; retry in 57 s"
    assert next_denial.message == "limit check failed: rate limit 3/min; retry in 56 s"
    # 60 s after the first admitted order, one slot frees up, and only one.
    later = start + timedelta(seconds=60)
    assert isinstance(reserve(ledger, later, per_minute=3), Reservation)
    assert isinstance(reserve(ledger, later, per_minute=3), LimitDenial)


def test_daily_total_survives_restart_and_resets_at_utc_midnight(open_ledger: Open) -> None:
    first = open_ledger()
    assert isinstance(reserve(first, NOW, 700, daily=Decimal(1000)), Reservation)
    first.close()
    second = open_ledger()
    denied = reserve(second, NOW, 400, daily=Decimal(1000))
    assert isinstance(denied, LimitDenial)
    assert denied.message == "limit check failed: daily value 1100 exceeds 1000"
    late = NOW.replace(hour=23, minute=59, second=59)
    assert isinstance(reserve(second, late, 300, daily=Decimal(1000)), Reservation)
    midnight = late + timedelta(seconds=1)
    assert isinstance(reserve(second, midnight, 1000, daily=Decimal(1000)), Reservation)
    assert second.daily_total("k", "HK", "HKD", NOW) == 1000
    assert second.daily_total("k", "HK", "HKD", midnight) == 1000


def test_daily_totals_never_add_across_currencies(open_ledger: Open) -> None:
    ledger = open_ledger()
    ledger.reserve(
        "k",
        market="HK",
        currency="HKD",
        amount=Decimal(900),
        max_per_minute=None,
        max_daily=Decimal(1000),
        now=NOW,
    )
    other = ledger.reserve(
        "k",
        market="HK",
        currency="USD",
        amount=Decimal(900),
        max_per_minute=None,
        max_daily=Decimal(1000),
        now=NOW,
    )
    assert isinstance(other, Reservation)


def test_last_used(open_ledger: Open) -> None:
    ledger = open_ledger()
    assert ledger.last_used() == {}
    ledger.record_use("a", NOW)
    reopened = open_ledger()
    assert reopened.last_used() == {"a": NOW}


def test_client_order_ids(open_ledger: Open) -> None:
    ledger = open_ledger()
    assert ledger.begin_client_order("k", "c1").status == "new"
    assert ledger.begin_client_order("k", "c1").status == "pending"
    assert open_ledger().begin_client_order("k", "c1").status == "pending"
    assert ledger.begin_client_order("other", "c1").status == "new"
    ledger.abandon_client_order("other", "c1")
    assert ledger.begin_client_order("other", "c1").status == "new"
    ledger.finish_client_order("k", "c1", {"order_id": "123", "status": "SUBMITTED"})
    ledger.abandon_client_order("k", "c1")  # a finished id is never given back
    done = open_ledger().begin_client_order("k", "c1")
    assert (done.status, done.result) == ("done", {"order_id": "123", "status": "SUBMITTED"})


def test_client_order_ids_expire_after_24_h(tmp_path: Path) -> None:
    # SQLite only: the test moves the clock; Redis expires the id by its own clock (PEXPIRE).
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    assert ledger.begin_client_order("k", "c1", NOW).status == "new"
    ledger.finish_client_order("k", "c1", {"order_id": "123", "status": "SUBMITTED"})
    done = SqliteLedger(tmp_path / "l.sqlite").begin_client_order(
        "k", "c1", NOW + timedelta(hours=23)
    )
    assert (done.status, done.result) == ("done", {"order_id": "123", "status": "SUBMITTED"})
    assert (
        ledger.begin_client_order("k", "c1", NOW + timedelta(hours=24, seconds=1)).status == "new"
    )
    ledger.abandon_client_order("k", "c1")
    assert ledger.begin_client_order("k", "c1", NOW + timedelta(hours=25)).status == "new"


def test_forked_child_gets_its_own_connection(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    reserve(ledger, NOW)
    pid = os.fork()
    if pid == 0:
        ok = isinstance(reserve(ledger, NOW), Reservation)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert ledger.daily_total("k", "HK", "HKD", NOW) == 200


def test_order_owners_survive_a_reopen_and_are_per_key(open_ledger: Open) -> None:
    ledger = open_ledger()
    assert ledger.order_accounts("a", "77") == set()
    ledger.record_order("a", 101, "77", NOW)
    ledger.record_order("a", 101, "77", NOW)  # a repeat is harmless
    reopened = open_ledger()
    assert reopened.order_accounts("a", "77") == {101}
    assert reopened.order_accounts("b", "77") == set()
    assert reopened.order_accounts("a", "78") == set()


def test_a_client_order_id_reused_with_other_arguments_is_a_conflict(open_ledger: Open) -> None:
    ledger = open_ledger()
    assert ledger.begin_client_order("k", "c1", NOW, digest="aaa").status == "new"
    assert ledger.begin_client_order("k", "c1", NOW, digest="bbb").status == "conflict"
    assert ledger.begin_client_order("k", "c1", NOW, digest="aaa").status == "pending"
    ledger.finish_client_order("k", "c1", {"order_id": "1"})
    assert ledger.begin_client_order("k", "c1", NOW, digest="bbb").status == "conflict"
    assert ledger.begin_client_order("k", "c1", NOW, digest="aaa").status == "done"
    assert ledger.begin_client_order("other", "c1", NOW, digest="bbb").status == "new"


def test_a_ledger_from_before_digests_gains_the_column(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "l.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE client_orders (key_id TEXT NOT NULL, client_order_id TEXT NOT NULL,"
            " status TEXT NOT NULL, result TEXT, created_at REAL NOT NULL,"
            " PRIMARY KEY (key_id, client_order_id))"
        )
        db.execute(
            "INSERT INTO client_orders VALUES ('k', 'old', 'done', '{}', ?)", (NOW.timestamp(),)
        )
    path.chmod(0o600)
    ledger = SqliteLedger(path)
    assert ledger.begin_client_order("k", "old", NOW, digest="x").status == "done"
    assert ledger.begin_client_order("k", "c2", NOW, digest="x").status == "new"
    assert ledger.begin_client_order("k", "c2", NOW, digest="y").status == "conflict"


def test_release_gives_back_the_slot_and_the_value_once(open_ledger: Open) -> None:
    ledger = open_ledger()
    first = reserve(ledger, NOW, 600, per_minute=2, daily=Decimal(1000))
    second = reserve(ledger, NOW, 300, per_minute=2, daily=Decimal(1000))
    assert isinstance(first, Reservation) and isinstance(second, Reservation)
    assert isinstance(reserve(ledger, NOW, 1, per_minute=2), LimitDenial)
    ledger.release(first)
    ledger.release(first)  # idempotent: the second release finds nothing
    assert ledger.daily_total("k", "HK", "HKD", NOW) == 300
    again = reserve(ledger, NOW, 700, per_minute=2, daily=Decimal(1000))
    assert isinstance(again, Reservation)
    assert ledger.daily_total("k", "HK", "HKD", NOW) == 1000


def test_a_dry_run_checks_but_keeps_nothing(open_ledger: Open) -> None:
    ledger = open_ledger()
    dry = ledger.reserve(
        "k",
        market="HK",
        currency="HKD",
        amount=Decimal(900),
        max_per_minute=1,
        max_daily=Decimal(1000),
        now=NOW,
        commit=False,
    )
    assert dry is None
    assert ledger.daily_total("k", "HK", "HKD", NOW) == 0
    assert isinstance(reserve(ledger, NOW, 900, per_minute=1, daily=Decimal(1000)), Reservation)


def test_fractional_values_are_never_rounded_in_the_keys_favour(open_ledger: Open) -> None:
    ledger = open_ledger()
    cap = Decimal("100.5")
    assert isinstance(
        ledger.reserve(
            "k",
            market="US",
            currency="USD",
            amount=Decimal("100.49995"),
            max_per_minute=None,
            max_daily=cap,
            now=NOW,
        ),
        Reservation,
    )
    denied = ledger.reserve(
        "k",
        market="US",
        currency="USD",
        amount=Decimal("0.0001"),
        max_per_minute=None,
        max_daily=cap,
        now=NOW,
    )
    assert isinstance(denied, LimitDenial)
    assert denied.message.startswith("limit check failed: daily value 100.5")


def test_usage_shows_the_last_minute_and_today(open_ledger: Open) -> None:
    ledger = open_ledger()
    reserve(ledger, NOW - timedelta(seconds=61), 50)
    reserve(ledger, NOW - timedelta(seconds=30), 100)
    reserve(ledger, NOW, 200)
    ledger.reserve(
        "k",
        market="US",
        currency="USD",
        amount=Decimal("12.5"),
        max_per_minute=None,
        max_daily=None,
        now=NOW,
    )
    usage = open_ledger().usage(["k", "idle"], NOW)
    assert usage["k"] == KeyUsage(3, {("HK", "HKD"): Decimal(350), ("US", "USD"): Decimal("12.5")})
    assert usage["idle"] == KeyUsage(0, {})


def test_revocations_are_kept_with_their_first_time(open_ledger: Open) -> None:
    ledger = open_ledger()
    assert ledger.revoked_kids() == {}
    ledger.record_revocation("KID00001", NOW)
    ledger.record_revocation("KID00001", NOW + timedelta(hours=1))
    assert open_ledger().revoked_kids() == {"KID00001": NOW}


def test_the_retry_time_stays_inside_the_window(open_ledger: Open) -> None:
    """A request timed a moment before a racing one that took the lock first still gets a
    retry time of at most the window's 60 s."""
    ledger = open_ledger()
    assert isinstance(reserve(ledger, NOW + timedelta(milliseconds=5), per_minute=1), Reservation)
    denial = reserve(ledger, NOW, per_minute=1)
    assert isinstance(denial, LimitDenial)
    assert denial.message == "limit check failed: rate limit 1/min; retry in 60 s"
