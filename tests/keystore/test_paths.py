"""Keys-file resolution: --keys-file, else $FUTU_KEYS_FILE, else the platform config folder."""

import os
import sys
from pathlib import Path

import pytest

from keystore.paths import keys_file_not_found, ledger_path, locate_keys_file, resolve_keys_file


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


def test_locate_says_which_rule_chose_the_path(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = locate_keys_file(isolated_home / "flag.json")
    assert (flag.path, flag.source) == (isolated_home / "flag.json", "flag")
    env = locate_keys_file()
    assert (env.path, env.source) == (Path(os.environ["FUTU_KEYS_FILE"]), "env")
    monkeypatch.delenv("FUTU_KEYS_FILE")
    default = locate_keys_file("")
    assert (default.path, default.source) == (
        isolated_home / ".config" / "futu" / "keys.json",
        "default",
    )


def test_not_found_names_a_flag_path_and_how_to_create_it(isolated_home: Path) -> None:
    path = isolated_home / "elsewhere" / "team.json"
    text = keys_file_not_found(path)
    assert text.startswith(f"keys file not found: {path} (the path given with --keys-file); ")
    assert f"`futucli gen-key --id NAME --scopes qot:read --keys-file {path}`" in text
    assert "\n" not in text


def test_not_found_names_the_environment_variable(isolated_home: Path) -> None:
    path = Path(os.environ["FUTU_KEYS_FILE"])
    text = keys_file_not_found(path)
    assert text.startswith(f"keys file not found: {path} (from $FUTU_KEYS_FILE); ")
    assert "set FUTU_KEYS_FILE (or --keys-file) to the path of your keys.json" in text


@pytest.mark.skipif(sys.platform != "linux", reason="names the platform: Linux here")
def test_not_found_explains_the_default_location(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FUTU_KEYS_FILE")
    path = resolve_keys_file()
    text = keys_file_not_found(path)
    assert text.startswith(
        f"keys file not found: {path} (the default location on Linux: neither --keys-file "
        "nor FUTU_KEYS_FILE is set); create it with `futucli gen-key --id NAME --scopes qot:read`"
    )


def test_not_found_shows_a_relative_path_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert keys_file_not_found(Path("k.json")).startswith(
        f"keys file not found: {tmp_path / 'k.json'} ("
    )
