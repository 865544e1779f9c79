"""Several replicas' audit files: each line names its replica, `audit verify` checks every file's
own chain, `audit tail` merges them by time (also while following)."""

import json
import queue
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from futu_mcp.audit import AuditLog
from futucli.app import app
from tests.conftest import console_script

runner = CliRunner()


def call(log: AuditLog, code: str) -> dict:
    """One line, stamped in a millisecond of its own (stamps have millisecond resolution, so
    lines of two files in one millisecond keep no order between them)."""
    start = datetime.now(UTC).isoformat(timespec="milliseconds")
    while datetime.now(UTC).isoformat(timespec="milliseconds") == start:
        pass
    return log.write(
        {
            "key_id": "bot",
            "kid": "Ab3dEf9h",
            "transport": "http",
            "tool": "futu_get_quote",
            "phase": "call",
            "arguments": {"code": code},
            "decision": "allow",
            "replica": "forged",  # the log sets it itself
        },
        fsync=False,
    )


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    log_a, log_b = AuditLog(a, replica="rep-a"), AuditLog(b, replica="rep-b")
    for i in range(3):
        assert call(log_a, f"HK.0000{2 * i}")["replica"] == "rep-a"
        assert call(log_b, f"HK.0000{2 * i + 1}")["replica"] == "rep-b"
    return a, b


def test_each_file_is_verified_on_its_own(two_files: tuple[Path, Path]) -> None:
    a, b = two_files
    result = runner.invoke(app, ["audit", "verify", str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert f"{a}: OK: 3 lines, chain intact" in result.stdout
    assert f"{b}: OK: 3 lines, chain intact" in result.stdout
    lines = b.read_text().splitlines()
    record = json.loads(lines[1])
    record["replica"] = "rep-a"  # a line moved to another replica's name breaks that chain
    lines[1] = json.dumps(record, separators=(",", ":"))
    b.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["audit", "verify", str(a), str(b)])
    assert result.exit_code == 1
    assert f"{a}: OK: 3 lines" in result.stdout
    assert f"{b}: broken at line 2" in result.stdout


def test_one_anchor_is_for_one_file(two_files: tuple[Path, Path]) -> None:
    a, b = two_files
    result = runner.invoke(app, ["audit", "verify", str(a), str(b), "--anchor", "1:" + "0" * 64])
    assert result.exit_code == 2
    assert "one file at a time" in result.stderr


def test_tail_merges_by_time_with_the_replica(
    two_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    a, b = two_files
    out = runner.invoke(app, ["audit", "tail", str(a), str(b), "-n", "4"]).stdout
    rows = [line for line in out.splitlines() if "HK.0" in line]
    assert [row.split("HK.")[1][:5] for row in rows] == ["00002", "00003", "00004", "00005"]
    assert [row.split()[0] for row in rows] == ["rep-a", "rep-b", "rep-a", "rep-b"]
    assert "replica" in out.splitlines()[0]
    single = runner.invoke(app, ["audit", "tail", str(a)]).stdout
    assert "replica" not in single  # one file: the table as before


def test_follow_prints_lines_of_every_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    log_a, log_b = AuditLog(a, replica="rep-a"), AuditLog(b, replica="rep-b")
    call(log_a, "HK.00001")
    proc = subprocess.Popen(
        [console_script("futucli"), "audit", "tail", "-f", str(a), str(b), "-n", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        lines.get(timeout=20)  # the header: it is following now
        call(log_b, "HK.00777")
        call(log_a, "HK.00888")
        seen = ""
        while "HK.00777" not in seen or "HK.00888" not in seen:
            seen += lines.get(timeout=20)
        assert "rep-b" in seen and "rep-a" in seen
    finally:
        proc.terminate()
        proc.wait(timeout=10)
