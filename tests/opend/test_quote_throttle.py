"""OpenD's quote request limits mirrored client-side: snapshots and history K-line first pages
60 per 30 s, plate lists and plate members 10 per 30 s, one window per protocol per client.
A refused call raises `Throttled` and sends nothing. The client's windows run on an injected
clock here, the simulator's on its own steppable clock, so no test waits out 30 s."""

import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from opend.client import OpenDClient
from opend.codes import QotMarket, parse_code
from opend.enums import KLType, Plate
from opend.errors import GatewayNotConnected, OpenDError, Throttled
from opend.framing import Frame
from opend.protoids import ProtoId
from opend.sim import Simulator
from opend.throttle import QUOTE_LIMITS, SAFETY_MARGIN, Limit, QuoteThrottle, SlidingWindow
from tests.opend.fake_opend import FakeOpenD, Link, answer_ok, fast_client

TENCENT = parse_code("HK.00700")
PLATE = parse_code("HK.BK1001")
START = 1_780_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_eleventh_plate_list_is_refused_with_the_rule_and_the_retry_time() -> None:
    clock = Clock()
    throttle = QuoteThrottle(clock=clock)
    for _ in range(10):
        throttle.book(ProtoId.QOT_GET_PLATE_SET)
        clock.now += 1.0
    with pytest.raises(Throttled) as exc:
        throttle.book(ProtoId.QOT_GET_PLATE_SET)
    # First at t=1000, now t=1010: its slot frees at 1030 (+ margin).
    assert exc.value.retry_after == pytest.approx(20 + SAFETY_MARGIN)
    assert str(exc.value) == (
        "throttled by OpenD rules, retry in 21 s (plate list: 10 per 30 s per OpenD user)"
    )
    assert isinstance(exc.value, OpenDError)
    clock.now = 1000 + 30 + SAFETY_MARGIN + 0.01
    throttle.book(ProtoId.QOT_GET_PLATE_SET)  # the first one's slot, and only that one
    with pytest.raises(Throttled, match=r"retry in 1 s \(plate list"):
        throttle.book(ProtoId.QOT_GET_PLATE_SET)


@pytest.mark.parametrize(
    ("proto_id", "count", "what"),
    [
        (ProtoId.QOT_GET_SECURITY_SNAPSHOT, 60, "security snapshot"),
        (ProtoId.QOT_REQUEST_HISTORY_KL, 60, "history K-line (first page)"),
        (ProtoId.QOT_GET_PLATE_SET, 10, "plate list"),
        (ProtoId.QOT_GET_PLATE_SECURITY, 10, "plate securities"),
        (ProtoId.QOT_GET_MARKET_STATE, 10, "market state"),
        (ProtoId.QOT_REQUEST_TRADE_DATE, 30, "trading days"),
        (ProtoId.TRD_GET_MARGIN_RATIO, 10, "margin ratio"),
        (ProtoId.QOT_GET_OPTION_EXPIRATION_DATE, 60, "option expiration dates"),
        (ProtoId.QOT_GET_OPTION_CHAIN, 10, "option chain"),
        (ProtoId.QOT_GET_WARRANT, 60, "warrants"),
        (ProtoId.QOT_GET_FUTURE_INFO, 30, "future info"),
        (ProtoId.QOT_GET_REFERENCE, 10, "related securities"),
        (ProtoId.QOT_GET_CAPITAL_FLOW, 30, "capital flow"),
        (ProtoId.QOT_GET_CAPITAL_DISTRIBUTION, 30, "capital distribution"),
        (ProtoId.QOT_GET_OWNER_PLATE, 10, "owner plates"),
        (ProtoId.QOT_GET_IPO_LIST, 10, "IPO list"),
        (ProtoId.QOT_STOCK_FILTER, 10, "stock filter"),
        (ProtoId.QOT_REQUEST_REHAB, 60, "rehab"),
        (ProtoId.QOT_GET_USER_SECURITY_GROUP, 10, "watchlist groups"),
        (ProtoId.QOT_GET_USER_SECURITY, 10, "watchlist securities"),
        (ProtoId.QOT_GET_PRICE_REMINDER, 10, "price reminders"),
    ],
)
def test_each_documented_limit_has_its_own_window(proto_id: int, count: int, what: str) -> None:
    throttle = QuoteThrottle(clock=Clock())
    for _ in range(count):
        throttle.book(proto_id)
    rule = re.escape(f"({what}: {count} per 30 s per OpenD user)")
    with pytest.raises(Throttled, match=rf"{rule}$"):
        throttle.book(proto_id)
    for other in QUOTE_LIMITS:
        if other != proto_id:
            throttle.book(other)
    # Protocols with no documented limit are never refused.
    for _ in range(200):
        throttle.book(ProtoId.QOT_GET_BASIC_QOT)
        throttle.book(ProtoId.QOT_GET_STATIC_INFO)


@pytest.mark.parametrize(
    ("proto_id", "count", "what"),
    [
        (ProtoId.TRD_GET_HISTORY_ORDER_LIST, 10, "history orders"),
        (ProtoId.TRD_GET_HISTORY_ORDER_FILL_LIST, 10, "history fills"),
        (ProtoId.TRD_GET_MAX_TRD_QTYS, 10, "max trade quantities"),
        (ProtoId.TRD_GET_ORDER_FEE, 10, "order fees"),
        (ProtoId.TRD_FLOW_SUMMARY, 20, "cash flow"),
    ],
)
def test_account_queries_are_counted_per_account(proto_id: int, count: int, what: str) -> None:
    throttle = QuoteThrottle(clock=Clock())
    for _ in range(count):
        throttle.book(proto_id, acc_id=1)
    rule = re.escape(f"({what}: {count} per 30 s for account 1)")
    with pytest.raises(Throttled, match=rf"{rule}$"):
        throttle.book(proto_id, acc_id=1)
    throttle.book(proto_id, acc_id=2)  # another account has its own window


def test_several_requests_are_booked_all_or_none() -> None:
    clock = Clock()
    throttle = QuoteThrottle(clock=clock)
    throttle.book(ProtoId.QOT_GET_SECURITY_SNAPSHOT, 58)
    with pytest.raises(Throttled):
        throttle.book(ProtoId.QOT_GET_SECURITY_SNAPSHOT, 3)
    throttle.book(ProtoId.QOT_GET_SECURITY_SNAPSHOT, 2)  # the refused three took nothing
    with pytest.raises(Throttled):
        throttle.book(ProtoId.QOT_GET_SECURITY_SNAPSHOT)


def test_retry_time_is_when_enough_slots_free() -> None:
    window = SlidingWindow(Limit(3, 10.0))
    for at in (100.0, 102.0, 104.0):
        window.book(at)
    with pytest.raises(Throttled) as one:
        window.book_many(105.0, 1)
    with pytest.raises(Throttled) as two:
        window.book_many(105.0, 2)
    # One request waits for the slot of t=100, two for that of t=102.
    assert one.value.retry_after == pytest.approx(10 + SAFETY_MARGIN - 5)
    assert two.value.retry_after == pytest.approx(10 + SAFETY_MARGIN - 3)


@pytest.mark.parametrize("requests", [0, -1, 61])
def test_an_impossible_count_is_a_value_error_not_a_retry(requests: int) -> None:
    throttle = QuoteThrottle(clock=Clock())
    with pytest.raises(ValueError):
        throttle.book(ProtoId.QOT_GET_SECURITY_SNAPSHOT, requests)
    throttle.book(ProtoId.QOT_GET_SECURITY_SNAPSHOT, 60)  # and it booked nothing


# --- the client, against the simulator with its own limits on --------------------------------


@pytest.fixture
async def limited() -> AsyncIterator[tuple[Simulator, OpenDClient, Clock]]:
    clock = Clock()
    async with Simulator(seed=4, start_time=START, quote_limits=True) as sim:
        host, port = sim.address
        client = OpenDClient(host, port, quote_throttle=QuoteThrottle(clock=clock))
        async with client:
            assert await client.wait_connected(5)
            yield sim, client, clock


@pytest.mark.anyio
async def test_the_client_refuses_the_eleventh_plate_list_before_opend_sees_it(
    limited: tuple[Simulator, OpenDClient, Clock],
) -> None:
    sim, client, clock = limited
    for _ in range(10):
        assert await client.get_plate_list(QotMarket.HK, Plate.ALL)
    with pytest.raises(Throttled, match=r"retry in \d+ s \(plate list: 10 per 30 s"):
        await client.get_plate_list(QotMarket.HK, Plate.ALL)
    assert sim.requests_seen[ProtoId.QOT_GET_PLATE_SET] == 10
    # Plate members have their own window.
    assert await client.get_plate_stock(PLATE)
    # Both windows past 30 s (the simulator's too): accepted on both sides again.
    clock.now += 31
    sim.advance(31)
    assert await client.get_plate_list(QotMarket.HK, Plate.ALL)
    assert sim.requests_seen[ProtoId.QOT_GET_PLATE_SET] == 11


@pytest.mark.anyio
async def test_the_eleventh_option_chain_is_refused_and_warrant_lookups_are_free(
    limited: tuple[Simulator, OpenDClient, Clock],
) -> None:
    sim, client, clock = limited
    aapl = parse_code("US.AAPL")
    day = date(2026, 6, 18)
    for _ in range(10):
        assert await client.get_option_chain(aapl, day, day)
    with pytest.raises(Throttled, match=r"\(option chain: 10 per 30 s"):
        await client.get_option_chain(aapl, day, day)
    assert sim.requests_seen[ProtoId.QOT_GET_OPTION_CHAIN] == 10
    # An underlying's warrants by reference are not counted, on either side; futures are.
    for _ in range(12):
        await client.get_referencestock_list(TENCENT, 1)
    main = parse_code("HK.HSImain")
    for _ in range(10):
        assert await client.get_referencestock_list(main, 2)
    with pytest.raises(Throttled, match=r"\(related securities: 10 per 30 s"):
        await client.get_referencestock_list(main, 2)
    clock.now += 31
    sim.advance(31)
    assert await client.get_option_chain(aapl, day, day)


@pytest.mark.anyio
async def test_only_the_first_history_page_is_counted_on_both_sides(
    limited: tuple[Simulator, OpenDClient, Clock],
) -> None:
    sim, client, _ = limited
    for _ in range(59):
        await client.request_history_kline(TENCENT, "2026-01-05", "2026-01-09")
    # The 60th: minute bars of a week, several pages of at most 1000 bars.
    bars = await client.request_history_kline(
        TENCENT, "2026-01-05", "2026-01-09", KLType.K_1M, max_count=5000
    )
    sent = sim.requests_seen[ProtoId.QOT_REQUEST_HISTORY_KL]
    assert len(bars) > 1000 and sent > 61  # more pages than the limit, none refused
    with pytest.raises(Throttled, match=r"history K-line \(first page\): 60 per 30 s"):
        await client.request_history_kline(TENCENT, "2026-01-05", "2026-01-09")
    assert sim.requests_seen[ProtoId.QOT_REQUEST_HISTORY_KL] == sent


@pytest.mark.anyio
async def test_nothing_is_counted_for_a_call_that_never_leaves(
    limited: tuple[Simulator, OpenDClient, Clock],
) -> None:
    sim, client, _ = limited
    for _ in range(20):
        with pytest.raises(ValueError):
            await client.request_history_kline(TENCENT, max_count=0)
        with pytest.raises(ValueError):
            await client.request_history_kline(TENCENT, "5 Jan 2026")
        with pytest.raises(ValueError):
            await client.get_market_snapshot([])
    assert sim.requests_seen[ProtoId.QOT_REQUEST_HISTORY_KL] == 0
    for _ in range(60):
        await client.request_history_kline(TENCENT, "2026-01-05", "2026-01-09")
        await client.get_market_snapshot([TENCENT])


@pytest.mark.anyio
async def test_calls_while_the_link_is_down_use_no_slot() -> None:
    clock = Clock()
    async with Simulator(seed=4, start_time=START, quote_limits=True) as sim:
        host, port = sim.address
        client = OpenDClient(host, port, quote_throttle=QuoteThrottle(clock=clock))
        for _ in range(11):
            with pytest.raises(GatewayNotConnected):
                await client.get_plate_list(QotMarket.HK, Plate.ALL)
        async with client:
            assert await client.wait_connected(5)
            for _ in range(10):
                await client.get_plate_list(QotMarket.HK, Plate.ALL)


async def _empty_snapshots(link: Link, frame: Frame, body: dict[str, Any]) -> None:
    if frame.proto_id == ProtoId.QOT_GET_SECURITY_SNAPSHOT:
        link.reply(frame, {"snapshotList": []})
    else:
        await answer_ok(link, frame, body)


@pytest.mark.anyio
async def test_a_snapshot_call_of_several_batches_is_refused_whole() -> None:
    codes = [parse_code(f"HK.{n:05d}") for n in range(1, 402)]  # two batches: 400 + 1
    async with FakeOpenD(_empty_snapshots) as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        for _ in range(59):
            await client.get_market_snapshot([TENCENT])
        with pytest.raises(Throttled, match=r"security snapshot: 60 per 30 s"):
            await client.get_market_snapshot(codes)
        assert len(fake.requests(ProtoId.QOT_GET_SECURITY_SNAPSHOT)) == 59
        await client.get_market_snapshot([TENCENT])  # the one slot left
        assert len(fake.requests(ProtoId.QOT_GET_SECURITY_SNAPSHOT)) == 60
