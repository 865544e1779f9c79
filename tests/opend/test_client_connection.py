"""The connection layer against a scripted OpenD: InitConnect, serial matching, timers, reconnect."""

import asyncio
import json
import logging
from pathlib import Path

import pytest

from opend.client import OpenDClient
from opend.codes import TrdMarket, parse_code
from opend.crypto import generate_rsa_key_pem, load_rsa_key
from opend.enums import ModifyOrderOp, OrderType, TrdEnv, TrdSide
from opend.errors import (
    GatewayNotConnected,
    OpenDError,
    OutcomeUnknown,
    RequestTimeout,
)
from opend.framing import Frame
from opend.models import TrdAccount
from opend.protoids import ProtoId
from tests.opend.fake_opend import FakeOpenD, Link, answer_ok, fast_client
from tests.opend.polling import client_tasks_left, until

pytestmark = pytest.mark.anyio

ACC = TrdAccount(TrdEnv.SIMULATE, 1234567, TrdMarket.HK)
TENCENT = parse_code("HK.00700")


async def test_init_connect_then_request() -> None:
    async with FakeOpenD() as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        (init,) = fake.requests(ProtoId.INIT_CONNECT)
        assert init["c2s"]["clientID"] == "futu-mcp"
        assert init["c2s"]["packetEncAlgo"] == -1
        assert init["c2s"]["pushProtoFmt"] == 1
        assert client.connection is not None
        assert client.connection.info.conn_id == 7_000_000_000_000_000_002
        await client.get_global_state()
        # One when the link came up (is OpenD logged in?), one asked for here.
        states = fake.requests(ProtoId.GET_GLOBAL_STATE)
        assert len(states) == 2
        assert all(state["c2s"]["userID"] == "12345678" for state in states)
    assert client_tasks_left() == []


async def test_while_down_every_call_fails_at_once_with_the_reason() -> None:
    async with FakeOpenD() as fake:
        port = fake.port
    client = fast_client(port)
    with pytest.raises(GatewayNotConnected) as before_start:
        await client.get_global_state()
    assert str(before_start.value) == f"gateway not connected: 127.0.0.1:{port} (not started)"
    await client.start()
    await until(lambda: client.last_error == "connection refused", what="refused")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(GatewayNotConnected) as exc:
        await client.get_market_snapshot([TENCENT])
    assert loop.time() - started < 0.5
    assert exc.value.address == f"127.0.0.1:{port}"
    assert str(exc.value) == f"gateway not connected: 127.0.0.1:{port} (connection refused)"
    await client.close()
    assert client_tasks_left() == []


async def test_many_requests_in_flight_are_matched_by_serial_out_of_order() -> None:
    held: list[tuple[Link, Frame]] = []

    def hold(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.QOT_GET_STATIC_INFO:
            held.append((link, frame))
            if len(held) == 20:
                for lk, fr in reversed(held):
                    code = fr.serial  # each reply names its own serial
                    lk.reply(fr, {"staticInfoList": [_static(code)]})
        else:
            link.reply(frame, {})

    async with FakeOpenD(hold) as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        results = await asyncio.gather(
            *(client.get_stock_basicinfo(codes=[TENCENT]) for _ in range(20))
        )
        serials = [fr.serial for _lk, fr in held]
        assert len(set(serials)) == 20
        assert sorted(r[0].stock_id for r in results) == sorted(serials)
        # Each caller got the reply to its own request, not just any reply.
        sent = [s for p, s, _b in fake.links[0].requests if p == ProtoId.QOT_GET_STATIC_INFO]
        assert [r[0].stock_id for r in results] == sent


def _static(stock_id: int) -> dict:
    return {
        "basic": {
            "security": {"market": 1, "code": "00700"},
            "id": str(stock_id),
            "lotSize": 100,
            "secType": 3,
            "name": "TENCENT",
            "listTime": "2004-06-16",
        }
    }


async def test_request_timeout_then_late_reply_is_dropped() -> None:
    late: list[tuple[Link, Frame]] = []

    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.GET_GLOBAL_STATE and not late:
            late.append((link, frame))
            return
        await answer_ok(link, frame, body)

    async with FakeOpenD(handler) as fake, fast_client(fake.port, request_timeout=0.2) as client:
        assert await client.wait_connected(5)
        with pytest.raises(RequestTimeout, match=r"within 0\.2 s"):
            await client.get_global_state()
        link, frame = late[0]
        link.reply(frame, {"marketHK": 6})  # too late: must be ignored, link stays up
        state = await client.get_global_state()
        assert state.market_hk is None
        assert client.connected
        # The timeout sent a KeepAlive probe; it is answered and nothing else stays in flight.
        conn = client.connection
        assert conn is not None
        await until(lambda: conn.in_flight == 0, what="the KeepAlive probe answered")
        assert client.connected


async def test_opend_error_reply_carries_opend_message() -> None:
    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.TRD_GET_FUNDS:
            link.reply(frame, retType=-1, retMsg="账户不存在 account not found", errCode=12)
        else:
            await answer_ok(link, frame, body)

    async with FakeOpenD(handler) as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        with pytest.raises(OpenDError) as exc:
            await client.accinfo_query(ACC)
        assert str(exc.value) == "账户不存在 account not found"
        assert (exc.value.ret_type, exc.value.err_code) == (-1, 12)
        assert exc.value.proto_id == ProtoId.TRD_GET_FUNDS


async def test_init_connect_refused_is_reported_and_retried() -> None:
    refuse = [True]

    def hook(link: Link, frame: Frame) -> bool:
        if refuse[0]:
            link.reply(frame, retType=-1, retMsg="too many connections")
            return True
        return False

    async with FakeOpenD(init_hook=hook) as fake, fast_client(fake.port) as client:
        await until(lambda: fake.accepted >= 2, what="a retry")
        assert client.last_error == "InitConnect refused: too many connections"
        assert not client.connected
        refuse[0] = False
        assert await client.wait_connected(5)


async def test_reconnect_after_server_restart_with_backoff() -> None:
    states: list[bool] = []
    async with FakeOpenD() as fake:
        client = fast_client(fake.port)
        client.on_state_change = states.append
        await client.start()
        assert await client.wait_connected(5)
        await fake.stop()
        await until(lambda: not client.connected, what="link down")
        with pytest.raises(GatewayNotConnected):
            await client.get_global_state()
        await fake.start()
        await until(lambda: client.connected, what="reconnect")
        assert client.reconnects == 1
        await client.get_global_state()
        await client.close()
    assert states[:3] == [True, False, True]
    assert client_tasks_left() == []


async def test_backoff_is_capped_and_jittered() -> None:
    client = OpenDClient("127.0.0.1", 1, reconnect_base=0.5, reconnect_cap=4.0)
    delays = [client._backoff(n) for n in range(12)]
    assert all(0 < d <= 4.0 for d in delays)
    assert delays[0] <= 0.5
    assert max(delays[6:]) > 2.0  # reached the cap region
    assert len({round(client._backoff(8), 6) for _ in range(20)}) > 1  # jitter
    # Days of OpenD being down: the delay stays at the cap instead of overflowing.
    assert 2.0 <= client._backoff(100_000) <= 4.0


async def test_keepalive_sent_at_interval_and_silent_server_is_dropped() -> None:
    answer = [True]

    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.KEEP_ALIVE and not answer[0]:
            return
        await answer_ok(link, frame, body)

    async with FakeOpenD(handler, keep_alive_interval=1) as fake:
        client = fast_client(fake.port, keepalive_interval=0.05, dead_after=0.5)
        await client.start()
        assert await client.wait_connected(5)
        await until(lambda: len(fake.requests(ProtoId.KEEP_ALIVE)) >= 3, what="keep-alives")
        body = fake.requests(ProtoId.KEEP_ALIVE)[0]["c2s"]
        assert isinstance(body["time"], str) and int(body["time"]) > 1_700_000_000
        assert fake.accepted == 1
        answer[0] = False
        # Accepting the new link comes before the client's InitConnect on it is answered:
        # wait for the client's own count, not the listener's.
        await until(
            lambda: fake.accepted >= 2 and client.reconnects >= 1,
            timeout=5,
            what="drop and reconnect",
        )
        await client.close()


async def test_server_interval_drives_keepalive_by_default() -> None:
    async with FakeOpenD(keep_alive_interval=7) as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        assert client.connection is not None
        assert client.connection.keepalive_interval == pytest.approx(7 * 0.8)


async def test_place_order_lost_reply_is_outcome_unknown_and_not_retried() -> None:
    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.TRD_PLACE_ORDER:
            link.close()  # processed, reply lost
            return
        await answer_ok(link, frame, body)

    async with FakeOpenD(handler) as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        with pytest.raises(OutcomeUnknown) as exc:
            await client.place_order(ACC, TENCENT, TrdSide.BUY, OrderType.NORMAL, 100, 300.0)
        assert "outcome unknown" in str(exc.value)
        assert "futu_get_orders" in str(exc.value)
        await until(lambda: client.connected and fake.accepted >= 2, what="reconnect")
        assert len(fake.requests(ProtoId.TRD_PLACE_ORDER)) == 1


async def test_place_order_timeout_is_outcome_unknown() -> None:
    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id != ProtoId.TRD_MODIFY_ORDER:
            await answer_ok(link, frame, body)

    async with FakeOpenD(handler) as fake, fast_client(fake.port, request_timeout=0.2) as client:
        assert await client.wait_connected(5)
        with pytest.raises(OutcomeUnknown, match="modify/cancel order"):
            await client.modify_order(ACC, "123", ModifyOrderOp.CANCEL)
        assert len(fake.requests(ProtoId.TRD_MODIFY_ORDER)) == 1


async def test_trade_write_packet_id_matches_header_serial() -> None:
    async with FakeOpenD() as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        await client.place_order(ACC, TENCENT, TrdSide.SELL, OrderType.NORMAL, 100, 320.5, "t")
        await client.modify_order(ACC, "FT123ABC", ModifyOrderOp.CANCEL)
        link = fake.links[0]
        for proto in (ProtoId.TRD_PLACE_ORDER, ProtoId.TRD_MODIFY_ORDER):
            ((_p, serial, body),) = [r for r in link.requests if r[0] == proto]
            assert body["c2s"]["packetID"] == {
                "connID": str(client.connection.info.conn_id),  # type: ignore[union-attr]
                "serialNo": serial,
            }
        serials = [s for _p, s, _b in link.requests]
        assert serials == sorted(serials) and len(set(serials)) == len(serials)


async def test_encrypted_link_round_trip(tmp_path: Path) -> None:
    key_file = tmp_path / "opend.pem"
    key_file.write_bytes(generate_rsa_key_pem())

    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.GET_GLOBAL_STATE:
            link.reply(frame, {"marketHK": 5, "programStatus": {"type": "ProgramStatusType_Ready"}})
        else:
            await answer_ok(link, frame, body)

    fake = FakeOpenD(handler, rsa_key=load_rsa_key(key_file))
    async with fake, fast_client(fake.port, rsa_key_path=key_file) as client:
        assert await client.wait_connected(5)
        assert fake.links[0].codec is not None  # the fake really decrypts our bodies
        state = await client.get_global_state()
        assert (state.market_hk, state.program_status_type) == ("AFTERNOON", "READY")
        (init,) = fake.requests(ProtoId.INIT_CONNECT)
        assert init["c2s"]["packetEncAlgo"] == 2


async def test_plain_client_against_encrypting_opend_says_why(tmp_path: Path) -> None:
    key_file = tmp_path / "opend.pem"
    key_file.write_bytes(generate_rsa_key_pem())
    fake = FakeOpenD(rsa_key=load_rsa_key(key_file))
    async with fake, fast_client(fake.port) as client:
        await until(lambda: client.last_error is not None, what="an error")
        assert not client.connected
        assert "does OpenD require an RSA key?" in client.last_error


async def test_bad_rsa_key_file_fails_at_construction(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(Exception, match="cannot load RSA private key"):
        OpenDClient("127.0.0.1", 1, rsa_key_path=bad)


async def test_secret_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    md5 = "e10adc3949ba59abbe56e057f20f883e"

    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.TRD_UNLOCK_TRADE:
            link.reply(frame, retType=-1, retMsg="wrong password")
        else:
            await answer_ok(link, frame, body)

    caplog.set_level(logging.DEBUG)
    async with FakeOpenD(handler) as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        with pytest.raises(OpenDError) as exc:
            await client.unlock_trade(md5)
        assert md5 not in str(exc.value)
        assert fake.requests(ProtoId.TRD_UNLOCK_TRADE)[0]["c2s"]["pwdMD5"] == md5
        with pytest.raises(ValueError) as bad:
            await client.unlock_trade("NOT-A-DIGEST-secret")
        assert "secret" not in str(bad.value)
    assert md5 not in caplog.text
    assert json.dumps(md5) not in caplog.text


async def test_history_pages_follow_the_cursor_and_stop_on_an_empty_page() -> None:
    pages = [
        {"klList": [{"time": "2025-01-02 00:00:00", "isBlank": False}], "nextReqKey": "QUJD"},
        {"klList": [{"time": "2025-01-03 00:00:00", "isBlank": False}], "nextReqKey": "REVG"},
        {"klList": [], "nextReqKey": "REVG"},  # a server stuck on one cursor
    ]

    async def handler(link: Link, frame: Frame, body: dict) -> None:
        if frame.proto_id == ProtoId.QOT_REQUEST_HISTORY_KL:
            page = pages[len(fake.requests(ProtoId.QOT_REQUEST_HISTORY_KL)) - 1]
            link.reply(frame, {"security": {"market": 1, "code": "00700"}, **page})
            return
        await answer_ok(link, frame, body)

    fake = FakeOpenD(handler)
    async with fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        bars = await client.request_history_kline(TENCENT, "2025-01-01", "2025-02-01")
        assert [b.time_key for b in bars] == ["2025-01-02 00:00:00", "2025-01-03 00:00:00"]
        sent = [r["c2s"].get("nextReqKey") for r in fake.requests(ProtoId.QOT_REQUEST_HISTORY_KL)]
        assert sent == [None, "QUJD", "REVG"]


def _key(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(generate_rsa_key_pem())
    return path


@pytest.mark.parametrize("server", ["no key", "other key"])
async def test_key_mismatch_is_explained(tmp_path: Path, server: str) -> None:
    server_key = load_rsa_key(_key(tmp_path, "server.pem")) if server == "other key" else None
    fake = FakeOpenD(rsa_key=server_key)
    async with fake, fast_client(fake.port, rsa_key_path=_key(tmp_path, "client.pem")) as client:
        await until(lambda: client.last_error is not None, what="a reason")
        assert "is the same RSA key configured in OpenD?" in (client.last_error or "")
        assert not client.connected


async def test_plain_init_reply_to_an_encrypting_client_is_refused(tmp_path: Path) -> None:
    def hook(link: Link, frame: Frame) -> bool:
        link.reply(frame, {"connID": "5", "keepAliveInterval": 10, "connAESKey": "0" * 16})
        return True

    fake = FakeOpenD(init_hook=hook)
    key = _key(tmp_path, "client.pem")
    async with fake, fast_client(fake.port, rsa_key_path=key) as client:
        await until(lambda: client.last_error is not None, what="a reason")
        assert "answered InitConnect unencrypted" in (client.last_error or "")


@pytest.mark.parametrize(("announced", "expected"), [(-5, 0.8), (0, 8.0), (100000, 480.0)])
async def test_nonsensical_keepalive_interval_is_clamped(announced: int, expected: float) -> None:
    async with FakeOpenD(keep_alive_interval=announced) as fake, fast_client(fake.port) as client:
        assert await client.wait_connected(5)
        assert client.connection is not None
        assert client.connection.keepalive_interval == pytest.approx(expected)
