"""The hash-chained JSON-lines audit log of futu-mcp.

Every line carries the hash of the line before it, so an edited, deleted or reordered line breaks
the chain at exactly that place and `verify_file` can say where. Several futu-mcp processes may
append to one file: the tail is read and the new line appended under one FileLock, so the chain
never forks. A same-user attacker can still rewrite the whole chain; anchoring the head outside
that trust domain (printing it, shipping it to syslog) is the only real defence against that.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import json
import logging
import math
import os
import re
import stat
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from filelock import FileLock

from keystore.paths import state_dir
from keystore.private_files import privacy_problem

log = logging.getLogger("futu_mcp.audit")

FORMAT_VERSION = 1
"""Value of the "v" field; bumped when a line's meaning changes."""

RESERVED_FIELDS = ("v", "seq", "ts", "prev", "hash", "replica")
"""Fields the log sets itself; a record's own values for them are replaced."""

REDACTED = "[REDACTED]"
LOCK_TIMEOUT_S = 10.0
LONG_TEXT = 256
"""A string longer than this (argument, error text, any value or key) is stored shortened."""
KEPT_CHARS = 64
"""How much of a shortened string is kept, before its length and sha256."""
MAX_LINE_BYTES = 16 * 1024
"""No line is longer: the largest fields are replaced by their size and sha256 until it fits."""
_RESERVED_BYTES = 256  # what v, seq, ts, prev and hash add to a line, with room to spare
_CHUNK = 64 * 1024
_FIRST_CHUNK = 4096  # most tails are one line of a few hundred bytes

# Defense in depth: callers never put secrets in a record, but if one slips through it must not
# reach the disk. An fc_ token (ours, or a legacy hex one, or a mangled one), a bearer credential,
# and any value under a key whose name says it holds a secret.
_TOKEN_RE = re.compile(r"fc_[A-Za-z0-9_]{16,}")
_BEARER_RE = re.compile(r"(?i)\bbearer\s+[^\s\"',;]+")
_SECRET_KEY_RE = re.compile(
    r"(?i)pass(word|wd|phrase)?|pwd|secret|token|authori[sz]ation|bearer|api_?key|private_?key"
)


class AuditWriteError(Exception):
    """A line could not be written (disk, permissions, lock, damaged tail): trading must stop."""


class VerifyResult(NamedTuple):
    """Outcome of `verify_file`; `lines` counts the intact lines before the first bad one.

    `head` is the hash of the last intact line (None if there is none): the value to keep outside
    the machine, since only a copy kept elsewhere shows a consistently rewritten chain.
    """

    ok: bool
    lines: int
    first_bad_line: int | None
    problem: str | None
    head: str | None = None


def default_audit_path() -> Path:
    """Where `futucli audit tail` looks when no path is given: futu's state folder."""
    return state_dir() / "audit.jsonl"


def canonical_json(record: Mapping[str, Any]) -> str:
    """The one serialisation the hash is computed over, so every verifier gets the same bytes."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def line_hash(prev: str, record: Mapping[str, Any]) -> str:
    """sha256(prev + canonical JSON of the record without "hash"), hex."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256((prev + canonical_json(body)).encode("utf-8")).hexdigest()


def redact(value: Any) -> tuple[Any, int]:
    """Return `value` as plain JSON data with anything secret-looking replaced, and the count."""
    count = 0

    def scrub_text(text: str) -> str:
        nonlocal count
        text, n_token = _TOKEN_RE.subn(REDACTED, text)
        text, n_bearer = _BEARER_RE.subn(f"Bearer {REDACTED}", text)
        count += n_token + n_bearer
        return text

    def walk(item: Any) -> Any:
        nonlocal count
        if isinstance(item, Mapping):
            out: dict[str, Any] = {}
            for key, val in item.items():
                name = scrub_text(str(key))
                if _SECRET_KEY_RE.search(name) and val not in (None, ""):
                    out[name] = REDACTED
                    count += 1
                else:
                    out[name] = walk(val)
            return out
        if isinstance(item, str):
            return scrub_text(item)
        if isinstance(item, float) and not math.isfinite(item):
            return str(item)  # NaN and Infinity are not JSON; other verifiers would choke
        if isinstance(item, bool | int | float) or item is None:
            return item
        if isinstance(item, list | tuple):
            return [walk(x) for x in item]
        if isinstance(item, set | frozenset):
            return sorted((walk(x) for x in item), key=str)
        if isinstance(item, Decimal):
            return str(item)
        if isinstance(item, datetime | date):
            return item.isoformat()
        if isinstance(item, enum.Enum):
            return item.name
        if isinstance(item, Path):
            return scrub_text(str(item))
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            return walk(dataclasses.asdict(item))
        # Never a repr: a request object's repr can carry what must not be logged.
        return f"<{type(item).__name__}>"

    return walk(value), count


def shorten(text: str) -> str:
    """`text` itself, or when longer than LONG_TEXT its first KEPT_CHARS characters, its length
    and its sha256: one hostile argument must not cost megabytes of log, yet stays identifiable.

    A lone surrogate (valid JSON, not valid UTF-8) is spelled as its escape, so no argument can
    make its own line unwritable.
    """
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) <= LONG_TEXT:
        return text
    return f"{text[:KEPT_CHARS]}…[{len(text)} chars, sha256 {_sha256(text)}]"


def bound(body: Mapping[str, Any]) -> dict[str, Any]:
    """The record as one line may hold it: every long string shortened (keys and nested values
    too), then the largest fields replaced by their size and sha256 until the line fits
    MAX_LINE_BYTES. `body` is plain JSON data (what `redact` returns)."""

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return shorten(item)
        if isinstance(item, dict):
            return {shorten(key): walk(val) for key, val in item.items()}
        if isinstance(item, list):
            return [walk(x) for x in item]
        return item

    out = {shorten(key): walk(val) for key, val in body.items()}
    sizes = {key: len(_dumps(key)) + len(_dumps(val)) + 2 for key, val in out.items()}
    while sum(sizes.values()) > MAX_LINE_BYTES - _RESERVED_BYTES:
        largest = max(sizes, key=sizes.__getitem__)
        text = _dumps(out[largest]).decode("utf-8")
        out[largest] = f"[omitted: {len(text)} bytes of JSON, sha256 {_sha256(text)}]"
        sizes[largest] = len(_dumps(largest)) + len(_dumps(out[largest])) + 2
    return out


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iter_lines_backward(fd: int) -> Iterator[bytes]:
    """Yield the file's lines last first (without the newline), reading from the end in chunks.

    A final line without a newline (a torn write) is yielded as is; the caller decides.
    """
    end = os.fstat(fd).st_size
    pending = b""
    pos = end
    first = True
    chunk_size = _FIRST_CHUNK
    while pos > 0:
        size = min(chunk_size, pos)
        chunk_size = min(chunk_size * 4, _CHUNK)
        pos -= size
        chunk = os.pread(fd, size, pos)
        pending = chunk + pending
        parts = pending.split(b"\n")
        pending = parts[0]
        tail = parts[1:]
        if first:
            first = False
            if tail and tail[-1] == b"":
                tail.pop()
        yield from reversed(tail)
    if end > 0:
        yield pending


class AuditLog:
    """Appends hash-chained lines to one file, safely shared by threads and processes."""

    def __init__(self, path: Path, replica: str | None = None) -> None:
        """`replica` (futu-mcp --replica-id) goes in every line, so the files of several
        replicas can be merged by `futucli audit tail` and each line traced to its writer."""
        self.path = Path(path)
        self.replica = replica
        self._lock = FileLock(
            self.path.with_name(self.path.name + ".lock"), timeout=LOCK_TIMEOUT_S, mode=0o600
        )
        self._thread_lock = threading.Lock()
        # (inode, size, seq, hash) after this process's last append: while the file is still
        # exactly that, nobody else appended and the tail need not be read again.
        self._head: tuple[int, int, int, str] | None = None
        # (inode, offset, seq, why) of this process's line whose write failed part-way: only
        # the writer knows where its own line began, so only it may cut the file back there.
        self._torn: tuple[int, int, int, str] | None = None
        self.repairs = 0  # incomplete lines cut back (futu_mcp_audit_repairs)
        # Best effort: a failure here shows up on the first write, so read tools keep working.
        with contextlib.suppress(OSError):
            self._prepare()

    def _prepare(self) -> None:
        parent = self.path.parent
        if not parent.exists():
            parent.mkdir(mode=0o700, parents=True)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            return
        os.close(fd)
        # A new file's name must survive a crash as surely as the lines written into it.
        dir_fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def write(self, record: Mapping[str, Any], *, fsync: bool) -> dict[str, Any]:
        """Append one line (chained to the current tail) and return it; raise AuditWriteError.

        `fsync=True` is for intent lines of trade calls: the line is on disk before this returns.
        """
        try:
            body, redactions = redact(record)
            for name in RESERVED_FIELDS:
                body.pop(name, None)
            if redactions:
                body["redactions"] = redactions
            body = bound(body)
            with self._thread_lock, self._lock:
                return self._append_locked(body, fsync=fsync)
        except AuditWriteError:
            raise
        except Exception as exc:
            raise AuditWriteError(f"cannot write audit log {self.path}: {_describe(exc)}") from None

    def _append_locked(self, body: dict[str, Any], *, fsync: bool) -> dict[str, Any]:
        flags = os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW
        try:
            fd = os.open(self.path, flags)
        except FileNotFoundError:
            self._prepare()
            fd = os.open(self.path, flags)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise AuditWriteError(f"audit log {self.path} is not a regular file")
            # Lines hold accounts, orders and key ids: the same privacy rule as keys.json.
            problem = privacy_problem(self.path, info)
            if problem:
                raise AuditWriteError(f"refusing to append to audit log {problem}")
            if self._torn is not None:
                info = self._cut_back(fd, info)
            head = self._head
            if head is not None and head[:2] == (info.st_ino, info.st_size):
                seq, prev = head[2], head[3]
            else:
                self._head = None
                seq, prev = self._tail(fd)
            full: dict[str, Any] = {"v": FORMAT_VERSION, "seq": seq + 1, "ts": _now()}
            full.update(body)
            if self.replica is not None:
                full["replica"] = self.replica
            full["prev"] = prev
            full["hash"] = line_hash(prev, full)
            data = (json.dumps(full, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
            if len(data) > MAX_LINE_BYTES:
                raise AuditWriteError(f"audit line of {len(data)} bytes not written: over the cap")
            self._write_line(fd, info, data, full["seq"])
            if fsync:
                os.fsync(fd)
            self._head = (info.st_ino, info.st_size + len(data), full["seq"], full["hash"])
            return full
        finally:
            os.close(fd)

    def _write_line(self, fd: int, info: os.stat_result, data: bytes, seq: int) -> None:
        """Append `data`; a write cut short (disk full, file size limit) is cut back at once,
        or at the next write if even that fails, so the next line starts on a whole line."""
        view = memoryview(data)
        try:
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except OSError as exc:
            self._torn = (info.st_ino, info.st_size, seq, _describe(exc))
            with contextlib.suppress(OSError, AuditWriteError):
                self._cut_back(fd, os.fstat(fd))
            raise

    def _cut_back(self, fd: int, info: os.stat_result) -> os.stat_result:
        """Remove what is left of this process's torn line; the stat of the file afterwards.

        Only bytes this writer appended after a whole line, with no newline among them, are
        ever removed: a line that was complete (and maybe fsynced) is never touched.
        """
        assert self._torn is not None
        inode, start, seq, why = self._torn
        if info.st_ino != inode or info.st_size <= start:
            self._torn = None  # moved aside, or the write added nothing
            return info
        if info.st_size - start > MAX_LINE_BYTES:
            self._torn = None  # more than one line of ours can be: leave it to a person
            return info
        torn = os.pread(fd, info.st_size - start, start)
        before = os.pread(fd, 1, start - 1) if start else b"\n"
        if b"\n" in torn or before != b"\n" or len(torn) != info.st_size - start:
            self._torn = None  # not only our line any more: leave it to a person
            return info
        os.ftruncate(fd, start)
        os.fsync(fd)
        self._torn = None
        self.repairs += 1
        log.warning(
            "audit log %s: cut back %d bytes of line %d, cut short by an earlier write (%s); "
            "the file again ends after line %d",
            self.path,
            len(torn),
            seq,
            why,
            seq - 1,
        )
        return os.fstat(fd)

    def _tail(self, fd: int) -> tuple[int, str]:
        last = next(iter_lines_backward(fd), None)
        if last is None:
            return 0, ""
        size = os.fstat(fd).st_size
        if os.pread(fd, 1, size - 1) != b"\n":
            raise AuditWriteError(
                f"audit log {self.path} ends in an incomplete line that this process did not "
                "write (only its writer cuts one back); run `futucli audit verify` and move the "
                "file aside to start a new chain"
            )
        try:
            head = json.loads(last)
            seq, prev = head["seq"], head["hash"]
            if type(seq) is not int or not isinstance(prev, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise AuditWriteError(
                f"audit log {self.path} ends in a damaged line; run `futucli audit verify` "
                "and move the file aside to start a new chain"
            ) from None
        return seq, prev


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"lock not acquired within {LOCK_TIMEOUT_S:g} s"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def parse_line(raw: bytes) -> dict[str, Any]:
    """Decode one stored line into a record; ValueError with a short reason if it is not one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    if not text.strip():
        raise ValueError("empty line")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    return record


def _check_line(raw: bytes, expected_seq: int, expected_prev: str) -> tuple[dict[str, Any], str]:
    """Return (record, problem); problem is "" when the line extends the chain correctly."""
    try:
        record = parse_line(raw)
    except ValueError as exc:
        return {}, str(exc)
    seq, prev, stored = record.get("seq"), record.get("prev"), record.get("hash")
    if type(seq) is not int or not isinstance(prev, str) or not isinstance(stored, str):
        return record, "missing seq, prev or hash"
    if seq != expected_seq:
        return record, f"seq is {seq}, expected {expected_seq}"
    if prev != expected_prev:
        return record, "prev does not match the hash of the previous line"
    if line_hash(prev, record) != stored:
        return record, "hash does not match the line's content"
    return record, ""


_REWRITTEN = "hash differs from the anchor: the log was rewritten"


def verify_file(path: Path, *, anchor: tuple[int, str] | None = None) -> VerifyResult:
    """Walk the whole chain and report the first line that breaks it (1-based line number).

    `anchor` is a (seq, hash) kept from an earlier verify: the chain alone cannot show a log
    rewritten from the start or cut short at the end, the anchor can.
    """
    path = Path(path)
    size = _stable_size(path)
    prev, count = "", 0
    with open(path, "rb") as fh:
        remaining = size
        for lineno, raw in enumerate(fh, start=1):
            if remaining <= 0:
                break
            remaining -= len(raw)
            if not raw.endswith(b"\n"):
                return VerifyResult(
                    False, count, lineno, "incomplete last line (no newline)", prev or None
                )
            record, problem = _check_line(raw[:-1], count + 1, prev)
            at_anchor = anchor is not None and anchor[0] == count + 1
            if not problem and at_anchor and record["hash"] != anchor[1]:
                problem = _REWRITTEN
            if problem:
                return VerifyResult(False, count, lineno, problem, prev or None)
            prev, count = record["hash"], count + 1
    if anchor is not None and count < anchor[0]:
        problem = f"the log ends before the anchor's seq {anchor[0]}: lines were removed"
        return VerifyResult(False, count, count + 1, problem, prev or None)
    return VerifyResult(True, count, None, None, prev or None)


def _stable_size(path: Path) -> int:
    """The file's size at a moment no writer was mid-line, so verify never reads a torn append."""
    lock = FileLock(path.with_name(path.name + ".lock"), timeout=LOCK_TIMEOUT_S, mode=0o600)
    try:
        with lock:
            return path.stat().st_size
    except OSError:
        # A read-only copy (no lock file can be made): nobody appends to it.
        return path.stat().st_size


def read_records(
    path: Path, *, last: int | None = None, keep: Callable[[dict[str, Any]], bool] | None = None
) -> list[dict[str, Any]]:
    """The parsed lines of the log, oldest first; unparsable lines and those `keep` rejects skipped.

    `last` keeps only the newest N, read from the end so a large log costs little.
    """
    out: list[dict[str, Any]] = []
    fd = os.open(path, os.O_RDONLY)
    try:
        for raw in iter_lines_backward(fd):
            if last is not None and len(out) >= last:
                break
            try:
                record = parse_line(raw)
            except ValueError:
                continue
            if keep is None or keep(record):
                out.append(record)
    finally:
        os.close(fd)
    out.reverse()
    return out
