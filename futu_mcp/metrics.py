"""Prometheus metrics of the server: calls, latency, limit denials, gateway and ledger state,
sessions, audit health.

HTTP mode serves `/metrics` beside `/mcp`; a stdio server serves them only when asked
(`--metrics-listen`), so a plain stdio start-up imports no prometheus-client (it is measured).
Both answer only requests whose Host and Origin pass `futu_mcp.hostcheck`: the metrics name
every key and count its calls, which no web page may read through DNS rebinding.
Labels carry the key id (public, chosen by the human), never a token.
"""

from collections.abc import Callable, Iterator
from typing import Any


class Metrics:
    """Counters and gauges of one server process; a no-op when `enabled` is false (stdio without
    `--metrics-listen`)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        if not enabled:
            return
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self._calls = Counter(
            "futu_mcp_calls",
            "Tool calls by tool, outcome (ok, denied, declined, invalid, error) and key id.",
            ["tool", "outcome", "key_id"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "futu_mcp_call_seconds",
            "Tool call latency in seconds.",
            ["tool"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self._denials = Counter(
            "futu_mcp_limit_denials",
            "Calls refused by the key policy or server caps, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self._http_refusals = Counter(
            "futu_mcp_http_refusals",
            "HTTP requests refused before any tool ran, by reason (missing_key, invalid_key, "
            "revoked, expired, keys_file, session_cap).",
            ["reason"],
            registry=self.registry,
        )
        self._audit_failures = Counter(
            "futu_mcp_audit_write_failures",
            "Audit lines that could not be written.",
            registry=self.registry,
        )
        self._unaudited_cancels = Counter(
            "futu_mcp_unaudited_cancels",
            "Cancels sent while the audit log could not be written (a cancel only lowers risk).",
            registry=self.registry,
        )

    def watch_gateway(self, connected: Callable[[], bool], reconnects: Callable[[], int]) -> None:
        """Report the gateway's state, read at scrape time so it is never stale."""
        if not self.enabled:
            return
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        self._at_scrape(
            lambda: [
                GaugeMetricFamily(
                    "futu_mcp_gateway_connected",
                    "1 when the link to OpenD is up.",
                    value=1.0 if connected() else 0.0,
                ),
                CounterMetricFamily(
                    "futu_mcp_gateway_reconnects",
                    "Successful reconnects to OpenD.",
                    value=float(reconnects()),
                ),
            ]
        )

    def watch_audit(self, repairs: Callable[[], int]) -> None:
        """Report how many unfinished audit lines (a write cut short) were cut back."""
        if not self.enabled:
            return
        from prometheus_client.core import CounterMetricFamily

        self._at_scrape(
            lambda: [
                CounterMetricFamily(
                    "futu_mcp_audit_repairs",
                    "Unfinished audit lines (a write cut short, e.g. disk full) cut back.",
                    value=float(repairs()),
                )
            ]
        )

    def _at_scrape(self, families: Callable[[], list[Any]]) -> None:
        """Register metrics computed when scraped, from state another object owns."""

        class _Collector:
            def collect(self) -> Iterator[Any]:
                yield from families()

        self.registry.register(_Collector())

    def watch_sessions(self, counts: Callable[[], dict[str, int]]) -> None:
        """Report open MCP sessions by key id (HTTP), read at scrape time."""
        if not self.enabled:
            return
        from prometheus_client.core import GaugeMetricFamily

        def families() -> list[Any]:
            family = GaugeMetricFamily(
                "futu_mcp_open_sessions", "Open MCP sessions by key id.", labels=["key_id"]
            )
            for key_id, n in sorted(counts().items()):
                family.add_metric([key_id], float(n))
            return [family]

        self._at_scrape(families)

    def watch_ledger(self, up: Callable[[], bool]) -> None:
        """Report whether the limit ledger answered its last probe (orders need it)."""
        if not self.enabled:
            return
        from prometheus_client.core import GaugeMetricFamily

        self._at_scrape(
            lambda: [
                GaugeMetricFamily(
                    "futu_mcp_ledger_up",
                    "1 when the limit ledger answered its last probe; 0 means orders are refused.",
                    value=1.0 if up() else 0.0,
                )
            ]
        )

    def call(self, tool: str, outcome: str, key_id: str, seconds: float) -> None:
        """Count one tool call."""
        if self.enabled:
            self._calls.labels(tool, outcome, key_id).inc()
            self._latency.labels(tool).observe(seconds)

    def denial(self, reason: str) -> None:
        """Count one refusal by the policy (scope, market, rate, ...)."""
        if self.enabled:
            self._denials.labels(reason).inc()

    def http_refusal(self, reason: str) -> None:
        """Count one HTTP request refused at the door (no key, bad key, session cap)."""
        if self.enabled:
            self._http_refusals.labels(reason).inc()

    def audit_failure(self) -> None:
        """Count one audit line that could not be written."""
        if self.enabled:
            self._audit_failures.inc()

    def unaudited_cancel(self) -> None:
        """Count one cancel sent although its audit line could not be written."""
        if self.enabled:
            self._unaudited_cancels.inc()

    def serve(self, host: str, port: int, allowed_hosts: tuple[str, ...]) -> int:
        """Serve `GET /metrics` on host:port from a daemon thread (stdio mode), behind the same
        Host/Origin check as the HTTP server (`--allowed-hosts` included); returns the bound
        port. OSError when the address cannot be bound.

        The thread runs its own event loop: a scrape never waits on the one that serves the MCP
        session, nor it on a scrape.
        """
        import asyncio
        import socket
        import threading

        import uvicorn
        from starlette.applications import Starlette
        from starlette.routing import Route

        from futu_mcp.hostcheck import HostCheck, transport_security

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family)
        bound = int(sock.getsockname()[1])
        app = Starlette(routes=[Route("/metrics", self.respond, methods=["GET"])])
        server = uvicorn.Server(
            uvicorn.Config(
                HostCheck(app, transport_security(host, bound, allowed_hosts)),
                # stdout carries the MCP session: uvicorn configures no logging of its own and
                # its warnings go where the server's do (stderr).
                log_config=None,
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
        )
        threading.Thread(
            target=lambda: asyncio.run(server.serve([sock])), name="futu-mcp-metrics", daemon=True
        ).start()
        return bound

    async def respond(self, request: Any) -> Any:
        """`GET /metrics` (a starlette endpoint): the Prometheus text exposition, on the HTTP
        server or on `--metrics-listen`."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
        from starlette.responses import Response

        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
