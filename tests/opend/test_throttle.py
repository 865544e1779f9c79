"""OpenD's order limits mirrored client-side: 15 places and 20 modifies per 30 s per account,
and writes to one account spaced past OpenD's minimum gap as OpenD measures it (on arrival)."""

import asyncio
import time

import pytest

from opend.client import OpenDClient
from opend.codes import TrdMarket, parse_code
from opend.enums import ModifyOrderOp, OrderStatus, OrderType, TrdEnv, TrdSide
from opend.errors import OpenDError, Throttled
from opend.models import PlacedOrder, TrdAccount
from opend.protoids import ProtoId
from opend.sim import Simulator
from opend.throttle import GAP_MARGIN, SAFETY_MARGIN, Limit, OrderThrottle, SlidingWindow
from tests.opend.fake_opend import FakeOpenD

HK = parse_code("HK.00700")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.anyio
async def test_sixteenth_place_in_30s_is_refused_with_retry_time() -> None:
    clock = Clock()
    throttle = OrderThrottle(clock=clock)
    for _ in range(15):
        async with throttle.place(1) as permit:
            permit.sent()
        clock.now += 1.0
    with pytest.raises(Throttled) as exc:
        async with throttle.place(1):
            pytest.fail("a refused order must not get a turn to send")
    # First send at t=1000, now t=1015: the window frees at 1030 (+ margin).
    assert exc.value.retry_after == pytest.approx(15 + SAFETY_MARGIN)
    assert str(exc.value) == (
        "throttled by OpenD rules, retry in 16 s (place order: 15 per 30 s for account 1)"
    )
    assert isinstance(exc.value, OpenDError)
    clock.now = 1000 + 30 + SAFETY_MARGIN + 0.01
    async with throttle.place(1) as permit:
        permit.sent()


@pytest.mark.anyio
async def test_accounts_and_kinds_are_counted_apart() -> None:
    throttle = OrderThrottle(clock=Clock())
    for _ in range(15):
        async with throttle.place(1):
            pass  # never sent (e.g. the link dropped): still counted, the safe side
    async with throttle.place(2):
        pass
    for _ in range(20):
        async with throttle.modify(1):
            pass
    with pytest.raises(Throttled, match="modify/cancel order: 20 per 30 s"):
        async with throttle.modify(1):
            pass
    with pytest.raises(Throttled, match="place order: 15 per 30 s"):
        async with throttle.place(1):
            pass


def test_refused_attempt_does_not_use_a_slot() -> None:
    clock = Clock()
    window = SlidingWindow(Limit(2, 10.0))
    window.book(clock.now)
    window.book(clock.now)
    for _ in range(5):
        with pytest.raises(Throttled):
            window.book(clock.now + 5)
    window.book(clock.now + 10 + SAFETY_MARGIN + 0.01)


def test_gap_counts_from_the_actual_send_plus_a_margin() -> None:
    window = SlidingWindow(Limit(15, 30.0, 0.02))
    first = window.book(100.0)
    assert window.wait_before_send(100.0) == 0.0  # nothing sent yet
    window.sent(first, 100.0)
    assert window.wait_before_send(100.0) == pytest.approx(0.02 + GAP_MARGIN)
    # The next write was planned for 100.0 + 0.02 + GAP_MARGIN, but this one left late: the gap
    # runs from here.
    late = window.book(100.0)
    window.sent(late, 100.5)
    assert window.wait_before_send(100.5) == pytest.approx(0.02 + GAP_MARGIN)
    assert window.wait_before_send(101.0) == 0.0


def test_window_counts_from_when_a_request_left() -> None:
    window = SlidingWindow(Limit(1, 10.0))
    slot = window.book(100.0)
    window.sent(slot, 105.0)  # queued behind other writes for 5 s
    with pytest.raises(Throttled):
        window.book(105.0 + 10.0)
    window.book(105.0 + 10.0 + SAFETY_MARGIN + 0.01)


@pytest.mark.anyio
async def test_a_turn_given_up_without_sending_lets_the_next_write_go() -> None:
    throttle = OrderThrottle()
    async with throttle.modify(7):
        pass
    async with asyncio.timeout(1):
        async with throttle.modify(7) as permit:
            permit.sent()


@pytest.mark.anyio
async def test_client_refuses_the_sixteenth_order_before_opend_sees_it() -> None:
    acc = TrdAccount(TrdEnv.SIMULATE, 99, TrdMarket.HK)
    async with FakeOpenD() as fake, OpenDClient("127.0.0.1", fake.port) as client:
        assert await client.wait_connected(5)
        for _ in range(15):
            await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, 1)
        with pytest.raises(Throttled, match=r"retry in \d+ s"):
            await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, 1)
        assert len(fake.requests(ProtoId.TRD_PLACE_ORDER)) == 15
        with pytest.raises(ValueError):  # a bad argument never uses up a slot
            await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 0, 1)


@pytest.mark.anyio
async def test_bursts_to_one_account_pass_the_simulators_gap_check() -> None:
    """A burst of places and back-to-back modify-then-cancel, as fast as the client allows: the
    simulator (like OpenD) refuses any two writes to an account closer than its minimum gap."""
    acc = TrdAccount(TrdEnv.SIMULATE, 168880000000000201, TrdMarket.HK)
    # Between rounds both the simulator's and the client's 30 s windows are stepped past
    # (never inside a round); the gaps within a round are real time on both sides.
    offset = 0.0
    throttle = OrderThrottle(clock=lambda: time.monotonic() + offset)
    async with Simulator(seed=5) as sim:
        host, port = sim.address
        async with OpenDClient(host, port, throttle=throttle) as client:
            assert await client.wait_connected(5)
            for _ in range(3):
                placed = await asyncio.gather(
                    *(
                        client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, 100.0)
                        for _ in range(10)
                    ),
                    return_exceptions=True,
                )
                refused = [str(r) for r in placed if isinstance(r, BaseException)]
                for order in placed:
                    if not isinstance(order, PlacedOrder) or order.order_id is None:
                        continue
                    try:
                        await client.modify_order(
                            acc, order.order_id, ModifyOrderOp.NORMAL, 200, 100.0
                        )
                        await client.modify_order(acc, order.order_id, ModifyOrderOp.CANCEL)
                    except OpenDError as exc:
                        refused.append(str(exc))
                        continue
                    state = sim.state.orders[int(order.order_id)]
                    assert (state.qty, state.status) == (200, OrderStatus.CANCELLED_ALL)
                assert not refused
                sim.advance(31)
                offset += 31
