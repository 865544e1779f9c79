"""Keys-file resolution: --keys-file, else $FUTU_KEYS_FILE, else the platform config folder."""

from pathlib import Path

import pytest

from keystore.paths import ledger_path, resolve_keys_file


def test_explicit_beats_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUTU_KEYS_FILE", str(tmp_path / "env.json"))
    assert resolve_keys_file(tmp_path / "flag.json") == tmp_path / "flag.json"
    assert resolve_keys_file(str(tmp_path / "flag.json")) == tmp_path / "flag.json"
    assert resolve_keys_file() == tmp_path / "env.json"


def test_config_folder_default(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUTU_KEYS_FILE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(isolated_home / "xdg"))
    assert resolve_keys_file() == isolated_home / "xdg" / "futu" / "keys.json"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert resolve_keys_file() == isolated_home / ".config" / "futu" / "keys.json"


def test_tilde_is_expanded(isolated_home: Path) -> None:
    assert resolve_keys_file("~/k.json") == isolated_home / "k.json"


def test_ledger_beside_keys_file(tmp_path: Path) -> None:
    assert ledger_path(tmp_path / "keys.json") == tmp_path / "keys.ledger.sqlite"
    assert ledger_path(tmp_path / "team.json") == tmp_path / "team.ledger.sqlite"
