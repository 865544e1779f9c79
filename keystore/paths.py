"""Where keys.json and its ledger live.

One resolution rule shared by futucli and futu-mcp, so both always open the same file; the same
rule says why a path was chosen, so "keys file not found" can tell the user where it looked.
"""

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

KEYS_FILE_ENV = "FUTU_KEYS_FILE"
KeysFileSource = Literal["flag", "env", "default"]
_PLATFORM = {"win32": "Windows", "darwin": "macOS"}


@dataclass(frozen=True)
class KeysFileLocation:
    """A keys.json path and what chose it: `--keys-file`, $FUTU_KEYS_FILE or the default."""

    path: Path
    source: KeysFileSource


def locate_keys_file(explicit: str | os.PathLike[str] | None = None) -> KeysFileLocation:
    """`--keys-file`, else $FUTU_KEYS_FILE, else the platform config folder, and which it was.

    Matches FUTU-OpenD-rs's default locations so its users keep their file.
    """
    if explicit is not None and str(explicit) != "":
        return KeysFileLocation(Path(explicit).expanduser(), "flag")
    from_env = os.environ.get(KEYS_FILE_ENV)
    if from_env:
        return KeysFileLocation(Path(from_env).expanduser(), "env")
    return KeysFileLocation(config_dir() / "futu" / "keys.json", "default")


def resolve_keys_file(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The keys.json path `locate_keys_file` chooses (for callers that need only the path)."""
    return locate_keys_file(explicit).path


def keys_file_not_found(path: Path, setting: str = "--keys-file") -> str:
    """`keys file not found: <path>`, why that path was used, and how to fix it, in one line.

    Callers hold only the path, so its source is found again: a path other than the one the
    environment or the default gives came from `setting` (--keys-file, or futu-mcp's
    `keys_file` in its TOML file); the same path given explicitly is reported as the
    environment or default, which is where it would have looked anyway.
    """
    shown = Path(os.path.abspath(path))
    implicit = locate_keys_file()
    source = implicit.source if implicit.path == path else "flag"
    create = "futucli gen-key --id NAME --scopes qot:read"
    if source == "flag":
        why = f"the path given with {setting}"
        fix = (
            f"create it with `{create} --keys-file {shown}`, "
            f"or set {setting} to the path of your keys.json"
        )
    elif source == "env":
        why = f"from ${KEYS_FILE_ENV}"
        fix = (
            f"create it with `{create}` (with the same {KEYS_FILE_ENV}), "
            f"or set {KEYS_FILE_ENV} (or --keys-file) to the path of your keys.json"
        )
    else:
        platform = _PLATFORM.get(sys.platform, "Linux" if sys.platform == "linux" else "this OS")
        why = f"the default location on {platform}: neither --keys-file nor {KEYS_FILE_ENV} is set"
        fix = (
            f"create it with `{create}`, or point --keys-file or {KEYS_FILE_ENV} at your keys.json"
        )
    return f"keys file not found: {shown} ({why}); {fix}"


def ledger_path(keys_file: Path) -> Path:
    """The SQLite usage ledger beside keys.json (`keys.json` -> `keys.ledger.sqlite`)."""
    return keys_file.with_name(f"{keys_file.stem}.ledger.sqlite")


def config_dir() -> Path:
    """The platform's per-user config folder (APPDATA, Application Support, XDG_CONFIG_HOME):
    keys.json's default home, and Claude Desktop's, so both follow the same rule."""
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA")
        return Path(appdata) if appdata else Path.home() / "AppData" / "Roaming"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return Path(xdg) if xdg else Path.home() / ".config"


def state_dir() -> Path:
    """futu's per-user state folder ($XDG_STATE_HOME/futu, else ~/.local/state/futu, on every
    OS): the audit log, install locks and client-config backups, kept out of the client's and
    the project's folders."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "futu"
