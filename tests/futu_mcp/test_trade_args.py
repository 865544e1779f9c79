"""Trade arguments: a number that is not finite, or a quantity that is not whole lots, gets a
reason that names the real problem."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from futu_mcp.args import first_error
from futu_mcp.tools_trade import ModifyArgs, PlaceArgs

PLACE = {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": 100.0}
NOT_FINITE = ["NaN", "Infinity", "-Infinity", json.loads("1e309"), float("nan")]


def refusal(model: Any, args: dict[str, Any]) -> str:
    """The text a tool call with `args` gets."""
    with pytest.raises(ValidationError) as failed:
        model.model_validate(args)
    return first_error(failed.value)


@pytest.mark.parametrize("value", NOT_FINITE)
@pytest.mark.parametrize("field", ["qty", "price"])
def test_a_number_that_is_not_finite_is_named_as_such(field: str, value: Any) -> None:
    expected = f"invalid argument: {field}: Input should be a finite number"
    assert refusal(PlaceArgs, {**PLACE, field: value}) == expected
    assert refusal(ModifyArgs, {"order_id": "1", field: value}) == expected
