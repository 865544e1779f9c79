"""keys.json on disk: permission-checked reads, and atomic, file-locked writes.

Readers (the server) never lock: writers replace the file atomically, so a reader sees a
complete old or new file. Writers (the CLI) serialize on `keys.json.lock`.
"""

import errno
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from keystore.errors import DuplicateKey, KeysFileError, KeystoreError, NoSuchKey
from keystore.paths import keys_file_not_found
from keystore.private_files import privacy_problem, unreadable_fix
from keystore.records import KeyRecord, format_time

SCHEMA_VERSION = 1
LOCK_TIMEOUT_S = 30.0
_TEMP_PREFIX = ".keys-"
_TEMP_SUFFIX = ".tmp"
_POSIX = sys.platform != "win32"

Fingerprint = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class KeysFile:
    """One consistent read of keys.json; `fingerprint` identifies the file version read."""

    records: tuple[KeyRecord, ...]
    fingerprint: Fingerprint | None = None
    # Top-level fields other than version/keys, written back unchanged.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def by_id(self, key_id: str) -> KeyRecord | None:
        """The record with this id, if any."""
        return next((r for r in self.records if r.id == key_id), None)


def fingerprint_of(st: os.stat_result) -> Fingerprint:
    """What changes whenever keys.json is replaced or edited (a stat costs ~2 µs)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read_keys_file(path: Path) -> KeysFile:
    """Read and check keys.json; raises KeysFileError naming the file and the fix.

    Refuses a file others can read or write, one owned by another user, a group- or
    world-writable folder, a symlink, a malformed file and a newer schema version.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise keys_file_error(path, exc) from None
    try:
        # Checked on the open descriptor (no swap between check and read), before fdopen,
        # which refuses a folder with a bare IsADirectoryError.
        st = os.fstat(fd)
        _check_permissions(path, st)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    return _parse(path, data, fingerprint_of(st))


def keys_file_error(path: Path, exc: OSError) -> KeysFileError:
    """The error for keys.json that cannot be opened or looked at: names the file and the fix."""
    if isinstance(exc, FileNotFoundError):
        return KeysFileError(keys_file_not_found(path))
    if isinstance(exc, PermissionError):
        return KeysFileError(
            f"cannot read keys file {path}: permission denied. Fix: {unreadable_fix(path)}"
        )
    if exc.errno == errno.ELOOP:
        return KeysFileError(
            f"keys file {path} is a symbolic link, which is refused (it could be swapped for "
            f"another file); point --keys-file or FUTU_KEYS_FILE at the file itself"
        )
    return KeysFileError(f"cannot open keys file {path}: {exc.strerror or exc}")


def _check_permissions(path: Path, st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise KeysFileError(
            f"keys file {path} is a folder, not a file; point --keys-file or FUTU_KEYS_FILE at "
            f"the keys.json file (e.g. {path / 'keys.json'})"
        )
    if not stat.S_ISREG(st.st_mode):
        raise KeysFileError(f"keys file {path} is not a regular file")
    if not _POSIX:
        return
    problem = privacy_problem(path, st)
    if problem:
        raise KeysFileError(f"refusing to trust keys file {problem}")
    folder = path.parent
    dst = os.stat(folder)
    if dst.st_mode & 0o022:
        raise KeysFileError(
            f"the folder of keys file {path} can be written by other users "
            f"(mode {stat.S_IMODE(dst.st_mode):04o}). Fix: chmod 700 {folder}"
        )


def _parse(path: Path, data: bytes, fingerprint: Fingerprint) -> KeysFile:
    try:
        doc = json.loads(data.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError:
        raise KeysFileError(f"keys file {path} is not UTF-8 text; fix or restore it") from None
    except json.JSONDecodeError as exc:
        raise KeysFileError(
            f"keys file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}); fix or restore it, it will not be overwritten"
        ) from None
    if not isinstance(doc, dict):
        raise KeysFileError(f"keys file {path}: expected a JSON object with `keys`")
    version = doc.get("version", SCHEMA_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise KeysFileError(f"keys file {path}: `version` must be a positive integer")
    if version > SCHEMA_VERSION:
        raise KeysFileError(
            f"keys file {path} has version {version}, newer than this futu-mcp understands "
            f"({SCHEMA_VERSION}); upgrade futu-mcp"
        )
    raw_keys = doc.get("keys", [])
    if not isinstance(raw_keys, list):
        raise KeysFileError(f"keys file {path}: `keys` must be a list")
    records: list[KeyRecord] = []
    seen_ids: set[str] = set()
    seen_kids: set[str] = set()
    for index, raw in enumerate(raw_keys):
        try:
            record = KeyRecord.from_json(raw)
        except ValueError as exc:
            raise KeysFileError(f"keys file {path}: key #{index + 1}: {exc}") from None
        if record.id in seen_ids:
            raise KeysFileError(f"keys file {path}: id {record.id!r} appears twice")
        if record.kid_stored and record.kid in seen_kids:
            raise KeysFileError(f"keys file {path}: kid {record.kid!r} appears twice")
        seen_ids.add(record.id)
        if record.kid_stored:
            seen_kids.add(record.kid)
        records.append(record)
    extra = {k: v for k, v in doc.items() if k not in ("version", "keys")}
    return KeysFile(tuple(records), fingerprint, extra)


class KeyStore:
    """Read-modify-write access to one keys.json, for the CLI."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    def read(self) -> KeysFile:
        """The current file; a missing one is KeysFileError saying where it looked and the fix
        (listing or revoking keys in a file that is not there is a wrong path, not "no keys")."""
        return read_keys_file(self.path)

    def update(
        self, change: Callable[[list[KeyRecord]], list[KeyRecord]], *, create: bool = True
    ) -> KeysFile:
        """Apply `change` to the current records and write the result, all under the lock.

        A missing file is an empty store when `create`, else KeysFileError before anything is
        written. `change` may raise to abort; the file is then untouched. Returns what was
        written.
        """
        from filelock import FileLock, Timeout

        if not create and not self._exists():
            raise KeysFileError(keys_file_not_found(self.path))
        self._ensure_folder()
        try:
            with FileLock(str(self.lock_path), timeout=LOCK_TIMEOUT_S, mode=0o600):
                self._remove_stale_temp_files()
                current = self.read() if not create or self._exists() else KeysFile(())
                records = change(list(current.records))
                written = KeysFile(tuple(records), None, current.extra)
                self._write(written)
                return written
        except Timeout:
            raise KeysFileError(
                f"keys file {self.path} is locked by another process ({self.lock_path}); try again"
            ) from None

    def add(self, record: KeyRecord) -> None:
        """Add a new key; DuplicateKey if its id (or kid) is taken."""

        def change(records: list[KeyRecord]) -> list[KeyRecord]:
            if any(r.id == record.id for r in records):
                raise DuplicateKey(f"a key with id {record.id!r} already exists in {self.path}")
            if any(r.kid == record.kid for r in records):
                raise DuplicateKey(f"kid {record.kid!r} already exists in {self.path}")
            return [*records, record]

        self.update(change)

    def revoke(self, key_id: str, now: datetime | None = None) -> KeyRecord:
        """Mark a key revoked (kept in the file for the audit trail); returns the new record.

        Revoking a key that is already revoked keeps the first revocation time.
        """
        when = now or datetime.now(UTC)
        return self._replace_one(
            key_id, lambda r: r if r.revoked_at else replace(r, revoked_at=when)
        )

    def replace_hash(self, key_id: str, kid: str, new_hash: str) -> KeyRecord:
        """Give a key a new token (rotate-key): same id and policy, old token dead at once."""

        def change(record: KeyRecord) -> KeyRecord:
            if record.revoked_at is not None:
                raise KeystoreError(f"key {key_id!r} is revoked; generate a new key instead")
            if record.expires_at is not None and record.status() == "expired":
                # Its new secret would be refused on first use.
                raise KeystoreError(
                    f"key {key_id!r} expired at {format_time(record.expires_at)}; generate a "
                    "new key instead (futucli gen-key)"
                )
            return replace(record, kid=kid, hash=new_hash, kid_stored=True)

        return self._replace_one(key_id, change)

    def _replace_one(self, key_id: str, edit: Callable[[KeyRecord], KeyRecord]) -> KeyRecord:
        result: list[KeyRecord] = []

        def change(records: list[KeyRecord]) -> list[KeyRecord]:
            for index, record in enumerate(records):
                if record.id == key_id:
                    new = edit(record)
                    if any(r.kid == new.kid and r.id != key_id for r in records):
                        raise DuplicateKey(f"kid {new.kid!r} already exists in {self.path}")
                    result.append(new)
                    return [*records[:index], new, *records[index + 1 :]]
            raise NoSuchKey(f"no key with id {key_id!r} in {self.path}")

        self.update(change, create=False)
        return result[0]

    def _exists(self) -> bool:
        # True when in doubt (an unreadable folder): reading it then says what is wrong.
        try:
            os.lstat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError:
            return True
        return True

    def _ensure_folder(self) -> None:
        folder = self.path.parent
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _remove_stale_temp_files(self) -> None:
        # Only called under the lock, so no other writer owns a temp file right now: any left
        # are from a writer that died mid-write.
        for leftover in self.path.parent.glob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)

    def _write(self, keys_file: KeysFile) -> None:
        doc = {
            "version": SCHEMA_VERSION,
            **keys_file.extra,
            "keys": [r.to_json() for r in keys_file.records],
        }
        atomic_write(self.path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))


def atomic_write(path: Path, data: bytes, before_replace: Callable[[], None] | None = None) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new file, never a mix.

    Temp file in the same folder (mode 0600 from mkstemp), fsync, os.replace, fsync the folder.
    `before_replace` runs just before os.replace; if it raises, nothing is replaced.
    """
    fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if _POSIX:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
