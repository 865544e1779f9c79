"""The `futu-mcp` command line.

argparse rather than Typer: the server's start-up time is measured against a bare MCP server,
and stdio clients spawn it for every session, so it imports nothing it does not need (no
uvicorn or prometheus-client on stdio).
"""

import argparse
import logging
import os
import sys
from importlib.metadata import version
from pathlib import Path

EXIT_FAILED = 1
EXIT_USAGE = 2

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
  futu-mcp --list-tools
      the 19 tools, their scopes and arguments
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
        help="stdio mode: serve Prometheus metrics at http://HOST:PORT/metrics (port 0 picks one and prints it)",
    )
    add(
        "--allowed-hosts",
        metavar="H,...",
        help="extra Host names clients use (behind a proxy or in a container); fixes '421 Misdirected Request'",
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
        type=float,
        help="HTTP: close a session after this long without a request (default 600)",
    )
    add("--rsa-key", metavar="PATH", help="RSA private key for an OpenD that encrypts its protocol")
    add(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="stderr log level (default WARNING)",
    )
    add("--list-tools", action="store_true", help="print the tools table (Markdown) and exit")
    return parser


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
        "log_level": args.log_level,
    }
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

    from futu_mcp.caller import StartupError, env_token, stdio_key
    from keystore.errors import KeystoreError
    from keystore.paths import keys_file_not_found, ledger_path, resolve_keys_file
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
        key = None
        if token is not None:
            key, _record = stdio_key(verifier, token)
    except (StartupError, KeystoreError) as exc:
        _fail(str(exc))
        return

    sock = None
    if config.http_host_port is not None:
        from futu_mcp.http import bind

        try:
            sock = bind(*config.http_host_port)
        except StartupError as exc:
            _fail(str(exc), EXIT_FAILED)
            return

    from futu_mcp.appstate import AppState
    from futu_mcp.metrics import Metrics
    from futu_mcp.server import build_server
    from keystore.ledger import Ledger
    from keystore.policy import ServerCaps
    from opend.client import OpenDClient

    audit = None
    if config.audit_log:
        from futu_mcp.audit import AuditLog

        audit = AuditLog(Path(config.audit_log).expanduser())
    try:
        client = OpenDClient(
            gw_host, gw_port, rsa_key_path=Path(config.rsa_key) if config.rsa_key else None
        )
        ledger = Ledger(ledger_path(keys_file))
    except (OSError, ValueError, KeystoreError) as exc:
        _fail(str(exc))
        return
    metrics = Metrics(enabled=config.http_listen is not None or metrics_at is not None)
    metrics.watch_gateway(lambda: client.connected, lambda: client.reconnects)
    if metrics_at is not None:
        try:
            port = metrics.serve(*metrics_at)
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
        audit=audit,
        metrics=metrics,
        caps=ServerCaps(
            max_order_value=config.max_order_value,
            max_daily_value=config.max_daily_value,
            max_orders_per_minute=config.max_orders_per_minute,
        ),
        stdio_key=key,
    )
    server = build_server(state)
    import anyio

    try:
        if config.http_listen is None:
            from futu_mcp.stdio import serve_stdio

            anyio.run(serve_stdio, server)
        else:
            from futu_mcp.http import serve

            anyio.run(serve, server, state, sock)
    except KeyboardInterrupt:
        pass
