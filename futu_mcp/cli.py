"""The `futu-mcp` command line.

argparse rather than Typer: the server's start-up time is measured against a bare MCP server,
and stdio clients spawn it for every session, so it imports nothing it does not need (no
uvicorn or prometheus-client on stdio).

The server runs on uvloop's event loop (`LOOP`): every call passes the loop several times (the
request line, the OpenD reply, the handler task), and uvloop's passes and socket and pipe
syscalls are cheaper than asyncio's. Measured on `futu_get_positions` over stdio: 65 µs wall
and 65 µs server CPU less per call of about 1.2 ms; its import adds about 5 ms and 2 MiB to
start-up (bench/bench_mcp.py). `futucli sim` keeps asyncio's loop: it is the fixture the
benchmark's OpenD hop is measured against.
"""

import argparse
import logging
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from futu_mcp.config import Config
    from keystore.ledger import Ledger
    from opend.throttle import OrderThrottle

EXIT_FAILED = 1
EXIT_USAGE = 2

# anyio's options for the server's event loop (see the module's docstring); uvloop has no
# Windows build, so it is not installed there (pyproject.toml) and asyncio's loop serves.
LOOP = {"use_uvloop": sys.platform != "win32"}

# Shown by --help and copied into the man page's EXAMPLES by man/generate.py.
EXAMPLES = """\
examples:
  futu-mcp --gateway 127.0.0.1:11111 --audit-log audit.jsonl
      stdio, as Claude Desktop or Cursor starts it (key from FUTU_MCP_API_KEY)
  futu-mcp --http-listen 127.0.0.1:38765 --audit-log audit.jsonl
      one server for several agents; each request sends Authorization: Bearer <key>
  futu-mcp --http-listen :38765 --allowed-hosts mcp.example.com
      behind a TLS proxy on this machine for mcp.example.com (:PORT is 127.0.0.1)
  futu-mcp --http-listen 0.0.0.0:38765 --allowed-hosts futu-mcp
      in a container that other containers reach as futu-mcp
  futu-mcp --config futu-mcp.toml --read-only
      settings from a TOML file, trade tools hidden for every key
  futu-mcp --toolsets default,history,calendar
      today's 19 tools plus account history, buying power, fees and trading calendars
  futu-mcp --list-tools
      every tool: its toolset, scope and arguments
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; also the source of the man page."""
    parser = argparse.ArgumentParser(
        prog="futu-mcp",
        description=(
            "MCP server for Futu OpenD: quotes, account and trading tools behind scoped API keys. "
            "stdio by default (key from FUTU_MCP_API_KEY); --http-listen serves streamable HTTP "
            "with a Bearer key per request."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES,
    )
    parser.add_argument("--version", action="version", version=f"futu-mcp {version('futu-mcp')}")
    add = parser.add_argument
    add(
        "--config",
        metavar="PATH",
        help="TOML file; every flag has a key (http_listen = ...); flags win",
    )
    add("--gateway", metavar="HOST:PORT", help="OpenD address (default 127.0.0.1:11111)")
    add(
        "--keys-file",
        metavar="PATH",
        help="keys.json (default $FUTU_KEYS_FILE, else ~/.config/futu/keys.json)",
    )
    add(
        "--http-listen",
        metavar="HOST:PORT",
        help="serve streamable HTTP at http://HOST:PORT/mcp instead of stdio",
    )
    add(
        "--metrics-listen",
        metavar="HOST:PORT",
        help="stdio mode: serve Prometheus metrics at http://HOST:PORT/metrics, Host/Origin checked as over HTTP (port 0 picks one and prints it)",
    )
    add(
        "--allowed-hosts",
        metavar="H,...",
        help="extra Host names clients or Prometheus use for --http-listen and --metrics-listen (behind a proxy, in a container); fixes '421 Misdirected Request'",
    )
    add(
        "--audit-log",
        metavar="PATH",
        help="append hash-chained JSON lines here; orders are refused if it cannot be written",
    )
    add(
        "--read-only",
        action="store_const",
        const=True,
        default=None,
        help="hide the trade tools for every key",
    )
    add(
        "--max-order-value",
        metavar="N|M=N,...",
        help="server-wide cap per order (e.g. 50000 or HK=50000,US=6000)",
    )
    add(
        "--max-daily-value", metavar="N|M=N,...", help="server-wide cap per key, market and UTC day"
    )
    add(
        "--max-orders-per-minute",
        metavar="N",
        type=int,
        help="server-wide cap per key (60 s sliding window)",
    )
    add(
        "--max-sessions-per-key",
        metavar="N",
        type=int,
        help="HTTP: open MCP sessions one key may hold (default 16); more get HTTP 429",
    )
    add(
        "--session-idle-timeout",
        metavar="SECONDS",
        help="HTTP: close a session after this long without a request (default 600)",
    )
    add(
        "--ledger",
        metavar="URL",
        help="redis://HOST:PORT/DB (rediss:// for TLS): limits and order state shared by "
        "several replicas; password in $FUTU_LEDGER_PASSWORD (default: SQLite beside keys.json)",
    )
    add(
        "--stateless",
        action="store_const",
        const=True,
        default=None,
        help="HTTP without MCP sessions: any replica answers any request (no sticky load "
        "balancing); order confirmation needs a 2026-07-28 client",
    )
    add(
        "--replica-id",
        metavar="NAME",
        help="this replica's name in audit lines (default HOSTNAME-PID)",
    )
    add("--rsa-key", metavar="PATH", help="RSA private key for an OpenD that encrypts its protocol")
    add(
        "--request-timeout",
        metavar="SECONDS",
        help="how long a call waits for OpenD's reply before it answers 'gateway not connected' "
        "(default 5); a link whose KeepAlive goes unanswered that long is dropped",
    )
    add(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="stderr log level (default WARNING)",
    )
    add(
        "--toolsets",
        metavar="NAME,...",
        help="tool groups to serve: quote, account, trade, history, calendar, derivatives, "
        "research, watchlist; default (= quote,account,trade, the default) or all; other tools "
        "are 'unknown tool'",
    )
    add("--list-tools", action="store_true", help="print the tools table (Markdown) and exit")
    return parser


def shared_throttle(ledger: "Ledger") -> "OrderThrottle | None":
    """With a Redis ledger, OpenD's per-account order windows are counted there, across
    replicas; otherwise each process counts its own (None: the client's default)."""
    from keystore.ledger import SqliteLedger

    if isinstance(ledger, SqliteLedger):
        return None
    from futu_mcp.sharedthrottle import LedgerWindows
    from opend.throttle import OrderThrottle

    return OrderThrottle(shared=LedgerWindows(ledger))  # type: ignore[arg-type]


def shared_state_key(ledger: "Ledger") -> bytes | None:
    """With a Redis ledger, the key sealing MCP request state is shared through it, so an order
    confirmed on one replica may be retried on another; None: this process's own key. If Redis
    is down at start-up, a retry reaching another replica is refused (never sent unasked)."""
    from keystore.errors import LedgerError
    from keystore.ledger import SqliteLedger

    if isinstance(ledger, SqliteLedger):
        return None
    try:
        return ledger.shared_secret("request-state")  # type: ignore[attr-defined,no-any-return]
    except LedgerError as exc:
        logging.getLogger("futu_mcp").warning(
            "%s: confirmations are sealed with this replica's own key", exc
        )
        return None


def replica_name(config: "Config") -> str:
    """This replica's name in audit lines: --replica-id, else HOSTNAME-PID."""
    import socket

    return config.replica_id or f"{socket.gethostname()}-{os.getpid()}"


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    print(f"futu-mcp: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: configure, check the key, serve until the client goes away."""
    args = build_parser().parse_args(argv)
    if args.list_tools:
        from futu_mcp.docs import tools_markdown

        print(tools_markdown(), end="")
        return
    from futu_mcp.config import ConfigError, is_loopback, load_config, url_host

    flags = {
        "gateway": args.gateway,
        "keys_file": args.keys_file,
        "http_listen": args.http_listen,
        "metrics_listen": args.metrics_listen,
        "allowed_hosts": args.allowed_hosts,
        "audit_log": args.audit_log,
        "read_only": args.read_only,
        "max_order_value": args.max_order_value,
        "max_daily_value": args.max_daily_value,
        "max_orders_per_minute": args.max_orders_per_minute,
        "max_sessions_per_key": args.max_sessions_per_key,
        "session_idle_timeout": args.session_idle_timeout,
        "rsa_key": args.rsa_key,
        "request_timeout": args.request_timeout,
        "log_level": args.log_level,
        "ledger": args.ledger,
        "replica_id": args.replica_id,
        "stateless": args.stateless,
        "toolsets": args.toolsets,
    }
    from keystore.ledger import url_has_password

    if args.ledger and url_has_password(args.ledger):
        # Every user of the machine can read a command line (ps): never a password there.
        _fail(
            "--ledger: put the Redis password in FUTU_LEDGER_PASSWORD or in the --config "
            "file's ledger URL, not on the command line"
        )
        return
    try:
        config = load_config(Path(args.config) if args.config else None, flags)
        gw_host, gw_port = config.gateway_host_port
        _ = config.http_host_port
        metrics_at = config.metrics_host_port
    except ConfigError as exc:
        _fail(str(exc))
        return
    logging.basicConfig(
        stream=sys.stderr,
        level=config.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    from concurrent.futures import ThreadPoolExecutor

    from futu_mcp.startup import StartupError, env_token, stdio_key
    from keystore.errors import KeystoreError
    from keystore.paths import keys_file_not_found, resolve_keys_file
    from keystore.verify import KeyVerifier

    keys_file = resolve_keys_file(config.keys_file)
    try:
        # A missing key is said before anything about the keys file.
        token = env_token(dict(os.environ)) if config.http_listen is None else None
        # Read once, then gone: no child process or later environ reader gets the key.
        os.environ.pop("FUTU_MCP_API_KEY", None)
        if args.keys_file is None and config.keys_file is not None and not keys_file.exists():
            # Set in the TOML file, not by a flag: say so, or the fix offered is the wrong one.
            _fail(keys_file_not_found(keys_file, setting=f"keys_file in {args.config}"))
            return
        verifier = KeyVerifier(keys_file)
    except (StartupError, KeystoreError) as exc:
        _fail(str(exc))
        return
    key_check = None
    if token is not None:
        # The key's argon2 run (about 20 ms; argon2 lets go of the GIL) overlaps the imports
        # below: start-up to the first tools/list is a measured goal (bench/bench_mcp.py).
        checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="futu-mcp-key")
        key_check = checker.submit(stdio_key, verifier, token)
        checker.shutdown(wait=False)

    sock = None
    if config.http_host_port is not None:
        from futu_mcp.http import bind

        try:
            sock = bind(*config.http_host_port)
        except StartupError as exc:
            _fail(str(exc), EXIT_FAILED)
            return

    from futu_mcp.appstate import AppState
    from futu_mcp.ledgerwatch import LedgerWatch
    from futu_mcp.metrics import Metrics
    from futu_mcp.server import build_server
    from keystore.ledger import LEDGER_PASSWORD_ENV, open_ledger
    from keystore.policy import ServerCaps
    from opend.client import OpenDClient

    key = None
    if key_check is not None:
        try:
            key, _record = key_check.result()
        except (StartupError, KeystoreError) as exc:
            _fail(str(exc))
            return
    audit = None
    if config.audit_log:
        from futu_mcp.audit import AuditLog

        audit = AuditLog(Path(config.audit_log).expanduser(), replica=replica_name(config))
    try:
        ledger = open_ledger(
            config.ledger, keys_file, password=os.environ.pop(LEDGER_PASSWORD_ENV, None)
        )
        client = OpenDClient(
            gw_host,
            gw_port,
            rsa_key_path=Path(config.rsa_key) if config.rsa_key else None,
            throttle=shared_throttle(ledger),
            request_timeout=config.request_timeout,
        )
    except (OSError, ValueError, KeystoreError) as exc:
        _fail(str(exc))
        return
    # Started before serving: its first look at the ledger's revocations is done by then.
    watch = LedgerWatch(ledger)
    watch.start()
    verifier.revocations = watch.revoked
    if not watch.up:
        logging.getLogger("futu_mcp").warning(
            "%s; orders are refused until it is back (reads and cancels work)", watch.error
        )
    metrics = Metrics(enabled=config.http_listen is not None or metrics_at is not None)
    metrics.watch_gateway(lambda: client.connected, lambda: client.reconnects)
    if audit is not None:
        metrics.watch_audit(lambda: audit.repairs)
    metrics.watch_ledger(lambda: watch.up)
    if metrics_at is not None:
        try:
            port = metrics.serve(*metrics_at, config.allowed_hosts)
        except OSError as exc:
            _fail(
                f"cannot serve metrics on {config.metrics_listen}: {exc.strerror or exc}",
                EXIT_FAILED,
            )
            return
        print(
            f"futu-mcp: metrics on http://{url_host(metrics_at[0])}:{port}/metrics",
            file=sys.stderr,
            flush=True,
        )
        if not is_loopback(metrics_at[0]):
            logging.getLogger("futu_mcp.metrics").warning(
                "metrics on %s can be read from other machines, with no key asked: they show "
                "key ids and call counts (bind 127.0.0.1, or firewall the port)",
                config.metrics_listen,
            )
    state = AppState(
        config=config,
        client=client,
        verifier=verifier,
        ledger=ledger,
        ledger_watch=watch,
        audit=audit,
        metrics=metrics,
        caps=ServerCaps(
            max_order_value=config.max_order_value,
            max_daily_value=config.max_daily_value,
            max_orders_per_minute=config.max_orders_per_minute,
        ),
        stdio_key=key,
        request_state_key=shared_state_key(ledger),
    )
    server = build_server(state)
    import anyio

    try:
        if config.http_listen is None:
            from futu_mcp.stdio import serve_stdio

            anyio.run(serve_stdio, server, backend_options=LOOP)
        else:
            from futu_mcp.http import serve

            anyio.run(serve, server, state, sock, backend_options=LOOP)
    except KeyboardInterrupt:
        pass
