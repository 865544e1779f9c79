"""Where keys.json and its ledger live.

One resolution rule shared by futucli and futu-mcp, so both always open the same file.
"""

import os
import sys
from pathlib import Path

KEYS_FILE_ENV = "FUTU_KEYS_FILE"


def resolve_keys_file(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--keys-file`, else $FUTU_KEYS_FILE, else the platform config folder.

    Matches FUTU-OpenD-rs's default locations so its users keep their file.
    """
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser()
    from_env = os.environ.get(KEYS_FILE_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return _config_dir() / "futu" / "keys.json"


def ledger_path(keys_file: Path) -> Path:
    """The SQLite usage ledger beside keys.json (`keys.json` -> `keys.ledger.sqlite`)."""
    return keys_file.with_name(f"{keys_file.stem}.ledger.sqlite")


def _config_dir() -> Path:
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA")
        return Path(appdata) if appdata else Path.home() / "AppData" / "Roaming"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return Path(xdg) if xdg else Path.home() / ".config"
