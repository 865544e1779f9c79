"""futucli gen-key / list-keys / revoke-key / rotate-key, in process (Typer's CliRunner)."""

import json
import os
import pty
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from futucli.app import app
from keystore.errors import Unauthorized
from keystore.hashing import TEST_ONLY_CHEAP_PARAMS
from keystore.issuing import issue_key
from keystore.ledger import SqliteLedger
from keystore.paths import ledger_path
from keystore.policy import Request, authorize
from keystore.records import Limits
from keystore.store import KeyStore, read_keys_file
from keystore.verify import KeyVerifier
from tests.conftest import console_script

runner = CliRunner()


@pytest.fixture
def keys_path(isolated_home: Path) -> Path:
    return Path(os.environ["FUTU_KEYS_FILE"])


def run(*args: str) -> tuple[int, str, str]:
    # Wide enough that rich never truncates a table cell or wraps an error line.
    result = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    return result.exit_code, result.stdout, result.stderr


def test_gen_key_defaults_least_privilege(keys_path: Path) -> None:
    code, out, _ = run("gen-key")
    assert code == 0
    token = out.strip()
    assert out == token + "\n"  # not a terminal: only the token
    record = KeyVerifier(keys_path).verify(token)
    assert record.scopes == frozenset({"qot:read"})
    assert record.confirm_orders == "never"
    assert record.id.startswith("key-")
    assert record.limits == Limits()
    assert token not in keys_path.read_text()


def test_gen_key_every_flag(keys_path: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "keys.json"
    code, out, err = run(
        "gen-key",
        "--id",
        "bot",
        "--scopes",
        "qot:read,trade:real",
        "--allowed-markets",
        "hk,US",
        "--allowed-symbols",
        "HK.00700,us.aapl",
        "--allowed-trd-sides",
        "buy",
        "--allowed-acc-ids",
        "1001,1002",
        "--max-order-value",
        "HK=50000,US=6000",
        "--max-daily-value",
        "100000",
        "--max-orders-per-minute",
        "3",
        "--hours-window",
        "21:30-04:00@Asia/Hong_Kong",
        "--expires",
        "30d",
        "--note",
        "for claude",
        "--keys-file",
        str(other),
    )
    assert code == 0, err
    assert not keys_path.exists()
    record = KeyVerifier(other).verify(out.strip())
    limits = record.limits
    assert record.id == "bot"
    assert record.scopes == frozenset({"qot:read", "trade:real"})
    assert record.confirm_orders == "real"
    assert limits.allowed_markets == frozenset({"HK", "US"})
    assert limits.allowed_symbols == frozenset({"HK.00700", "US.AAPL"})
    assert limits.allowed_trd_sides == frozenset({"BUY"})
    assert limits.allowed_acc_ids == frozenset({1001, 1002})
    assert limits.max_order_value.for_market("US") == Decimal(6000)  # type: ignore[union-attr]
    assert limits.max_daily_value.for_market("SG") == Decimal(100000)  # type: ignore[union-attr]
    assert limits.max_orders_per_minute == 3
    assert str(limits.hours_window) == "21:30-04:00@Asia/Hong_Kong"
    assert record.note == "for claude"
    assert record.expires_at is not None
    assert timedelta(days=29) < record.expires_at - datetime.now(UTC) <= timedelta(days=30)


def test_confirm_orders_flag(keys_path: Path) -> None:
    code, out, _ = run("gen-key", "--scopes", "trade:simulate", "--confirm-orders", "all")
    assert code == 0
    assert KeyVerifier(keys_path).verify(out.strip()).confirm_orders == "all"


def test_keys_file_from_environment(
    keys_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "env" / "k.json"
    monkeypatch.setenv("FUTU_KEYS_FILE", str(target))
    assert run("gen-key", "--id", "e")[0] == 0
    assert [r.id for r in read_keys_file(target).records] == ["e"]


def test_keys_file_default_is_config_folder(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FUTU_KEYS_FILE")
    assert run("gen-key", "--id", "d")[0] == 0
    default = Path(os.environ["XDG_CONFIG_HOME"]) / "futu" / "keys.json"
    assert [r.id for r in read_keys_file(default).records] == ["d"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--scopes", "qot:read,trade:all"],
            "unknown scope trade:all (valid: qot:read, acc:read, trade:simulate, trade:real)",
        ),
        (["--scopes", ""], "no scope given"),
        (["--allowed-markets", "HK,XX"], "unknown market XX (valid: HK, US, SH, SZ, SG, JP, AU)"),
        (["--allowed-trd-sides", "HOLD"], "unknown side HOLD"),
        (["--allowed-symbols", "XX.123"], "expected MARKET.CODE"),
        (["--allowed-acc-ids", "12a"], "account ids"),
        (["--allowed-acc-ids", "12,\u00b2"], "account ids"),  # a digit int() cannot read
        (["--allowed-acc-ids", "\u0661\u0662"], "account ids"),  # non-ASCII digits
        (["--max-order-value", "0"], "must be a positive number"),
        (["--max-order-value", "-5"], "must be a positive number"),
        (["--max-order-value", "lots"], "not a number"),
        (["--max-daily-value", "HK=100,MARS=5"], "unknown market 'MARS'"),
        (["--max-daily-value", "HK=0"], "must be a positive number"),
        (["--max-orders-per-minute", "0"], "must be positive"),
        (["--max-orders-per-minute", "-1"], "must be positive"),
        (["--hours-window", "25:00-01:00"], "not a time of day"),
        (["--hours-window", "9am-5pm"], "expected HH:MM-HH:MM"),
        (["--hours-window", "09:00-17:00@Nowhere/City"], "unknown time zone"),
        (["--expires", "0d"], "must be positive"),
        (["--expires", "soon"], "expected a duration"),
        (["--expires", "2001-01-01T00:00:00Z"], "in the past"),
        (["--confirm-orders", "sometimes"], "expected one of real, all, never"),
        (["--id", " "], "1-64 characters"),
        (["--id", "a b"], "1-64 characters"),
        (["--id", "x" * 65], "1-64 characters"),
        (["--id", "[bold]x"], "1-64 characters"),
    ],
)
def test_bad_input_is_a_usage_error_and_writes_nothing(
    keys_path: Path, args: list[str], expected: str
) -> None:
    code, out, err = run("gen-key", *args)
    assert code == 2
    assert expected in " ".join(err.split())
    assert out == ""
    assert not keys_path.exists()


def test_duplicate_id_fails_and_keeps_the_file(keys_path: Path) -> None:
    assert run("gen-key", "--id", "same")[0] == 0
    before = keys_path.read_bytes()
    code, out, err = run("gen-key", "--id", "same")
    assert code == 1
    assert "already exists" in err
    assert out == ""
    assert keys_path.read_bytes() == before


def test_malformed_file_is_named_and_kept(keys_path: Path) -> None:
    keys_path.parent.mkdir(mode=0o700, parents=True)
    keys_path.write_text('{"version": 1, "keys": [}')
    keys_path.chmod(0o600)
    code, _, err = run("gen-key")
    assert code == 1
    assert str(keys_path) in err and "not valid JSON" in err
    assert keys_path.read_text() == '{"version": 1, "keys": [}'
    assert run("list-keys")[0] == 1


def test_list_keys_json_and_table(keys_path: Path) -> None:
    store = KeyStore(keys_path)
    now = datetime.now(UTC)
    for key_id, expires in (("live", None), ("old", now - timedelta(days=1)), ("gone", None)):
        issue_key(
            store,
            key_id=key_id,
            scopes=frozenset({"qot:read"}),
            limits=Limits(),
            expires_at=expires,
            now=now - timedelta(days=2),
            argon2_params=TEST_ONLY_CHEAP_PARAMS,
        )
    store.revoke("gone")
    SqliteLedger(ledger_path(keys_path)).record_use("live", now)
    code, out, _ = run("list-keys", "--json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)}
    assert {k: r["status"] for k, r in rows.items()} == {
        "live": "active",
        "old": "expired",
        "gone": "revoked",
    }
    assert rows["live"]["last_used"] is not None and rows["old"]["last_used"] is None
    stored = json.loads(keys_path.read_text())["keys"]
    for entry in stored:
        assert entry["hash"] not in out
    assert "hash" not in out and "argon2" not in out
    code, out, _ = run("list-keys")
    assert code == 0
    for entry in stored:
        assert entry["id"] in out and entry["kid"] in out
    for status in ("active", "expired", "revoked"):
        assert status in out


def test_list_keys_table_shows_the_note(keys_path: Path) -> None:
    """gen-key --help promises the note is shown in list-keys (the table, not only --json)."""
    code, _, _ = run("gen-key", "--id", "bot", "--note", "desk [red]bot[/red] for Ann")
    assert code == 0
    code, out, _ = run("list-keys")
    assert code == 0
    assert "desk [red]bot[/red] for Ann" in out  # printed as typed, not read as markup


def test_list_keys_at_80_columns_prints_one_block_per_key(keys_path: Path) -> None:
    """The ten-column table would fold every cell at 80 columns: each key gets labelled lines."""
    code, _, _ = run(
        "gen-key", "--id", "paper-bot", "--scopes", "qot:read,trade:simulate",
        "--allowed-markets", "HK,US", "--max-order-value", "HK=50000,US=6000",
        "--max-orders-per-minute", "5", "--note", "desk bot",
    )  # fmt: skip
    assert code == 0
    assert run("gen-key", "--id", "reader")[0] == 0
    result = runner.invoke(app, ["list-keys"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert all(len(line) <= 80 for line in lines), result.stdout
    kid = KeyStore(keys_path).read().by_id("paper-bot").kid
    assert f"paper-bot  kid {kid}  active" in lines
    assert "  scopes     qot:read, trade:simulate" in lines
    assert "  markets    HK,US" in lines
    assert "  limits     order≤HK=50000,US=6000; 5/min" in lines
    assert "  note       desk bot" in lines
    reader = lines.index(next(line for line in lines if line.startswith("reader  kid ")))
    assert lines[reader + 1 : reader + 4] == [
        "  scopes     qot:read",
        "  markets    all",
        "  limits     none",
    ]


def test_list_keys_without_a_file(keys_path: Path) -> None:
    """A missing file is a wrong path far more often than "no keys yet": say where it looked."""
    for args in (("list-keys", "--json"), ("list-keys",)):
        code, out, err = run(*args)
        assert code == 1 and out == ""
        assert f"keys file not found: {keys_path} (from $FUTU_KEYS_FILE)" in err
        assert "futucli gen-key" in err
    assert not keys_path.parent.exists() or list(keys_path.parent.iterdir()) == []


def test_revoke_key(keys_path: Path) -> None:
    token = run("gen-key", "--id", "r", "--scopes", "trade:simulate")[1].strip()
    verifier = KeyVerifier(keys_path)
    request = Request(scope="trade:simulate", kind="cancel")
    assert authorize(verifier.verify(token), request).allowed
    code, out, _ = run("revoke-key", "r")
    assert code == 0 and "revoked key r" in out
    decision = authorize(verifier.verify(token), request)
    assert (decision.allowed, decision.message) == (False, "key revoked")
    code, out, _ = run("revoke-key", "r")
    assert code == 0 and "already revoked" in out
    code, _, err = run("revoke-key", "nope")
    assert code == 1 and "no key with id 'nope'" in err


def test_rotate_key(keys_path: Path) -> None:
    old = run("gen-key", "--id", "r", "--max-orders-per-minute", "2")[1].strip()
    before = read_keys_file(keys_path).records[0]
    code, out, _ = run("rotate-key", "r")
    assert code == 0
    new = out.strip()
    assert new != old
    verifier = KeyVerifier(keys_path)
    with pytest.raises(Unauthorized):
        verifier.verify(old)
    after = verifier.verify(new)
    assert (after.id, after.limits, after.scopes, after.created_at) == (
        before.id,
        before.limits,
        before.scopes,
        before.created_at,
    )
    assert run("rotate-key", "nope")[0] == 1
    run("revoke-key", "r")
    code, _, err = run("rotate-key", "r")
    assert code == 1 and "revoked" in err


def test_rotating_an_expired_key_is_refused_and_changes_nothing(keys_path: Path) -> None:
    """A new secret for an expired key could never be used: say so instead of printing one."""
    store = KeyStore(keys_path)
    issue_key(
        store,
        key_id="old",
        scopes=frozenset({"qot:read"}),
        limits=Limits(),
        expires_at=datetime.now(UTC) - timedelta(hours=1),
        argon2_params=TEST_ONLY_CHEAP_PARAMS,
    )
    before = keys_path.read_bytes()
    code, out, err = run("rotate-key", "old")
    assert code == 1 and out == ""
    assert "key 'old' expired at " in err and "futucli gen-key" in err
    assert keys_path.read_bytes() == before


def test_terminal_output_warns_once_only(keys_path: Path) -> None:
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [console_script("futucli"), "gen-key", "--id", "tty"],
        stdout=child,
        stderr=child,
        stdin=subprocess.DEVNULL,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=60) == 0
    os.close(main)
    text = b"".join(chunks).decode()
    assert "cannot be shown again" in text
    tokens = [w for w in text.split() if w.startswith("fc_")]
    assert len(tokens) == 1
    assert KeyVerifier(keys_path).verify(tokens[0]).id == "tty"
