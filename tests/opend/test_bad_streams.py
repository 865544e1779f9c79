"""A misbehaving OpenD never crashes the client, never grows its buffer, never leaks a task."""

import asyncio
import contextlib
import hashlib
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opend.codes import TrdMarket, parse_code
from opend.enums import OrderType, TrdEnv, TrdSide
from opend.errors import (
    GatewayNotConnected,
    OpenDError,
    OutcomeUnknown,
    ProtocolError,
    RequestTimeout,
)
from opend.framing import HEADER, MAGIC, MAX_BODY_SIZE, Frame, encode_frame
from opend.models import TrdAccount
from opend.protoids import ProtoId
from tests.opend.fake_opend import FakeOpenD, Link, answer_ok, fast_client
from tests.opend.polling import client_tasks_left, until

pytestmark = pytest.mark.anyio

TENCENT = parse_code("HK.00700")

Misbehave = Callable[[Link, Frame], None]


def garbage(link: Link, frame: Frame) -> None:
    link.send_raw(b"HTTP/1.1 400 Bad Request\r\n\r\n" + bytes(range(256)) * 4)


def wrong_sha1(link: Link, frame: Frame) -> None:
    body = b'{"retType":0,"s2c":{}}'
    header = HEADER.pack(MAGIC, frame.proto_id, 1, 0, frame.serial, len(body), bytes(20), bytes(8))
    link.send_raw(header + body)


def huge_length(link: Link, frame: Frame) -> None:
    body = b"x" * 100
    header = HEADER.pack(
        MAGIC,
        frame.proto_id,
        1,
        0,
        frame.serial,
        MAX_BODY_SIZE + 1,
        hashlib.sha1(body).digest(),
        bytes(8),
    )
    link.send_raw(header + body)


def half_frame_then_close(link: Link, frame: Frame) -> None:
    whole = encode_frame(frame.proto_id, frame.serial, b'{"retType":0,"s2c":{"x":1}}')
    link.send_raw(whole[: len(whole) // 2])
    link.close()


def close_at_once(link: Link, frame: Frame) -> None:
    link.close()


BREAKS_LINK: dict[str, Misbehave] = {
    "garbage": garbage,
    "wrong_sha1": wrong_sha1,
    "huge_length": huge_length,
    "half_frame_then_close": half_frame_then_close,
    "close": close_at_once,
}


def misbehave_on_snapshot(action: Misbehave, times: int = 1):  # type: ignore[no-untyped-def]
    left = [times]

    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.QOT_GET_SECURITY_SNAPSHOT and left[0] > 0:
            left[0] -= 1
            action(link, frame)
            return
        await answer_ok(link, frame, body)

    return handler


@pytest.mark.parametrize("name", sorted(BREAKS_LINK))
async def test_bad_reply_closes_link_fails_request_and_reconnects(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeOpenD(misbehave_on_snapshot(BREAKS_LINK[name]))
    async with fake:
        client = fast_client(fake.port)
        await client.start()
        assert await client.wait_connected(5)
        first = client.connection
        with pytest.raises(GatewayNotConnected) as exc:
            await client.get_market_snapshot([TENCENT])
        assert "connection lost before the reply" in exc.value.reason
        await until(lambda: client.connected and client.connection is not first, what="reconnect")
        assert client.reconnects == 1
        # The new link works: the misbehaviour was a one-off.
        assert await client.get_market_snapshot([TENCENT]) == []
        await client.close()
    assert client_tasks_left() == []
    if name in {"garbage", "wrong_sha1", "huge_length"}:
        assert "closing link to OpenD" in caplog.text


async def test_huge_length_is_not_buffered() -> None:
    fake = FakeOpenD(misbehave_on_snapshot(huge_length))
    async with fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        conn = client.connection
        assert conn is not None
        with pytest.raises(GatewayNotConnected):
            await client.get_market_snapshot([TENCENT])
        assert conn.closed
        assert "exceeds" in (conn.close_reason or "")
        # The header and the 100 bytes sent (maybe with the connect-time GetGlobalState reply
        # behind them), never a buffer sized by the 64 MiB length.
        assert conn._decoder.pending < 1024


async def test_unknown_serial_is_dropped_and_the_real_reply_still_matches() -> None:
    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.GET_GLOBAL_STATE:
            stray = b'{"retType":0,"s2c":{"marketHK":1}}'
            link.send(frame.proto_id, frame.serial + 1000, stray)  # nobody asked for this
            link.send(ProtoId.TRD_UPDATE_ORDER, 0, b'{"retType":0,"s2c":{}}')  # a push
            link.reply(frame, {"marketHK": 6})
            return
        await answer_ok(link, frame, body)

    async with FakeOpenD(handler) as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        state = await client.get_global_state()
        assert state.market_hk == "CLOSED"
        assert client.connected and client.reconnects == 0


async def test_reply_with_wrong_proto_for_the_serial_is_ignored() -> None:
    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.GET_GLOBAL_STATE:
            link.send(ProtoId.TRD_GET_FUNDS, frame.serial, b'{"retType":0,"s2c":{}}')
            return
        await answer_ok(link, frame, body)

    fake = FakeOpenD(handler)
    async with fake, fast_client(fake.port, request_timeout=0.2) as client:
        assert await client.wait_connected(5)
        with pytest.raises(RequestTimeout):
            await client.get_global_state()
        assert client.connected


async def test_no_reply_at_all_times_out_and_leaks_nothing() -> None:
    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.KEEP_ALIVE:
            await answer_ok(link, frame, body)

    fake = FakeOpenD(handler)
    async with fake:
        client = fast_client(fake.port, request_timeout=0.1)
        await client.start()
        assert await client.wait_connected(5)
        results = await asyncio.gather(
            *(client.get_market_snapshot([TENCENT]) for _ in range(10)), return_exceptions=True
        )
        assert all(isinstance(r, RequestTimeout) for r in results)
        # The timeouts sent a KeepAlive probe; it is answered, so the link stays and is empty.
        conn = client.connection
        assert conn is not None
        await until(lambda: conn.in_flight == 0, what="the KeepAlive probe answered")
        assert client.connected and conn.keepalives_sent >= 1
        await client.close()
    assert client_tasks_left() == []


async def test_reply_that_is_not_json_fails_only_that_request() -> None:
    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.QOT_GET_SECURITY_SNAPSHOT:
            link.send(frame.proto_id, frame.serial, b"\xff\xfe not json")
            return
        await answer_ok(link, frame, body)

    async with FakeOpenD(handler) as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        with pytest.raises(ProtocolError, match="not JSON"):
            await client.get_market_snapshot([TENCENT])
        await client.get_global_state()
        assert client.reconnects == 0


async def test_garbage_instead_of_init_connect_reply_retries_with_reason() -> None:
    def hook(link: Link, frame: Frame) -> bool:
        garbage(link, frame)
        return True

    async with FakeOpenD(init_hook=hook) as fake:
        client = fast_client(fake.port)
        await client.start()
        await until(lambda: fake.accepted >= 3, what="retries")
        assert not client.connected
        assert "bad magic" in (client.last_error or "")
        with pytest.raises(GatewayNotConnected, match="bad magic"):
            await client.get_global_state()
        await client.close()
    assert client_tasks_left() == []


async def test_silent_init_connect_times_out() -> None:
    async with FakeOpenD(init_hook=lambda link, frame: True) as fake:
        client = fast_client(fake.port, connect_timeout=0.1)
        await client.start()
        await until(lambda: client.last_error is not None, what="timeout")
        assert client.last_error == (
            "no InitConnect reply within 0.1 s: not an OpenD API port, or OpenD not responding?"
        )
        await client.close()
    assert client_tasks_left() == []


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(noise=st.binary(min_size=1, max_size=400), split=st.integers(min_value=0, max_value=400))
def test_any_byte_stream_never_crashes_the_client(noise: bytes, split: int) -> None:
    """Random bytes (sometimes after a valid reply) either parse or close the link cleanly."""

    async def scenario() -> None:
        def act(link: Link, frame: Frame) -> None:
            good = encode_frame(frame.proto_id, frame.serial, b'{"retType":0,"s2c":{}}')
            link.send_raw((good + noise)[split:] if split % 2 else noise)

        fake = FakeOpenD(misbehave_on_snapshot(act, times=1000))
        async with fake:
            client = fast_client(fake.port, request_timeout=0.1)
            await client.start()
            assert await client.wait_connected(5)
            with contextlib.suppress(OpenDError):
                await client.get_market_snapshot([TENCENT])
            await client.close()
        assert client_tasks_left() == []

    asyncio.run(scenario())


async def test_malformed_init_connect_reply_is_a_reason_not_a_crash() -> None:
    def hook(link: Link, frame: Frame) -> bool:
        link.reply(frame, {"connID": "not-a-number", "keepAliveInterval": "x"})
        return True

    async with FakeOpenD(init_hook=hook) as fake:
        client = fast_client(fake.port)
        await client.start()
        await until(lambda: fake.accepted >= 2, what="a retry after the bad reply")
        assert "InitConnect failed" in (client.last_error or "")
        assert not client.connected
        await client.close()
    assert client_tasks_left() == []


async def test_reply_with_wrong_value_types_is_a_protocol_error() -> None:
    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.QOT_GET_SECURITY_SNAPSHOT:
            link.reply(frame, {"snapshotList": [{"basic": {"curPrice": "not a price"}}]})
            return
        await answer_ok(link, frame, body)

    async with FakeOpenD(handler) as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        with pytest.raises(ProtocolError, match="unexpected value"):
            await client.get_market_snapshot([TENCENT])
        assert client.connected


@pytest.mark.parametrize(
    "reply",
    [b"not json", b'{"retType":0,"s2c":{"orderID":"not-a-number"}}'],
    ids=["not-json", "bad-order-id"],
)
async def test_unreadable_order_reply_is_outcome_unknown(reply: bytes) -> None:
    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.TRD_PLACE_ORDER:
            link.send(frame.proto_id, frame.serial, reply)
            return
        await answer_ok(link, frame, body)

    acc = TrdAccount(TrdEnv.SIMULATE, 1, TrdMarket.HK)
    async with FakeOpenD(handler) as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        with pytest.raises(OutcomeUnknown, match="could not be read"):
            await client.place_order(acc, TENCENT, TrdSide.BUY, OrderType.NORMAL, 100, 1.0)


async def test_close_with_requests_in_flight_returns_promptly() -> None:
    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.KEEP_ALIVE:
            await answer_ok(link, frame, body)

    async with FakeOpenD(handler) as fake:
        client = fast_client(fake.port, request_timeout=30.0)
        await client.start()
        assert await client.wait_connected(5)
        calls = [asyncio.create_task(client.get_market_snapshot([TENCENT])) for _ in range(10)]
        await until(lambda: len(fake.requests(ProtoId.QOT_GET_SECURITY_SNAPSHOT)) == 10)
        async with asyncio.timeout(2):
            await client.close()
            results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, GatewayNotConnected) for r in results)
        assert "closed by client" in str(results[0])
    assert client_tasks_left() == []
