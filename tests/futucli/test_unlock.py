"""`futucli unlock-trade` / `lock-trade` refusals that need no OpenD at all.

Every refusal here must happen before a single byte reaches the gateway: a listening socket
stands in for OpenD and the tests check it was never connected to (or got nothing).
"""

import os
import socket
import subprocess
from collections.abc import Iterator

import pytest

from futucli.unlock import explain
from tests.conftest import console_script

CANARY_PASSWORD = "canary-unlock-pw-5521"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP port that accepts connections but never answers, standing in for OpenD."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setblocking(False)
    yield sock
    sock.close()


def _gateway(sock: socket.socket) -> str:
    return f"127.0.0.1:{sock.getsockname()[1]}"


def _no_connection(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def run_futucli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run futucli in a new session: no controlling terminal, whatever started the tests."""
    return subprocess.run(
        [console_script("futucli"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )


def test_refuses_without_a_terminal(listener: socket.socket) -> None:
    proc = run_futucli(
        "unlock-trade", "--gateway", _gateway(listener), stdin=CANARY_PASSWORD + "\n"
    )
    assert proc.returncode == 2
    assert "no terminal" in proc.stderr and "--password-stdin" in proc.stderr
    assert _no_connection(listener)
    assert CANARY_PASSWORD not in proc.stdout + proc.stderr


def test_no_flag_takes_the_password(listener: socket.socket) -> None:
    for flag in ("--password", "--pwd", "--password-md5"):
        proc = run_futucli("unlock-trade", "--gateway", _gateway(listener), flag, CANARY_PASSWORD)
        assert proc.returncode == 2
        assert "No such option" in proc.stderr
    assert _no_connection(listener)


def test_empty_password_sends_nothing(listener: socket.socket) -> None:
    proc = run_futucli(
        "unlock-trade", "--gateway", _gateway(listener), "--password-stdin", stdin="\n"
    )
    assert proc.returncode == 1
    assert "empty password; nothing was sent" in proc.stderr
    _assert_probe_sent_nothing(listener)


def _assert_probe_sent_nothing(listener: socket.socket) -> None:
    """The reachability probe may have connected; it must not have sent anything."""
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return
    conn.settimeout(5)
    with conn:
        assert conn.recv(1) == b""


def test_password_that_is_not_utf8_sends_nothing(listener: socket.socket) -> None:
    args = ["unlock-trade", "--password-stdin", "--gateway", _gateway(listener)]
    proc = subprocess.run(
        [console_script("futucli"), *args],
        input=b"\xff\xfe-bad\n",
        capture_output=True,
        timeout=60,
        start_new_session=True,
    )
    assert proc.returncode == 1
    assert b"not valid UTF-8 text; nothing was sent" in proc.stderr
    assert b"Traceback" not in proc.stderr
    _assert_probe_sent_nothing(listener)


@pytest.mark.parametrize("gateway", ["localhost", "127.0.0.1:notaport", "127.0.0.1:70000"])
def test_bad_gateway_is_a_usage_error(gateway: str) -> None:
    proc = run_futucli("unlock-trade", "--gateway", gateway, "--password-stdin", stdin="x\n")
    assert proc.returncode == 2
    assert "expected HOST:PORT" in proc.stderr


def test_remote_gateway_needs_the_rsa_key() -> None:
    # 192.0.2.1 is TEST-NET-1: nothing there; the refusal must come before any attempt.
    proc = run_futucli(
        "unlock-trade", "--gateway", "192.0.2.1:11111", "--password-stdin", stdin="x\n"
    )
    assert proc.returncode == 2
    assert "--gateway-rsa-key" in proc.stderr and "clear text" in proc.stderr


def test_unreachable_gateway_is_reported_before_the_prompt() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    # Port now closed: connection refused.
    proc = run_futucli(
        "unlock-trade", "--gateway", f"127.0.0.1:{port}", "--password-stdin", stdin="x\n"
    )
    assert proc.returncode == 1
    assert "gateway not reachable" in proc.stderr
    lock = run_futucli("lock-trade", "--gateway", f"127.0.0.1:{port}")
    assert lock.returncode == 1
    assert "gateway not reachable" in lock.stderr


def test_missing_rsa_key_file_is_a_usage_error(tmp_path: os.PathLike) -> None:
    proc = run_futucli("lock-trade", "--gateway-rsa-key", os.path.join(tmp_path, "missing.pem"))
    assert proc.returncode == 2


def test_help_says_unlock_is_opend_wide() -> None:
    proc = subprocess.run(
        [console_script("futucli"), "unlock-trade", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "applies to the WHOLE OpenD" in text
    assert "ANY program that can reach the OpenD port" in text


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("Unlock failed: wrong password", "wrong trading password"),
        ("解锁失败，密码错误", "wrong trading password"),
        ("Wrong password too many times, account locked", "locked out"),
        ("Request too frequent: at most 10 per 30 s", "too many unlock requests"),
        ("请求过于频繁", "too many unlock requests"),
        ("密码错误次数过多", "locked out"),
        ("No trading account found (no account)", "no real trading account"),
        ("请关闭富途令牌后再解锁", "the Futu security token"),
    ],
)
def test_opend_answers_in_plain_words(message: str, words: str) -> None:
    said = explain(message)
    assert said.startswith(words)
    assert said.endswith(f"(OpenD: {message})")


def test_unknown_answer_is_passed_through() -> None:
    assert explain("something new") == "something new"
    assert explain("") == "no reason given"
