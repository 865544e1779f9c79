"""`futucli sim` as a user runs it: a real process, a banner line, a served port, a clean stop."""

import asyncio
import os
import re
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from opend import pbschema
from opend.codes import QotMarket
from opend.enums import QotMarketState
from opend.framing import ProtoFmt, encode_frame
from opend.protoids import ProtoId
from opend.sim.exchange import reported_state
from tests.conftest import console_script
from tests.opend.sim.rawwire import RawConn

BANNER = re.compile(r"^OpenD simulator listening on 127\.0\.0\.1:(\d+) \(formats: ([a-z, ]+)\)$")


@dataclass
class RunningSim:
    """A `futucli sim` process as a user starts it: its banner, the second line, a connection."""

    formats: str
    settings: str
    conn: RawConn


@asynccontextmanager
async def running_sim(*flags: str) -> AsyncIterator[RunningSim]:
    """`futucli sim --listen 127.0.0.1:0 FLAGS`, connected; stopped with SIGTERM at the end,
    which must end it with exit 0."""
    proc = subprocess.Popen(
        [console_script("futucli"), "sim", "--listen", "127.0.0.1:0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        match = BANNER.match(first)
        assert match, first
        settings = proc.stdout.readline().strip()
        conn = await RawConn.open(("127.0.0.1", int(match.group(1))))
        try:
            yield RunningSim(match.group(2), settings, conn)
        finally:
            await conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_help_documents_the_default_trade_password() -> None:
    result = subprocess.run(
        [console_script("futucli"), "sim", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "123456" in result.stdout and "--latency-ms" in result.stdout


@pytest.mark.parametrize("listen", ["nohost", "127.0.0.1:port", "127.0.0.1:70000", ":1"])
def test_bad_listen_address_is_a_usage_error(listen: str) -> None:
    result = subprocess.run(
        [console_script("futucli"), "sim", "--listen", listen],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "HOST:PORT" in result.stderr


def test_missing_rsa_key_is_a_usage_error() -> None:
    result = subprocess.run(
        [
            console_script("futucli"),
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--rsa-key",
            "/nonexistent/key.pem",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "no such file" in result.stderr


@pytest.mark.anyio
async def test_runs_in_the_foreground_and_stops_on_sigterm() -> None:
    async with running_sim("--seed", "3") as sim:
        assert sim.formats == ("json, protobuf" if pbschema.available() else "json")
        assert sim.settings.startswith("seed 3;")
        accounts = await sim.conn.ok(ProtoId.TRD_GET_ACC_LIST, {"userID": "0"})
        assert len(accounts["accList"]) == 6


def test_port_in_use_fails_cleanly() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [console_script("futucli"), "sim", "--listen", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1 and "cannot listen" in result.stderr


@pytest.mark.anyio
async def test_not_logged_in_plays_an_opend_whose_login_failed() -> None:
    """`--not-logged-in`: GetGlobalState says so, and quote requests fail, as on such an OpenD."""
    async with running_sim("--not-logged-in") as sim:
        assert "NOT logged in to Futu" in sim.settings
        state = await sim.conn.ok(ProtoId.GET_GLOBAL_STATE, {"userID": "0"})
        assert state["qotLogined"] is False and state["trdLogined"] is False
        refusal = await sim.conn.error(
            ProtoId.QOT_GET_SECURITY_SNAPSHOT, {"securityList": [{"market": 1, "code": "00700"}]}
        )
        assert "log" in refusal.lower()


@pytest.mark.anyio
async def test_quote_limits_flag_turns_on_opends_quote_limits() -> None:
    async with running_sim("--quote-limits") as sim:
        assert "; quote limits on;" in sim.settings
        plate_set = {"market": 1, "plateSetType": 0}
        for _ in range(10):
            await sim.conn.ok(ProtoId.QOT_GET_PLATE_SET, plate_set)
        message = await sim.conn.error(ProtoId.QOT_GET_PLATE_SET, plate_set)
        assert "at most 10 Qot_GetPlateSet requests per 30 s" in message


@pytest.mark.anyio
async def test_without_the_schemas_a_protobuf_client_is_told_what_to_do_and_closed(
    tmp_path: Path,
) -> None:
    """The official SDK's default (protobuf bodies) against a sim without the official schemas:
    no JSON reply labelled protobuf, but one line on the sim's stderr per connection and the
    connection closed. A futu package without its schema folder is what `pbschema` sees when
    the schemas are missing."""
    (tmp_path / "futu").mkdir()
    (tmp_path / "futu" / "__init__.py").write_text("", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.Popen(
        [console_script("futucli"), "sim", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        match = BANNER.match(proc.stdout.readline().strip())
        assert match and match.group(2) == "json"
        address = ("127.0.0.1", int(match.group(1)))
        for _ in range(2):
            conn = await RawConn.open(address, init=False)
            frame = encode_frame(ProtoId.INIT_CONNECT, 1, b"\x08\xac\x02", ProtoFmt.PROTOBUF)
            await conn.send_raw(frame)
            assert await asyncio.wait_for(conn.reader.read(), 10) == b""  # closed, no reply
            await conn.close()
        json_client = await RawConn.open(address)  # JSON is served as ever
        await json_client.ok(ProtoId.TRD_GET_ACC_LIST, {"userID": "0"})
        await json_client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    told = [line for line in err.splitlines() if "protobuf" in line]
    assert len(told) == 2, err
    assert "pip install 'futu-mcp[sim-protobuf]'" in told[0]
    assert "SysConfig.set_proto_fmt(ProtoFMT.Json)" in told[0]
    assert told[0].startswith("futucli sim: conn ")


@pytest.mark.anyio
async def test_hours_real_reports_the_exchanges_sessions() -> None:
    """`--hours real`: the markets report their real session (always open by default)."""
    async with running_sim("--hours", "real") as sim:
        assert sim.settings.endswith("; hours: real (exchange sessions)")
        before = time.time()
        state = await sim.conn.ok(ProtoId.GET_GLOBAL_STATE, {"userID": "0"})
        after = time.time()
        possible = {int(reported_state(QotMarket.US, t, True)) for t in (before, after)}
        assert state["marketUS"] in possible
    async with running_sim() as sim:
        assert sim.settings.endswith("; hours: always (always open)")
        state = await sim.conn.ok(ProtoId.GET_GLOBAL_STATE, {"userID": "0"})
        assert state["marketUS"] == QotMarketState.AFTERNOON
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run(
            [console_script("futucli"), "sim", "--hours", "sometimes"],
            capture_output=True,
            check=True,
            timeout=60,
        )
