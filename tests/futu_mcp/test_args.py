"""Argument models: SDK spellings, list-or-string lists, and the invalid-argument texts."""

import pytest
from pydantic import ValidationError

from futu_mcp.args import first_error
from futu_mcp.tools.account import OrdersArgs
from futu_mcp.tools.quote import KlineArgs, QuoteArgs
from futu_mcp.tools.trade import CancelArgs, PlaceArgs
from futu_mcp.toolspec import flat_schema


def error_of(model: type, raw: dict) -> str:
    """The invalid-argument text a client would get for `raw`."""
    with pytest.raises(ValidationError) as info:
        model.model_validate(raw)
    return first_error(info.value)


@pytest.mark.parametrize(
    "raw",
    [
        ["HK.00700", "us.aapl"],
        "HK.00700,us.aapl",
        " HK.00700 , us.aapl ",
        '["HK.00700", "us.aapl"]',
    ],
)
def test_a_list_argument_takes_a_list_or_a_string(raw: object) -> None:
    assert QuoteArgs.model_validate({"codes": raw}).codes == ["HK.00700", "US.AAPL"]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ({"codes": "XX.1"}, "invalid argument: codes: unknown market 'XX'"),
        ({"codes": "00700"}, "invalid argument: codes: '00700' is not MARKET.CODE"),
        ({"codes": ""}, "invalid argument: codes: Value should have at least 1 item"),
        (
            {"codes": ",".join(f"HK.{i:05d}" for i in range(51))},
            "invalid argument: codes: Value should have at most 50 items",
        ),
        ({"codes": "[1,"}, "invalid argument: codes: not a valid JSON list"),
        ({}, "invalid argument: codes: required"),
        ({"codes": "HK.00700", "symbol": "x"}, "invalid argument: symbol: unknown argument"),
    ],
)
def test_bad_quote_arguments_say_which_and_why(raw: dict, text: str) -> None:
    assert error_of(QuoteArgs, raw).startswith(text)


def test_enums_use_sdk_names_and_bounds_hold() -> None:
    assert KlineArgs.model_validate({"code": "HK.00700"}).ktype == "K_DAY"
    assert error_of(KlineArgs, {"code": "HK.00700", "ktype": "DAY"}).startswith(
        "invalid argument: ktype: Input should be"
    )
    assert error_of(KlineArgs, {"code": "HK.00700", "num": 1001}).startswith(
        "invalid argument: num: Input should be less than or equal to 1000"
    )
    assert error_of(KlineArgs, {"code": "HK.00700", "start": "2024/01/01"}).startswith(
        "invalid argument: start:"
    )
    assert error_of(OrdersArgs, {"status": "SUBMITTED,NOPE"}).startswith(
        "invalid argument: status: Input should be"
    )
    assert OrdersArgs.model_validate({"status": "SUBMITTED,FILLED_ALL"}).status == [
        "SUBMITTED",
        "FILLED_ALL",
    ]


@pytest.mark.parametrize(
    ("field", "value"), [("end", "0000-00-00"), ("start", "2026-02-30"), ("end", "2026-13-01")]
)
def test_kline_dates_must_be_calendar_days(field: str, value: str) -> None:
    # Found by tests/reliability/test_fuzz.py: the pattern alone let these through to the
    # OpenD request builder, and the client got `internal error`.
    assert error_of(KlineArgs, {"code": "HK.00700", field: value}) == (
        f"invalid argument: {field}: {value} is not a calendar date"
    )


def test_order_arguments_are_strict() -> None:
    base = {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": 300}
    assert PlaceArgs.model_validate(base).trd_env == "SIMULATE"
    assert error_of(PlaceArgs, {**base, "qty": 0}).startswith(
        "invalid argument: qty: Input should be greater than 0"
    )
    assert error_of(PlaceArgs, {**base, "qty": "many"}).startswith("invalid argument: qty:")
    assert error_of(PlaceArgs, {**base, "trd_env": "simulate"}).startswith(
        "invalid argument: trd_env:"
    )
    assert error_of(PlaceArgs, {**base, "client_order_id": "a b"}).startswith(
        "invalid argument: client_order_id:"
    )
    assert (
        error_of(PlaceArgs, {**base, "quantity": 1})
        == "invalid argument: quantity: unknown argument"
    )


US_PAPER = "168880000000000202"  # past 2^53: a JavaScript number would round it to ...200


def test_ids_are_decimal_strings_in_the_schema_and_accepted_exactly() -> None:
    for model in (OrdersArgs, PlaceArgs, CancelArgs):
        assert flat_schema(model)["properties"]["acc_id"]["type"] == "string", model
    assert flat_schema(OrdersArgs)["properties"]["order_id"]["type"] == "string"
    assert OrdersArgs.model_validate({"acc_id": US_PAPER}).acc_id == int(US_PAPER)
    # An integer still works when it arrives exact (a Python client).
    assert OrdersArgs.model_validate({"acc_id": int(US_PAPER)}).acc_id == int(US_PAPER)
    assert OrdersArgs.model_validate({"order_id": 12}).order_id == "12"


@pytest.mark.parametrize(
    "bad", [1.6888e17, True, "", "abc", "-1", "0", "1e17", "１２", "18446744073709551616", [1]]
)
def test_a_bad_id_says_which_and_why(bad: object) -> None:
    for field in ("acc_id", "order_id"):
        text = error_of(CancelArgs, {"order_id": "1", field: bad})
        assert text.startswith(f"invalid argument: {field}: must be a decimal"), text
