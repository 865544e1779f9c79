"""Which accounts an account read covers: the one named by `acc_id`; else the one trading the
code's market; else every account of `trd_env` the key may use (`allowed_acc_ids`), each row
saying its account. Never a silent subset (the HK account alone, as before)."""

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from futu_mcp.server import build_server
from tests.futu_mcp.test_server import make_state

pytestmark = pytest.mark.anyio


def _simulate(sim: Any) -> dict[str, str]:
    """{market: acc_id} of the simulator's SIMULATE accounts, ids as the tools spell them."""
    return {
        a.markets[0].name: str(i) for i, a in sim.state.accounts.items() if a.env.name == "SIMULATE"
    }


async def _calls(sim: Any, keys_file: Path, token: str, *calls: tuple[str, dict]) -> list[Any]:
    state = make_state(sim, keys_file, token)
    out = []
    async with Client(build_server(state), mode="legacy") as client:
        assert await state.client.wait_connected(10)
        for name, args in calls:
            result = await client.call_tool(name, args)
            assert not result.is_error, result
            out.append(result.structured_content)
    return out


async def test_a_key_limited_to_the_second_simulate_account_reads_only_it(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    second = _simulate(sim)["US"]
    token = make_key("second", "acc:read,trade:simulate", allowed_acc_ids=[int(second)])
    funds, orders = await _calls(
        sim, keys_file, token, ("futu_get_funds", {}), ("futu_get_orders", {})
    )
    assert funds["acc_ids"] == [second] and [f["acc_id"] for f in funds["funds"]] == [second]
    assert orders["acc_ids"] == [second]


async def test_reads_without_an_account_cover_every_account_the_key_may_use(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    accounts = _simulate(sim)
    token = make_key("all", "acc:read")
    funds, positions, real = await _calls(
        sim,
        keys_file,
        token,
        ("futu_get_funds", {}),
        ("futu_get_positions", {}),
        ("futu_get_positions", {"trd_env": "REAL"}),
    )
    assert sorted(funds["acc_ids"]) == sorted(accounts.values())
    # Each funds block is its own account's, in its own currency.
    currency = {f["acc_id"]: f["currency"] for f in funds["funds"]}
    assert currency == {accounts["HK"]: "HKD", accounts["US"]: "USD", accounts["CN"]: "CNH"}
    held = {
        (str(i), code)
        for i, a in sim.state.accounts.items()
        if a.env.name == "SIMULATE"
        for code, p in a.positions.items()
        if p.qty
    }
    assert {(p["acc_id"], p["code"]) for p in positions["positions"]} == held
    assert {p["acc_id"] for p in positions["positions"]} == set(accounts.values())
    real_ids = {str(i) for i, a in sim.state.accounts.items() if a.env.name == "REAL"}
    assert set(real["acc_ids"]) == real_ids
    assert {p["acc_id"] for p in real["positions"]} == real_ids


async def test_a_code_picks_the_account_that_trades_its_market(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    accounts = _simulate(sim)
    token = make_key("code", "acc:read")
    us, cn = await _calls(
        sim,
        keys_file,
        token,
        ("futu_get_positions", {"code": "US.AAPL"}),
        ("futu_get_deals", {"code": "SZ.000001"}),
    )
    assert us["acc_ids"] == [accounts["US"]]
    assert [(p["acc_id"], p["code"]) for p in us["positions"]] == [(accounts["US"], "US.AAPL")]
    assert cn["acc_ids"] == [accounts["CN"]]


async def test_no_usable_account_is_an_error_not_an_empty_result(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    real_only = next(i for i, a in sim.state.accounts.items() if a.env.name == "REAL")
    token = make_key("realonly", "acc:read", allowed_acc_ids=[real_only])
    state = make_state(sim, keys_file, token)
    async with Client(build_server(state), mode="legacy") as client:
        assert await state.client.wait_connected(10)
        result = await client.call_tool("futu_get_positions", {})
    assert result.is_error
    assert result.content[0].text == (
        "invalid argument: acc_id: no SIMULATE account that this key may use "
        "(see futu_list_accounts)"
    )


async def test_an_id_a_javascript_number_rounded_is_refused_with_the_reason(
    sim: Any, keys_file: Path, make_key: Any
) -> None:
    rounded = int(float(_simulate(sim)["US"]))  # what JSON.parse makes of ...202
    assert str(rounded) not in _simulate(sim).values()
    token = make_key("js", "acc:read,trade:simulate")
    state = make_state(sim, keys_file, token)
    async with Client(build_server(state), mode="legacy") as client:
        assert await state.client.wait_connected(10)
        funds = await client.call_tool("futu_get_funds", {"acc_id": rounded})
        cancel = await client.call_tool("futu_cancel_order", {"order_id": "1", "acc_id": rounded})
    for result in (funds, cancel):
        assert result.is_error
        assert result.content[0].text == (
            f"invalid argument: acc_id: no SIMULATE account {rounded} (see futu_list_accounts; "
            "send acc_id as the string it lists: a JavaScript number this large is rounded)"
        )
