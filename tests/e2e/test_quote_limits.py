"""OpenD's quote limits as an MCP client meets them: futu-mcp over stdio, the simulator with
OpenD's quote limits on. Our client refuses the 11th plate list itself (it never reaches the
gateway) with the rule and the retry time; the history K-line quota is OpenD's to refuse, and its
message reaches the user unchanged."""

from collections.abc import Iterator
from typing import Any

import pytest

from opend.protoids import ProtoId
from opend.sim import SimulatorThread
from tests.e2e.conftest import gateway_of, stdio_client

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

THROTTLED = "gateway error: throttled by OpenD rules, retry in "
PLATE_RULE = " s (plate list: 10 per 30 s per OpenD user)"


@pytest.fixture
def limited_sim() -> Iterator[SimulatorThread]:
    """A simulated OpenD enforcing the quote limits, with a history K-line quota of one."""
    with SimulatorThread(seed=1, quote_limits=True, history_kl_quota=1) as simulator:
        yield simulator


def _seen(sim: SimulatorThread, proto_id: int) -> int:
    return sim.call(lambda s: s.requests_seen[proto_id])


async def test_quote_limits_reach_the_user_as_clear_errors(
    limited_sim: SimulatorThread, make_key: Any
) -> None:
    token = make_key("reader", "qot:read")
    async with stdio_client(token, "--gateway", gateway_of(limited_sim)) as client:
        for _ in range(10):
            result = await client.call_tool("futu_list_plates", {"market": "HK"})
            assert not result.is_error, result.content[0].text
        result = await client.call_tool("futu_list_plates", {"market": "HK"})
        assert result.is_error
        text = result.content[0].text
        assert text.startswith(THROTTLED) and text.endswith(PLATE_RULE), text
        seconds = text.removeprefix(THROTTLED).removesuffix(PLATE_RULE)
        assert 1 <= int(seconds) <= 31
        assert _seen(limited_sim, ProtoId.QOT_GET_PLATE_SET) == 10

        kline = {"code": "HK.00700", "start": "2026-01-05", "end": "2026-01-30"}
        result = await client.call_tool("futu_get_kline", kline)
        assert not result.is_error, result.content[0].text
        result = await client.call_tool("futu_get_kline", {**kline, "code": "US.AAPL"})
        assert result.is_error
        assert result.content[0].text.startswith(
            "gateway error: History KL quota exhausted: 1 of 1 securities used in the last "
            "30 days, US.AAPL would need one more"
        ), result.content[0].text
