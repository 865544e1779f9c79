"""Row caps: a cut result says so and how many rows there were."""

from decimal import Decimal
from enum import Enum
from typing import Any

import pytest

from futu_mcp.results import capped, plain


class Side(Enum):
    BUY = 1


def test_a_cap_keeps_the_most_recent_rows_and_says_it_cut() -> None:
    out = capped("rows", list(range(10)), 3)
    assert out == {"rows": [7, 8, 9], "count": 3, "total": 10, "truncated": True}
    assert capped("rows", list(range(10)), 3, keep_first=True)["rows"] == [0, 1, 2]


def test_an_uncut_result_is_whole_and_says_so() -> None:
    out = capped("rows", [1, 2], 5, code="HK.00700")
    assert out == {"rows": [1, 2], "count": 2, "total": 2, "truncated": False, "code": "HK.00700"}


def test_plain_values_are_json_ready() -> None:
    assert plain({"side": Side.BUY, "value": Decimal("1.50"), "rows": (1, 2)}) == {
        "side": "BUY",
        "value": 1.5,
        "rows": [1, 2],
    }


@pytest.mark.anyio
async def test_client_results_convert_exactly_as_their_to_dict(sim: Any) -> None:
    """The fast conversion of the client's result models gives what `to_dict()` gives, for
    flat rows, nested rows (order book, broker queue) and account rows with lists."""
    from opend.client import OpenDClient
    from opend.codes import parse_code
    from opend.models import Model

    code = parse_code("HK.00700")
    host, port = sim.address
    async with OpenDClient(host, port) as client:
        await client.wait_connected(10)
        results: list[Any] = [
            *await client.get_stock_quote([code, parse_code("US.AAPL")]),
            *await client.get_cur_kline(code, 5),
            await client.get_order_book(code, 5),
            await client.get_broker_queue(code),
            *await client.get_rt_ticker(code, 5),
            *await client.get_market_snapshot([code]),
            *await client.get_acc_list(),
        ]
    assert {type(r).__name__ for r in results} >= {"BasicQot", "KLine", "OrderBook", "TrdAcc"}
    for result in results:
        assert isinstance(result, Model)
        assert plain(result) == result.to_dict()
        assert capped("rows", [result], 1)["rows"] == [result.to_dict()]
