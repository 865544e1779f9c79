"""The push-fed quote cache: get_stock_quote skips the round trip only for fresh pushed quotes
from the live link, and asks OpenD again when a quote is old, missing, or its link or
subscription is gone.

Requests are counted at the simulator: with its Qot_GetBasicQot replies stalled, each request it
received waits there as a held reply, while a cached answer returns at once.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from google.protobuf import json_format

from opend.client import OpenDClient
from opend.codes import parse_code
from opend.connection import Connection
from opend.errors import GatewayNotConnected
from opend.models import BasicQot
from opend.pbschema import pb_module
from opend.protoids import ProtoId
from opend.quotecache import QuoteCache
from opend.sim import Simulator
from tests.opend.polling import until

HK = parse_code("HK.00700")
US = parse_code("US.AAPL")
START = 1_780_000_000.0  # a frozen simulator clock inside HK trading hours


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def quote(code: str, price: float) -> BasicQot:
    security = parse_code(code)
    return BasicQot.from_wire({"security": security.to_wire(), "curPrice": price})


# ---- the cache on its own ---------------------------------------------------------------------


def test_cache_serves_only_fresh_complete_entries_of_the_same_link() -> None:
    clock, link, other = Clock(), object(), object()
    cache = QuoteCache(2.0, clock=clock)
    cache.put(link, [quote("HK.00700", 400.0)])
    assert [q.last_price for q in cache.get(link, [HK]) or []] == [400.0]
    assert cache.get(other, [HK]) is None  # delivered by a link that is not the live one
    assert cache.get(link, [HK, US]) is None  # partly cached: ask for all
    assert cache.get(link, []) is None
    clock.now += 2.0
    assert cache.get(link, [HK]) is None  # as old as the TTL: too old


def test_a_reply_sent_before_a_newer_push_does_not_replace_it() -> None:
    clock, link = Clock(), object()
    cache = QuoteCache(2.0, clock=clock)
    sent = clock()
    clock.now += 0.1
    cache.put(link, [quote("HK.00700", 401.0)])  # the push, arriving while the request waits
    cache.put(link, [quote("HK.00700", 400.0)], at=sent)  # the older reply
    assert [q.last_price for q in cache.get(link, [HK]) or []] == [401.0]


def test_discard_clear_and_a_zero_ttl() -> None:
    link = object()
    cache = QuoteCache(2.0, clock=Clock())
    cache.put(link, [quote("HK.00700", 1.0), quote("US.AAPL", 2.0)])
    cache.discard([HK])
    assert cache.get(link, [HK]) is None and cache.get(link, [US]) is not None
    cache.clear()
    assert len(cache) == 0
    off = QuoteCache(0.0, clock=Clock())
    off.put(link, [quote("HK.00700", 1.0)])
    assert off.get(link, [HK]) is None
    with pytest.raises(ValueError, match="must not be negative"):
        QuoteCache(-1.0)


# ---- the client against the simulator ---------------------------------------------------------


def make_client(sim: Simulator, **kw: Any) -> OpenDClient:
    host, port = sim.address
    options: dict[str, Any] = {"request_timeout": 10.0, "reconnect_base": 0.02}
    options.update(kw)
    return OpenDClient(host, port, **options)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(seed=7, start_time=START, push_interval=0.05) as simulator:
        yield simulator


def live(client: OpenDClient) -> Connection:
    conn = client.connection
    assert conn is not None
    return conn


def held_quote_requests(sim: Simulator) -> int:
    """Qot_GetBasicQot requests the simulator received while their replies are stalled."""
    return sum(
        1
        for conn in sim._connections.values()
        for proto_id, _data in conn.parked
        if proto_id == ProtoId.QOT_GET_BASIC_QOT
    )


async def sends_a_request(client: OpenDClient, sim: Simulator, codes: list[Any]) -> list[BasicQot]:
    """With 3004 stalled, the call must reach the simulator and wait; then let it through."""
    assert held_quote_requests(sim) == 0
    call = asyncio.create_task(client.get_stock_quote(codes))
    await until(lambda: held_quote_requests(sim) == 1, what="a Qot_GetBasicQot request")
    assert not call.done()
    sim.unstall()
    return await call


def sim_price(sim: Simulator, code: str) -> float:
    state = sim.state
    return state.market.day_so_far(state.securities[code], state.clock.now()).price


@pytest.mark.anyio
async def test_a_pushed_quote_is_served_without_a_request(sim: Simulator) -> None:
    async with make_client(sim, quote_cache_ttl=60.0) as client:
        assert await client.wait_connected(5)
        first = await client.get_stock_quote([HK])
        conn = live(client)
        pushed: list[dict[str, Any]] = []
        deliver = conn.on_push
        assert deliver is not None

        def spy(proto_id: int, s2c: dict[str, Any]) -> None:
            pushed.append(s2c)
            deliver(proto_id, s2c)

        conn.on_push = spy
        sim.stall(ProtoId.QOT_GET_BASIC_QOT)  # any request now hangs
        sim.advance(600)
        moved = sim_price(sim, "HK.00700")
        assert moved != first[0].last_price  # the test needs a price that moved

        async def cached_price() -> float | None:
            async with asyncio.timeout(1):  # a stalled 3004 must not block a cached answer
                return (await client.get_stock_quote([HK]))[0].last_price

        latest: list[float | None] = []
        while not latest or latest[-1] != moved:
            latest.append(await cached_price())
            assert held_quote_requests(sim) == 0
            if latest[-1] != moved:
                seen = len(pushed)
                await until(lambda: len(pushed) > seen, what="the next push")  # noqa: B023
        assert pushed and held_quote_requests(sim) == 0
        # What the simulator pushed fits the official Qot_UpdateBasicQot schema.
        for s2c in pushed:
            message = json_format.ParseDict(s2c, pb_module(ProtoId.QOT_UPDATE_BASIC_QOT).S2C())
            assert message.IsInitialized(), message.FindInitializationErrors()


@pytest.mark.anyio
async def test_a_quote_older_than_the_ttl_is_asked_for_again() -> None:
    # No pushes come (the interval is an hour), so only the reply fills the cache.
    async with (
        Simulator(seed=7, start_time=START, push_interval=3600) as sim,
        make_client(sim, quote_cache_ttl=0.3) as client,
    ):
        assert await client.wait_connected(5)
        first = await client.get_stock_quote([HK])
        sim.stall(ProtoId.QOT_GET_BASIC_QOT)
        sim.advance(600)
        moved = sim_price(sim, "HK.00700")
        assert moved != first[0].last_price
        cached = 0
        async with asyncio.timeout(10):
            while True:  # call again and again until a call asks the simulator
                call = asyncio.create_task(client.get_stock_quote([HK]))
                await until(lambda: call.done() or held_quote_requests(sim) == 1)  # noqa: B023
                if not call.done():
                    break
                assert call.result()[0].last_price == first[0].last_price
                cached += 1
        assert cached >= 1  # served from the cache until the TTL ran out
        sim.unstall()
        assert (await call)[0].last_price == moved


@pytest.mark.anyio
async def test_a_dropped_link_clears_the_cache(sim: Simulator) -> None:
    async with make_client(sim, quote_cache_ttl=60.0) as client:
        assert await client.wait_connected(5)
        await client.get_stock_quote([HK])
        first = live(client)
        await sim.stop()
        await until(lambda: not client.connected, what="down")
        await until(lambda: len(client._quotes) == 0, what="the cache cleared")
        with pytest.raises(GatewayNotConnected):
            await client.get_stock_quote([HK])  # never an answer from a dead link's cache
        await sim.start()
        await until(lambda: client.connected, timeout=10, what="back")
        assert live(client) is not first
        sim.stall(ProtoId.QOT_GET_BASIC_QOT)
        assert (await sends_a_request(client, sim, [HK]))[0].code == "HK.00700"


@pytest.mark.anyio
async def test_codes_partly_cached_get_one_request_for_all(sim: Simulator) -> None:
    async with make_client(sim, quote_cache_ttl=60.0) as client:
        assert await client.wait_connected(5)
        await client.get_stock_quote([HK])
        sim.stall(ProtoId.QOT_GET_BASIC_QOT)
        await client.get_stock_quote([HK])  # cached: no request
        got = await sends_a_request(client, sim, [HK, US])
        assert [q.code for q in got] == ["HK.00700", "US.AAPL"]


@pytest.mark.anyio
async def test_a_released_subscription_clears_its_cached_quote(sim: Simulator) -> None:
    options = {"subscription_min_hold": 0.05, "subscription_idle": 0.05, "release_interval": 0.02}
    async with make_client(sim, quote_cache_ttl=60.0, **options) as client:
        assert await client.wait_connected(5)
        await client.get_stock_quote([HK])
        await until(lambda: client.subscriptions == [], what="the idle subscription released")
        assert len(client._quotes) == 0
        sim.stall(ProtoId.QOT_GET_BASIC_QOT)
        assert (await sends_a_request(client, sim, [HK]))[0].code == "HK.00700"
