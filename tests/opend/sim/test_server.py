"""The simulator's connection layer over raw sockets: handshake, errors, limits, fault hooks."""

import asyncio
import hashlib
import json
import time

import pytest

from opend.framing import HEADER, ProtoFmt, encode_frame
from opend.protoids import ProtoId
from opend.sim import Simulator
from tests.opend.sim.rawwire import INIT_C2S, RawConn, wait_until

pytestmark = pytest.mark.anyio


async def test_init_connect_keepalive_and_global_state() -> None:
    async with Simulator(keepalive_interval=7) as sim:
        conn = await RawConn.open(sim.address)
        assert conn.init["keepAliveInterval"] == 7
        assert len(conn.init["connAESKey"]) == 16
        assert int(conn.init["loginUserID"]) > 0
        before = int(time.time())
        alive = await conn.ok(ProtoId.KEEP_ALIVE, {"time": str(before)})
        assert int(alive["time"]) >= before
        state = await conn.ok(ProtoId.GET_GLOBAL_STATE, {"userID": conn.init["loginUserID"]})
        assert state["qotLogined"] is True and state["trdLogined"] is True
        assert state["programStatus"]["type"] == 10  # Ready
        assert int(state["connID"]) == conn.conn_id
        await conn.close()


async def test_each_connection_gets_its_own_id() -> None:
    async with Simulator() as sim:
        first = await RawConn.open(sim.address)
        second = await RawConn.open(sim.address)
        assert first.conn_id != second.conn_id
        assert first.init["connAESKey"] != second.init["connAESKey"]
        await first.close()
        await second.close()


async def test_reply_echoes_serial_and_format() -> None:
    async with Simulator() as sim:
        conn = await RawConn.open(sim.address)
        serial = await conn.send(ProtoId.KEEP_ALIVE, {"time": "1"}, serial=4242)
        proto, got_serial, body = await conn.receive()
        assert (proto, got_serial, serial) == (ProtoId.KEEP_ALIVE, 4242, 4242)
        assert body["retType"] == 0
        await conn.close()


async def test_request_before_init_connect_is_refused_not_dropped() -> None:
    async with Simulator() as sim:
        conn = await RawConn.open(sim.address, init=False)
        message = await conn.error(ProtoId.GET_GLOBAL_STATE, {"userID": "0"})
        assert "InitConnect" in message
        reply = await conn.request(ProtoId.INIT_CONNECT, INIT_C2S)
        assert reply["retType"] == 0
        await conn.close()


async def test_unknown_protocol_gets_an_error_reply() -> None:
    async with Simulator() as sim:
        conn = await RawConn.open(sim.address)
        message = await conn.error(9999, {})
        assert "9999" in message
        # The connection is still usable.
        await conn.ok(ProtoId.KEEP_ALIVE, {"time": "1"})
        await conn.close()


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"c2s": 5}', b"\xff\xfe", b'{"c2s":{"time":"x"}}'],
)
async def test_malformed_bodies_get_error_replies(body: bytes) -> None:
    async with Simulator() as sim:
        conn = await RawConn.open(sim.address)
        await conn.send_raw(encode_frame(ProtoId.KEEP_ALIVE, 77, body, ProtoFmt.JSON))
        proto, serial, reply = await conn.receive()
        assert (proto, serial) == (ProtoId.KEEP_ALIVE, 77)
        assert reply["retType"] == -1 and reply["retMsg"]
        await conn.ok(ProtoId.KEEP_ALIVE, {"time": "1"})
        await conn.close()


async def test_missing_required_field_and_unknown_field_are_refused() -> None:
    async with Simulator() as sim:
        conn = await RawConn.open(sim.address)
        assert "time" in await conn.error(ProtoId.KEEP_ALIVE, {})
        assert "bogus" in await conn.error(ProtoId.KEEP_ALIVE, {"time": "1", "bogus": 1})
        await conn.close()


async def test_bad_sha1_gets_an_error_reply() -> None:
    async with Simulator() as sim:
        conn = await RawConn.open(sim.address)
        frame = bytearray(encode_frame(ProtoId.KEEP_ALIVE, 5, b'{"c2s":{"time":"1"}}'))
        frame[16] ^= 0xFF  # corrupt the SHA-1
        await conn.send_raw(bytes(frame))
        _proto, serial, reply = await conn.receive()
        assert serial == 5 and reply["retType"] == -1 and "SHA-1" in reply["retMsg"]
        await conn.close()


async def test_broken_stream_is_closed() -> None:
    async with Simulator() as sim:
        conn = await RawConn.open(sim.address)
        await conn.send_raw(b"XX" + bytes(60))
        assert await conn.closed_by_peer()
        await conn.close()


async def test_protobuf_request_is_answered_in_protobuf() -> None:
    from opend.pbschema import pb_module

    async with Simulator() as sim:
        conn = await RawConn.open(sim.address)
        module = pb_module(ProtoId.KEEP_ALIVE)
        request = module.Request()
        request.c2s.time = 123
        await conn.send_raw(
            encode_frame(ProtoId.KEEP_ALIVE, 9, request.SerializeToString(), ProtoFmt.PROTOBUF)
        )
        header = await conn.reader.readexactly(HEADER.size)
        _magic, proto, fmt, _ver, serial, length, sha1, _res = HEADER.unpack(header)
        body = await conn.reader.readexactly(length)
        assert (proto, fmt, serial) == (ProtoId.KEEP_ALIVE, ProtoFmt.PROTOBUF, 9)
        assert hashlib.sha1(body).digest() == sha1
        reply = module.Response.FromString(body)
        assert reply.retType == 0 and reply.s2c.time > 0
        await conn.close()


async def test_silent_connection_is_dropped() -> None:
    # The sweep and this test share one event loop: a stall longer than the timeout (a loaded
    # 2-core machine) would drop the chatty connection too, so the timeout leaves room for one.
    async with Simulator(keepalive_interval=1, keepalive_timeout=1.0) as sim:
        quiet = await RawConn.open(sim.address)
        chatty = await RawConn.open(sim.address)

        async def keep_talking() -> None:
            while True:
                await chatty.ok(ProtoId.KEEP_ALIVE, {"time": "1"})
                await asyncio.sleep(0.05)

        talker = asyncio.create_task(keep_talking())
        assert await quiet.closed_by_peer(timeout=5)
        assert not talker.done()  # the connection that kept talking is still served
        talker.cancel()
        await quiet.close()
        await chatty.close()


async def test_connection_limit() -> None:
    async with Simulator(max_connections=3) as sim:
        conns = [await RawConn.open(sim.address) for _ in range(3)]
        extra = await RawConn.open(sim.address, init=False)
        message = await extra.error(ProtoId.INIT_CONNECT, INIT_C2S)
        assert "at most 3" in message
        assert await extra.closed_by_peer()
        await conns.pop().close()
        await wait_until(lambda: sim.connection_count == 2)
        again = await RawConn.open(sim.address)  # a freed slot can be used again
        for conn in [*conns, extra, again]:
            await conn.close()


async def test_default_limit_is_128_connections() -> None:
    async with Simulator() as sim:
        conns = [await RawConn.open(sim.address) for _ in range(128)]
        extra = await RawConn.open(sim.address, init=False)
        assert "128" in await extra.error(ProtoId.INIT_CONNECT, INIT_C2S)
        for conn in [*conns, extra]:
            await conn.close()


async def test_drop_connections() -> None:
    async with Simulator() as sim:
        conn = await RawConn.open(sim.address)
        sim.drop_connections()
        assert await conn.closed_by_peer()
        again = await RawConn.open(sim.address)
        await again.ok(ProtoId.KEEP_ALIVE, {"time": "1"})
        await conn.close()
        await again.close()


async def test_stall_holds_replies_until_unstall() -> None:
    async with Simulator() as sim:
        conn = await RawConn.open(sim.address)
        sim.stall(ProtoId.GET_GLOBAL_STATE)
        stalled = await conn.send(ProtoId.GET_GLOBAL_STATE, {"userID": "0"})
        # Other protocols still answer while one is stalled.
        assert (await conn.request(ProtoId.KEEP_ALIVE, {"time": "1"}))["retType"] == 0
        with pytest.raises(TimeoutError):
            await conn.receive(timeout=0.3)
        sim.unstall()
        _proto, serial, reply = await conn.receive()
        assert serial == stalled and reply["retType"] == 0
        sim.stall()  # everything
        await conn.send(ProtoId.KEEP_ALIVE, {"time": "1"})
        with pytest.raises(TimeoutError):
            await conn.receive(timeout=0.3)
        sim.unstall()
        assert (await conn.receive())[2]["retType"] == 0
        await conn.close()


async def test_drop_after_processes_then_closes_without_reply() -> None:
    async with Simulator() as sim:
        conn = await RawConn.open(sim.address)
        acc = await conn.ok(ProtoId.TRD_GET_ACC_LIST, {"userID": "0"})
        simulate = next(
            a for a in acc["accList"] if a["trdEnv"] == 0 and a["trdMarketAuthList"] == [1]
        )
        sim.drop_after(ProtoId.TRD_PLACE_ORDER)
        await conn.send(
            ProtoId.TRD_PLACE_ORDER,
            {
                "packetID": {"connID": str(conn.conn_id), "serialNo": 1},
                "header": {"trdEnv": 0, "accID": simulate["accID"], "trdMarket": 1},
                "trdSide": 1,
                "orderType": 1,
                "code": "00700",
                "qty": 100,
                "price": 300.0,
                "secMarket": 1,
            },
        )
        assert await conn.closed_by_peer()
        assert [o.order_id_ex for o in sim.state.orders.values()] == ["FTSIM0000000001"]
        # Pipelined with a request before it, the earlier reply still arrives; only the
        # dropped one is lost.
        sim.drop_after(ProtoId.GET_GLOBAL_STATE)
        piped = await RawConn.open(sim.address)
        first = await piped.send(ProtoId.KEEP_ALIVE, {"time": "1"})
        await piped.send(ProtoId.GET_GLOBAL_STATE, {"userID": "0"})
        assert (await piped.receive())[1] == first
        with pytest.raises(ConnectionError):
            await piped.receive()
        await piped.close()
        # One-shot: the next connection's orders are answered.
        again = await RawConn.open(sim.address)
        await again.ok(ProtoId.KEEP_ALIVE, {"time": "1"})
        await conn.close()
        await again.close()


async def test_latency_delays_replies() -> None:
    async with Simulator(latency_ms=150) as sim:
        conn = await RawConn.open(sim.address)
        started = time.monotonic()
        await conn.ok(ProtoId.KEEP_ALIVE, {"time": "1"})
        assert time.monotonic() - started >= 0.14
        # Pipelined requests still come back in order, all delayed about once, not in series.
        started = time.monotonic()
        serials = [await conn.send(ProtoId.KEEP_ALIVE, {"time": str(i)}) for i in range(20)]
        assert [(await conn.receive())[1] for _ in serials] == serials
        assert 0.14 <= time.monotonic() - started < 2.0
        await conn.close()


async def test_restart_on_the_same_port_keeps_state() -> None:
    sim = Simulator()
    await sim.start()
    address = sim.address
    conn = await RawConn.open(address)
    await sim.stop()
    assert await conn.closed_by_peer()
    with pytest.raises(OSError):
        await RawConn.open(address)
    await sim.start()
    assert sim.address == address
    again = await RawConn.open(address)
    await again.ok(ProtoId.KEEP_ALIVE, {"time": "1"})
    await again.close()
    await conn.close()
    await sim.stop()


async def test_pipelined_requests_are_all_answered_in_order() -> None:
    async with Simulator() as sim:
        conn = await RawConn.open(sim.address)
        serials = [await conn.send(ProtoId.KEEP_ALIVE, {"time": str(i)}) for i in range(50)]
        got = [(await conn.receive())[1] for _ in serials]
        assert got == serials
        await conn.close()


def test_reply_bodies_are_compact_json() -> None:
    # OpenD's exact whitespace is unconfirmed; the simulator's is compact and UTF-8.
    from opend.sim.pbcodec import encode_response

    body = encode_response(ProtoId.KEEP_ALIVE, ProtoFmt.JSON, {"retType": 0, "s2c": {"time": "1"}})
    assert json.loads(body) == {"retType": 0, "s2c": {"time": "1"}}
    assert b" " not in body
