"""Quote protocols over the wire: subscription rules, quota, errors, history paging."""

from collections.abc import AsyncIterator

import pytest

from opend.protoids import ProtoId
from opend.sim import Simulator
from tests.opend.sim.rawwire import RawConn, wait_until

pytestmark = pytest.mark.anyio
START = 1_780_000_000.0
TENCENT = {"market": 1, "code": "00700"}
AAPL = {"market": 11, "code": "AAPL"}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(seed=2, start_time=START, subscription_quota=4) as running:
        yield running


def _sub(securities: list[dict], sub_types: list[int], on: bool = True) -> dict:
    return {"securityList": securities, "subTypeList": sub_types, "isSubOrUnSub": on}


async def test_data_needs_a_subscription_on_this_connection(sim: Simulator) -> None:
    conn = await RawConn.open(sim.address)
    other = await RawConn.open(sim.address)
    message = await conn.error(ProtoId.QOT_GET_BASIC_QOT, {"securityList": [TENCENT]})
    assert "HK.00700" in message and "subscribe" in message
    await conn.ok(ProtoId.QOT_SUB, _sub([TENCENT], [1, 2]))
    quote = await conn.ok(ProtoId.QOT_GET_BASIC_QOT, {"securityList": [TENCENT]})
    assert quote["basicQotList"][0]["security"] == TENCENT
    book = await conn.ok(ProtoId.QOT_GET_ORDER_BOOK, {"security": TENCENT, "num": 5})
    assert len(book["orderBookAskList"]) == 5
    assert "subscribe" in await conn.error(
        ProtoId.QOT_GET_TICKER, {"security": TENCENT, "maxRetNum": 5}
    )
    assert "subscribe" in await conn.error(
        ProtoId.QOT_GET_KL, {"security": TENCENT, "klType": 2, "rehabType": 1, "reqNum": 5}
    )
    # Subscriptions are per connection.
    assert "subscribe" in await other.error(ProtoId.QOT_GET_BASIC_QOT, {"securityList": [TENCENT]})
    await conn.close()
    await other.close()


async def test_quota_and_one_minute_minimum(sim: Simulator) -> None:
    conn = await RawConn.open(sim.address)
    await conn.ok(ProtoId.QOT_SUB, _sub([TENCENT, AAPL], [1, 4]))
    message = await conn.error(ProtoId.QOT_SUB, _sub([TENCENT], [2]))
    assert "quota" in message.lower() and "4 of 4" in message
    # Subscribing again what is held costs nothing.
    await conn.ok(ProtoId.QOT_SUB, _sub([TENCENT], [1]))
    assert "one minute" in await conn.error(ProtoId.QOT_SUB, _sub([AAPL], [4], on=False))
    sim.advance(61)
    await conn.ok(ProtoId.QOT_SUB, _sub([AAPL], [4], on=False))
    await conn.ok(ProtoId.QOT_SUB, _sub([TENCENT], [2]))
    await conn.close()


async def test_closed_connection_frees_quota_only_after_the_minute(sim: Simulator) -> None:
    first = await RawConn.open(sim.address)
    await first.ok(ProtoId.QOT_SUB, _sub([TENCENT, AAPL], [1, 2]))
    await first.close()
    await wait_until(lambda: sim.connection_count == 0)
    second = await RawConn.open(sim.address)
    assert "quota" in (await second.error(ProtoId.QOT_SUB, _sub([TENCENT], [4]))).lower()
    sim.advance(61)
    await second.ok(ProtoId.QOT_SUB, _sub([TENCENT], [4]))
    await second.close()


async def test_unsub_all(sim: Simulator) -> None:
    conn = await RawConn.open(sim.address)
    await conn.ok(ProtoId.QOT_SUB, _sub([TENCENT], [1]))
    sim.advance(61)
    await conn.ok(
        ProtoId.QOT_SUB,
        {"securityList": [], "subTypeList": [], "isSubOrUnSub": False, "isUnsubAll": True},
    )
    assert "subscribe" in await conn.error(ProtoId.QOT_GET_BASIC_QOT, {"securityList": [TENCENT]})
    await conn.close()


async def test_bad_quote_requests(sim: Simulator) -> None:
    conn = await RawConn.open(sim.address)
    assert "Unknown stock HK.99999" in await conn.error(
        ProtoId.QOT_GET_SECURITY_SNAPSHOT, {"securityList": [{"market": 1, "code": "99999"}]}
    )
    assert "Unknown market" in await conn.error(
        ProtoId.QOT_GET_SECURITY_SNAPSHOT, {"securityList": [{"market": 77, "code": "1"}]}
    )
    too_many = [TENCENT] * 401
    assert "400" in await conn.error(ProtoId.QOT_GET_SECURITY_SNAPSHOT, {"securityList": too_many})
    assert "HK" in await conn.error(ProtoId.QOT_SUB, _sub([AAPL], [14]))  # broker queue is HK only
    assert "Unknown subType" in await conn.error(ProtoId.QOT_SUB, _sub([AAPL], [99]))
    assert "Unknown plate" in await conn.error(
        ProtoId.QOT_GET_PLATE_SECURITY, {"plate": {"market": 1, "code": "BK9999"}}
    )
    assert "klType" in await conn.error(
        ProtoId.QOT_REQUEST_HISTORY_KL,
        {
            "security": TENCENT,
            "klType": 99,
            "rehabType": 1,
            "beginTime": "2025-01-01",
            "endTime": "2025-02-01",
        },
    )
    assert "invalid time" in await conn.error(
        ProtoId.QOT_REQUEST_HISTORY_KL,
        {
            "security": TENCENT,
            "klType": 2,
            "rehabType": 1,
            "beginTime": "yesterday",
            "endTime": "2025-02-01",
        },
    )
    assert "nextReqKey" in await conn.error(
        ProtoId.QOT_REQUEST_HISTORY_KL,
        {
            "security": TENCENT,
            "klType": 2,
            "rehabType": 1,
            "beginTime": "2025-01-01",
            "endTime": "2025-02-01",
            "nextReqKey": "bm90LWEta2V5",
        },
    )
    await conn.close()


async def test_history_pages_cover_the_range_once(sim: Simulator) -> None:
    conn = await RawConn.open(sim.address)
    c2s = {
        "security": TENCENT,
        "klType": 1,
        "rehabType": 1,
        "beginTime": "2026-05-08 00:00:00",
        "endTime": "2026-05-10 23:59:59",
        "maxAckKLNum": 1000,
    }
    times: list[str] = []
    pages = 0
    while True:
        page = await conn.ok(ProtoId.QOT_REQUEST_HISTORY_KL, c2s)
        pages += 1
        times += [bar["time"] for bar in page["klList"]]
        if "nextReqKey" not in page:
            break
        c2s["nextReqKey"] = page["nextReqKey"]
    # 8 May 2026 is a Friday and the weekend has no bars: Friday's 1440 minutes, plus Thursday's
    # last minute, whose bar is stamped with its end time, 8 May 00:00:00.
    assert len(times) == len(set(times)) == 1441 and pages == 2
    assert times[0] == "2026-05-08 00:00:00" and times[-1] == "2026-05-09 00:00:00"
    assert times == sorted(times)
    await conn.close()


async def test_day_bars_skip_the_exchanges_holidays(sim: Simulator) -> None:
    """HKEX is closed on Labour Day (Friday 1 May 2026) and NYSE on Good Friday (3 April
    2026): no daily bar on either, and the next bar's last close is the one before it."""
    conn = await RawConn.open(sim.address)
    for security, holiday, before, after in (
        (TENCENT, "2026-05-01", "2026-04-30", "2026-05-04"),
        (AAPL, "2026-04-03", "2026-04-02", "2026-04-06"),
    ):
        page = await conn.ok(
            ProtoId.QOT_REQUEST_HISTORY_KL,
            {
                "security": security,
                "klType": 2,
                "rehabType": 1,
                "beginTime": f"{before} 00:00:00",
                "endTime": f"{after} 23:59:59",
            },
        )
        bars = page["klList"]
        assert [bar["time"][:10] for bar in bars] == [before, after], security
        assert bars[1]["lastClosePrice"] == bars[0]["closePrice"]
        assert holiday not in {bar["time"][:10] for bar in bars}
    await conn.close()


async def test_static_info_by_market_and_type(sim: Simulator) -> None:
    conn = await RawConn.open(sim.address)
    etfs = await conn.ok(ProtoId.QOT_GET_STATIC_INFO, {"market": 11, "secType": 4})
    assert {i["basic"]["security"]["code"] for i in etfs["staticInfoList"]} == {"SPY", "QQQ"}
    plates = await conn.ok(ProtoId.QOT_GET_PLATE_SET, {"market": 22, "plateSetType": 3})
    assert plates["plateInfoList"] and all(
        p["plate"]["market"] == 21 for p in plates["plateInfoList"]
    )
    await conn.close()
