"""`futucli unlock-trade` and `futucli lock-trade`: a human unlocks real trading on OpenD.

The trading password is read at a no-echo prompt on the controlling terminal (or, when asked
explicitly, from standard input), turned into the MD5 OpenD expects, sent, and dropped. It never
becomes an argument, an environment variable, a log line or part of an error message, and there
is no flag that takes it: an agent with a shell must not be able to unlock by itself.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from opend.enums import SecurityFirm

if TYPE_CHECKING:
    from opend.client import OpenDClient

CONNECT_WAIT_S = 10.0
PROBE_TIMEOUT_S = 5.0
EXIT_FAILED = 1
EXIT_USAGE = 2

WHOLE_OPEND_WARNING = (
    "Unlocking applies to the WHOLE OpenD, not to this command: until `futucli lock-trade` (or an "
    "OpenD restart), ANY program that can reach the OpenD port can place, modify and cancel "
    "real orders, with none of futu-mcp's key scopes, limits or audit. Run LLM agents without a "
    "shell, or where they cannot reach the OpenD port."
)

GATEWAY_HELP = "OpenD address HOST:PORT. Never read from the environment: where the password hash goes is always on the command line."
RSA_HELP = "OpenD's RSA private key (the rsa_private_key file OpenD is configured with): encrypts the link. Required when OpenD is not on this machine."

# The SDK's spellings of Futu's broker entities, from the one enum that holds them.
Firm = StrEnum("Firm", [(m.name, m.name) for m in SecurityFirm if m is not SecurityFirm.NONE])


NO_TERMINAL = (
    "no terminal to read the trading password from; run this in a terminal "
    "(or, in a script you control, pipe it with --password-stdin)"
)


class NoTerminal(Exception):
    """There is no controlling terminal to read the password from."""


def _fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def unlock_trade(
    gateway: str = typer.Option("127.0.0.1:11111", "--gateway", help=GATEWAY_HELP),
    gateway_rsa_key: Path | None = typer.Option(
        None, "--gateway-rsa-key", "--rsa-key", help=RSA_HELP, exists=True, dir_okay=False
    ),
    security_firm: Firm | None = typer.Option(
        None,
        "--security-firm",
        case_sensitive=False,
        help="The Futu broker entity of your accounts (default: let OpenD choose).",
    ),
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="Read the password from the first line of standard input instead of a terminal prompt (for scripts you control; never hand this to an agent).",
    ),
) -> None:
    """Unlock real trading on OpenD with the trading password, typed at a no-echo prompt.

    Unlocking applies to the WHOLE OpenD, not to this command: until `futucli lock-trade` (or an OpenD restart), ANY program that can reach the OpenD port can place, modify and cancel real orders, with none of futu-mcp's key scopes, limits or audit. Run LLM agents without a shell, or where they cannot reach the OpenD port. Simulated (paper) trading needs no unlock.

    Without a terminal the command refuses to run (exit 2) unless --password-stdin is given. Only the MD5 of the password is sent, as OpenD expects. Exit status: 0 unlocked, 1 refused by OpenD or OpenD not reachable, 2 usage error.
    """
    host, port = _gateway(gateway, gateway_rsa_key)
    if not password_stdin:
        _require_terminal()
    # Before the prompt, so nobody types a password for a gateway that is not there.
    if (unreachable := _probe(host, port)) is not None:
        raise _fail(f"trading NOT unlocked, nothing sent: {unreachable}")
    try:
        pwd_md5 = _password_md5(password_stdin)
    except NoTerminal:
        raise _fail(NO_TERMINAL, EXIT_USAGE) from None
    except KeyboardInterrupt:
        raise _fail("cancelled; nothing was sent") from None
    except UnicodeError:
        raise _fail("the password is not valid UTF-8 text; nothing was sent") from None
    if pwd_md5 is None:
        raise _fail("empty password; nothing was sent")
    firm = None if security_firm is None else SecurityFirm[security_firm.value]
    outcome = _run(host, port, gateway_rsa_key, unlock=True, pwd_md5=pwd_md5, firm=firm)
    del pwd_md5
    if outcome is not None:
        raise _fail(f"trading NOT unlocked: {outcome}")
    typer.echo(f"Trading unlocked on OpenD {host}:{port}.")
    typer.echo(WHOLE_OPEND_WARNING)
    typer.echo("Lock it again with: futucli lock-trade" + _flags_echo(gateway, gateway_rsa_key))


def lock_trade(
    gateway: str = typer.Option("127.0.0.1:11111", "--gateway", help=GATEWAY_HELP),
    gateway_rsa_key: Path | None = typer.Option(
        None, "--gateway-rsa-key", "--rsa-key", help=RSA_HELP, exists=True, dir_okay=False
    ),
    security_firm: Firm | None = typer.Option(
        None, "--security-firm", case_sensitive=False, help="The Futu broker entity to lock."
    ),
) -> None:
    """Lock real trading on OpenD again, for every connection (like the unlock). No password.

    Exit status: 0 locked, 1 refused by OpenD or OpenD not reachable, 2 usage error.
    """
    host, port = _gateway(gateway, gateway_rsa_key, needs_secrecy=False)
    if (unreachable := _probe(host, port)) is not None:
        raise _fail(f"trading NOT locked: {unreachable}")
    firm = None if security_firm is None else SecurityFirm[security_firm.value]
    outcome = _run(host, port, gateway_rsa_key, unlock=False, pwd_md5=None, firm=firm)
    if outcome is not None:
        raise _fail(f"trading NOT locked: {outcome}")
    typer.echo(f"Trading locked on OpenD {host}:{port}: real orders now need a new unlock.")


def _flags_echo(gateway: str, rsa_key: Path | None) -> str:
    flags = "" if gateway == "127.0.0.1:11111" else f" --gateway {gateway}"
    return flags + (f" --gateway-rsa-key {rsa_key}" if rsa_key else "")


def _gateway(text: str, rsa_key: Path | None, *, needs_secrecy: bool = True) -> tuple[str, int]:
    """Parse HOST:PORT; refuse to send a password hash in clear text off this machine."""
    from futu_mcp.config import ConfigError, is_loopback, split_host_port

    try:
        host, port = split_host_port(text)
    except ConfigError as exc:
        raise _fail(f"--gateway: {exc}", EXIT_USAGE) from None
    if needs_secrecy and rsa_key is None and not is_loopback(host):
        raise _fail(
            f"OpenD at {host}:{port} is not on this machine: the password hash would cross the "
            "network in clear text. Pass --gateway-rsa-key with OpenD's RSA private key.",
            EXIT_USAGE,
        )
    return host, port


def _require_terminal() -> None:
    """Refuse early (exit 2) when there is no controlling terminal to prompt on."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise _fail(NO_TERMINAL, EXIT_USAGE) from None
    tty = os.isatty(fd)
    os.close(fd)
    if not tty:
        raise _fail(NO_TERMINAL, EXIT_USAGE)


async def _first_connect(client: OpenDClient) -> bool:
    """Wait for the client's first connection attempt: True connected, False it failed.

    The client keeps retrying in the background (right for a server); a one-shot command stops
    at the first failure instead of waiting out the whole timeout.
    """
    import asyncio

    deadline = asyncio.get_running_loop().time() + CONNECT_WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        if await client.wait_connected(0.05):
            return True
        if client.last_error is not None:
            return False
    return False


def _probe(host: str, port: int) -> str | None:
    """None if something accepts TCP connections at host:port, else why not."""
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
            return None
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        return f"gateway not reachable at {host}:{port} ({why}); is OpenD running?"


def _read_tty_password(prompt: str = "OpenD trading password: ") -> str:
    """Read one line from the controlling terminal with echo off; never falls back to stdin."""
    import termios  # POSIX only; importing it here keeps the rest of futucli portable

    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise NoTerminal from None
    try:
        if not os.isatty(fd):
            raise NoTerminal
        try:
            saved = termios.tcgetattr(fd)
        except termios.error:
            raise NoTerminal from None
        quiet = termios.tcgetattr(fd)
        quiet[3] &= ~termios.ECHO
        # Echo off BEFORE the prompt: TCSAFLUSH drops unread input, so a password typed as soon
        # as the prompt shows must not arrive before the switch.
        termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
        try:
            os.write(fd, prompt.encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = os.read(fd, 1024)
                if not chunk:
                    break
                data += chunk
        finally:
            termios.tcsetattr(fd, termios.TCSAFLUSH, saved)
            os.write(fd, b"\n")
    finally:
        os.close(fd)
    return data.decode("utf-8").rstrip("\r\n")


def _password_md5(from_stdin: bool) -> str | None:
    """Read the password and return only its MD5 (None if empty); the password stays in here."""
    password = _read_stdin_password() if from_stdin else _read_tty_password()
    return hashlib.md5(password.encode("utf-8")).hexdigest() if password else None


def _read_stdin_password() -> str:
    """First line of standard input (line ending removed); the terminal prompt if stdin is one."""
    if sys.stdin.isatty():
        return _read_tty_password()
    return sys.stdin.readline().rstrip("\r\n")


def _run(
    host: str,
    port: int,
    rsa_key: Path | None,
    *,
    unlock: bool,
    pwd_md5: str | None,
    firm: SecurityFirm | None,
) -> str | None:
    """Send the (un)lock; None on success, else what went wrong in plain words."""
    import asyncio
    import logging

    # The client's own warnings (written for a long-running server) would repeat, less clearly,
    # the one message this command prints.
    logging.getLogger("opend").setLevel(logging.ERROR)

    from opend.client import OpenDClient
    from opend.crypto import CryptoError
    from opend.errors import GatewayNotConnected, OpenDError

    async def send() -> str | None:
        try:
            client = OpenDClient(host, port, rsa_key_path=rsa_key, client_id="futucli")
        except CryptoError as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
        await client.start()
        try:
            if not await _first_connect(client):
                why = client.last_error or f"no answer within {CONNECT_WAIT_S:g} s"
                hint = "" if rsa_key else "; if OpenD encrypts its protocol, pass --gateway-rsa-key"
                return f"gateway not reachable at {host}:{port} ({why}){hint}"
            try:
                await client.unlock_trade(pwd_md5, unlock=unlock, security_firm=firm)
            except GatewayNotConnected as exc:
                return f"gateway not reachable at {host}:{port} ({exc.reason})"
            except OpenDError as exc:
                advice = await client.login_advice()
                said = f"OpenD at {host}:{port} said no: {explain(exc.message)}"
                return said if advice is None else f"{said}; {advice}"
            return None
        finally:
            await client.close()

    try:
        return asyncio.run(send())
    except typer.Exit:
        raise
    except Exception as exc:
        # Nothing here should carry the hash, but this is the last line of defence before a
        # message reaches the terminal (and maybe an agent's transcript).
        text = f"{type(exc).__name__}: {exc}"
        if pwd_md5:
            text = text.replace(pwd_md5, "[REDACTED]")
        raise _fail(f"unexpected failure: {text}") from None


# OpenD's answers vary by version and language; each known kind gets plain words, and OpenD's own
# text always follows so nothing is lost.
_KINDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        (
            "locked out",
            "account locked",
            "account is locked",
            "frozen",
            "too many",
            "冻结",
            "锁定",
            "次数",
        ),
        "locked out after too many wrong passwords; wait, or reset the trading password in the Futu app",
    ),
    (
        ("too frequent", "frequency", "频繁", "频率"),
        "too many unlock requests in a short time (OpenD allows 10 per 30 s); wait and try again",
    ),
    (("password", "密码"), "wrong trading password"),
    (
        ("no account", "no trading account", "no real account", "没有", "无账户", "账户不存在"),
        "no real trading account on this OpenD login",
    ),
    (
        ("token", "令牌", "2fa"),
        "the Futu security token (2FA) is on; OpenD cannot unlock while it is",
    ),
)


def explain(message: str) -> str:
    """OpenD's unlock answer in plain words, with OpenD's own text kept."""
    lowered = message.lower()
    for needles, words in _KINDS:
        if any(n in lowered for n in needles):
            return f"{words} (OpenD: {message})"
    return message or "no reason given"


def register(app: typer.Typer) -> None:
    """Add `unlock-trade` and `lock-trade` to the futucli app."""
    app.command("unlock-trade")(unlock_trade)
    app.command("lock-trade")(lock_trade)
