"""OpenD's order limits mirrored client-side: 15 places and 20 modifies per 30 s per account."""

import pytest

from opend.client import OpenDClient
from opend.codes import TrdMarket, parse_code
from opend.enums import OrderType, TrdEnv, TrdSide
from opend.errors import OpenDError, Throttled
from opend.models import TrdAccount
from opend.protoids import ProtoId
from opend.throttle import SAFETY_MARGIN, Limit, OrderThrottle, SlidingWindow
from tests.opend.fake_opend import FakeOpenD


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sixteenth_place_in_30s_is_refused_with_retry_time() -> None:
    clock = Clock()
    throttle = OrderThrottle(clock=clock)
    for _ in range(15):
        throttle.reserve_place(1)
        clock.now += 1.0
    with pytest.raises(Throttled) as exc:
        throttle.reserve_place(1)
    # First send at t=1000, now t=1015: the window frees at 1030 (+ margin).
    assert exc.value.retry_after == pytest.approx(15 + SAFETY_MARGIN)
    assert str(exc.value) == (
        "throttled by OpenD rules, retry in 16 s (place order: 15 per 30 s for account 1)"
    )
    assert isinstance(exc.value, OpenDError)
    clock.now = 1000 + 30 + SAFETY_MARGIN + 0.01
    throttle.reserve_place(1)


def test_accounts_and_kinds_are_counted_apart() -> None:
    clock = Clock()
    throttle = OrderThrottle(clock=clock)
    for _ in range(15):
        throttle.reserve_place(1)
    throttle.reserve_place(2)
    for _ in range(20):
        throttle.reserve_modify(1)
    with pytest.raises(Throttled, match="modify/cancel order: 20 per 30 s"):
        throttle.reserve_modify(1)
    with pytest.raises(Throttled, match="place order: 15 per 30 s"):
        throttle.reserve_place(1)


def test_refused_attempt_does_not_use_a_slot() -> None:
    clock = Clock()
    window = SlidingWindow(Limit(2, 10.0))
    window.reserve(clock.now)
    window.reserve(clock.now)
    for _ in range(5):
        with pytest.raises(Throttled):
            window.reserve(clock.now + 5)
    assert window.reserve(clock.now + 10 + SAFETY_MARGIN + 0.01) == 0.0


def test_min_gap_delays_instead_of_refusing() -> None:
    window = SlidingWindow(Limit(15, 30.0, 0.02))
    assert window.reserve(100.0) == 0.0
    assert window.reserve(100.0) == pytest.approx(0.02)
    assert window.reserve(100.0) == pytest.approx(0.04)
    assert window.reserve(101.0) == 0.0


@pytest.mark.anyio
async def test_client_refuses_the_sixteenth_order_before_opend_sees_it() -> None:
    acc = TrdAccount(TrdEnv.SIMULATE, 99, TrdMarket.HK)
    async with FakeOpenD() as fake, OpenDClient("127.0.0.1", fake.port) as client:
        assert await client.wait_connected(5)
        for _ in range(15):
            await client.place_order(
                acc, parse_code("HK.00700"), TrdSide.BUY, OrderType.NORMAL, 100, 1
            )
        with pytest.raises(Throttled, match=r"retry in \d+ s"):
            await client.place_order(
                acc, parse_code("HK.00700"), TrdSide.BUY, OrderType.NORMAL, 100, 1
            )
        assert len(fake.requests(ProtoId.TRD_PLACE_ORDER)) == 15
        with pytest.raises(ValueError):  # a bad argument never uses up a slot
            await client.place_order(
                acc, parse_code("HK.00700"), TrdSide.BUY, OrderType.NORMAL, 0, 1
            )
