"""`futucli unlock-trade` / `lock-trade` end to end: a real process, a pseudo-terminal, the simulator.

The proof is an order: after unlock-trade a REAL order placed by our own client is accepted, after
lock-trade it is refused. The trading password is a canary; neither it nor its MD5 may show up in
any output, log, file, command line or environment of anything started.
"""

import asyncio
import hashlib
import logging
import os
import pty
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from opend.client import OpenDClient
from opend.codes import TrdMarket, parse_code
from opend.enums import OrderType, TrdEnv, TrdSide
from opend.errors import OpenDError
from opend.models import TrdAccount
from opend.sim import SimulatorThread
from tests.conftest import console_script
from tests.futucli.test_unlock import run_futucli
from tests.ptyhelpers import read_to_end, read_until, reap

PASSWORD = "Canary-Trade-Pw-9413"
PASSWORD_MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()
SECRETS = (PASSWORD, PASSWORD_MD5, PASSWORD_MD5.upper())
PROMPT = b"OpenD trading password: "


@pytest.fixture
def sim(caplog: pytest.LogCaptureFixture) -> Iterator[SimulatorThread]:
    """A simulator with the canary password; every log record of this process is captured."""
    caplog.set_level(logging.DEBUG)
    with SimulatorThread(trade_password=PASSWORD) as running:
        yield running
    assert not any(s in caplog.text for s in SECRETS)


def _gateway(sim: SimulatorThread) -> str:
    host, port = sim.address
    return f"{host}:{port}"


def _assert_clean(*texts: str) -> None:
    # A plain raise: pytest's assertion rewriting would print the text, canary included.
    if any(secret in text for text in texts for secret in SECRETS):
        raise AssertionError("the trading password or its MD5 was printed")


def _assert_no_file_holds_the_password(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(s.encode() in data for s in SECRETS):
                raise AssertionError(f"the trading password or its MD5 is in {path}")


@dataclass
class PtyRun:
    """What a process run on a pseudo-terminal printed, its exit status and what /proc showed."""

    status: int
    output: str
    cmdline: bytes
    environ: bytes
    echo_restored: bool


def run_on_pty(args: list[str], typed: bytes, timeout: float = 60) -> PtyRun:
    """Run futucli with a pseudo-terminal as its controlling terminal and type at its prompt."""
    env = {**os.environ, "COLUMNS": "200"}
    argv = [console_script("futucli"), *args]
    pid, master = pty.fork()
    if pid == 0:  # the child: nothing but exec
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    deadline = time.monotonic() + timeout
    try:
        before = read_until(master, PROMPT, deadline)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        os.write(master, typed)
        after = read_to_end(master, deadline)
        echo_restored = bool(termios.tcgetattr(master)[3] & termios.ECHO)
    finally:
        status = reap(pid, deadline)
        os.close(master)
    return PtyRun(
        os.waitstatus_to_exitcode(status),
        (before + after).decode(errors="replace"),
        cmdline,
        environ,
        echo_restored,
    )


async def _real_order(gateway: str) -> str:
    """Place a REAL HK limit order through our client; the order id, or OpenD's refusal."""
    host, _, port = gateway.rpartition(":")
    async with OpenDClient(host, int(port), client_id="unlock-e2e") as client:
        assert await client.wait_connected(10)
        accounts = await client.get_acc_list()
        real = next(a for a in accounts if a.trd_env == "REAL" and "HK" in a.trdmarket_authority)
        account = TrdAccount(TrdEnv.REAL, real.acc_id, TrdMarket.HK)
        code = parse_code("HK.00700")
        snapshot = (await client.get_market_snapshot([code]))[0]
        try:
            placed = await client.place_order(
                account,
                code,
                TrdSide.BUY,
                OrderType.NORMAL,
                snapshot.lot_size,
                snapshot.last_price,
            )
        except OpenDError as exc:
            return f"refused: {exc}"
        return f"placed: {placed.order_id}"


def test_unlock_at_the_prompt_then_lock(sim: SimulatorThread, isolated_home: Path) -> None:
    gateway = _gateway(sim)
    assert asyncio.run(_real_order(gateway)).startswith("refused: Trade is locked")

    run = run_on_pty(["unlock-trade", "--gateway", gateway], PASSWORD.encode() + b"\n")
    assert run.status == 0, run.output
    assert f"Trading unlocked on OpenD {gateway}" in run.output
    assert "ANY program that can reach the OpenD port" in run.output
    assert run.echo_restored
    _assert_clean(run.output)  # echo was off: the typed password is not on the terminal
    if any(s.encode() in run.cmdline + run.environ for s in SECRETS):
        raise AssertionError("the trading password or its MD5 is in /proc/<pid>/cmdline or environ")
    assert sim.call(lambda s: s.state.unlocked) is True

    assert asyncio.run(_real_order(gateway)).startswith("placed: ")

    lock = run_futucli("lock-trade", "--gateway", gateway)
    assert lock.returncode == 0, lock.stderr
    assert f"Trading locked on OpenD {gateway}" in lock.stdout
    assert asyncio.run(_real_order(gateway)).startswith("refused: Trade is locked")
    _assert_clean(lock.stdout, lock.stderr)
    _assert_no_file_holds_the_password(isolated_home.parent)


def test_wrong_password_at_the_prompt(sim: SimulatorThread, isolated_home: Path) -> None:
    gateway = _gateway(sim)
    run = run_on_pty(["unlock-trade", "--gateway", gateway], b"not-the-password\n")
    assert run.status == 1
    assert "wrong trading password" in run.output
    assert "not-the-password" not in run.output
    assert hashlib.md5(b"not-the-password").hexdigest() not in run.output
    assert run.echo_restored
    assert sim.call(lambda s: s.state.unlocked) is False
    assert asyncio.run(_real_order(gateway)).startswith("refused: Trade is locked")


def test_ctrl_c_at_the_prompt_sends_nothing(sim: SimulatorThread) -> None:
    run = run_on_pty(["unlock-trade", "--gateway", _gateway(sim)], PASSWORD[:4].encode() + b"\x03")
    assert run.status == 1
    assert "cancelled; nothing was sent" in run.output
    assert run.echo_restored
    assert sim.call(lambda s: s.state.unlocked) is False


def test_password_stdin_unlocks(sim: SimulatorThread, isolated_home: Path) -> None:
    gateway = _gateway(sim)
    proc = run_futucli(
        "unlock-trade", "--gateway", gateway, "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert proc.returncode == 0, proc.stderr
    _assert_clean(proc.stdout, proc.stderr)
    assert asyncio.run(_real_order(gateway)).startswith("placed: ")
    _assert_no_file_holds_the_password(isolated_home.parent)


def test_no_terminal_is_refused_and_nothing_unlocks(sim: SimulatorThread) -> None:
    proc = run_futucli("unlock-trade", "--gateway", _gateway(sim), stdin=PASSWORD + "\n")
    assert proc.returncode == 2
    assert "no terminal" in proc.stderr
    assert sim.call(lambda s: s.state.unlocked) is False


async def _use_up_unlock_requests(gateway: str) -> None:
    """Send OpenD's allowance of unlock requests (10 per 30 s) with a wrong password."""
    host, _, port = gateway.rpartition(":")
    wrong = hashlib.md5(b"wrong").hexdigest()
    async with OpenDClient(host, int(port), client_id="unlock-e2e") as client:
        assert await client.wait_connected(10)
        for _ in range(10):
            with pytest.raises(OpenDError, match="incorrect"):
                await client.unlock_trade(wrong)


def test_too_many_unlocks_are_explained(sim: SimulatorThread) -> None:
    gateway = _gateway(sim)
    asyncio.run(_use_up_unlock_requests(gateway))
    proc = run_futucli(
        "unlock-trade", "--gateway", gateway, "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert proc.returncode == 1
    assert "too many unlock requests" in proc.stderr
    assert sim.call(lambda s: s.state.unlocked) is False


def test_unlock_over_an_encrypted_link(tmp_path: Path) -> None:
    from opend.crypto import generate_rsa_key_pem

    key = tmp_path / "rsa_private_key.pem"
    key.write_bytes(generate_rsa_key_pem())
    key.chmod(0o600)
    with SimulatorThread(trade_password=PASSWORD, rsa_key_path=key) as encrypted:
        gateway = _gateway(encrypted)
        without = run_futucli(
            "unlock-trade", "--gateway", gateway, "--password-stdin", stdin=PASSWORD + "\n"
        )
        assert without.returncode == 1
        assert "--gateway-rsa-key" in without.stderr
        assert without.stderr.count("InitConnect refused") == 1  # said once, by futucli
        assert encrypted.call(lambda s: s.state.unlocked) is False
        proc = run_futucli(
            "unlock-trade",
            "--gateway",
            gateway,
            "--gateway-rsa-key",
            str(key),
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert proc.returncode == 0, proc.stderr
        assert encrypted.call(lambda s: s.state.unlocked) is True
        _assert_clean(without.stdout, without.stderr, proc.stdout, proc.stderr)
