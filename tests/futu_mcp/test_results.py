"""Row caps: a cut result says so and how many rows there were."""

from decimal import Decimal
from enum import Enum

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
