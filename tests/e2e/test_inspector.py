"""An independent client: the MCP Inspector CLI (TypeScript SDK) lists the tools and gets a quote,
over stdio and over HTTP with a Bearer header; trades and reads history with ids whole; and checks
every other toolset's results against their published output schemas."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from opend.sim.universe import SECURITIES
from tests.e2e.conftest import FUTU_MCP, gateway_of, server_env, wait_for
from tests.e2e.npm import bin_path

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def inspector() -> Path:
    """The Inspector CLI, at its pinned version in .ci/node (installed there if missing)."""
    return bin_path("@modelcontextprotocol/inspector", "mcp-inspector")


def run_inspector(inspector: Path, *args: str) -> tuple[int, Any]:
    """(exit code, parsed JSON output) of one Inspector CLI command."""
    done = subprocess.run(
        [str(inspector), "--cli", *args],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=120,
    )
    try:
        return done.returncode, json.loads(done.stdout)
    except json.JSONDecodeError:
        return done.returncode, done.stdout + done.stderr


def check_listing_and_quote(inspector: Path, target: list[str]) -> None:
    """tools/list and futu_get_quote (good and bad) through the Inspector against `target`."""
    code, listing = run_inspector(inspector, *target, "--method", "tools/list")
    assert code == 0, listing
    tools = {t["name"]: t for t in listing["tools"]}
    assert len(tools) == 11 and "futu_place_order" not in tools
    assert tools["futu_get_quote"]["annotations"]["readOnlyHint"] is True
    assert tools["futu_get_quote"]["outputSchema"]["type"] == "object"
    code, result = run_inspector(
        inspector,
        *target,
        "--method",
        "tools/call",
        "--tool-name",
        "futu_get_quote",
        "--tool-arg",
        "codes=HK.00700",
    )
    assert code == 0, result
    assert result["isError"] is False
    quote = result["structuredContent"]["quotes"][0]
    assert (quote["code"], quote["name"]) == ("HK.00700", SECURITIES["HK.00700"].name)
    code, result = run_inspector(
        inspector,
        *target,
        "--method",
        "tools/call",
        "--tool-name",
        "futu_get_quote",
        "--tool-arg",
        "codes=HK",
    )
    assert code == 5 and result["isError"] is True  # 2.12.0 exits 5 on a tool error
    assert result["content"][0]["text"].startswith("invalid argument: codes: ")


def stdio_target(sim: Any, token: str, tmp_path: Path, *flags: str) -> list[str]:
    """The Inspector's command for a futu-mcp over stdio with `token` (and `flags`): the key
    reaches futu-mcp through its environment, never through a command line."""
    key_file = tmp_path / "key"
    key_file.write_text(token)
    key_file.chmod(0o600)
    launch = (
        f'FUTU_MCP_API_KEY="$(cat {key_file})" exec {FUTU_MCP} --gateway {gateway_of(sim)} '
        + " ".join(flags)
    )
    return ["sh", "-c", launch]


def call_tool(inspector: Path, target: list[str], name: str, **args: Any) -> dict[str, Any]:
    """A successful tool call's structuredContent, arguments sent as JSON, the way an LLM client
    sends them (the CLI's key=value form would turn a digit string into a JavaScript number
    whatever the schema says)."""
    code, result = run_inspector(
        inspector,
        *target,
        "--method",
        "tools/call",
        "--tool-name",
        name,
        "--tool-args-json",
        json.dumps(args),
    )
    assert code == 0 and result["isError"] is False, result
    return result["structuredContent"]


def test_inspector_over_stdio(inspector: Path, sim: Any, make_key: Any, tmp_path: Path) -> None:
    token = make_key("inspector", "qot:read")
    check_listing_and_quote(inspector, stdio_target(sim, token, tmp_path))


def test_inspector_over_http_with_a_bearer_header(
    inspector: Path, sim: Any, make_key: Any, http_server: Any
) -> None:
    token = make_key("inspector", "qot:read")
    server = http_server("--gateway", gateway_of(sim))
    check_listing_and_quote(inspector, [server.url, "--header", f"Authorization: Bearer {token}"])
    # A 401 makes the Inspector try OAuth: what it prints is what README Troubleshooting explains.
    code, out = run_inspector(
        inspector,
        server.url,
        "--header",
        "Authorization: Bearer fc_wrong",
        "--method",
        "tools/list",
    )
    assert code != 0 and "Interactive OAuth requires a TTY" in json.dumps(out)


def test_a_javascript_client_trades_in_the_us_paper_account(
    inspector: Path, sim: Any, make_key: Any, tmp_path: Path
) -> None:
    """Account ids past 2^53 survive a JavaScript client both ways, and reads without acc_id
    find a US order in the US account: list the accounts, take the US paper account's id from
    structuredContent, read its funds, buy US.AAPL in it; the fill shows in futu_get_orders by
    code and in futu_get_positions with no account named."""
    target = stdio_target(sim, make_key("js", "acc:read,trade:simulate"), tmp_path)

    def tool(name: str, **args: Any) -> dict[str, Any]:
        return call_tool(inspector, target, name, **args)

    us_paper = next(
        i
        for i, a in sim.state.accounts.items()
        if a.env.name == "SIMULATE" and a.currency.name == "USD"
    )
    assert us_paper > 2**53  # what a JavaScript number cannot hold exactly
    accounts = tool("futu_list_accounts", trd_env="SIMULATE")["accounts"]
    acc_id = next(a["acc_id"] for a in accounts if a["trdmarket_authority"] == ["US"])
    assert acc_id == str(us_paper)

    funds = tool("futu_get_funds", acc_id=acc_id)["funds"]
    assert [(f["acc_id"], f["currency"]) for f in funds] == [(acc_id, "USD")]
    assert funds[0]["cash"] == round(sim.state.accounts[us_paper].cash, 2)

    held = sim.state.accounts[us_paper].positions["US.AAPL"].qty
    placed = tool(
        "futu_place_order",
        code="US.AAPL",
        trd_side="BUY",
        qty=1,
        order_type="MARKET",
        acc_id=acc_id,
    )
    assert placed["sent"] is True and placed["acc_id"] == acc_id
    assert sim.state.orders[int(placed["order_id"])].acc_id == us_paper
    wait_for(
        lambda: sim.state.accounts[us_paper].positions["US.AAPL"].qty == held + 1, what="the fill"
    )

    orders = tool("futu_get_orders", code="US.AAPL")
    assert orders["acc_ids"] == [acc_id]
    assert [(o["acc_id"], o["order_id"]) for o in orders["orders"]] == [
        (acc_id, placed["order_id"])
    ]
    assert orders["orders"][0]["order_status"] == "FILLED_ALL"
    positions = tool("futu_get_positions")["positions"]
    aapl = [p for p in positions if p["code"] == "US.AAPL"]
    assert [(p["acc_id"], p["qty"]) for p in aapl] == [(acc_id, held + 1)]


def test_a_javascript_client_reads_a_real_accounts_history_with_its_ids_whole(
    inspector: Path, sim: Any, make_key: Any, tmp_path: Path
) -> None:
    """The history toolset through a JavaScript client: the published schema says the account,
    order and fill ids are strings, and the real HK account's past orders and fills (ids near
    5.9e18 and 4.1e18, far past 2^53) come back as the very ids the simulator holds."""
    target = stdio_target(sim, make_key("jshist", "acc:read"), tmp_path, "--toolsets", "history")
    code, listed = run_inspector(inspector, *target, "--method", "tools/list")
    assert code == 0, listed
    schemas = {t["name"]: t["outputSchema"] for t in listed["tools"]}
    for name, key, ids in (
        ("futu_get_history_orders", "orders", ("acc_id", "order_id")),
        ("futu_get_history_deals", "deals", ("acc_id", "deal_id", "order_id")),
    ):
        row = schemas[name]["properties"][key]["items"]["properties"]
        assert all(row[i]["type"] == "string" for i in ids), (name, row)

    real_hk = next(
        i
        for i, a in sim.state.accounts.items()
        if a.env.name == "REAL" and a.currency.name == "HKD"
    )
    acc_id = str(real_hk)
    orders = call_tool(
        inspector, target, "futu_get_history_orders", trd_env="REAL", acc_id=acc_id, num=500
    )["orders"]
    held = {o.order_id for o in sim.state.trading.history_orders if o.acc_id == real_hk}
    assert orders and {o["acc_id"] for o in orders} == {acc_id}
    assert all(int(o["order_id"]) > 2**53 for o in orders)
    assert {int(o["order_id"]) for o in orders} <= held
    deals = call_tool(
        inspector, target, "futu_get_history_deals", trd_env="REAL", acc_id=acc_id, num=500
    )["deals"]
    fills = {d.fill_id: d.order.order_id for d in sim.state.trading.history_deals}
    assert deals and {d["acc_id"] for d in deals} == {acc_id}
    assert all(fills[int(d["deal_id"])] == int(d["order_id"]) for d in deals)


# One call of each tool of the non-default toolsets (history's other tools need order ids or a
# clearing day: the history test above drives them).
OTHER_SET_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("futu_get_option_expirations", {"code": "US.AAPL"}),
    ("futu_get_option_chain", {"code": "US.AAPL"}),
    ("futu_get_warrant", {"stock_owner": "HK.00700", "num": 3}),
    ("futu_get_future_info", {"code_list": "HK.HSImain"}),
    ("futu_get_reference", {"code": "HK.00700", "reference_type": "WARRANT"}),
    ("futu_get_capital_flow", {"stock_code": "HK.00700", "period_type": "DAY"}),
    ("futu_get_capital_distribution", {"stock_code": "HK.00700"}),
    ("futu_get_owner_plate", {"code_list": "HK.00700"}),
    ("futu_get_ipo_list", {"market": "HK"}),
    (
        "futu_get_stock_filter",
        {"market": "HK", "filter_list": [{"stock_field": "CUR_PRICE", "filter_min": 300}]},
    ),
    ("futu_get_rehab", {"code": "US.AAPL"}),
    ("futu_get_user_security_group", {"group_type": "CUSTOM"}),
    ("futu_get_price_reminder", {"market": "HK"}),
    ("futu_get_market_state", {"codes": "HK.00700,US.AAPL"}),
    ("futu_get_trading_days", {"market": "HK", "start": "2026-12-21", "end": "2026-12-31"}),
    ("futu_get_max_trd_qtys", {"code": "HK.00700", "order_type": "MARKET"}),
    ("futu_get_margin_ratio", {"codes": "HK.00700,US.AAPL", "trd_env": "REAL"}),
]


def test_a_javascript_client_validates_every_other_toolsets_results(
    inspector: Path, sim: Any, make_key: Any, tmp_path: Path
) -> None:
    """The TypeScript SDK's client checks each result against the tool's published
    outputSchema (Ajv) and fails the call on a mismatch: the derivatives, research, watchlist,
    calendar and history tools, each with a real answer from the simulator."""
    token = make_key("jsall", "qot:read,acc:read")
    target = stdio_target(sim, token, tmp_path, "--toolsets", "all")
    answers = {name: call_tool(inspector, target, name, **args) for name, args in OTHER_SET_CALLS}
    assert answers["futu_get_option_chain"]["options"]
    assert answers["futu_get_max_trd_qtys"]["max_cash_buy"] > 0
    groups = answers["futu_get_user_security_group"]["groups"]
    members = call_tool(
        inspector, target, "futu_get_user_security", group_name=groups[0]["group_name"]
    )
    assert members["securities"]
