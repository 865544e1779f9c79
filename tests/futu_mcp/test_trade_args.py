"""Trade arguments: a number that is not finite, or a quantity that is not whole lots, gets a
reason that names the real problem."""

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from pydantic import ValidationError

from futu_mcp.args import first_error
from futu_mcp.server import build_server
from futu_mcp.tools.trade import ModifyArgs, PlaceArgs
from opend.sim.universe import SECURITIES
from tests.futu_mcp.test_server import make_state

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


@pytest.mark.anyio
async def test_a_dry_run_refuses_a_quantity_opend_would_refuse(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    token = make_key("lots", "qot:read,trade:simulate")
    state = make_state(sim, keys_file, token)
    lot = SECURITIES["HK.00700"].lot_size
    async with Client(build_server(state), mode="legacy") as client:
        texts = {}
        for qty in (1e-9, 0.5, 1.5 * lot, lot + 1):
            result = await client.call_tool(
                "futu_place_order", {**PLACE, "qty": qty, "dry_run": True}
            )
            assert result.is_error, qty
            texts[qty] = result.content[0].text
        placed = await client.call_tool("futu_place_order", PLACE)
        assert not placed.is_error, placed
        modify = {"order_id": placed.structured_content["order_id"], "qty": lot + 1}
        modified = await client.call_tool("futu_modify_order", {**modify, "dry_run": True})
        texts["modify"] = modified.content[0].text
        whole = await client.call_tool(
            "futu_place_order", {**PLACE, "qty": 2 * lot, "dry_run": True}
        )
    assert (
        texts[1e-9]
        == "invalid argument: qty: must be a whole number of shares, at least 1 (got 1e-09)"
    )
    assert texts[0.5].startswith("invalid argument: qty: must be a whole number")
    for qty in (1.5 * lot, lot + 1, "modify"):
        assert texts[qty] == (
            f"invalid argument: qty: must be a multiple of the lot size {lot} of HK.00700"
        )
    assert not whole.is_error and whole.structured_content["checks"] == "passed"
