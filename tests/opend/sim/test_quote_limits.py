"""OpenD's quote request limits and history K-line quota, enforced by the simulator on request
(`quote_limits=True`), driven over the raw wire and through the official SDK: clients with no
throttle of their own, so every refusal here is the simulator's."""

import re
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from google.protobuf import json_format

from opend.framing import ProtoFmt
from opend.pbschema import pb_module
from opend.protoids import ProtoId
from opend.sim import Simulator, SimulatorThread
from opend.sim.limits import HistoryKLQuota
from opend.sim.pbcodec import encode_response
from tests.opend.sim.rawwire import RawConn

START = 1_780_000_000.0
TENCENT = {"market": 1, "code": "00700"}
HSBC = {"market": 1, "code": "00005"}
AAPL = {"market": 11, "code": "AAPL"}
PLATE_SET = {"market": 1, "plateSetType": 0}
PLATE_SECURITY = {"plate": {"market": 1, "code": "BK1001"}}
SNAPSHOT = {"securityList": [TENCENT]}
TRADE_DATE = {"market": 1, "beginTime": "2026-01-01", "endTime": "2026-03-31"}
DAY = 86400.0


def _history(security: dict[str, Any], kl_type: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "security": security,
        "klType": kl_type,
        "rehabType": 1,
        "beginTime": "2026-01-05",
        "endTime": "2026-02-27",
        **extra,
    }


async def _burst(conn: RawConn, proto_id: int, c2s: dict[str, Any], n: int) -> None:
    for _ in range(n):
        await conn.ok(proto_id, c2s)


@pytest.mark.anyio
async def test_off_by_default_nothing_is_refused() -> None:
    async with Simulator(seed=3, start_time=START) as sim:
        conn = await RawConn.open(sim.address)
        await _burst(conn, ProtoId.QOT_GET_PLATE_SET, PLATE_SET, 11)
        await _burst(conn, ProtoId.QOT_GET_PLATE_SECURITY, PLATE_SECURITY, 11)
        await _burst(conn, ProtoId.QOT_GET_SECURITY_SNAPSHOT, SNAPSHOT, 61)
        await _burst(conn, ProtoId.QOT_REQUEST_HISTORY_KL, _history(TENCENT), 61)
        await conn.close()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("proto_id", "c2s", "limit", "what"),
    [
        (ProtoId.QOT_GET_PLATE_SET, PLATE_SET, 10, "Qot_GetPlateSet requests"),
        (ProtoId.QOT_GET_PLATE_SECURITY, PLATE_SECURITY, 10, "Qot_GetPlateSecurity requests"),
        (ProtoId.QOT_GET_SECURITY_SNAPSHOT, SNAPSHOT, 60, "Qot_GetSecuritySnapshot requests"),
        (ProtoId.QOT_REQUEST_HISTORY_KL, _history(TENCENT), 60, "Qot_RequestHistoryKL first"),
        (ProtoId.QOT_GET_MARKET_STATE, SNAPSHOT, 10, "Qot_GetMarketState requests"),
        (ProtoId.QOT_REQUEST_TRADE_DATE, TRADE_DATE, 30, "Qot_RequestTradeDate requests"),
    ],
)
async def test_the_request_past_the_limit_is_refused_until_30_s_after_the_first(
    proto_id: int, c2s: dict[str, Any], limit: int, what: str
) -> None:
    async with Simulator(seed=3, start_time=START, quote_limits=True) as sim:
        conn = await RawConn.open(sim.address)
        started = time.monotonic()
        await conn.ok(proto_id, c2s)
        sim.advance(10)
        await _burst(conn, proto_id, c2s, limit - 1)
        reply = await conn.request(proto_id, c2s)
        elapsed = time.monotonic() - started
        assert reply["retType"] == -1 and "s2c" not in reply
        assert f"at most {limit} {what}" in reply["retMsg"]
        # 30 s after the first request, less 10 s of simulated time and the burst's real time
        # (measured, however slow the machine); the message rounds to 0.1 s.
        retry = re.search(r"per 30 s, retry in (\d+\.\d) s$", reply["retMsg"])
        assert retry is not None and 20.0 - elapsed - 0.1 <= float(retry.group(1)) <= 20.05
        # The window runs on real time plus every advance: step to about 1 s before the first
        # request's slot frees, then past it.
        sim.advance(float(retry.group(1)) - 1.0)
        assert "Request too frequent" in await conn.error(proto_id, c2s)
        sim.advance(1.1)  # more than 30 s after the first: its slot is free, only that one
        await conn.ok(proto_id, c2s)
        assert "Request too frequent" in await conn.error(proto_id, c2s)
        await conn.close()


@pytest.mark.anyio
async def test_connections_of_one_user_share_the_window_and_protocols_do_not() -> None:
    async with Simulator(seed=3, start_time=START, quote_limits=True) as sim:
        first = await RawConn.open(sim.address)
        second = await RawConn.open(sim.address)
        await _burst(first, ProtoId.QOT_GET_PLATE_SET, PLATE_SET, 5)
        await _burst(second, ProtoId.QOT_GET_PLATE_SET, PLATE_SET, 5)
        assert "10 Qot_GetPlateSet" in await first.error(ProtoId.QOT_GET_PLATE_SET, PLATE_SET)
        assert "10 Qot_GetPlateSet" in await second.error(ProtoId.QOT_GET_PLATE_SET, PLATE_SET)
        # Another limited protocol and an unlimited one are unaffected.
        await first.ok(ProtoId.QOT_GET_PLATE_SECURITY, PLATE_SECURITY)
        await first.ok(ProtoId.QOT_GET_STATIC_INFO, SNAPSHOT)
        # A new connection of the same user does not start a fresh window.
        third = await RawConn.open(sim.address)
        assert "Request too frequent" in await third.error(ProtoId.QOT_GET_PLATE_SET, PLATE_SET)
        for conn in (first, second, third):
            await conn.close()


@pytest.mark.anyio
async def test_a_request_refused_for_a_bad_field_still_counts() -> None:
    async with Simulator(seed=3, start_time=START, quote_limits=True) as sim:
        conn = await RawConn.open(sim.address)
        bad = {"market": 1, "plateSetType": 999}
        for _ in range(10):
            assert "plateSetType" in await conn.error(ProtoId.QOT_GET_PLATE_SET, bad)
        assert "Request too frequent" in await conn.error(ProtoId.QOT_GET_PLATE_SET, PLATE_SET)
        await conn.close()


@pytest.mark.anyio
async def test_only_the_first_history_page_counts() -> None:
    async with Simulator(seed=3, start_time=START, quote_limits=True) as sim:
        conn = await RawConn.open(sim.address)
        await _burst(conn, ProtoId.QOT_REQUEST_HISTORY_KL, _history(HSBC), 59)
        # The 60th first page, then every page after it: ~40 daily bars, 5 per page.
        c2s = _history(TENCENT, maxAckKLNum=5)
        page = await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, c2s)
        pages = 1
        while "nextReqKey" in page:
            c2s["nextReqKey"] = page["nextReqKey"]
            page = await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, c2s)
            pages += 1
        assert pages > 5
        message = await conn.error(ProtoId.QOT_REQUEST_HISTORY_KL, _history(TENCENT))
        assert "at most 60 Qot_RequestHistoryKL first pages per 30 s" in message
        # A follow-up page is still served while first pages are refused.
        c2s = _history(TENCENT, maxAckKLNum=5)
        sim.advance(30.5)
        first = await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, c2s)
        await _burst(conn, ProtoId.QOT_REQUEST_HISTORY_KL, _history(HSBC), 59)
        assert "Request too frequent" in await conn.error(
            ProtoId.QOT_REQUEST_HISTORY_KL, _history(HSBC)
        )
        c2s["nextReqKey"] = first["nextReqKey"]
        assert (await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, c2s))["klList"]
        await conn.close()


@pytest.mark.anyio
async def test_history_quota_counts_distinct_securities_per_30_days() -> None:
    async with Simulator(seed=3, start_time=START, quote_limits=True, history_kl_quota=2) as sim:
        conn = await RawConn.open(sim.address)
        await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, _history(TENCENT))
        sim.advance(DAY)
        await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, _history(HSBC))
        # The same security again, with another K-line type: no new unit.
        await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, _history(TENCENT, kl_type=3))
        message = await conn.error(ProtoId.QOT_REQUEST_HISTORY_KL, _history(AAPL))
        assert message == (
            "History KL quota exhausted: 2 of 2 securities used in the last 30 days, US.AAPL "
            "would need one more (securities already fetched in that window can still be "
            "fetched)"
        )
        quota = await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL_QUOTA, {"bGetDetail": True})
        assert (quota["usedQuota"], quota["remainQuota"]) == (2, 0)
        details = quota["detailList"]
        assert [d["security"] for d in details] == [TENCENT, HSBC]
        assert [int(d["requestTimeStamp"]) for d in details] == [int(START), int(START + DAY)]
        assert details[0]["name"] == sim.state.securities["HK.00700"].name
        # Thirty days after Tencent's first fetch its unit is free again; HSBC's is not yet.
        sim.advance(29 * DAY + 1)
        await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, _history(AAPL))
        assert "quota exhausted" in await conn.error(
            ProtoId.QOT_REQUEST_HISTORY_KL, _history(TENCENT)
        )
        await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, _history(HSBC))
        quota = await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL_QUOTA, {})
        assert quota == {"usedQuota": 2, "remainQuota": 0}
        await conn.close()


@pytest.mark.anyio
async def test_without_quote_limits_the_quota_is_counted_but_not_enforced() -> None:
    async with Simulator(seed=3, start_time=START, history_kl_quota=1) as sim:
        conn = await RawConn.open(sim.address)
        await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, _history(TENCENT))
        await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, _history(AAPL))
        quota = await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL_QUOTA, {"bGetDetail": False})
        assert quota == {"usedQuota": 2, "remainQuota": 0}
        await conn.close()


@pytest.mark.parametrize("quota", [-1, 2.5, "100", True, None])
def test_a_bad_quota_is_refused_at_start(quota: Any) -> None:
    with pytest.raises(ValueError, match="history K-line quota must be a whole number"):
        Simulator(quote_limits=True, history_kl_quota=quota)


def test_quota_window_edges() -> None:
    quota = HistoryKLQuota(1, days=30)
    quota.use("HK.00700", 1000.0, enforce=True)
    with pytest.raises(Exception, match="quota exhausted"):
        quota.use("US.AAPL", 1000.0 + 30 * DAY, enforce=True)  # exactly 30 days: still counted
    quota.use("US.AAPL", 1000.0 + 30 * DAY + 0.001, enforce=True)
    assert list(quota.used(1000.0 + 30 * DAY + 0.001)) == ["US.AAPL"]


@pytest.mark.anyio
async def test_quota_reply_with_details_fits_the_official_schema() -> None:
    async with Simulator(seed=3, start_time=START) as sim:
        conn = await RawConn.open(sim.address)
        await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, _history(TENCENT))
        reply = await conn.request(ProtoId.QOT_REQUEST_HISTORY_KL_QUOTA, {"bGetDetail": True})
        await conn.close()
    message = pb_module(ProtoId.QOT_REQUEST_HISTORY_KL_QUOTA).Response()
    json_format.ParseDict(reply, message)
    assert message.IsInitialized(), message.FindInitializationErrors()
    assert message.s2c.detailList[0].security.code == "00700"
    assert encode_response(ProtoId.QOT_REQUEST_HISTORY_KL_QUOTA, ProtoFmt.PROTOBUF, reply)


@pytest.fixture
def limited_sim() -> Iterator[SimulatorThread]:
    with SimulatorThread(
        seed=11, start_time=START, quote_limits=True, history_kl_quota=1
    ) as running:
        yield running


@pytest.mark.parametrize("fmt", ["protobuf", "json"])
def test_the_official_sdk_sees_the_refusals_and_the_quota(
    ft: ModuleType, fmt: str, limited_sim: SimulatorThread
) -> None:
    ft.SysConfig.set_proto_fmt(ft.ProtoFMT.Json if fmt == "json" else ft.ProtoFMT.Protobuf)
    host, port = limited_sim.address
    quote_ctx = ft.OpenQuoteContext(host=host, port=port)
    try:
        for _ in range(10):
            ret, data = quote_ctx.get_plate_list(ft.Market.HK, ft.Plate.ALL)
            assert ret == ft.RET_OK, data
        ret, data = quote_ctx.get_plate_list(ft.Market.HK, ft.Plate.ALL)
        assert ret != ft.RET_OK and "at most 10 Qot_GetPlateSet requests per 30 s" in data
        ret, bars, _ = quote_ctx.request_history_kline(
            "HK.00700", start="2026-01-05", end="2026-01-30"
        )
        assert ret == ft.RET_OK, bars
        ret, message, _ = quote_ctx.request_history_kline(
            "US.AAPL", start="2026-01-05", end="2026-01-30"
        )
        assert ret != ft.RET_OK and "History KL quota exhausted: 1 of 1" in message
        ret, quota = quote_ctx.get_history_kl_quota(get_detail=True)
        assert ret == ft.RET_OK, quota
        used, remain, details = quota
        assert (used, remain) == (1, 0)
        assert [d["code"] for d in details] == ["HK.00700"]
    finally:
        quote_ctx.close()
