"""`futucli demo` runs the whole path (sim, key, futu-mcp over stdio, audit, metrics), shows the
quote, the fill and the refusal, and leaves nothing behind: no files, no processes, no ports."""

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import console_script

TOKEN = re.compile(r"fc_[0-9A-Za-z]{8}_[0-9A-Za-z]{40,}")
DEMO_DEADLINE_S = 20.0


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that contain `text` (the demo's temporary folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


def test_demo_tour(isolated_home: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    started = time.monotonic()
    done = subprocess.run(
        [console_script("futucli"), "demo", "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "HOME": str(isolated_home),
            "PATH": "/usr/bin:/bin",
            "COLUMNS": "200",
            "TMPDIR": str(scratch),
        },
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert elapsed < DEMO_DEADLINE_S, f"demo took {elapsed:.1f} s"
    # The tool list, as tools/list returned it for the demo key's scopes.
    # default, history, calendar and derivatives
    assert "read-only (29)" in out and "destructive (3)" in out
    # Quotes: a row for each asked code, with a price.
    assert re.search(r"HK\.00700\s+│\s+TENCENT\s+│\s+[\d.]+", out)
    assert re.search(r"US\.AAPL\s+│\s+Apple Inc\.\s+│\s+[\d.]+", out)
    # Five day bars, then the book.
    assert len(re.findall(r"│ \d{4}-\d\d-\d\dT00:00:00\+08:00 │", out)) == 5  # HK time
    assert re.search(r"bid volume\s+┃\s+bid\s+┃\s+ask\s+┃\s+ask volume", out)
    # The paper buy fills, and the position is there afterwards.
    assert re.search(r"order \d+: SUBMITTED, value [\d,.]+ HKD", out)
    assert re.search(r"FILLED_ALL: 100 shares at [\d.]+", out)
    assert re.search(r"Positions after the fill.*\n(.*\n)*.*HK\.00700\s+│\s+TENCENT", out)
    # Buying power and the account's past, as a trader asks for them.
    assert re.search(r"at [\d.]+: [\d,]+ shares with cash, [\d,]+ held to sell", out)
    assert re.search(r"the last \d+ of \d+ orders since \d{4}-\d\d-\d\d", out)
    assert re.search(r"\d{4}-\d\d-\d\dT[\d:.]+\+08:00\s+│\s+BUY\s+│\s+100\b", out)
    # The options question: the calls near the money at the monthly expiry, with greeks.
    assert re.search(r"nearest monthly expiry \d{4}-\d\d-\d\d; AAPL at [\d.]+", out)
    calls = re.findall(r"US\.AAPL\d{6}C\d+\s+│\s+[\d.]+\s+│\s+[\d.]+\s+│\s+0\.\d+", out)
    assert calls, out
    # The over-limit order is refused with its reason.
    assert re.search(r"refused: limit check failed: order value [\d.]+ exceeds 100000", out)
    # The audit lines and metrics the run produced.
    assert re.search(r"\b4\b.*place_order\s+intent\s+allow", out)
    assert re.search(r"\d+ hash-chained lines, chain intact", out)
    assert re.search(r"futu_mcp_calls_total\s+│\s+futu_place_order\s+│\s+denied\s+│\s+1", out)
    assert re.search(r"futu_mcp_limit_denials_total\s+│\s+order_value\s+│\s+│\s+1", out)
    assert not TOKEN.search(out + done.stderr)
    # Nothing left behind: no files in the temporary area or the home, no process, no port.
    assert list(scratch.iterdir()) == []
    assert list(isolated_home.iterdir()) == []
    assert _processes_mentioning(str(scratch)) == []
    metrics = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", out)
    assert metrics, out
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(metrics.group(1)))) != 0


def test_demo_with_a_broken_server_says_why_and_fails(isolated_home: Path, tmp_path: Path) -> None:
    """When futu-mcp cannot start, the demo shows the server's own message and exits 1."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    futucli = Path(console_script("futucli"))
    # A futucli beside a futu-mcp that refuses to start, as a broken install would (a copy:
    # the demo resolves symlinks to find futu-mcp).
    shutil.copy(futucli, fake_bin / "futucli")
    broken = fake_bin / "futu-mcp"
    broken.write_text("#!/bin/sh\necho 'futu-mcp: cannot start (test)' >&2\nexit 2\n")
    broken.chmod(0o755)
    done = subprocess.run(
        [str(fake_bin / "futucli"), "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(isolated_home), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the demo stopped" in done.stdout
    assert "futu-mcp: cannot start (test)" in done.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_demo_stopped_by_a_signal_leaves_nothing_behind(
    isolated_home: Path, tmp_path: Path, signum: int
) -> None:
    """Ctrl-C, kill, or a closed terminal in the middle of the tour: the temporary folder goes,
    and the server and simulator stop with the demo."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = subprocess.Popen(
        [console_script("futucli"), "demo"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"HOME": str(isolated_home), "PATH": "/usr/bin:/bin", "TMPDIR": str(scratch)},
    )
    try:
        # Mid-tour: the server has started writing its audit log in the demo's folder.
        deadline = time.monotonic() + 30
        while not list(scratch.glob("futu-demo-*/audit.jsonl")):
            assert proc.poll() is None, "the demo ended before the tour began"
            assert time.monotonic() < deadline, "the tour never began"
            time.sleep(0.01)
        proc.send_signal(signum)
        assert proc.wait(timeout=30) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert list(scratch.iterdir()) == []
    assert _processes_mentioning(str(scratch)) == []


def test_a_server_that_never_answers_ends_the_tour_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process, with a futu-mcp stand-in that never answers and a short tour timeout: the
    demo says why and exits 1, the stand-in is stopped, and the signal handlers come back."""
    from typer.testing import CliRunner

    import futucli.demo
    import futucli.mcpconfig
    from futucli.app import app

    mute = tmp_path / "futu-mcp"
    # A Python script, so its command line names it (an exec'd sleep would not).
    mute.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(600)\n")
    mute.chmod(0o755)
    monkeypatch.setattr(futucli.mcpconfig, "futu_mcp_command", lambda: str(mute))
    monkeypatch.setattr(futucli.demo, "TOUR_TIMEOUT_S", 1.0)
    before = signal.getsignal(signal.SIGTERM)
    result = CliRunner().invoke(app, ["demo"], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "the demo stopped: no answer within 1 s" in result.output
    assert signal.getsignal(signal.SIGTERM) is before
    assert _processes_mentioning(str(mute)) == []
