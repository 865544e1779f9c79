"""`futucli audit verify|tail` against logs written by futu_mcp.audit."""

import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from futu_mcp.audit import AuditLog, default_audit_path
from futucli.app import app
from tests.conftest import console_script

runner = CliRunner()


def _write(path: Path, n: int, **fields: object) -> list[dict]:
    log = AuditLog(path)
    return [
        log.write(
            {
                "key_id": fields.get("key_id", "bot"),
                "kid": fields.get("kid", "Ab3dEf9h"),
                "transport": "stdio",
                "tool": fields.get("tool", "futu_get_quote"),
                "phase": "call",
                "arguments": {"code": f"HK.{i:05d}"},
                "decision": "allow",
                "latency_ms": 3,
            },
            fsync=False,
        )
        for i in range(n)
    ]


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows on one line each, whatever the terminal the tests run in."""
    monkeypatch.setenv("COLUMNS", "200")


def test_verify_intact_log_prints_the_head(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    written = _write(path, 3)
    result = runner.invoke(app, ["audit", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "OK: 3 lines, chain intact",
        f"head: 3:{written[-1]['hash']} (keep it elsewhere; check with --anchor)",
    ]


def test_anchor_catches_a_rewritten_or_shortened_log(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    written = _write(path, 4)
    anchor = f"3:{written[2]['hash']}"
    assert runner.invoke(app, ["audit", "verify", str(path), "--anchor", anchor]).exit_code == 0

    # Someone who can write the file rebuilds a consistent chain with other content...
    path.unlink()
    _write(path, 4, key_id="forged")
    assert runner.invoke(app, ["audit", "verify", str(path)]).exit_code == 0
    rewritten = runner.invoke(app, ["audit", "verify", str(path), "--anchor", anchor])
    assert rewritten.exit_code == 1
    assert rewritten.stdout.strip() == (
        "broken at line 3: hash differs from the anchor: the log was rewritten"
    )
    # ...or cuts the last lines off.
    path.unlink()
    _write(path, 2)
    short = runner.invoke(app, ["audit", "verify", str(path), "--anchor", anchor])
    assert short.exit_code == 1
    assert "the log ends before the anchor's seq 3" in short.stdout


@pytest.mark.parametrize("anchor", ["3", "x:abc", "0:" + "a" * 64, "3:" + "A" * 64, "3:abc"])
def test_bad_anchor_is_a_usage_error(tmp_path: Path, anchor: str) -> None:
    path = tmp_path / "audit.jsonl"
    _write(path, 1)
    result = runner.invoke(app, ["audit", "verify", str(path), "--anchor", anchor])
    assert result.exit_code == 2
    assert "expected SEQ:HASH" in result.stderr


def test_verify_names_the_broken_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _write(path, 4)
    lines = path.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace('"allow"', '"deny"')
    path.write_text("".join(lines))
    proc = subprocess.run(
        [console_script("futucli"), "audit", "verify", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout.strip() == "broken at line 2: hash does not match the line's content"


def test_verify_missing_file_fails(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "verify", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1
    assert "cannot read" in result.stderr and "nope.jsonl" in result.stderr


def test_verify_requires_a_path() -> None:
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 2


def test_tail_shows_newest_lines_and_filters(tmp_path: Path, wide: None) -> None:
    path = tmp_path / "audit.jsonl"
    _write(path, 5)
    _write(path, 2, key_id="other", kid="Zz9yXw8v", tool="futu_place_order")
    out = runner.invoke(app, ["audit", "tail", str(path), "-n", "3"]).stdout
    assert "HK.00004" in out and "HK.00003" not in out
    assert out.count("place_order") == 2

    out = runner.invoke(app, ["audit", "tail", str(path), "--key", "bot"]).stdout
    assert all(f"HK.{i:05d}" in out for i in range(5)) and "other" not in out

    by_kid = runner.invoke(app, ["audit", "tail", str(path), "--key", "Zz9yXw8v"]).stdout
    by_tool = runner.invoke(app, ["audit", "tail", str(path), "--tool", "place_order"]).stdout
    for out in (by_kid, by_tool):
        assert "other" in out and "get_quote" not in out
        assert len([line for line in out.splitlines() if "place_order" in line]) == 2


def test_tail_fits_an_80_column_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 80 columns the date is dropped and every column keeps its header on one line."""
    monkeypatch.setenv("COLUMNS", "80")
    path = tmp_path / "audit.jsonl"
    written = _write(path, 2, tool="futu_get_positions")
    out = runner.invoke(app, ["audit", "tail", str(path)]).stdout
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), out
    assert lines[0].split()[:6] == ["seq", "UTC", "key", "tool", "phase", "decision"]
    time_of_day = written[-1]["ts"][11:19]
    assert any(
        line.split()[:5] == ["2", time_of_day, "bot", "get_positions", "call"] for line in lines
    ), out


def test_tail_does_not_interpret_what_the_log_holds(tmp_path: Path, wide: None) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path).write(
        {"tool": "[i]t[/i]", "arguments": {"note": "[bold]b[/bold]"}, "error": "\x1b]0;pwned\x07"},
        fsync=False,
    )
    out = runner.invoke(app, ["audit", "tail", str(path)]).stdout
    assert "[i]t[/i]" in out and "[bold]b[/bold]" in out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07" in out


def test_tail_defaults_to_the_state_folder(wide: None) -> None:
    path = default_audit_path()
    assert str(path).startswith(os.environ["XDG_STATE_HOME"])
    _write(path, 1)
    result = runner.invoke(app, ["audit", "tail"])
    assert result.exit_code == 0 and "HK.00000" in result.stdout


def test_tail_missing_file_fails(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "tail", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1 and "no audit log" in result.stderr


def test_tail_rejects_negative_count(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _write(path, 1)
    assert runner.invoke(app, ["audit", "tail", str(path), "-n", "-1"]).exit_code == 2


def _reader(stream) -> "queue.Queue[str]":
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    return lines


def _wait_for(lines: "queue.Queue[str]", needle: str, seen: list[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"{needle!r} not printed; got {seen!r}")


def test_tail_follow_prints_new_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _write(path, 1)
    proc = subprocess.Popen(
        [console_script("futucli"), "audit", "tail", str(path), "-f", "--tool", "get_quote"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        lines = _reader(proc.stdout)
        seen: list[str] = []
        _wait_for(lines, "HK.00000", seen)
        log = AuditLog(path)
        log.write({"tool": "futu_place_order", "arguments": {"code": "US.SKIPPED"}}, fsync=False)
        log.write({"tool": "futu_get_quote", "arguments": {"code": "US.FOLLOWED"}}, fsync=False)
        _wait_for(lines, "US.FOLLOWED", seen)
        assert not any("US.SKIPPED" in line for line in seen)
        assert sum("arguments" in line for line in seen) == 1  # the header only once
        # Rotated: a new, longer log takes the name; it is followed from its first line.
        path.rename(tmp_path / "audit.1.jsonl")
        fresh = tmp_path / "fresh.jsonl"
        AuditLog(fresh).write(
            {"tool": "futu_get_quote", "arguments": {"code": "US.ROTATED"}}, fsync=False
        )
        _write(fresh, 10)
        fresh.rename(path)
        _wait_for(lines, "US.ROTATED", seen)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert json.loads(path.read_text().splitlines()[0])["arguments"]["code"] == "US.ROTATED"
