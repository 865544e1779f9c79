"""HTTP keys and sessions against a real futu-mcp: a bad, revoked or expired key is a 401 that
says which before any session exists; a session ends when its key is revoked; one key's flood of
sessions stops at its own cap and never locks another key out; idle sessions are closed; and
`/metrics` and `/healthz` get the same Host check as `/mcp`."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import MCPError

from keystore.store import KeyStore
from tests.e2e.conftest import INITIALIZE, gateway_of, http_client, wait_for
from tests.e2e.test_mcp_tools import call

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ACCEPT = {"Accept": "application/json, text/event-stream"}
INIT = INITIALIZE
PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}


def bearer(token: str) -> dict[str, str]:
    """Request headers carrying `token`."""
    return {**ACCEPT, "Authorization": f"Bearer {token}"}


def open_sessions(server: Any) -> dict[str, float]:
    """futu_mcp_open_sessions by key id, as /metrics says now."""
    text = httpx2.get(f"{server.base}/metrics").text
    found = re.findall(r'^futu_mcp_open_sessions\{key_id="([^"]+)"\} (\S+)$', text, re.M)
    return {key: float(n) for key, n in found}


def check_401(response: Any, description: str) -> None:
    """An RFC 6750 refusal naming `description`, with no session opened."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == (
        f'Bearer error="invalid_token", error_description="{description}"'
    )
    assert response.json() == {"error": "invalid_token", "error_description": description}
    assert "mcp-session-id" not in response.headers


async def test_bad_revoked_and_expired_keys_get_a_401_that_says_which(
    sim: Any, make_key: Any, http_server: Any, keys_file: Path
) -> None:
    good = make_key("good", "qot:read")
    revoked = make_key("gone", "qot:read")
    KeyStore(keys_file).revoke("gone")
    expired = make_key("old", "qot:read", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    server = http_server("--gateway", gateway_of(sim))
    check_401(httpx2.post(server.url, json=INIT, headers=ACCEPT), "missing key")
    check_401(httpx2.post(server.url, json=INIT, headers=bearer("fc_nope")), "invalid key")
    wrong = good[:-1] + ("y" if good[-1] != "y" else "z")
    check_401(httpx2.post(server.url, json=INIT, headers=bearer(wrong)), "invalid key")
    check_401(httpx2.post(server.url, json=INIT, headers=bearer(revoked)), "key revoked")
    check_401(httpx2.post(server.url, json=INIT, headers=bearer(expired)), "key expired")
    assert open_sessions(server) == {}
    metrics = httpx2.get(f"{server.base}/metrics").text
    for reason, n in (("missing_key", 1), ("invalid_key", 2), ("revoked", 1), ("expired", 1)):
        assert f'futu_mcp_http_refusals_total{{reason="{reason}"}} {n}.0' in metrics
    assert httpx2.post(server.url, json=INIT, headers=bearer(good)).status_code == 200
    assert open_sessions(server) == {"good": 1.0}
    for token in (good, revoked, expired, wrong):
        assert token not in server.logs()


async def test_a_session_ends_when_its_key_is_revoked_or_expires(
    sim: Any, make_key: Any, http_server: Any, keys_file: Path
) -> None:
    token = make_key("desk", "qot:read")
    server = http_server("--gateway", gateway_of(sim))
    # Long enough to open a session first on a loaded machine; waited for below.
    brief = make_key("brief", "qot:read", expires_at=datetime.now(UTC) + timedelta(seconds=5))
    brief_session = httpx2.post(server.url, json=INIT, headers=bearer(brief)).headers[
        "mcp-session-id"
    ]
    raw = httpx2.post(server.url, json=INIT, headers=bearer(token)).headers["mcp-session-id"]
    async with http_client(server.url, token) as client:
        assert (await call(client, "futu_get_quote", {"codes": "HK.00700"}))[0] is False
        assert open_sessions(server)["desk"] == 2.0
        KeyStore(keys_file).revoke("desk")
        # Closed by the server on its own, before the clients say anything more.
        wait_for(lambda: "desk" not in open_sessions(server), what="the revoked key's sessions")
        with pytest.raises(MCPError):
            await client.list_tools()
    again = httpx2.post(server.url, json=PING, headers={**bearer(token), "mcp-session-id": raw})
    check_401(again, "key revoked")
    wait_for(lambda: open_sessions(server) == {}, timeout=20, what="the expired key's session")
    again = httpx2.post(
        server.url, json=PING, headers={**bearer(brief), "mcp-session-id": brief_session}
    )
    check_401(again, "key expired")


async def test_one_keys_session_flood_stops_at_its_cap_and_others_are_served(
    sim: Any, make_key: Any, http_server: Any, keys_file: Path
) -> None:
    flood = make_key("flood", "qot:read")
    calm = make_key("calm", "qot:read")
    server = http_server("--gateway", gateway_of(sim), "--max-sessions-per-key", "4")
    statuses: list[int] = []
    bodies: list[str] = []
    opened: list[str] = []
    async with httpx2.AsyncClient(headers=bearer(flood), timeout=30) as http:

        async def initialize() -> None:
            response = await http.post(server.url, json=INIT)
            statuses.append(response.status_code)
            bodies.append(response.text)
            if "mcp-session-id" in response.headers:
                opened.append(response.headers["mcp-session-id"])

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(initialize)
    assert sorted(statuses) == [200] * 4 + [429] * 16
    refusal = next(b for b in bodies if "too many" in b)
    assert "too many open sessions for key flood: 4 is the limit (max_sessions_per_key)" in refusal
    assert '"jsonrpc": "2.0"' in refusal and "session_idle_timeout" in refusal
    assert open_sessions(server) == {"flood": 4.0}
    metrics = httpx2.get(f"{server.base}/metrics").text
    assert 'futu_mcp_http_refusals_total{reason="session_cap"} 16.0' in metrics
    async with http_client(server.url, calm) as client:
        assert len((await client.list_tools()).tools) == 11
    # Another key can neither use nor end the flood's sessions.
    foreign = {**bearer(calm), "mcp-session-id": opened[0]}
    assert httpx2.post(server.url, json=PING, headers=foreign).status_code == 404
    assert httpx2.delete(server.url, headers=foreign).status_code == 404
    assert open_sessions(server) == {"flood": 4.0}
    # A session the client ends frees its slot.
    mine = httpx2.post(server.url, json=INIT, headers=bearer(calm))
    session = {"mcp-session-id": mine.headers["mcp-session-id"]}
    assert httpx2.delete(server.url, headers={**bearer(calm), **session}).status_code == 200
    assert (
        httpx2.post(server.url, json=PING, headers={**bearer(calm), **session}).status_code == 404
    )
    assert open_sessions(server) == {"flood": 4.0}
    # Revoking the flooding key ends its sessions: it holds nothing, others go on.
    KeyStore(keys_file).revoke("flood")
    wait_for(lambda: open_sessions(server) == {}, what="the flood's sessions to close")
    check_401(httpx2.post(server.url, json=INIT, headers=bearer(flood)), "key revoked")
    assert flood not in server.logs()


async def test_idle_sessions_are_closed_and_their_slots_freed(
    sim: Any, make_key: Any, http_server: Any
) -> None:
    token = make_key("idler", "qot:read")
    server = http_server(
        "--gateway", gateway_of(sim), "--max-sessions-per-key", "2", "--session-idle-timeout", "1"
    )
    ids = []
    for _ in range(2):
        opened = httpx2.post(server.url, json=INIT, headers=bearer(token))
        ids.append(opened.headers["mcp-session-id"])
    assert httpx2.post(server.url, json=INIT, headers=bearer(token)).status_code == 429
    wait_for(lambda: open_sessions(server) == {}, what="idle sessions to close")
    for session_id in ids:
        stale = httpx2.post(
            server.url, json=PING, headers={**bearer(token), "mcp-session-id": session_id}
        )
        assert stale.status_code == 404  # the SDK no longer holds it
    assert httpx2.post(server.url, json=INIT, headers=bearer(token)).status_code == 200


async def test_metrics_and_healthz_check_the_host_like_mcp(
    sim: Any, make_key: Any, http_server: Any
) -> None:
    token = make_key("web", "qot:read")
    server = http_server("--gateway", gateway_of(sim))
    httpx2.post(server.url, json=INIT, headers=bearer(token))
    for path in ("/metrics", "/healthz"):
        assert httpx2.get(f"{server.base}{path}").status_code == 200
        evil = httpx2.get(f"{server.base}{path}", headers={"Host": "evil.com"})
        assert evil.status_code == 421 and "web" not in evil.text
        page = httpx2.get(f"{server.base}{path}", headers={"Origin": "http://evil.com"})
        assert page.status_code == 403
    evil = httpx2.post(server.url, json=INIT, headers={**bearer(token), "Host": "evil.com"})
    assert evil.status_code == 421


async def test_stateless_has_no_sessions_to_cap(sim: Any, make_key: Any, http_server: Any) -> None:
    """With --stateless nothing is a session: one key's concurrent requests are never refused as
    over max_sessions_per_key, and bad keys still get their 401."""
    token = make_key("fleet", "qot:read")
    server = http_server("--gateway", gateway_of(sim), "--stateless", "--max-sessions-per-key", "1")
    statuses: list[int] = []
    async with httpx2.AsyncClient(headers=bearer(token), timeout=30) as http:

        async def initialize() -> None:
            statuses.append((await http.post(server.url, json=INIT)).status_code)

        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(initialize)
    assert statuses == [200] * 8
    assert open_sessions(server) == {}
    check_401(httpx2.post(server.url, json=INIT, headers=bearer("fc_nope")), "invalid key")
