"""The audit log: chain, tamper detection, restarts, fail-closed writes, redaction."""

import hashlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from futu_mcp.audit import (
    MAX_LINE_BYTES,
    REDACTED,
    AuditLog,
    AuditWriteError,
    iter_lines_backward,
    line_hash,
    read_records,
    verify_file,
)


def _trade_record(i: int) -> dict:
    return {
        "key_id": "bot",
        "kid": "Ab3dEf9h",
        "transport": "stdio",
        "tool": "futu_place_order",
        "phase": "intent",
        "arguments": {"code": "HK.00700", "qty": 100 + i, "price": 300.5, "trd_side": "BUY"},
        "decision": "allow",
        "reason": None,
    }


def _fill(log: AuditLog, n: int) -> list[dict]:
    return [log.write(_trade_record(i), fsync=False) for i in range(n)]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_lines_chain_and_verify(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    written = _fill(AuditLog(path), 5)
    assert [r["seq"] for r in written] == [1, 2, 3, 4, 5]
    assert written[0]["prev"] == ""
    for before, after in itertools.pairwise(written):
        assert after["prev"] == before["hash"]
    on_disk = [json.loads(line) for line in _lines(path)]
    assert on_disk == written
    for record in on_disk:
        assert record["hash"] == line_hash(record["prev"], record)
        assert record["ts"].endswith("Z") and len(record["ts"]) == len("2026-01-01T00:00:00.000Z")
    assert verify_file(path) == (True, 5, None, None, written[-1]["hash"])


def test_file_and_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "audit.jsonl"
    AuditLog(path).write(_trade_record(0), fsync=True)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_restart_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first = _fill(AuditLog(path), 3)
    again = AuditLog(path).write(_trade_record(9), fsync=True)
    assert again["seq"] == 4
    assert again["prev"] == first[-1]["hash"]
    assert verify_file(path).ok


def test_two_writers_interleaved_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first, second = AuditLog(path), AuditLog(path)
    seqs = [
        log.write(_trade_record(i), fsync=False)["seq"]
        for i, log in enumerate([first, second, first, first, second])
    ]
    assert seqs == [1, 2, 3, 4, 5]
    assert verify_file(path).ok


def test_a_moved_away_log_starts_a_new_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    _fill(log, 2)
    path.rename(tmp_path / "audit.1.jsonl")
    fresh = log.write(_trade_record(9), fsync=True)
    assert (fresh["seq"], fresh["prev"]) == (1, "")
    assert verify_file(path).ok and verify_file(tmp_path / "audit.1.jsonl").ok


def test_reserved_fields_from_the_caller_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.write(_trade_record(0), fsync=False)
    forged = log.write({"tool": "x", "seq": 99, "prev": "forged", "hash": "forged"}, fsync=False)
    assert (forged["seq"], forged["prev"]) == (2, json.loads(_lines(path)[0])["hash"])
    assert verify_file(path).ok


def test_values_that_are_not_json_native_are_stored_plainly(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"

    class Opaque:
        def __repr__(self) -> str:
            return "Opaque(secret-inside)"

    record = AuditLog(path).write(
        {
            "tool": "t",
            "result": {
                "value": Decimal("1.10"),
                "sides": {"BUY"},
                "obj": Opaque(),
                "nan": float("nan"),
                "inf": float("-inf"),
            },
        },
        fsync=False,
    )
    assert record["result"] == {
        "value": "1.10",
        "sides": ["BUY"],
        "obj": "<Opaque>",
        "nan": "nan",
        "inf": "-inf",
    }
    assert "NaN" not in path.read_text() and "Infinity" not in path.read_text()
    assert "secret-inside" not in path.read_text()
    assert verify_file(path).ok


def test_fsync_is_called_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.write(_trade_record(0), fsync=False)  # creates the file (and syncs its folder) first
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    log.write(_trade_record(1), fsync=False)
    assert synced == []
    log.write(_trade_record(2), fsync=True)
    assert synced == [path.stat().st_ino]


# --- tampering: verify names exactly the line that was changed ---------------------------------


@pytest.mark.parametrize("target", [1, 4, 8])
def test_edited_line_is_reported(tmp_path: Path, target: int) -> None:
    path = tmp_path / "audit.jsonl"
    written = _fill(AuditLog(path), 8)
    lines = _lines(path)
    lines[target - 1] = lines[target - 1].replace('"qty":', '"qty":1')
    path.write_text("".join(lines))
    result = verify_file(path)
    assert (result.ok, result.first_bad_line, result.lines) == (False, target, target - 1)
    assert result.problem == "hash does not match the line's content"
    assert result.head == (written[target - 2]["hash"] if target > 1 else None)


def test_edited_line_with_recomputed_hash_breaks_the_next_link(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _fill(AuditLog(path), 5)
    lines = _lines(path)
    record = json.loads(lines[2])
    record["decision"] = "deny"
    record["hash"] = line_hash(record["prev"], record)
    lines[2] = json.dumps(record) + "\n"
    path.write_text("".join(lines))
    assert verify_file(path).first_bad_line == 4


@pytest.mark.parametrize("target", [1, 3, 7])
def test_deleted_line_is_reported(tmp_path: Path, target: int) -> None:
    path = tmp_path / "audit.jsonl"
    _fill(AuditLog(path), 8)
    lines = _lines(path)
    del lines[target - 1]
    path.write_text("".join(lines))
    result = verify_file(path)
    assert (result.ok, result.first_bad_line) == (False, target)


@pytest.mark.parametrize("target", [1, 4, 7])
def test_swapped_lines_are_reported(tmp_path: Path, target: int) -> None:
    path = tmp_path / "audit.jsonl"
    _fill(AuditLog(path), 8)
    lines = _lines(path)
    lines[target - 1], lines[target] = lines[target], lines[target - 1]
    path.write_text("".join(lines))
    result = verify_file(path)
    assert (result.ok, result.first_bad_line) == (False, target)


@pytest.mark.parametrize(
    ("garbage", "problem"),
    [
        (b"not json at all\n", "not JSON"),
        (b"\n", "empty line"),
        (b"[1, 2]\n", "not a JSON object"),
        (b'{"seq": 3}\n', "missing seq, prev or hash"),
        (b"\xff\xfe\n", "not UTF-8"),
    ],
)
def test_garbage_line_is_reported(tmp_path: Path, garbage: bytes, problem: str) -> None:
    path = tmp_path / "audit.jsonl"
    _fill(AuditLog(path), 2)
    with open(path, "ab") as fh:
        fh.write(garbage)
    result = verify_file(path)
    assert (result.ok, result.first_bad_line, result.lines) == (False, 3, 2)
    assert result.problem is not None and result.problem.startswith(problem)


def test_empty_file_verifies(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"")
    assert verify_file(path) == (True, 0, None, None, None)


# --- fail closed --------------------------------------------------------------------------------


def test_unwritable_path_fails_on_write_not_construction(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    log = AuditLog(blocker / "audit.jsonl")  # must not raise: read tools keep working
    with pytest.raises(AuditWriteError, match=r"cannot write audit log .*audit\.jsonl"):
        log.write(_trade_record(0), fsync=True)
    # Fixing the cause lets the same instance write again; the failure is not sticky.
    blocker.unlink()
    assert log.write(_trade_record(1), fsync=True)["seq"] == 1


@pytest.mark.parametrize("mode", [0o644, 0o660, 0o606])
def test_a_log_others_can_read_or_write_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.write(_trade_record(0), fsync=False)
    path.chmod(mode)
    before = path.read_bytes()
    with pytest.raises(AuditWriteError, match=rf"mode {mode:04o}\)\. Fix: chmod 600 "):
        log.write(_trade_record(1), fsync=True)
    assert path.read_bytes() == before
    path.chmod(0o600)
    assert log.write(_trade_record(1), fsync=True)["seq"] == 2


def test_a_log_owned_by_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.write(_trade_record(0), fsync=False)
    # Whoever runs the suite, the file's owner is then "someone else".
    monkeypatch.setattr(os, "getuid", lambda: path.stat().st_uid + 1)
    with pytest.raises(AuditWriteError, match=r"owned by uid .*Fix: chown"):
        log.write(_trade_record(1), fsync=True)
    assert len(_lines(path)) == 1


def test_path_that_is_a_folder_fails_on_write(tmp_path: Path) -> None:
    folder = tmp_path / "audit.jsonl"
    folder.mkdir()
    log = AuditLog(folder)
    with pytest.raises(AuditWriteError):
        log.write(_trade_record(0), fsync=False)


def test_symlinked_log_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.jsonl"
    real.write_bytes(b"")
    link = tmp_path / "audit.jsonl"
    link.symlink_to(real)
    with pytest.raises(AuditWriteError):
        AuditLog(link).write(_trade_record(0), fsync=False)
    assert real.read_bytes() == b""


@pytest.mark.parametrize("tail", [b'{"seq": 2, "prev": "', b"}{garbage\n"])
def test_damaged_tail_refuses_to_continue_the_chain(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "audit.jsonl"
    _fill(AuditLog(path), 1)
    with open(path, "ab") as fh:
        fh.write(tail)
    before = path.read_bytes()
    with pytest.raises(AuditWriteError, match="verify"):
        AuditLog(path).write(_trade_record(1), fsync=True)
    assert path.read_bytes() == before
    assert verify_file(path).first_bad_line == 2


def test_a_record_that_cannot_be_serialised_is_an_audit_write_error(tmp_path: Path) -> None:
    cyclic: dict = {"tool": "t"}
    cyclic["self"] = cyclic
    with pytest.raises(AuditWriteError):
        AuditLog(tmp_path / "a.jsonl").write(cyclic, fsync=True)


def test_a_boolean_seq_is_not_a_seq(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    record = {"v": 1, "seq": True, "ts": "2026-01-01T00:00:00.000Z", "tool": "t", "prev": ""}
    record["hash"] = line_hash("", record)
    path.write_text(json.dumps(record) + "\n")
    path.chmod(0o600)
    assert verify_file(path).problem == "missing seq, prev or hash"
    with pytest.raises(AuditWriteError, match="damaged"):
        AuditLog(path).write({"tool": "t"}, fsync=False)


def test_error_message_never_carries_the_record(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(AuditWriteError) as caught:
        AuditLog(blocker / "a.jsonl").write({"tool": "canary-tool-xyz"}, fsync=True)
    assert "canary-tool-xyz" not in str(caught.value)


# --- redaction ----------------------------------------------------------------------------------

CANARY_TOKEN = "fc_Ab3dEf9h_" + "CANARYcanary0123456789abcdefghijklmnopqrstu" + "Zz09Yy"
CANARY_LEGACY = "fc_" + "c0ffee" * 5 + "ab"
CANARY_MD5 = "e10adc3949ba59abbe56e057f20f883e"
CANARY_PASSWORD = "canary-pass-7781"


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    record = {
        "tool": "futu_get_quote",
        "arguments": {
            "code": "HK.00700",
            "note": f"token is {CANARY_TOKEN} ok",
            "nested": [{"header": f"Authorization: Bearer {CANARY_TOKEN}"}],
            "legacy": CANARY_LEGACY,
        },
        "error": f"bearer {CANARY_MD5}",
        "password": CANARY_PASSWORD,
        "pwdMD5": CANARY_MD5,
        "Authorization": f"Bearer {CANARY_TOKEN}",
        "extra": {"api_key": CANARY_TOKEN, "trade_pwd": CANARY_PASSWORD, "TOKEN": "x"},
        CANARY_TOKEN: "a token used as a key name",
    }
    written = AuditLog(path).write(record, fsync=True)
    text = path.read_text()
    for canary in (CANARY_TOKEN, CANARY_LEGACY, CANARY_MD5, CANARY_PASSWORD, "CANARYcanary"):
        assert canary not in text
    assert written["password"] == REDACTED and written["pwdMD5"] == REDACTED
    assert written["arguments"]["code"] == "HK.00700"  # ordinary values untouched
    assert written["redactions"] >= 10
    assert verify_file(path).ok


def test_clean_record_has_no_redaction_marker(tmp_path: Path) -> None:
    written = AuditLog(tmp_path / "a.jsonl").write(_trade_record(0), fsync=False)
    assert "redactions" not in written
    assert written["arguments"] == _trade_record(0)["arguments"]


# --- concurrency --------------------------------------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
from futu_mcp.audit import AuditLog
path, name, count, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
log = AuditLog(path)
(go.parent / f"ready-{name}").touch()
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:
    pass  # spin: every writer must start at the same instant
for i in range(count):
    log.write({"tool": "t", "writer": name, "i": i}, fsync=(i % 10 == 0))
"""


def _interleaved(records: list[dict]) -> bool:
    """True if some writer's lines are not all in one run, i.e. the writers really overlapped."""
    runs = [r["writer"] for r in records]
    changes = sum(1 for a, b in itertools.pairwise(runs) if a != b)
    return changes > len(set(runs)) - 1


def test_concurrent_processes_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    go = tmp_path / "go"
    writers, per_writer = 4, 500  # long enough that the writers overlap on two cores too
    names = [f"w{n}" for n in range(writers)]
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(per_writer), str(go)])
        for name in names
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{name}").exists() for name in names):
        assert time.monotonic() < deadline, "writers did not start"
        assert all(p.poll() is None for p in procs), "a writer died before starting"
    # Threads of this process, each with its own AuditLog, join the processes at the same time.
    thread_logs = [AuditLog(path) for _ in range(2)]
    threads = [
        threading.Thread(
            target=lambda n=n: [
                thread_logs[n].write({"tool": "t", "writer": f"t{n}", "i": i}, fsync=False)
                for i in range(per_writer)
            ]
        )
        for n in range(2)
    ]
    go.touch()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [p.wait(timeout=60) for p in procs] == [0] * writers
    total = (writers + 2) * per_writer
    assert verify_file(path)[:4] == (True, total, None, None)
    records = [json.loads(line) for line in _lines(path)]
    assert [r["seq"] for r in records] == list(range(1, total + 1))
    for writer in [*names, "t0", "t1"]:
        assert [r["i"] for r in records if r["writer"] == writer] == list(range(per_writer))
    assert _interleaved(records), "the writers ran one after another; nothing was tested"


# --- reading ------------------------------------------------------------------------------------


@given(st.lists(st.binary(max_size=300).map(lambda b: b.replace(b"\n", b"")), max_size=40))
def test_backward_reader_matches_forward_split(tmp_path_factory, lines: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("back") / "f"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    fd = os.open(path, os.O_RDONLY)
    try:
        assert list(iter_lines_backward(fd)) == list(reversed(lines))
    finally:
        os.close(fd)


def test_backward_reader_across_chunks_and_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "f"
    long_line = b"x" * 200_000
    path.write_bytes(b"a\n" + long_line + b"\n" + b"torn")
    fd = os.open(path, os.O_RDONLY)
    try:
        assert list(iter_lines_backward(fd)) == [b"torn", long_line, b"a"]
    finally:
        os.close(fd)


def test_read_records_last_and_filter(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(10):
        log.write({"tool": "a" if i % 2 else "b", "i": i}, fsync=False)
    with open(path, "ab") as fh:
        fh.write(b"garbage\n")
    assert [r["i"] for r in read_records(path, last=3)] == [7, 8, 9]
    assert [r["i"] for r in read_records(path, last=2, keep=lambda r: r["tool"] == "b")] == [6, 8]
    assert len(read_records(path)) == 10


# --- size caps ----------------------------------------------------------------------------------


def test_a_long_string_is_kept_as_its_head_length_and_sha256(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    huge = "A" * 1_000_000
    record = {"tool": "futu_get_quote", "arguments": {"codes": huge, "ok": "x" * 256}}
    written = AuditLog(path).write(
        {**record, "error": f"invalid argument: codes: {huge}"}, fsync=False
    )
    digest = hashlib.sha256(huge.encode()).hexdigest()
    assert written["arguments"]["codes"] == f"{'A' * 64}…[1000000 chars, sha256 {digest}]"
    assert written["arguments"]["ok"] == "x" * 256  # at the limit: kept whole
    assert written["error"].startswith("invalid argument: codes: AAA")
    assert "[1000025 chars, sha256 " in written["error"]
    assert path.stat().st_size < 1024
    assert verify_file(path).ok


@pytest.mark.parametrize(
    "arguments",
    [
        {"codes": ["HK.00700"] * 20_000},  # many short values
        {f"k{i}": "v" * 200 for i in range(500)},  # many keys
        {"x" * 300 + str(i): i for i in range(2_000)},  # long keys
        {"deep": [[[[["y" * 250] * 40] * 4] * 4]]},  # nested
    ],
)
def test_no_line_exceeds_16_kib_and_the_chain_holds(tmp_path: Path, arguments: dict) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    error = "e" * 250
    for _ in range(2):
        log.write(
            {"tool": "t", "arguments": arguments, "error": error, "latency_ms": 1.0}, fsync=False
        )
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 2 and all(len(line) <= MAX_LINE_BYTES for line in lines)
    record = json.loads(lines[0])
    assert record["arguments"].startswith("[omitted: ") and record["arguments"].endswith("]")
    assert record["tool"] == "t" and record["error"] == error  # small fields stay as they were
    assert verify_file(path).ok


def test_a_lone_surrogate_cannot_make_its_line_unwritable(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    written = AuditLog(path).write({"tool": "t", "arguments": {"code": "HK.\ud800"}}, fsync=True)
    assert written["arguments"]["code"] == "HK.\\ud800"
    assert verify_file(path).ok


# --- a write cut short (disk full, file size limit) ---------------------------------------------

# Runs in a child: RLIMIT_FSIZE is per process, and SIGXFSZ ignored makes a write past it EFBIG.
CUT_SHORT = r"""
import json, logging, os, resource, signal, sys
from futu_mcp.audit import AuditLog, AuditWriteError
logging.basicConfig(level=logging.WARNING, format="%(message)s")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
path, mode = sys.argv[1], sys.argv[2]
ftruncate_fails = mode in ("at-next-write", "appended-to")
log = AuditLog(path)
for i in range(3):
    log.write({"tool": "t", "i": i}, fsync=True)
size = os.path.getsize(path)
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 40, hard))
real_ftruncate = os.ftruncate
if ftruncate_fails:
    def failing(fd, length):
        os.ftruncate = real_ftruncate
        raise OSError(5, "Input/output error")
    os.ftruncate = failing
out = {"before": size}
try:
    log.write({"tool": "t", "i": 3}, fsync=True)
except AuditWriteError as exc:
    out["refused"] = str(exc)
out["after_failure"] = os.path.getsize(path)
try:
    AuditLog(path).write({"tool": "other writer"}, fsync=True)
except AuditWriteError as exc:
    out["other"] = str(exc)
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
if mode == "appended-to":  # someone wrote after the torn line: it is not only ours any more
    with open(path, "ab") as fh:
        fh.write(b"more\n")
    out["before_retry"] = open(path, "rb").read()
    try:
        log.write({"tool": "t", "i": 4}, fsync=True)
    except AuditWriteError as exc:
        out["retry"] = str(exc)
    out["untouched"] = open(path, "rb").read() == out.pop("before_retry")
else:
    log.write({"tool": "t", "i": 4}, fsync=True)
out["repairs"] = log.repairs
print(json.dumps(out))
"""


@pytest.mark.parametrize("ftruncate_fails", [False, True], ids=["at-once", "at-next-write"])
def test_a_line_cut_short_is_cut_back_and_the_chain_goes_on(
    tmp_path: Path, ftruncate_fails: bool
) -> None:
    path = tmp_path / "audit.jsonl"
    mode = "at-next-write" if ftruncate_fails else "at-once"
    run = subprocess.run(
        [sys.executable, "-c", CUT_SHORT, str(path), mode],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert "File too large" in out["refused"]
    assert out["repairs"] == 1
    assert (
        "cut back 40 bytes of line 4, cut short by an earlier write (File too large)" in run.stderr
    )
    if ftruncate_fails:
        # The torn line stays until its own writer's next write; another writer leaves it.
        assert out["after_failure"] == out["before"] + 40
        assert "did not write" in out["other"]
    else:
        assert out["after_failure"] == out["before"]
        assert "File too large" in out["other"]
    records = [json.loads(line) for line in _lines(path)]
    assert [r.get("i") for r in records] == [0, 1, 2, 4]
    assert verify_file(path)[:4] == (True, 4, None, None)


def test_a_torn_line_someone_wrote_after_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    run = subprocess.run(
        [sys.executable, "-c", CUT_SHORT, str(path), "appended-to"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["untouched"] and out["repairs"] == 0
    assert "damaged line" in out["retry"]
    assert verify_file(path).first_bad_line == 4


def test_a_torn_tail_this_writer_did_not_write_is_never_cut(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    _fill(log, 2)
    whole = path.read_bytes()
    path.write_bytes(whole[:-1])  # the last line lost only its newline: complete, maybe fsynced
    for _ in range(2):
        with pytest.raises(AuditWriteError, match="did not write"):
            log.write(_trade_record(2), fsync=True)
    assert path.read_bytes() == whole[:-1] and log.repairs == 0
