"""Session floods over HTTP while another tenant works: a revoked key sends thousands of
initialize requests (each a 401, no session), and a live key opens sessions it never ends
(its cap, then 429s). The other tenant's calls all succeed throughout, a new tenant can still
connect, and the server's sessions and memory do not grow with the size of the flood: memory
after the flood is within 20% of what it was after a first flood a quarter of its size."""

from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from keystore.store import KeyStore
from tests.e2e.conftest import INITIALIZE, gateway_of, http_client, wait_for
from tests.e2e.test_http_sessions import bearer, open_sessions
from tests.e2e.test_mcp_tools import call
from tests.reliability.conftest import scaled
from tests.reliability.test_load import rss_kib

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

FLOODERS = 16
CAP = 16  # the default max_sessions_per_key
RSS_GROWTH = 1.2


async def flood(url: str, token: str, requests: int) -> list[int]:
    """`requests` initialize requests over FLOODERS connections; their status codes."""
    statuses: list[int] = []
    async with httpx2.AsyncClient(headers=bearer(token), timeout=30) as http:

        async def sender(share: int) -> None:
            for _ in range(share):
                statuses.append((await http.post(url, json=INITIALIZE)).status_code)

        async with anyio.create_task_group() as tg:
            for n in range(FLOODERS):
                tg.start_soon(sender, requests // FLOODERS + (n < requests % FLOODERS))
    return statuses


@pytest.mark.timeout(scaled(120, 900))
async def test_a_revoked_and_a_greedy_key_flood_sessions_and_other_tenants_are_served(
    sim: Any, make_key: Any, http_server: Any, keys_file: Path
) -> None:
    revoked = make_key("revoked", "qot:read")
    KeyStore(keys_file).revoke("revoked")
    greedy = make_key("greedy", "qot:read")
    tenant = make_key("tenant", "qot:read")
    newcomer = make_key("newcomer", "qot:read")
    server = http_server("--gateway", gateway_of(sim))
    requests = scaled(96, 10_000)
    served: list[bool] = []
    flooding = True
    async with http_client(server.url, tenant) as client:
        await call(client, "futu_get_quote", {"codes": "HK.00700"})
        # A first, smaller flood: the greedy key reaches its cap, and the server has met it all.
        assert (await flood(server.url, revoked, requests // 4)) == [401] * (requests // 4)
        warm = await flood(server.url, greedy, CAP * 2)
        assert sorted(warm) == [200] * CAP + [429] * CAP
        rss_before = rss_kib(server.proc.pid)

        async def tenant_works() -> None:
            while flooding:
                failed, data = await call(client, "futu_get_quote", {"codes": "HK.00700"})
                assert not failed, data
                served.append(True)

        async with anyio.create_task_group() as tg:
            tg.start_soon(tenant_works)
            refused = await flood(server.url, revoked, requests)
            greedy_statuses = await flood(server.url, greedy, requests // 4)
            flooding = False
        rss_after = rss_kib(server.proc.pid)
        # The other tenant was served all along, and a new one gets in.
        assert len(served) >= 2
        async with http_client(server.url, newcomer) as other:
            assert not (await call(other, "futu_ping", {}))[0]
    print(
        f"flood: {requests} initialize with a revoked key, {requests // 4} with a live one; "
        f"tenant served {len(served)} calls meanwhile; "
        f"RSS {rss_before / 1024:.1f} MiB after a flood a quarter of the size, "
        f"{rss_after / 1024:.1f} MiB after"
    )
    assert refused == [401] * requests
    assert greedy_statuses == [429] * (requests // 4)
    assert open_sessions(server).get("greedy") == CAP
    assert "revoked" not in open_sessions(server)
    assert rss_after <= rss_before * RSS_GROWTH, (rss_before, rss_after)
    # Revoking the greedy key frees what it held.
    KeyStore(keys_file).revoke("greedy")
    wait_for(lambda: "greedy" not in open_sessions(server), what="the greedy key's sessions")
    assert server.proc.poll() is None
    assert "Traceback" not in server.logs()
