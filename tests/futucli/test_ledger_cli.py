"""futucli ledger (usage against limits, from either ledger) and revoke-key / rotate-key
--ledger (the revocation recorded where every replica reads it), in process."""

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from futucli.app import app
from keystore.hashing import TEST_ONLY_CHEAP_PARAMS
from keystore.issuing import rotate_key
from keystore.ledger import Ledger, SqliteLedger
from keystore.paths import ledger_path
from keystore.records import Limits, ValueLimit
from keystore.store import KeyStore
from keystore.tokens import parse_token
from tests.keystore.conftest import cheap_key
from tests.redisserver import RedisServer

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def keys_path(isolated_home: Path) -> Path:
    return Path(os.environ["FUTU_KEYS_FILE"])


@pytest.fixture(params=["sqlite", "redis"])
def where(request: pytest.FixtureRequest, keys_path: Path) -> tuple[list[str], Ledger]:
    """The --ledger arguments and the same ledger opened directly."""
    if request.param == "sqlite":
        keys_path.parent.mkdir(parents=True, exist_ok=True)
        return [], SqliteLedger(ledger_path(keys_path))
    from keystore.ledger_redis import RedisLedger

    server: RedisServer = request.getfixturevalue("redis_server")
    return ["--ledger", server.url], RedisLedger(server.url)


def spend(ledger: Ledger, key_id: str, market: str, currency: str, amount: str) -> None:
    ledger.reserve(
        key_id,
        market=market,
        currency=currency,
        amount=Decimal(amount),
        max_per_minute=None,
        max_daily=None,
    )


def test_ledger_shows_each_key_against_its_limits(
    keys_path: Path, where: tuple[list[str], Ledger]
) -> None:
    flags, ledger = where
    store = KeyStore(keys_path)
    limits = Limits(
        max_orders_per_minute=3,
        max_daily_value=ValueLimit(None, {"HK": Decimal(50000), "US": Decimal(6000)}),
    )
    cheap_key(store, "bot", ("trade:simulate",), limits)
    cheap_key(store, "quiet")
    cheap_key(store, "gone")
    run("revoke-key", "gone")
    spend(ledger, "bot", "HK", "HKD", "20000")
    spend(ledger, "bot", "HK", "HKD", "21000")
    spend(ledger, "bot", "US", "USD", "1200.5")
    code, out, _ = run("ledger", "--json", *flags)
    assert code == 0
    rows: list[dict[str, Any]] = json.loads(out)
    assert [r["id"] for r in rows] == ["bot", "quiet"]  # a revoked key has nothing to show
    assert rows[0]["orders_last_minute"] == 3
    assert rows[0]["max_orders_per_minute"] == 3
    assert rows[0]["daily"] == [
        {"market": "HK", "currency": "HKD", "value": "41000", "max_daily_value": "50000"},
        {"market": "US", "currency": "USD", "value": "1200.5", "max_daily_value": "6000"},
    ]
    assert rows[1] == {
        "id": "quiet",
        "orders_last_minute": 0,
        "max_orders_per_minute": None,
        "daily": [],
    }
    code, out, _ = run("ledger", *flags)
    assert code == 0
    assert "3/3" in out
    assert "41000/50000" in out
    assert "1200.5/6000" in out
    assert "0 (no limit)" in out


def test_revoke_and_rotate_record_the_kid_in_the_ledger(
    keys_path: Path, where: tuple[list[str], Ledger]
) -> None:
    flags, ledger = where
    store = KeyStore(keys_path)
    _, first = cheap_key(store, "a")
    _, second = cheap_key(store, "b")
    code, _, err = run("revoke-key", "a", *flags)
    assert code == 0
    code, out, _ = run("rotate-key", "b", *flags)
    assert code == 0
    new_kid = parse_token(out.strip()).kid
    revoked = ledger.revoked_kids()
    if flags:
        assert set(revoked) == {first.kid, second.kid}
        assert "recorded the revocation" in err
    else:
        assert revoked == {}  # without --ledger only keys.json says it
    assert new_kid not in revoked


def test_a_revocation_the_ledger_missed_says_how_to_record_it(
    keys_path: Path, tmp_path: Path
) -> None:
    server = RedisServer(tmp_path)  # never started: nothing listens on its port
    store = KeyStore(keys_path)
    _, record = cheap_key(store, "a")
    _, old = cheap_key(store, "b")
    code, _, err = run("revoke-key", "a", "--ledger", server.url)
    assert code == 1
    assert f"revocation of kid {record.kid} is NOT recorded" in err
    assert "limit ledger unavailable" in err
    assert f"run `futucli revoke-key a --ledger {server.url}` when" in err
    # keys.json says it all the same, and a second run (ledger back) records it.
    assert KeyStore(keys_path).read().by_id("a").revoked_at is not None  # type: ignore[union-attr]
    # After a rotation the id names the new secret: the command records the old kid only.
    code, out, err = run("rotate-key", "b", "--ledger", server.url)
    assert code == 1
    assert parse_token(out.strip()).kid != old.kid  # rotated all the same
    assert f"revocation of kid {old.kid} is NOT recorded" in err
    assert f"run `futucli revoke-kid {old.kid} --ledger {server.url}` when" in err
    assert "revoke-key" not in err


def test_revoke_kid_records_an_old_kid_and_refuses_a_live_one(
    keys_path: Path, where: tuple[list[str], Ledger]
) -> None:
    store = KeyStore(keys_path)
    _, old = cheap_key(store, "a")
    flags, ledger = where
    # Rotated without --ledger: only keys.json knew the old kid, and it no longer does.
    _, rotated = rotate_key(store, "a", argon2_params=TEST_ONLY_CHEAP_PARAMS)
    _, other = cheap_key(store, "b")
    before = keys_path.read_bytes()
    code, _, err = run("revoke-kid", old.kid, *flags)
    assert code == 0, err
    assert f"recorded the revocation of kid {old.kid}" in err
    assert set(ledger.revoked_kids()) == {old.kid}
    # A live key's kid is refused, naming the command that ends the key itself.
    for kid, key_id in ((rotated.kid, "a"), (other.kid, "b")):
        code, _, err = run("revoke-kid", kid, *flags)
        assert code == 1
        assert f"kid {kid} is the current kid of key {key_id}, which is not revoked" in err
        assert f"futucli revoke-key {key_id}" in err
    assert set(ledger.revoked_kids()) == {old.kid}
    assert keys_path.read_bytes() == before  # revoke-kid never writes keys.json
    for bad in ("short", "Q2bT9xK!", "Q2bT9xKeX"):
        code, _, err = run("revoke-kid", bad, *flags)
        assert code == 2 and "a kid is 8 letters and digits" in err


def test_a_password_on_the_command_line_is_refused(keys_path: Path) -> None:
    cheap_key(KeyStore(keys_path), "a")
    code, out, err = run("revoke-key", "a", "--ledger", "redis://:hunter2hunter2@127.0.0.1:1/0")
    assert code == 2
    assert "FUTU_LEDGER_PASSWORD" in err
    assert "hunter2hunter2" not in out + err
    assert KeyStore(keys_path).read().by_id("a").revoked_at is None  # type: ignore[union-attr]


def test_the_ledger_password_comes_from_the_environment(keys_path: Path, tmp_path: Path) -> None:
    server = RedisServer(tmp_path, password="s3cret-ledger-pass")
    server.start()
    try:
        _, record = cheap_key(KeyStore(keys_path), "a")
        code, out, err = run("revoke-key", "a", "--ledger", server.url)
        assert code == 1  # no password: Redis refuses, and says so without any secret
        assert "limit ledger unavailable" in err
        code, out, err = run(
            "revoke-key",
            "a",
            "--ledger",
            server.url,
            env={"FUTU_LEDGER_PASSWORD": "s3cret-ledger-pass"},
        )
        assert code == 0, err
        assert "s3cret-ledger-pass" not in out + err
        from keystore.ledger_redis import RedisLedger

        assert record.kid in RedisLedger(server.url, password="s3cret-ledger-pass").revoked_kids()
    finally:
        server.stop()


def test_list_keys_reads_last_use_from_the_ledger_given(
    keys_path: Path, where: tuple[list[str], Ledger]
) -> None:
    flags, ledger = where
    cheap_key(KeyStore(keys_path), "a")
    ledger.record_use("a")
    code, out, _ = run("list-keys", "--json", *flags)
    assert code == 0
    assert json.loads(out)[0]["last_used"] is not None
