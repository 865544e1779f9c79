"""An MCP client's JSON config file, edited without losing or exposing anything in it.

`futucli mcp-config --install` writes an API key into a file the client owns (Claude Desktop's
claude_desktop_config.json, ~/.cursor/mcp.json, ...), so this module holds the rules for that
edit, apart from the command that renders the entry.

Decisions:
- Clients differ in where the servers live: `mcpServers` for most, `servers` for VS Code
  (`servers_key`). VS Code also keeps a top-level `inputs` list (the prompts its `${input:id}`
  references name); the inputs given are merged by `id`: one with the same id is replaced in
  its place, the others are kept, and a new one is appended.
- A file it cannot fully understand is never rewritten: invalid JSON, a top level or servers
  object that is not an object, an `inputs` that is not a list or repeats the id being merged,
  or a key repeated in one object (the rewrite would drop one copy) raise ConfigFileError with
  nothing written. An empty file counts as `{}`.
- The rewritten file is always 0600, whatever the old mode: it usually holds an API key, and
  the clients create their files 0644. A looser old mode is reported, not kept; when the entry
  holds no key (VS Code's `${input:id}` form, `holds_key=False`) the report does not say it does.
- A symlinked config file (dotfile managers) is written through the link, so the link stays.
- Two installs into one file take turns on a lock kept in futu's own state folder (named by a
  hash of the file's path), not beside the client's file, where a `.lock` would litter
  Claude's or Cursor's folder. The client itself does not honour that lock, so the file is
  looked at again just before the replace, and an install that finds it changed writes nothing.
- The old file is backed up into futu's state folder, as
  `backups/<name>.<hash of its real path>.bak-<time>` (0600), not beside it: the client's file
  is often in a project (`.vscode/mcp.json`, `.cursor/mcp.json`), where a backup holding a key
  would be committed by `git add .` even when a .gitignore keeps the config itself out.
- The entry a re-run replaces is described by its field names, `command`, `type` and `url`
  (without user, password, query or fragment) only: other values can hold secrets, and the
  backup keeps the whole old file.
"""

import hashlib
import json
import os
import stat
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from keystore.paths import state_dir
from keystore.store import LOCK_TIMEOUT_S, Fingerprint, atomic_write, fingerprint_of

INPUTS_KEY = "inputs"  # VS Code: the prompts that `${input:id}` in a server entry names


class ConfigFileError(Exception):
    """The config file cannot be updated safely; the message names the file and the fix."""


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ConfigFileError(
                f"the name {json.dumps(key)} appears twice in one object; the client uses only "
                "one of them and rewriting the file would drop the other. Nothing was changed. "
                "Remove one copy and run the command again."
            )
        seen[key] = value
    return seen


def _reject_constant(text: str) -> object:
    raise ConfigFileError(
        f"{text} is not a JSON value. Nothing was changed. Fix the file and run the command again."
    )


def load_config(
    path: Path, text: str, servers_key: str = "mcpServers", input_ids: Collection[str] = ()
) -> dict[str, Any]:
    """The parsed config, or ConfigFileError when merging into it (servers under `servers_key`,
    inputs with `input_ids`) could lose or break anything."""
    if not text.strip():
        return {}
    try:
        config = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        hint = ""
        if text.startswith(("//", "/*"), exc.pos):
            hint = " (a comment: this command only edits plain JSON; remove the comments)"
        raise ConfigFileError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}. "
            "Nothing was changed. Fix the file (or move it aside) and run the command again."
        ) from None
    except ConfigFileError as exc:
        raise ConfigFileError(f"{path}: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigFileError(
            f"{path} holds a JSON {type(config).__name__}, not an object. Nothing was changed. "
            "Fix the file (or move it aside) and run the command again."
        )
    if not isinstance(config.get(servers_key, {}), dict):
        raise ConfigFileError(
            f'{path}: "{servers_key}" is not an object. Nothing was changed. Make it an object '
            '({"name": {...}, ...}) and run the command again.'
        )
    if input_ids:
        _check_inputs(path, config.get(INPUTS_KEY, []), input_ids)
    return config


def _check_inputs(path: Path, inputs: object, input_ids: Collection[str]) -> None:
    """Refuse an `inputs` that is not a list, or holds one of `input_ids` more than once (which
    of the copies the client uses is not known, so replacing one could leave the wrong one)."""
    if not isinstance(inputs, list):
        raise ConfigFileError(
            f'{path}: "{INPUTS_KEY}" is not a list. Nothing was changed. Make it a list '
            '([{"type": "promptString", ...}, ...]) and run the command again.'
        )
    for input_id in input_ids:
        count = sum(1 for item in inputs if isinstance(item, dict) and item.get("id") == input_id)
        if count > 1:
            raise ConfigFileError(
                f"{path}: the input id {json.dumps(input_id)} appears {count} times in "
                f'"{INPUTS_KEY}"; the client uses only one of them. Nothing was changed. Remove '
                "the extra copies and run the command again."
            )


def merge_entry(
    config: dict[str, Any],
    name: str,
    entry: dict[str, object],
    servers_key: str = "mcpServers",
    inputs: Sequence[dict[str, object]] = (),
) -> tuple[dict[str, Any], object | None]:
    """The config with `entry` under config[servers_key][name] and `inputs` merged by id, and the
    entry it replaced (None if new).

    Every other top-level key, server and input stays as it was, in its place.
    """
    merged = dict(config)
    servers = dict(merged.get(servers_key, {}))
    replaced = servers.get(name)
    servers[name] = entry
    merged[servers_key] = servers
    if inputs:
        merged_inputs = list(merged.get(INPUTS_KEY, []))
        for new in inputs:
            same = [
                i
                for i, item in enumerate(merged_inputs)
                if isinstance(item, dict) and item.get("id") == new["id"]
            ]
            if same:
                merged_inputs[same[0]] = new
            else:
                merged_inputs.append(new)
        merged[INPUTS_KEY] = merged_inputs
    return merged, replaced


def _public_url(url: str) -> str | None:
    """`url` without user, password, query and fragment; None when it is not an http(s) URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host, query="", fragment="").geturl()


def describe_entry(entry: object) -> str:
    """A server entry as it may be printed: field names, command, type and URL, no secrets."""
    if not isinstance(entry, dict):
        return f"a JSON {type(entry).__name__}"
    shown = []
    for field in ("command", "type"):
        if isinstance(entry.get(field), str):
            shown.append(f"{field} {json.dumps(entry[field], ensure_ascii=False)}")
    url = entry.get("url")
    public = _public_url(url) if isinstance(url, str) else None
    if public is not None:
        shown.append(f"url {json.dumps(public, ensure_ascii=False)}")
    fields = ", ".join(entry) or "none"
    return f"fields: {fields}" + "".join(f"; {item}" for item in shown)


def _path_digest(real: Path, length: int) -> str:
    """A hash of the file's real path, so files of the same name get separate locks and backups."""
    return hashlib.sha256(os.fsencode(real)).hexdigest()[:length]


def backup_dir() -> Path:
    """Where the backups go: futu's state folder, never beside the client's file, where a
    project's `git add .` would commit the old key (a .gitignore names the config, not its
    backups)."""
    return state_dir() / "backups"


def _backup(real: Path, data: bytes) -> Path:
    """Copy the old file into backup_dir(), private to the user; never over an existing backup."""
    folder = backup_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{real.name}.{_path_digest(real, 12)}.bak-{stamp}"
    for n in range(1000):
        candidate = Path(os.path.abspath(folder / (base + (f"-{n}" if n else ""))))
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        return candidate
    raise FileExistsError(base)


def lock_path(real: Path) -> Path:
    """The lock `install` holds while it edits `real`: in futu's state folder."""
    return state_dir() / "locks" / f"client-config-{_path_digest(real, 32)}.lock"


@contextmanager
def _locked(path: Path, real: Path) -> Iterator[None]:
    from filelock import FileLock, Timeout

    lock = lock_path(real)
    lock.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        with FileLock(str(lock), timeout=LOCK_TIMEOUT_S, mode=0o600):
            yield
    except Timeout:
        raise ConfigFileError(
            f"{path} is being updated by another futucli mcp-config (it holds {lock}). "
            "Nothing was changed. Run the command again when that one has finished."
        ) from None


def _stat_or_none(real: Path) -> os.stat_result | None:
    try:
        return real.stat()
    except FileNotFoundError:
        return None


def _still(path: Path, real: Path, read: Fingerprint | None) -> None:
    """Raise ConfigFileError if `real` is no longer the version that was read (None: absent)."""
    now = _stat_or_none(real)
    if (None if now is None else fingerprint_of(now)) != read:
        raise ConfigFileError(
            f"{path}: the file changed while it was being updated (is the client running and "
            "saving its settings?); run the command again. Nothing was changed."
        )


def read_config(
    path: Path, servers_key: str = "mcpServers", input_ids: Collection[str] = ()
) -> tuple[dict[str, Any], bytes | None, os.stat_result | None]:
    """The parsed config at `path` (checked as load_config does), its bytes and its stat (None
    and None when it is missing)."""
    real = Path(os.path.realpath(path))
    st = _stat_or_none(real)
    if st is None:
        return {}, None, None
    data = real.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigFileError(
            f"{path} is not UTF-8 text (byte {exc.start}). Nothing was changed. "
            "Save it as UTF-8 (or move it aside) and run the command again."
        ) from None
    return load_config(path, text, servers_key, input_ids), data, st


def replace_config(
    path: Path,
    config: dict[str, Any],
    old_data: bytes | None,
    old_st: os.stat_result | None,
    holds_key: bool = True,
) -> list[str]:
    """Write `config` over the version of `path` read as (old_data, old_st); what was done.

    The old file is backed up first. Raises ConfigFileError (nothing written, no backup left)
    when the file changed since it was read, OSError when it cannot be written. `holds_key`
    only changes the words of the report (why the file is 0600).
    """
    real = Path(os.path.realpath(path))
    try:
        data = (json.dumps(config, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()
    except ValueError:
        raise ConfigFileError(
            f"{path} holds a number too large to write back unchanged. Nothing was changed. "
            "Add the entry by hand from the snippet `futucli mcp-config` prints."
        ) from None
    read = None if old_st is None else fingerprint_of(old_st)
    if old_data is None:
        real.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(real, data, before_replace=lambda: _still(path, real, read))
        why = ": it holds the key" if holds_key else ", readable by you only"
        return [f"created {path} (mode 0600{why})"]
    backup = _backup(real, old_data)
    try:
        atomic_write(real, data, before_replace=lambda: _still(path, real, read))
    except ConfigFileError:  # raised before the replace: the old file is still there
        backup.unlink(missing_ok=True)
        raise
    report = [f"backed up {path} to {backup}"]
    assert old_st is not None
    old_mode = stat.S_IMODE(old_st.st_mode)
    if os.name == "posix" and old_mode & 0o077:
        why = (
            ": it now holds your API key"
            if holds_key
            else " (futucli writes client configs readable by you only; no key was written)"
        )
        report.append(f"tightened {path} from {old_mode:04o} to 0600{why}")
    return report


def install(
    path: Path,
    name: str,
    entry: dict[str, object],
    servers_key: str = "mcpServers",
    inputs: Sequence[dict[str, object]] = (),
    holds_key: bool = True,
) -> list[str]:
    """Merge `entry` (under `servers_key`) and `inputs` into the config at `path` under the lock;
    the lines that say what happened.

    Raises ConfigFileError (nothing written) when the file cannot be merged or changed while it
    was merged, OSError when it cannot be read or written.
    """
    input_ids = [str(item["id"]) for item in inputs]
    with _locked(path, Path(os.path.realpath(path))):
        config, old_data, old_st = read_config(path, servers_key, input_ids)
        merged, replaced = merge_entry(config, name, entry, servers_key, inputs)
        report = replace_config(path, merged, old_data, old_st, holds_key)
    if replaced is not None:
        report.append(
            f'replaced the existing "{name}" entry ({describe_entry(replaced)}); '
            "the backup keeps it whole"
        )
    return report
