"""Two futu-mcp HTTP replicas on one Redis ledger and one simulated OpenD, requests spread over
both: limits, client_order_id, revocation, a Redis outage and a replica killed mid-burst.
The simulator's order book, the audit files and the ledger are the witnesses."""

import json
import os
import shlex
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from keystore.errors import LedgerError
from keystore.ledger_redis import RedisLedger, redact
from keystore.store import KeyStore
from tests.conftest import console_script
from tests.e2e.conftest import (
    INITIALIZE,
    HttpServer,
    futucli,
    gateway_of,
    http_client,
    server_env,
    wait_for,
)
from tests.e2e.test_mcp_policy import RATE, TRADE, order
from tests.e2e.test_mcp_tools import call, ok
from tests.redisserver import RedisServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

# Three markets, three sim accounts: OpenD's per-account gap never refuses an admitted order.
ORDERS = [order(), order("US.AAPL", qty=1, price=100.0), order("SH.600519", price=900.0)]


def replicas(
    start: Callable[..., HttpServer],
    sim: Any,
    redis_url: str,
    folder: Path,
    *extra: str,
    keys_files: tuple[Path | None, Path | None] = (None, None),
) -> tuple[HttpServer, HttpServer]:
    """Replicas `a` and `b`, each with its own audit file in `folder`."""
    started = []
    for name, keys_file in zip("ab", keys_files, strict=True):
        args = [
            "--gateway",
            gateway_of(sim),
            "--ledger",
            redis_url,
            "--replica-id",
            name,
            "--audit-log",
            str(folder / f"audit-{name}.jsonl"),
            *extra,
        ]
        if keys_file is not None:
            args += ["--keys-file", str(keys_file)]
        started.append(start(*args))
    return started[0], started[1]


def intents(folder: Path) -> list[dict[str, Any]]:
    """Every audit intent line of both replicas."""
    found = []
    for name in "ab":
        path = folder / f"audit-{name}.jsonl"
        if path.exists():
            lines = path.read_text().splitlines()
            found += [json.loads(x) for x in lines if '"phase":"intent"' in x]
    return found


async def burst(
    urls: list[str], token: str, n: int, args: Callable[[int], dict[str, Any]]
) -> list[tuple[bool, Any]]:
    """`n` concurrent place orders, spread round-robin over the replicas' URLs."""
    results: list[tuple[bool, Any]] = []

    async def one(client: Any, i: int) -> None:
        results.append(await call(client, "futu_place_order", args(i)))

    async with (
        http_client(urls[0], token) as first,
        http_client(urls[1], token) as second,
        anyio.create_task_group() as tg,
    ):
        for i in range(n):
            tg.start_soon(one, (first, second)[i % 2], i)
    return results


def placed(results: list[tuple[bool, Any]]) -> list[dict[str, Any]]:
    return [r for failed, r in results if not failed]


async def test_limits_and_client_order_ids_hold_across_two_replicas(
    sim: Any, make_key: Any, http_server: Any, tmp_path: Path, redis_server: RedisServer
) -> None:
    rate_key = make_key("rate", TRADE, max_orders_per_minute=3)
    daily_key = make_key("daily", TRADE, max_daily_value=100000)
    a, b = replicas(http_server, sim, redis_server.url, tmp_path)
    before = len(sim.state.orders)

    results = await burst([a.url, b.url], rate_key, 20, lambda i: ORDERS[i % 3])
    assert len(placed(results)) == 3, results
    refused = [r for failed, r in results if failed]
    assert len(refused) == 17 and all(RATE.fullmatch(r) for r in refused), refused
    # 30000 HKD each against 100000 a day: three, on whichever replica.
    results = await burst([a.url, b.url], daily_key, 10, lambda i: order())
    assert len(placed(results)) == 3, results
    assert {r for failed, r in results if failed} == {
        "limit check failed: daily value 120000 exceeds 100000"
    }
    assert len(sim.state.orders) == before + 6
    lines = intents(tmp_path)
    assert len(lines) == 6
    assert {line["replica"] for line in lines} <= {"a", "b"}

    # One client_order_id sent to both replicas at once: one order, the same answer twice.
    retry_key = make_key("retry", TRADE)
    args = {**order(), "client_order_id": "both-at-once"}
    answers: list[dict[str, Any]] = []

    async def send(url: str) -> None:
        async with http_client(url, retry_key) as client:
            answers.append(await ok(client, "futu_place_order", args))

    async with anyio.create_task_group() as tg:
        tg.start_soon(send, a.url)
        tg.start_soon(send, b.url)
    assert len(sim.state.orders) == before + 7
    assert answers[0]["order_id"] == answers[1]["order_id"]
    assert [x.get("repeat", False) for x in answers].count(True) == 1

    # The ledger that futucli reads agrees with what the sim holds.
    usage = RedisLedger(redis_server.url).usage(["rate", "daily"])
    assert usage["rate"].orders_last_minute == 3
    assert usage["daily"].daily == {("HK", "HKD"): 90000}


async def test_a_revocation_reaches_a_replica_with_a_stale_keys_file(
    sim: Any,
    make_key: Any,
    http_server: Any,
    tmp_path: Path,
    keys_file: Path,
    redis_server: RedisServer,
) -> None:
    token = make_key("leaving", TRADE)
    stale = tmp_path / "stale" / "keys.json"  # replica b's own copy, never updated
    stale.parent.mkdir(mode=0o700)
    shutil.copy2(keys_file, stale)
    a, b = replicas(http_server, sim, redis_server.url, tmp_path, keys_files=(None, stale))
    for url in (a.url, b.url):
        async with http_client(url, token) as client:
            await ok(client, "futu_get_quote", {"codes": "HK.00700"})
    done = futucli("revoke-key", "leaving", "--ledger", redis_server.url)
    assert done.returncode == 0, done.stderr
    assert KeyStore(stale).read().by_id("leaving").revoked_at is None  # type: ignore[union-attr]
    # The promise is "within 1 s": the first request a second after the revocation is refused
    # by both, the one with the stale keys.json too (the time itself is what is tested).
    await anyio.sleep(1.0)
    for url in (a.url, b.url):
        assert await refusal_of(url, token) in ("key revoked", "401")


async def test_a_rotation_while_redis_is_down_names_the_command_that_records_the_old_kid(
    sim: Any, make_key: Any, http_server: Any, tmp_path: Path, keys_file: Path
) -> None:
    """rotate-key --ledger with Redis stopped: keys.json has the new secret, the old kid is not
    in Redis, and the message names the command that records exactly that kid. Run once Redis
    is back, it makes a replica with a stale keys.json refuse the old token, while the new one
    keeps working (the key's id now names the new secret: revoking it would cut that off)."""
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        old_token = make_key("rotating", TRADE)
        stale = tmp_path / "stale" / "keys.json"  # replica b's own copy, never updated
        stale.parent.mkdir(mode=0o700)
        shutil.copy2(keys_file, stale)
        a, b = replicas(http_server, sim, redis.url, tmp_path, keys_files=(None, stale))
        redis.stop()
        done = futucli("rotate-key", "rotating", "--ledger", redis.url)
        assert done.returncode == 1, done.stderr
        new_token = done.stdout.strip()
        assert new_token.startswith("fc_") and new_token != old_token
        assert "is NOT recorded in the ledger" in done.stderr
        hinted = done.stderr.split("run `", 1)[1].split("`", 1)[0]
        redis.start()  # same port, empty: the replicas reconnect on their own
        for server in (a, b):
            wait_for(lambda s=server: health(s)["ledger_up"], what="the ledger to be back")
        # The gap the hinted command closes: b's stale keys.json still has the old secret.
        assert await refusal_of(b.url, old_token) is None
        program, *args = shlex.split(hinted)
        assert program == "futucli", hinted
        done = futucli(*args)
        assert done.returncode == 0, done.stderr
        await anyio.sleep(1.0)  # the promise: a revocation reaches every replica within 1 s
        for url in (a.url, b.url):
            assert await refusal_of(url, old_token) == "401"
        async with http_client(a.url, new_token) as client:
            await ok(client, "futu_get_quote", {"codes": "HK.00700"})
            await ok(client, "futu_place_order", order())
        shutil.copy2(keys_file, stale)  # b given the current keys.json: the new secret works there
        async with http_client(b.url, new_token) as client:
            await ok(client, "futu_get_quote", {"codes": "HK.00700"})
    finally:
        redis.stop()


async def refusal_of(url: str, token: str) -> str | None:
    """Why a quote call with `token` is refused ("401" at the HTTP layer), or None."""
    async with httpx2.AsyncClient(timeout=10) as raw:
        reply = await raw.post(
            url,
            json=INITIALIZE,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, text/event-stream",
            },
        )
    if reply.status_code == 401:
        return "401"
    async with http_client(url, token) as client:
        failed, text = await call(client, "futu_get_quote", {"codes": "HK.00700"})
    return text if failed else None


async def test_a_redis_outage_refuses_orders_keeps_reads_and_heals(
    sim: Any, make_key: Any, http_server: Any, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        token = make_key("steady", "qot:read,acc:read,trade:simulate")
        a, b = replicas(http_server, sim, redis.url, tmp_path)
        async with http_client(a.url, token) as client:
            early = await ok(client, "futu_place_order", order())
        redis.stop()
        for server in (a, b):
            wait_for(lambda s=server: not health(s)["ledger_up"], what="the outage to be seen")
            body = health(server)
            assert body["status"] == "degraded"
            assert "limit ledger unavailable" in body["ledger_error"]
            assert "futu_mcp_ledger_up 0.0" in metrics(server)
            async with http_client(server.url, token) as client:
                failed, text = await call(client, "futu_place_order", order())
                assert failed and text.startswith("limit ledger unavailable: "), text
                await ok(client, "futu_get_quote", {"codes": "HK.00700"})
                await ok(client, "futu_get_funds", {})
        # The replica that placed it may still cancel its order (it kept a copy of the owner).
        async with http_client(a.url, token) as client:
            await ok(client, "futu_cancel_order", {"order_id": early["order_id"]})
        denials = [
            json.loads(x)
            for x in (tmp_path / "audit-b.jsonl").read_text().splitlines()
            if '"decision":"deny"' in x
        ]
        assert denials and denials[-1]["reason"] == "ledger_unavailable"
        redis.start()  # same port, empty: the replicas reconnect on their own
        for server in (a, b):
            wait_for(lambda s=server: health(s)["ledger_up"], what="the ledger to be back")
            assert "futu_mcp_ledger_up 1.0" in metrics(server)
            async with http_client(server.url, token) as client:
                await ok(client, "futu_place_order", order("US.AAPL", qty=1, price=100.0))
    finally:
        redis.stop()


def health(server: HttpServer) -> dict[str, Any]:
    return dict(httpx2.get(server.base + "/healthz", timeout=10).json())


def metrics(server: HttpServer) -> str:
    return str(httpx2.get(server.base + "/metrics", timeout=10).text)


async def test_a_replica_killed_mid_burst_leaves_the_other_serving_and_the_books_agreeing(
    sim: Any, make_key: Any, http_server: Any, tmp_path: Path, redis_server: RedisServer
) -> None:
    token = make_key("burst", TRADE, max_orders_per_minute=12)
    a, b = replicas(http_server, sim, redis_server.url, tmp_path)
    before = len(sim.state.orders)
    b_results: list[tuple[bool, Any]] = []
    killed = anyio.Event()

    async def one(url: str, i: int) -> None:
        try:
            async with http_client(url, token) as client:
                result = await call(client, "futu_place_order", ORDERS[i % 3])
            if url == b.url:
                b_results.append(result)
        except Exception:  # a call to the killed replica may die with it
            if url != a.url:
                raise

    async def kill_a() -> None:
        # Once the first intent line is on disk: a is mid-burst.
        while not (tmp_path / "audit-a.jsonl").exists() or not intents(tmp_path):
            await anyio.sleep(0.01)
        os.kill(a.proc.pid, signal.SIGKILL)
        killed.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(kill_a)
        for i in range(16):
            tg.start_soon(one, (a.url, b.url)[i % 2], i)
    await killed.wait()
    # b serves on, alone.
    async with http_client(b.url, token) as client:
        await ok(client, "futu_get_quote", {"codes": "HK.00700"})
    new_orders = len(sim.state.orders) - before
    lines = intents(tmp_path)
    reserved = RedisLedger(redis_server.url).usage(["burst"])["burst"].orders_last_minute
    # Every order the sim holds had its intent line first and still holds its reservation (an
    # order OpenD refused gave its reservation back; one cut off by the kill keeps it), and the
    # cap held across both replicas and the crash.
    assert new_orders <= len(lines)
    assert new_orders <= reserved <= 12
    # b's calls all ended: each of its intent lines is an order it reported placed.
    b_intents = [line for line in lines if line["replica"] == "b"]
    assert len(b_results) == 8
    assert len(placed(b_results)) == len(b_intents)
    assert new_orders >= len(b_intents)


async def test_the_ledger_password_is_never_shown(
    sim: Any,
    make_key: Any,
    http_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "ledger-pass-7Qx2"
    redis = RedisServer(tmp_path, password=secret)
    redis.start()
    try:
        token = make_key("careful", TRADE)
        # From the environment (the flag carries only the address)...
        monkeypatch.setenv("FUTU_LEDGER_PASSWORD", secret)
        by_env = http_server(
            "--gateway",
            gateway_of(sim),
            "--ledger",
            redis.url,
            "--audit-log",
            str(tmp_path / "audit-env.jsonl"),
        )
        monkeypatch.delenv("FUTU_LEDGER_PASSWORD")
        # ...or in the URL of the --config file.
        config = tmp_path / "futu-mcp.toml"
        config.write_text(f'ledger = "redis://:{secret}@127.0.0.1:{redis.port}/0"\n')
        by_url = http_server(
            "--gateway",
            gateway_of(sim),
            "--config",
            str(config),
            "--audit-log",
            str(tmp_path / "audit-url.jsonl"),
        )
        shown = {by_env: "redis://127.0.0.1", by_url: "redis://:***@127.0.0.1"}
        for server, address in shown.items():
            async with http_client(server.url, token) as client:
                await ok(client, "futu_place_order", order())
            assert health(server)["ledger"] == f"{address}:{redis.port}/0"
        redis.stop()
        seen = []
        for server in (by_env, by_url):
            wait_for(lambda s=server: not health(s)["ledger_up"], what="the outage to be seen")
            async with http_client(server.url, token) as client:
                failed, text = await call(client, "futu_place_order", order())
            assert failed and text.startswith("limit ledger unavailable: ")
            seen += [text, json.dumps(health(server)), metrics(server), server.logs()]
        seen += [(tmp_path / f"audit-{n}.jsonl").read_text() for n in ("env", "url")]
        assert all(secret not in text for text in seen)
    finally:
        redis.stop()


@pytest.mark.parametrize(
    "url",
    [
        "redis://:hunter2hunter2@127.0.0.1:1/0",
        "redis://127.0.0.1:1/0?password=hunter2hunter2",  # redis-py reads this form too
    ],
)
def test_a_password_in_the_ledger_flag_is_refused(url: str) -> None:
    done = subprocess.run(
        [console_script("futu-mcp"), "--ledger", url],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
    )
    assert done.returncode == 2
    assert "FUTU_LEDGER_PASSWORD" in done.stderr
    assert "hunter2hunter2" not in done.stderr + done.stdout


def test_a_password_in_the_ledger_urls_query_is_refused_and_never_shown() -> None:
    """From a TOML file the URL is not on a command line, but a query password would still be
    printed by /healthz and every refusal: it is refused, and redact() drops it too."""
    url = "rediss://127.0.0.1:1/0?password=hunter2hunter2&ssl_ca_certs=/etc/futu/ca.pem"
    assert redact(url) == "rediss://127.0.0.1:1/0?ssl_ca_certs=/etc/futu/ca.pem"
    with pytest.raises(LedgerError) as refused:
        RedisLedger(url)
    assert "FUTU_LEDGER_PASSWORD" in str(refused.value)
    assert "hunter2hunter2" not in str(refused.value)


async def test_stateless_replicas_behind_a_plain_round_robin_balancer(
    sim: Any, make_key: Any, http_server: Any, tmp_path: Path, redis_server: RedisServer
) -> None:
    from bench.roundrobin import RoundRobinProxy
    from tests.e2e.test_mcp_trade import Person

    careful = make_key("careful", TRADE, confirm_orders="all")
    a, b = replicas(http_server, sim, redis_server.url, tmp_path, "--stateless")
    host, port = a.url.split("//")[1].split("/")[0].rsplit(":", 1)
    upstreams = [(host, int(port))]
    host, port = b.url.split("//")[1].split("/")[0].rsplit(":", 1)
    upstreams.append((host, int(port)))
    proxy = RoundRobinProxy(upstreams)
    await proxy.start()
    url = f"http://127.0.0.1:{proxy.port}/mcp"
    try:
        # No MCP session: nothing for a balancer to stick to.
        # The proxy runs on this event loop: an async request, never a blocking one.
        async with httpx2.AsyncClient(timeout=10) as raw:
            reply = await raw.post(
                url,
                json=INITIALIZE,
                headers={
                    "Authorization": f"Bearer {careful}",
                    "Accept": "application/json, text/event-stream",
                },
            )
        assert reply.status_code == 200
        assert "mcp-session-id" not in reply.headers
        # A 2026-07-28 client: the question and the retry with the answer land on different
        # replicas (strict alternation) and the order goes out once per accepted answer.
        person = Person()
        before = len(sim.state.orders)
        async with http_client(url, careful, mode="auto", elicitation_callback=person) as client:
            for _ in range(3):
                person.answers = ["accept"]
                await ok(client, "futu_place_order", order())
            person.answers = ["decline"]
            assert await call(client, "futu_place_order", order()) == (
                True,
                "confirmation declined",
            )
        assert len(person.asked) == 4
        assert len(sim.state.orders) == before + 3
        assert {line["replica"] for line in intents(tmp_path)} == {"a", "b"}
        # A client of an older protocol can only be asked mid-call: refused, with the fix.
        async with http_client(url, careful, elicitation_callback=Person()) as client:
            failed, text = await call(client, "futu_place_order", order())
            assert failed
            assert "futu-mcp --stateless cannot ask" in text
            assert "confirm_orders=all" in text and "--confirm-orders never" in text
            for _ in range(4):  # reads from both replicas in one client "session"
                await ok(client, "futu_get_quote", {"codes": "HK.00700"})
        assert len(sim.state.orders) == before + 3
        assert proxy.forwarded >= 14
    finally:
        await proxy.close()
