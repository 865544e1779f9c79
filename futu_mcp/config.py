"""Server settings from `--config PATH` (TOML) and the command line; the command line wins.

Every flag has a TOML key of the same name with underscores (`http_listen`, `max_order_value`),
so a team server is configured in one reviewed file. Values are checked here, once, with a
message naming the flag or key.
"""

import difflib
import ipaddress
import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from keystore.records import ValueLimit

DEFAULT_GATEWAY = "127.0.0.1:11111"
DEFAULT_BODY_LIMIT = 1 << 20  # 1 MiB: the largest legitimate request is a few KiB
DEFAULT_SESSIONS_PER_KEY = 16  # an agent opens one or two; a flood by one key stops here
DEFAULT_SESSION_IDLE_TIMEOUT = 600.0  # seconds without a request before a session is closed
DEFAULT_REQUEST_TIMEOUT = 5.0  # seconds: a frozen OpenD is reported this fast, and dropped
MAX_REQUEST_TIMEOUT = 300.0
# The toolsets an existing config gets: the original 19 tools.
DEFAULT_TOOLSETS = ("quote", "account", "trade")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class Config:
    """Everything `futu-mcp` can be told."""

    gateway: str = DEFAULT_GATEWAY
    keys_file: str | None = None
    http_listen: str | None = None
    metrics_listen: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    audit_log: str | None = None
    read_only: bool = False
    max_order_value: ValueLimit | None = None
    max_daily_value: ValueLimit | None = None
    max_orders_per_minute: int | None = None
    rsa_key: str | None = None
    max_body_bytes: int = DEFAULT_BODY_LIMIT
    max_sessions_per_key: int = DEFAULT_SESSIONS_PER_KEY
    session_idle_timeout: float = DEFAULT_SESSION_IDLE_TIMEOUT
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    log_level: str = "WARNING"
    ledger: str | None = None
    replica_id: str | None = None
    stateless: bool = False
    toolsets: frozenset[str] = frozenset(DEFAULT_TOOLSETS)

    @property
    def gateway_host_port(self) -> tuple[str, int]:
        """`--gateway` split into host and port."""
        return split_host_port(self.gateway)

    @property
    def http_host_port(self) -> tuple[str, int] | None:
        """`--http-listen` split into host and port, or None for stdio."""
        return None if self.http_listen is None else split_host_port(self.http_listen)

    @property
    def metrics_host_port(self) -> tuple[str, int] | None:
        """`--metrics-listen` split into host and port, or None when stdio serves no metrics."""
        if self.metrics_listen is None:
            return None
        return split_host_port(self.metrics_listen)


def split_host_port(text: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 as `[::1]:PORT`). `:PORT` or `PORT` alone means 127.0.0.1: listening
    beyond this machine takes an explicit `0.0.0.0:PORT`."""
    raw = text.strip()
    host, sep, port = raw.rpartition(":")
    if not sep:
        host, port = "", raw
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def is_loopback(host: str) -> bool:
    """True when `host` (a name or an address, IPv6 with or without brackets) is this machine
    only: what listens there cannot be reached from the network."""
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """`host` as it goes in a URL: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _convert(name: str, raw: Any) -> Any:
    try:
        if name in ("max_order_value", "max_daily_value"):
            return ValueLimit.parse(raw)
        if name in ("max_orders_per_minute", "max_body_bytes", "max_sessions_per_key"):
            if isinstance(raw, bool) or int(raw) <= 0:
                raise ValueError("expected a positive integer")
            return int(raw)
        if name == "session_idle_timeout":
            return _seconds(raw)
        if name == "request_timeout":
            return _seconds(raw, most=MAX_REQUEST_TIMEOUT)
        if name == "toolsets":
            # Imported here: the registry imports the toolspec, which imports mcp.
            from futu_mcp.tools.registry import parse_toolsets

            if not isinstance(raw, str | list):
                raise ValueError('expected names like "quote,history" or a list of them')
            return parse_toolsets(raw)
        if name == "allowed_hosts":
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            return tuple(str(h).strip() for h in items if str(h).strip())
        if name in ("read_only", "stateless"):
            if not isinstance(raw, bool):
                raise ValueError("expected true or false")
            return raw
        if name in ("http_listen", "metrics_listen", "gateway"):
            split_host_port(str(raw))
        if name == "ledger" and not str(raw).startswith(("redis://", "rediss://")):
            raise ValueError("expected redis://HOST:PORT/DB or rediss://HOST:PORT/DB")
        if not isinstance(raw, str):
            raise ValueError("expected a string")
        return raw
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _seconds(raw: Any, most: float | None = None) -> float:
    """A duration setting: a finite number of seconds, more than 0 and at most `most` (None: no
    bound beyond finite). One helper, so every duration is checked and refused alike."""
    why = "expected seconds, more than 0" + (f" and at most {most:g}" if most is not None else "")
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{why}, got {raw!r}") from None
    if isinstance(raw, bool) or not (math.isfinite(seconds) and 0 < seconds <= (most or seconds)):
        raise ValueError(f"{why}, got {raw!r}")
    return seconds


def load_config(path: Path | None, overrides: dict[str, Any]) -> Config:
    """Settings from the TOML file at `path` (if any), then `overrides` (non-None flags) on top."""
    known = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"config {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config {path}: {exc}") from None
        for key, raw in data.items():
            name = key.replace("-", "_")
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
                if close:
                    raise ConfigError(
                        f"config {path}: unknown key '{key}' (did you mean '{close[0]}'?)"
                    )
                raise ConfigError(f"config {path}: unknown key '{key}'")
            values[name] = _convert(name, raw)
    for name, raw in overrides.items():
        if raw is not None:
            values[name] = _convert(name, raw)
    if values.get("stateless") and values.get("http_listen") is None:
        raise ConfigError("stateless: only with http_listen (stdio has no HTTP sessions)")
    if values.get("http_listen") is not None and values.get("metrics_listen") is not None:
        raise ConfigError(
            "metrics_listen: only for stdio; with http_listen, /metrics is served on that address"
        )
    return Config(**values)
