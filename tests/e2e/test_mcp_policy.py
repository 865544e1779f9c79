"""Every denial, several tenants on one HTTP server, revocation and expiry while it runs,
daily value across a restart, and server-wide caps; all against the simulator."""

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import MCPError

from futu_mcp.audit import verify_file
from keystore.store import KeyStore
from tests.conftest import console_script
from tests.e2e.conftest import gateway_of, http_client, server_env, space_writes, wait_for
from tests.e2e.test_mcp_tools import call

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TRADE = "qot:read,trade:simulate"
REAL_HK = 281756470000000101
SIM_HK = 168880000000000201
# The window is 60 s and the burst takes well under that: the next order fits in 1 to 60 s.
RATE = re.compile(r"limit check failed: rate limit 3/min; retry in ([1-9]|[1-5][0-9]|60) s")


def order(
    code: str = "HK.00700", side: str = "BUY", qty: int = 100, price: float = 300.0
) -> dict[str, Any]:
    """A resting limit order (far from the sim's prices, so it never fills)."""
    return {"code": code, "trd_side": side, "qty": qty, "price": price}


async def refused(
    url: str, token: str, args: dict[str, Any], tool: str = "futu_place_order"
) -> str:
    """The error text of a call that must fail."""
    async with http_client(url, token) as client:
        failed, text = await call(client, tool, args)
    assert failed, f"expected a refusal, got {text}"
    return text


async def test_each_denial_has_its_contract_text(
    sim: Any, make_key: Any, http_server: Any, tmp_path: Path, keys_file: Path
) -> None:
    now = datetime.now(UTC)
    window = f"{(now + timedelta(hours=2)):%H:%M}-{(now + timedelta(hours=3)):%H:%M}"
    keys = {
        "quotes": make_key("quotes", "qot:read"),
        "hk": make_key("hk", TRADE, allowed_markets=["HK"]),
        "tencent": make_key("tencent", TRADE, allowed_symbols=["HK.00700"]),
        "buyer": make_key("buyer", TRADE, allowed_trd_sides=["BUY"]),
        "night": make_key("night", TRADE, hours_window=window),
        "small": make_key("small", TRADE, max_order_value=1000),
        "realacc": make_key("realacc", TRADE, allowed_acc_ids=[REAL_HK]),
    }
    audit = tmp_path / "audit.jsonl"
    server = http_server("--gateway", gateway_of(sim), "--audit-log", str(audit))
    before = len(sim.state.orders)
    url = server.url
    assert await refused(url, keys["quotes"], order()) == "missing scope: trade:simulate"
    assert (
        await refused(url, keys["hk"], order("US.AAPL", price=1.0, qty=1))
        == "market not allowed: US"
    )
    assert await refused(url, keys["tencent"], order("HK.00005")) == "symbol not allowed: HK.00005"
    assert await refused(url, keys["buyer"], order(side="SELL")) == "side not allowed: SELL"
    assert await refused(url, keys["night"], order()) == f"outside trading hours window {window}"
    assert (
        await refused(url, keys["small"], order())
        == "limit check failed: order value 30000 exceeds 1000"
    )
    named = {**order(), "acc_id": SIM_HK}
    assert await refused(url, keys["realacc"], named) == f"account not allowed: {SIM_HK}"
    assert len(sim.state.orders) == before
    # (A revoked or expired key gets no further than the 401 of the HTTP door: test_http_sessions.)
    # Each refusal is audited under its own key id; the chain verifies.
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    denied = {line["key_id"]: line["reason"] for line in lines if line["decision"] == "deny"}
    assert denied == {
        "quotes": "scope",
        "hk": "market",
        "tencent": "symbol",
        "buyer": "side",
        "night": "hours",
        "small": "order_value",
        "realacc": "account",
    }
    assert verify_file(audit).ok
    metrics = httpx2.get(f"{server.base}/metrics").text
    assert 'futu_mcp_limit_denials_total{reason="order_value"} 1.0' in metrics
    assert (
        'futu_mcp_calls_total{key_id="small",outcome="denied",tool="futu_place_order"} 1.0'
        in metrics
    )
    hashes = [k["hash"] for k in json.loads(keys_file.read_text())["keys"]]
    for secret in [*keys.values(), *hashes]:
        assert secret not in metrics
        assert secret not in server.logs()
        assert secret not in audit.read_text()


async def test_twenty_concurrent_orders_against_a_limit_of_three_admit_three(
    sim: Any, make_key: Any, http_server: Any, era: str, tmp_path: Path
) -> None:
    limited = make_key("limited", TRADE, max_orders_per_minute=3)
    other = make_key("other", TRADE)
    audit = tmp_path / "audit.jsonl"
    server = http_server("--gateway", gateway_of(sim), "--audit-log", str(audit))
    before = len(sim.state.orders)
    results: list[tuple[bool, Any]] = []
    # Round-robin over three markets (three sim accounts); the client spaces writes to one
    # account itself, so OpenD refuses none of the admitted orders.
    orders = [order(), order("US.AAPL", qty=1, price=100.0), order("SH.600519", price=900.0)]

    async def one(client: Any, args: dict[str, Any]) -> None:
        results.append(await call(client, "futu_place_order", args))

    async with http_client(server.url, limited, era) as client, anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(one, client, orders[i % 3])
    placed = [r for failed, r in results if not failed]
    rate = [r for failed, r in results if failed and RATE.fullmatch(r)]
    gateway = [r for failed, r in results if failed and r.startswith("gateway error: ")]
    assert len(placed) + len(rate) + len(gateway) == 20, results
    intents = [json.loads(x) for x in audit.read_text().splitlines() if '"phase":"intent"' in x]
    # Admitted by the policy = sent to the gateway = placed: exactly three, seventeen refused.
    assert gateway == []
    assert len(intents) == len(placed) == 3
    assert len(rate) == 17
    assert len(sim.state.orders) == before + 3
    # Another tenant on the same server has its own limits.
    space_writes(sim)
    async with http_client(server.url, other, era) as client:
        failed, result = await call(client, "futu_place_order", order())
    assert not failed and result["sent"] is True


async def test_daily_value_holds_across_a_restart(
    sim: Any, make_key: Any, http_server: Any
) -> None:
    token = make_key("daily", TRADE, max_daily_value=50000)
    first = http_server("--gateway", gateway_of(sim))
    async with http_client(first.url, token) as client:
        failed, placed = await call(client, "futu_place_order", order())
        assert not failed, placed
    first.stop()
    second = http_server("--gateway", gateway_of(sim))
    text = await refused(second.url, token, order())
    assert text == "limit check failed: daily value 60000 exceeds 50000"


async def test_revoked_while_running_is_refused_on_the_next_call(
    sim: Any, make_key: Any, http_server: Any, era: str, keys_file: Path
) -> None:
    token = make_key("soon-revoked", TRADE)
    server = http_server("--gateway", gateway_of(sim))
    async with http_client(server.url, token, era) as client:
        failed, _ = await call(client, "futu_get_quote", {"codes": "HK.00700"})
        assert not failed
        KeyStore(keys_file).revoke("soon-revoked")
        # Over HTTP the key is refused at the door (401, test_http_sessions): no call runs.
        before = len(sim.state.orders)
        for name, args in (
            ("futu_get_quote", {"codes": "HK.00700"}),
            ("futu_place_order", order()),
        ):
            with pytest.raises(MCPError):
                await call(client, name, args)
        assert len(sim.state.orders) == before


async def test_two_tenants_see_their_own_tools_and_bad_tokens_get_401(
    sim: Any, make_key: Any, http_server: Any, era: str, tmp_path: Path
) -> None:
    reader = make_key("reader", "qot:read")
    trader = make_key("trader", "qot:read,acc:read,trade:simulate")
    audit = tmp_path / "audit.jsonl"
    server = http_server("--gateway", gateway_of(sim), "--audit-log", str(audit))
    async with http_client(server.url, reader, era) as a, http_client(server.url, trader, era) as b:
        seen_a = {t.name for t in (await a.list_tools()).tools}
        seen_b = {t.name for t in (await b.list_tools()).tools}
        assert len(seen_a) == 11 and "futu_place_order" not in seen_a
        assert len(seen_b) == 19
        assert (await call(a, "futu_get_funds", {})) == (True, "missing scope: acc:read")
        failed, _ = await call(b, "futu_get_funds", {})
        assert not failed
    # A read call's line is queued (the reply does not wait for the file): wait for both.
    wait_for(lambda: len(audit.read_text().splitlines()) >= 2, what="both audit lines")
    ids = {json.loads(line)["key_id"] for line in audit.read_text().splitlines()}
    assert ids == {"reader", "trader"}
    listed = subprocess.run(
        [console_script("futucli"), "list-keys", "--json"],
        capture_output=True,
        text=True,
        env=server_env(),
    )
    used = {k["id"]: k.get("last_used") for k in json.loads(listed.stdout)}
    assert used["reader"] and used["trader"]
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    assert httpx2.post(server.url, json=init, headers=headers).status_code == 401
    wrong = {**headers, "Authorization": f"Bearer {reader[:-1]}{'y' if reader[-1] != 'y' else 'z'}"}
    assert httpx2.post(server.url, json=init, headers=wrong).status_code == 401
    assert (
        httpx2.post(
            server.url, json=init, headers={**headers, "Authorization": "Bearer fc_nope"}
        ).status_code
        == 401
    )


async def test_server_caps_and_read_only(sim: Any, make_key: Any, http_server: Any) -> None:
    token = make_key("free", "qot:read,acc:read,trade:simulate")
    capped = http_server("--gateway", gateway_of(sim), "--max-order-value", "HK=20000")
    assert (
        await refused(capped.url, token, order())
        == "limit check failed: order value 30000 exceeds 20000"
    )
    read_only = http_server("--gateway", gateway_of(sim), "--read-only")
    async with http_client(read_only.url, token) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names and not names & {"futu_place_order", "futu_modify_order", "futu_cancel_order"}
        result = await client.call_tool("futu_place_order", order())
        assert result.is_error
