"""Auto-subscription: reuse, OpenD's one-minute minimum, quota, and OpenD's refusals in plain words."""

import pytest

from opend.client import OpenDClient
from opend.codes import parse_code
from opend.enums import KLType, SubType
from opend.errors import OpenDError, SubscriptionQuotaExceeded
from opend.framing import Frame
from opend.protoids import ProtoId
from opend.subscriptions import SubscriptionBook
from tests.opend.fake_opend import FakeOpenD, Link, answer_ok
from tests.opend.polling import until

HK = parse_code("HK.00700")
US = parse_code("US.AAPL")
SH = parse_code("SH.600519")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_book_reuses_and_plans_only_missing() -> None:
    book = SubscriptionBook(10, clock=Clock())
    book.added([(HK, SubType.QUOTE)])
    add, release = book.plan([(HK, SubType.QUOTE), (US, SubType.QUOTE), (US, SubType.QUOTE)])
    assert (add, release) == ([(US, SubType.QUOTE)], [])


def test_book_releases_least_recently_used_idle_after_a_minute() -> None:
    clock = Clock()
    book = SubscriptionBook(2, clock=clock)
    book.added([(HK, SubType.QUOTE)])
    clock.now = 1
    book.added([(US, SubType.QUOTE)])
    with pytest.raises(SubscriptionQuotaExceeded) as exc:
        book.plan([(SH, SubType.QUOTE)])
    assert "quota exhausted: 2 of 2 in use" in str(exc.value)
    assert "retry in 59 s" in str(exc.value)
    clock.now = 61.5
    add, release = book.plan([(SH, SubType.QUOTE)])
    assert (add, release) == ([(SH, SubType.QUOTE)], [(HK, SubType.QUOTE)])
    book.touch([(HK, SubType.QUOTE)])  # used again: now US is the idle one
    clock.now = 62
    assert book.idle() == [(US, SubType.QUOTE)]


def test_book_refuses_a_call_bigger_than_the_quota() -> None:
    book = SubscriptionBook(2, clock=Clock())
    with pytest.raises(SubscriptionQuotaExceeded, match="needs 3 quote subscriptions"):
        book.plan([(HK, SubType.QUOTE), (US, SubType.QUOTE), (SH, SubType.QUOTE)])


def test_book_never_releases_what_the_call_itself_needs() -> None:
    clock = Clock()
    book = SubscriptionBook(2, clock=clock)
    book.added([(HK, SubType.QUOTE), (US, SubType.QUOTE)])
    clock.now = 1000
    add, release = book.plan([(HK, SubType.QUOTE), (SH, SubType.QUOTE)])
    assert (add, release) == ([(SH, SubType.QUOTE)], [(US, SubType.QUOTE)])


def sub_requests(fake: FakeOpenD) -> list[dict]:
    return [b["c2s"] for b in fake.requests(ProtoId.QOT_SUB)]


@pytest.mark.anyio
async def test_quote_calls_subscribe_once_and_reuse() -> None:
    async with FakeOpenD() as fake:
        client = OpenDClient("127.0.0.1", fake.port, request_timeout=2)
        async with client:
            assert await client.wait_connected(5)
            await client.get_stock_quote([HK, US])
            await client.get_stock_quote([HK])
            await client.get_cur_kline(HK, 10, KLType.K_5M)
            await client.get_order_book(HK)
            await client.get_rt_ticker(HK, 5)
            await client.get_rt_data(HK)
            await client.get_broker_queue(HK)
            subs = sub_requests(fake)
            assert [s["subTypeList"] for s in subs] == [[1], [7], [2], [4], [5], [14]]
            assert subs[0]["securityList"] == [
                {"market": 1, "code": "00700"},
                {"market": 11, "code": "AAPL"},
            ]
            assert all(s["isSubOrUnSub"] is True for s in subs)
            assert len(client.subscriptions) == 7


@pytest.mark.anyio
async def test_idle_subscriptions_are_released_after_the_minimum() -> None:
    async with FakeOpenD() as fake:
        client = OpenDClient(
            "127.0.0.1",
            fake.port,
            subscription_min_hold=0.05,
            subscription_idle=0.05,
            release_interval=0.02,
        )
        async with client:
            assert await client.wait_connected(5)
            await client.get_stock_quote([HK])
            await until(
                lambda: any(s["isSubOrUnSub"] is False for s in sub_requests(fake)),
                what="an unsubscribe",
            )
            assert client.subscriptions == []
            unsub = [s for s in sub_requests(fake) if s["isSubOrUnSub"] is False]
            assert unsub == [
                {
                    "securityList": [{"market": 1, "code": "00700"}],
                    "subTypeList": [1],
                    "isSubOrUnSub": False,
                    "isRegOrUnRegPush": False,
                }
            ]
            await client.get_stock_quote([HK])  # subscribes again when needed
            assert sum(1 for s in sub_requests(fake) if s["isSubOrUnSub"]) == 2


@pytest.mark.anyio
async def test_subscriptions_are_forgotten_when_the_link_is_replaced() -> None:
    async with FakeOpenD() as fake:
        client = OpenDClient("127.0.0.1", fake.port, reconnect_base=0.01, reconnect_cap=0.02)
        async with client:
            assert await client.wait_connected(5)
            await client.get_stock_quote([HK])
            fake.links[0].close()
            await until(lambda: fake.accepted == 2 and client.connected, what="reconnect")
            await client.get_stock_quote([HK])
            assert len([s for s in sub_requests(fake) if s["isSubOrUnSub"]]) == 2


@pytest.mark.anyio
async def test_opend_quota_refusal_reaches_the_caller_in_plain_words() -> None:
    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.QOT_SUB:
            link.reply(frame, retType=-1, retMsg="订阅额度不足 subscription quota exceeded")
            return
        await answer_ok(link, frame, body)

    async with FakeOpenD(handler) as fake:
        client = OpenDClient("127.0.0.1", fake.port)
        async with client:
            assert await client.wait_connected(5)
            with pytest.raises(OpenDError) as exc:
                await client.get_stock_quote([HK])
            assert str(exc.value) == (
                "OpenD refused to subscribe QUOTE quotes for HK.00700: "
                "订阅额度不足 subscription quota exceeded"
            )
            assert client.subscriptions == []
            assert fake.requests(ProtoId.QOT_GET_BASIC_QOT) == []


@pytest.mark.anyio
async def test_client_quota_is_enforced_before_opend_is_asked() -> None:
    async with FakeOpenD() as fake:
        client = OpenDClient("127.0.0.1", fake.port, subscription_quota=2)
        async with client:
            assert await client.wait_connected(5)
            await client.get_stock_quote([HK, US])
            with pytest.raises(SubscriptionQuotaExceeded, match="quota exhausted: 2 of 2"):
                await client.get_stock_quote([SH])
            assert len(sub_requests(fake)) == 1
