"""`futucli sim`: run the simulated OpenD in the foreground.

A new user gets a gateway with quotes, accounts and paper matching without a Futu account; the
end-to-end tests start it as a subprocess. The first stdout line says where it listens and which
body formats it serves, so a script can read the port when it asked for port 0.
"""

import asyncio
import contextlib
import enum
import logging
import os
import signal
from pathlib import Path

import typer

EXIT_FAILED = 1
EXIT_USAGE = 2
PASSWORD_ENV = "FUTU_SIM_TRADE_PASSWORD"


class Hours(enum.StrEnum):
    """When the simulator's markets trade."""

    ALWAYS = "always"
    REAL = "real"


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _parse_listen(text: str) -> tuple[str, int]:
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise _fail(f"--listen wants HOST:PORT (e.g. 127.0.0.1:11111), got {text!r}", EXIT_USAGE)
    return host.strip("[]"), int(port_text)


def sim(
    listen: str = typer.Option(
        "127.0.0.1:11111",
        "--listen",
        metavar="HOST:PORT",
        help="Address to listen on. Port 0 picks a free port (printed on the first line).",
    ),
    seed: int = typer.Option(
        1, "--seed", help="Seed of the simulated market: the same seed gives the same data."
    ),
    trade_password: str = typer.Option(
        None,
        "--trade-password",
        metavar="PWD",
        help=(
            "The simulator's trade password, which real-account orders need unlocked "
            "(futucli unlock-trade). Default: 123456. Also read from "
            f"${PASSWORD_ENV}. It is a simulator password: never reuse a real one, a flag is "
            "visible to other local users."
        ),
        show_default=False,
    ),
    rsa_key: Path = typer.Option(
        None,
        "--rsa-key",
        metavar="PATH",
        help="RSA private key (PEM): encrypt like an OpenD configured with rsa_private_key.",
    ),
    latency_ms: int = typer.Option(
        0, "--latency-ms", min=0, help="Delay every reply by N ms (fault and latency tests)."
    ),
    not_logged_in: bool = typer.Option(
        False,
        "--not-logged-in",
        help="Play an OpenD that runs but has not logged in to Futu: quote and trade requests "
        "fail, as after a failed OpenD login (to see what futu-mcp then tells the user).",
    ),
    quote_limits: bool = typer.Option(
        False,
        "--quote-limits",
        help="Refuse quote requests past OpenD's documented limits, as OpenD does: per 30 s, "
        "60 snapshots, 60 history K-line first pages, 10 plate lists, 10 plate member lists, "
        "10 market-state and 30 trading-day requests; "
        "and history K-lines of at most 100 securities per 30 days.",
    ),
    hours: Hours = typer.Option(
        Hours.ALWAYS,
        "--hours",
        case_sensitive=False,
        help="When markets trade. always: around the clock, so a demo works at any hour. "
        "real: each exchange's sessions on its trading days (HKEX, NYSE, SSE/SZSE holidays of "
        "2025-2027); orders placed outside them wait for the open, market orders are refused. "
        "Market state queries report what the simulator does either way.",
    ),
) -> None:
    """Run a simulated OpenD: quotes, accounts and paper trading on the real wire protocol.

    One real and one simulate account per market (HK, US, CN); real-account orders need
    `futucli unlock-trade` with the simulator's trade password, 123456 unless --trade-password
    says otherwise. Stop it with Ctrl-C.

    The official futu-api SDK sends protobuf bodies by default; the simulator answers them when
    the official schemas are installed (pip install 'futu-mcp\\[sim-protobuf]'). Without them it
    says so on stderr and closes that connection: install them, or switch the SDK to JSON with
    SysConfig.set_proto_fmt(ProtoFMT.Json) before opening a context.
    """
    from opend.crypto import CryptoError
    from opend.sim import DEFAULT_TRADE_PASSWORD, Simulator

    host, port = _parse_listen(listen)
    # The simulator's warnings (a client it cannot serve) are for the person who started it.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("futucli sim: %(message)s"))
    logging.getLogger("opend.sim").addHandler(handler)
    password = trade_password or os.environ.get(PASSWORD_ENV) or DEFAULT_TRADE_PASSWORD
    if rsa_key is not None and not rsa_key.is_file():
        raise _fail(f"--rsa-key {rsa_key}: no such file", EXIT_USAGE)
    try:
        simulator = Simulator(
            host,
            port,
            seed=seed,
            trade_password=password,
            rsa_key_path=rsa_key,
            latency_ms=latency_ms,
            logged_in=not not_logged_in,
            quote_limits=quote_limits,
            real_hours=hours is Hours.REAL,
        )
    except CryptoError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None

    async def serve() -> None:
        try:
            await simulator.start()
        except OSError as exc:
            raise _fail(f"cannot listen on {listen}: {exc.strerror or exc}", EXIT_FAILED) from None
        bound_host, bound_port = simulator.address
        formats = ", ".join(simulator.formats)
        print(
            f"OpenD simulator listening on {bound_host}:{bound_port} (formats: {formats})",
            flush=True,
        )
        encryption = "RSA/AES (key given)" if rsa_key else "none"
        login = "NOT logged in to Futu (--not-logged-in)" if not_logged_in else "logged in"
        limits = "; quote limits on" if quote_limits else ""
        trading = "exchange sessions" if hours is Hours.REAL else "always open"
        print(
            f"seed {seed}; encryption: {encryption}; latency {latency_ms} ms; {login}{limits}; "
            f"hours: {hours.value} ({trading})",
            flush=True,
        )
        for account in simulator.state.accounts.values():
            markets = ",".join(m.name for m in account.markets)
            print(f"  account {account.acc_id} {account.env.name:<8} {markets}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await simulator.stop()

    asyncio.run(serve())


def register(app: typer.Typer) -> None:
    """Add `sim` to the futucli app."""
    app.command("sim")(sim)
