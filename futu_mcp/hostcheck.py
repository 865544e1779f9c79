"""The Host and Origin check (DNS rebinding) in front of every HTTP listener futu-mcp opens:
the HTTP server's every path (`futu_mcp.gate`) and a stdio server's `--metrics-listen`.

A page on another site whose name is made to resolve to 127.0.0.1 reaches a loopback listener
from the user's browser; only the Host it sends gives it away. So a loopback bind answers the
loopback names, any other bind its own address, plus every `--allowed-hosts` entry (the names a
proxy, a container network or Prometheus uses). Wrong Host: 421; wrong Origin: 403, with the
texts of the MCP SDK's own check, which makes the decision.
"""

import logging

from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("futu_mcp.http")

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def transport_security(
    host: str, port: int, extra_hosts: tuple[str, ...]
) -> TransportSecuritySettings:
    """The Host/Origin allow-lists for a server bound to host:port; `*` turns the check off."""
    if "*" in extra_hosts:
        log.warning(
            "--allowed-hosts '*': Host/Origin checks are off (DNS rebinding protection disabled)"
        )
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    # A wildcard bind is also reached on loopback (health checks on the same host).
    names = list(LOOPBACK) if host in (*LOOPBACK, "0.0.0.0", "::") else [host]
    names += [h for h in extra_hosts if h not in names]
    hosts: list[str] = []
    origins: list[str] = []
    for name in names:
        if name.count(":") > 1 and not name.startswith("["):  # a bare IPv6 address
            name = f"[{name}]"
        has_port = "]:" in name if name.startswith("[") else ":" in name
        if has_port:  # an entry with its own port (`proxy.example:443`) is taken as is
            hosts.append(name)
            origins += [f"http://{name}", f"https://{name}"]
            continue
        hosts += [name, f"{name}:*"]
        origins += [f"http://{name}", f"https://{name}", f"http://{name}:*", f"https://{name}:*"]
    return TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)


class HostCheck:
    """ASGI app: a request with a Host or Origin the settings do not allow gets the refusal,
    any other goes on to `app`."""

    def __init__(self, app: ASGIApp, security: TransportSecuritySettings) -> None:
        self.app = app
        self._check = TransportSecurityMiddleware(security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = await self._check.validate_request(Request(scope), is_post=False)
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
