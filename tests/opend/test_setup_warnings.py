"""What the client tells a person whose OpenD is missing, elsewhere, not an OpenD, or not logged
in: one start-up warning line each (never one per retry), and human reasons in errors."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from opend.codes import parse_code
from opend.errors import GatewayNotConnected, OpenDError
from opend.framing import Frame
from opend.protoids import ProtoId
from opend.sim import Simulator
from opend.sim.handlers import LOGIN_FAILED_DESC, NOT_LOGGED_IN
from tests.opend.fake_opend import FakeOpenD, Link, fast_client
from tests.opend.polling import client_tasks_left, until

pytestmark = pytest.mark.anyio

TENCENT = parse_code("HK.00700")
HINT = (
    "is OpenD running and listening there? --gateway sets the address; retrying in the background"
)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "opend.client" and r.levelno >= logging.WARNING
    ]


@asynccontextmanager
async def answering(reply: bytes) -> AsyncIterator[int]:
    """A TCP server that is not OpenD: it writes `reply` to whoever connects, then hangs up."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)  # the InitConnect request, as a server reads a request
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def closed_port() -> int:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    return port


async def test_no_opend_is_one_warning_however_many_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="opend")

    def hang_up(link: Link, frame: Frame) -> bool:
        link.close()
        return True

    async with FakeOpenD(init_hook=hang_up) as fake:
        client = fast_client(fake.port)
        await client.start()
        await until(lambda: fake.accepted >= 4, what="several retries")
        await client.close()
    (line,) = warnings_of(caplog)
    assert line == (
        f"cannot reach OpenD at 127.0.0.1:{fake.port} (InitConnect failed: OpenD closed the "
        f"connection during InitConnect (does OpenD require an RSA key?)): {HINT}"
    )
    assert client_tasks_left() == []


async def refusal_after_first_attempt(port: int) -> str:
    """What a call answers once the client's first attempt to reach `port` has failed."""
    client = fast_client(port)
    await client.start()
    await until(lambda: client.last_error is not None, what="the first attempt")
    with pytest.raises(GatewayNotConnected) as exc:
        await client.get_global_state()
    await client.close()
    return str(exc.value)


async def test_connection_refused_says_what_was_tried(caplog: pytest.LogCaptureFixture) -> None:
    port = await closed_port()
    text = await refusal_after_first_attempt(port)
    assert text == f"gateway not connected: 127.0.0.1:{port} (connection refused)"
    assert warnings_of(caplog) == [
        f"cannot reach OpenD at 127.0.0.1:{port} (connection refused): {HINT}"
    ]


async def test_a_host_name_that_does_not_resolve() -> None:
    client = fast_client(0)
    client.host = "no-such-host.invalid"
    await client.start()
    await until(lambda: client.last_error is not None, what="the first attempt")
    await client.close()
    assert (client.last_error or "").startswith("host name not resolved: ")


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "28 bytes, then it closed the connection"),
        (b"SSH-2.0-OpenSSH_9.6\r\n" + b"x" * 64, "bad magic b'SS'"),
    ],
)
async def test_something_else_listening_is_not_an_opend(reply: bytes, why: str) -> None:
    async with answering(reply) as port:
        text = await refusal_after_first_attempt(port)
    assert text == (
        f"gateway not connected: 127.0.0.1:{port} "
        f"(not an OpenD: it answered InitConnect in another protocol ({why}))"
    )


async def test_not_logged_in_is_one_warning_and_requests_fail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="opend")
    async with Simulator(logged_in=False) as sim:
        client = fast_client(sim.address[1])
        async with client:
            assert await client.wait_connected(5)
            advice = (
                f"OpenD at 127.0.0.1:{sim.address[1]} is not logged in to Futu (quotes and "
                f"trading; program status LOGIN_FAILED: {LOGIN_FAILED_DESC}): log in to OpenD "
                "(its window, or its -login_account and -login_pwd settings) and retry"
            )
            await until(lambda: warnings_of(caplog) == [advice], what="the login warning")
            state = await client.get_global_state()
            assert (state.qot_logined, state.trd_logined) == (False, False)
            assert state.program_status_type == "LOGIN_FAILED"
            assert state.login_advice(client.address) == advice
            with pytest.raises(OpenDError) as exc:
                await client.get_market_snapshot([TENCENT])
            assert exc.value.message == NOT_LOGGED_IN
            with pytest.raises(OpenDError, match=f"^{NOT_LOGGED_IN}$"):
                await client.get_acc_list()
            # A new link to the same OpenD, still not logged in: nothing new to say.
            seen = sim.requests_seen[ProtoId.GET_GLOBAL_STATE]
            first = client.connection
            sim.drop_connections()
            await until(
                lambda: client.connected and client.connection is not first, what="reconnect"
            )
            await until(
                lambda: sim.requests_seen[ProtoId.GET_GLOBAL_STATE] > seen, what="the new check"
            )
            sim.set_logged_in(True)
            assert (await client.get_global_state()).login_advice(client.address) is None
            assert len(await client.get_stock_quote([TENCENT])) == 1
    assert warnings_of(caplog).count(advice) == 1


async def test_a_logged_in_opend_gets_no_warning_and_one_check_per_link(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with Simulator() as sim, fast_client(sim.address[1]) as client:
        assert await client.wait_connected(5)
        await until(lambda: sim.requests_seen[ProtoId.GET_GLOBAL_STATE] == 1, what="the check")
        for _ in range(3):
            await client.get_market_snapshot([TENCENT])
        assert sim.requests_seen[ProtoId.GET_GLOBAL_STATE] == 1
    assert warnings_of(caplog) == []


async def test_a_call_just_after_start_learns_why_without_waiting_out_the_timeout() -> None:
    client = fast_client(await closed_port())
    await client.start()
    started = asyncio.get_running_loop().time()
    assert await client.wait_first_attempt(10) is False
    assert asyncio.get_running_loop().time() - started < 5
    assert client.last_error == "connection refused"
    await client.close()


async def test_refusals_arriving_together_share_one_login_check() -> None:
    async with Simulator(logged_in=False) as sim, fast_client(sim.address[1]) as client:
        assert await client.wait_connected(5)
        await until(lambda: sim.requests_seen[ProtoId.GET_GLOBAL_STATE] == 1, what="the check")
        # "Not logged in" is asked again on every refusal, but 20 at once ask once.
        sim.stall(ProtoId.GET_GLOBAL_STATE)
        callers = [asyncio.ensure_future(client.login_advice()) for _ in range(20)]
        await until(
            lambda: sim.requests_seen[ProtoId.GET_GLOBAL_STATE] == 2, what="the shared check"
        )
        sim.unstall()
        answers = await asyncio.gather(*callers)
        assert len(set(answers)) == 1 and "is not logged in to Futu" in answers[0]
        assert sim.requests_seen[ProtoId.GET_GLOBAL_STATE] == 2


async def test_a_caller_cancelled_during_the_login_check_is_cancelled() -> None:
    """The check is shared and shielded, but the caller's own cancellation still ends it, and
    the check goes on for the others."""
    async with Simulator(logged_in=False) as sim, fast_client(sim.address[1]) as client:
        assert await client.wait_connected(5)
        await until(lambda: sim.requests_seen[ProtoId.GET_GLOBAL_STATE] == 1, what="the check")
        sim.stall(ProtoId.GET_GLOBAL_STATE)
        leaving = asyncio.ensure_future(client.login_advice())
        staying = asyncio.ensure_future(client.login_advice())
        await until(lambda: sim.requests_seen[ProtoId.GET_GLOBAL_STATE] == 2, what="the check")
        leaving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        sim.unstall()
        assert "is not logged in to Futu" in (await staying or "")
