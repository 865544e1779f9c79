"""keys.json: schema round trip, permissions, refusal of bad files, nothing overwritten."""

import json
import os
import stat
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from keystore.errors import DuplicateKey, KeysFileError, NoSuchKey
from keystore.records import HoursWindow, Limits, ValueLimit
from keystore.store import KeyStore, read_keys_file
from tests.keystore.conftest import cheap_key


def full_limits() -> Limits:
    return Limits(
        allowed_markets=frozenset({"HK", "US"}),
        allowed_symbols=frozenset({"HK.00700", "US.AAPL"}),
        allowed_trd_sides=frozenset({"BUY"}),
        allowed_acc_ids=frozenset({281756457288}),
        max_order_value=ValueLimit(None, {"HK": Decimal(50000), "US": Decimal("6000.5")}),
        max_daily_value=ValueLimit(Decimal(100000)),
        max_orders_per_minute=3,
        hours_window=HoursWindow(time(22, 0), time(4, 0), "America/New_York"),
    )


def test_round_trip_and_modes(store: KeyStore, keys_path: Path) -> None:
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    token, record = cheap_key(
        store, "bot", ("qot:read", "trade:real"), full_limits(), expires_at=expires, note="n"
    )
    assert record.confirm_orders == "real"
    assert stat.S_IMODE(keys_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys_path.parent.stat().st_mode) == 0o700
    loaded = read_keys_file(keys_path).records
    assert loaded == (record,)
    text = keys_path.read_text()
    assert token not in text
    doc = json.loads(text)
    assert doc["version"] == 1
    entry = doc["keys"][0]
    assert entry["limits"]["max_order_value"] == {"HK": 50000, "US": 6000.5}
    assert entry["limits"]["hours_window"] == "22:00-04:00@America/New_York"
    assert entry["expires_at"] == "2030-01-02T03:04:05Z"
    assert entry["revoked_at"] is None


def test_group_readable_file_is_refused_with_chmod(store: KeyStore, keys_path: Path) -> None:
    cheap_key(store, "a")
    before = keys_path.read_bytes()
    keys_path.chmod(0o640)
    with pytest.raises(KeysFileError) as info:
        read_keys_file(keys_path)
    assert f"chmod 600 {keys_path}" in str(info.value)
    with pytest.raises(KeysFileError):
        cheap_key(store, "b")
    assert keys_path.read_bytes() == before


def test_world_writable_file_is_refused(store: KeyStore, keys_path: Path) -> None:
    cheap_key(store, "a")
    keys_path.chmod(0o602)
    with pytest.raises(KeysFileError, match="chmod 600"):
        read_keys_file(keys_path)


def test_file_owned_by_someone_else_is_refused(
    store: KeyStore, keys_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs as any user: the reader pretends to be another uid (giving the file away needs root)."""
    cheap_key(store, "a")
    owner = keys_path.stat().st_uid
    monkeypatch.setattr(os, "getuid", lambda: owner + 4242)
    with pytest.raises(KeysFileError, match=f"owned by uid {owner}, not by you"):
        read_keys_file(keys_path)


def test_group_writable_folder_is_refused(store: KeyStore, keys_path: Path) -> None:
    cheap_key(store, "a")
    keys_path.parent.chmod(0o770)
    with pytest.raises(KeysFileError, match="chmod 700"):
        read_keys_file(keys_path)


def test_symlink_is_refused(store: KeyStore, keys_path: Path, tmp_path: Path) -> None:
    cheap_key(store, "a")
    link = keys_path.with_name("link.json")
    link.symlink_to(keys_path)
    with pytest.raises(KeysFileError, match="is a symbolic link, which is refused"):
        read_keys_file(link)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"version": 1, "keys": [', "not valid JSON (line 1"),
        ("", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"version": 1, "keys": {}}', "`keys` must be a list"),
        ('{"version": 1, "keys": [{"id": "x"}]}', "key #1: x: hash"),
        ('{"version": "1", "keys": []}', "`version` must be a positive integer"),
        (
            '{"keys": [{"id": "x", "hash": "sha256:' + "a" * 64 + '", "scopes": [],'
            ' "created_at": "2026-01-01T00:00:00Z", "max_orders_per_minute": -1}]}',
            "max_orders_per_minute: expected a positive integer",
        ),
        (
            '{"keys": [{"id": "x", "hash": "sha256:' + "a" * 64 + '", "scopes": [],'
            ' "created_at": "2026-01-01T00:00:00Z", "limits": {"hours_window": "25:00-01:00"}}]}',
            "hours_window: not a time of day",
        ),
        (
            '{"keys": [{"id": "x", "hash": "sha256:' + "a" * 64 + '", "scopes": [],'
            ' "created_at": "2026-01-01T00:00:00Z", "limits": {}, "max_order_value": 5}]}',
            "limits given both nested",
        ),
        (
            '{"keys": [{"id": "x", "hash": "sha256:' + "a" * 64 + '", "scopes": [],'
            ' "created_at": "2026-01-01T00:00:00Z", "limits": {"max_daily_value": {"HKG": 5}}}]}',
            "max_daily_value: unknown market 'HKG'",
        ),
        (
            '{"keys": [{"id": "x", "hash": "sha256:' + "a" * 64 + '", "scopes": [],'
            ' "created_at": "2026-01-01T00:00:00Z", "expires_at": 100000000000000000000}]}',
            "x: expires_at: not a time",
        ),
        (
            '{"keys": [{"id": "x", "hash": "sha256:' + "a" * 64 + '", "scopes": [],'
            ' "created_at": -100000000000000000000}]}',
            "x: created_at: not a time",
        ),
    ],
)
def test_malformed_file_is_named_and_never_overwritten(
    store: KeyStore, keys_path: Path, content: str, problem: str
) -> None:
    keys_path.parent.mkdir(mode=0o700, parents=True)
    keys_path.write_text(content)
    keys_path.chmod(0o600)
    with pytest.raises(KeysFileError) as info:
        read_keys_file(keys_path)
    assert str(keys_path) in str(info.value)
    assert problem in str(info.value)
    with pytest.raises(KeysFileError):
        cheap_key(store, "new")
    assert keys_path.read_text() == content


def test_newer_version_is_refused(store: KeyStore, keys_path: Path) -> None:
    keys_path.parent.mkdir(mode=0o700, parents=True)
    keys_path.write_text('{"version": 2, "keys": []}')
    keys_path.chmod(0o600)
    with pytest.raises(KeysFileError, match="version 2, newer"):
        read_keys_file(keys_path)
    with pytest.raises(KeysFileError):
        cheap_key(store, "new")


def test_duplicate_id_leaves_file_alone(store: KeyStore, keys_path: Path) -> None:
    cheap_key(store, "a")
    before = keys_path.read_bytes()
    with pytest.raises(DuplicateKey, match="'a' already exists"):
        cheap_key(store, "a")
    assert keys_path.read_bytes() == before


def test_revoke_and_unknown_id(store: KeyStore) -> None:
    cheap_key(store, "a")
    cheap_key(store, "b")
    when = datetime(2026, 5, 1, tzinfo=UTC)
    record = store.revoke("a", now=when)
    assert record.revoked_at == when
    again = store.revoke("a", now=when + timedelta(days=1))
    assert again.revoked_at == when
    current = store.read()
    assert current.by_id("a").status() == "revoked"  # type: ignore[union-attr]
    assert current.by_id("b").status() == "active"  # type: ignore[union-attr]
    with pytest.raises(NoSuchKey):
        store.revoke("nope")


def test_unknown_fields_survive_a_rewrite(store: KeyStore, keys_path: Path) -> None:
    keys_path.parent.mkdir(mode=0o700, parents=True)
    keys_path.write_text(
        json.dumps(
            {
                "version": 1,
                "comment": "top-level extra",
                "keys": [
                    {
                        "id": "old",
                        "hash": "sha256:" + "b" * 64,
                        "scopes": ["qot:read"],
                        "created_at": "2025-01-01T00:00:00Z",
                        "allowed_machines": None,
                    }
                ],
            }
        )
    )
    keys_path.chmod(0o600)
    cheap_key(store, "new")
    doc = json.loads(keys_path.read_text())
    assert doc["comment"] == "top-level extra"
    old = doc["keys"][0]
    assert "allowed_machines" in old
    assert "kid" not in old
    assert old["hash"] == "sha256:" + "b" * 64


def test_stale_temp_files_are_cleaned_by_the_next_writer(store: KeyStore, keys_path: Path) -> None:
    cheap_key(store, "a")
    stale = keys_path.parent / ".keys-abandoned.tmp"
    stale.write_text("half")
    cheap_key(store, "b")
    assert not stale.exists()
