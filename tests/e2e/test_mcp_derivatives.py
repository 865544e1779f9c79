"""The derivatives, research and watchlist toolsets over MCP (stdio, futu-mcp, OpenD protocol,
simulator): an options question answered the way a model would, each tool's figures against the
simulator's own state, bad input refused with the contract's texts, and a stock screen whose
every row meets every condition (a property test over random screens)."""

from collections.abc import Iterator
from typing import Any

import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from futu_mcp.tools.research import FILTER_FIELDS
from opend.codes import QotMarket
from opend.sim.screener import screen_universe
from tests.e2e.conftest import gateway_of, stdio_client, wait_for
from tests.e2e.test_mcp_tools import call, ok

pytestmark = [pytest.mark.slow]

READ = "qot:read"
SCREENS_PER_30S = 10


@pytest.mark.anyio
async def test_an_options_question_end_to_end(sim: Any, make_key: Any) -> None:
    """AAPL's nearest monthly expiry, the call nearest the money there, its greeks, then a
    1-contract paper buy valued with the multiplier (dry run, then sent) that shows up in the
    positions."""
    token = make_key("opts", "qot:read,acc:read,trade:simulate")
    async with stdio_client(token, "--gateway", gateway_of(sim), "--toolsets", "all") as client:
        expiries = await ok(client, "futu_get_option_expirations", {"code": "US.AAPL"})
        rows = expiries["expirations"]
        assert [r["strike_time"] for r in rows] == sorted(r["strike_time"] for r in rows)
        assert {r["expiration_cycle"] for r in rows} >= {"WEEK", "MONTH"}
        monthly = next(r["strike_time"] for r in rows if r["expiration_cycle"] == "MONTH")
        chain = await ok(
            client,
            "futu_get_option_chain",
            {"code": "US.AAPL", "start": monthly, "end": monthly, "option_type": "CALL"},
        )
        calls = chain["options"]
        assert calls and {c["strike_time"] for c in calls} == {monthly}
        assert {c["option_type"] for c in calls} == {"CALL"}
        assert all(c["stock_owner"] == "US.AAPL" for c in calls)
        spot = (await ok(client, "futu_get_quote", {"codes": "US.AAPL"}))["quotes"][0]
        atm = min(calls, key=lambda c: abs(c["strike_price"] - spot["last_price"]))
        snap = (await ok(client, "futu_get_snapshot", {"codes": atm["code"]}))["snapshots"][0]
        assert snap["stock_owner"] == "US.AAPL" and snap["option_type"] == "CALL"
        assert snap["option_strike_price"] == atm["strike_price"]
        assert snap["strike_time"] == monthly
        assert snap["option_contract_size"] == 100 and snap["option_contract_multiplier"] == 100
        assert 0.3 < snap["option_delta"] < 0.7  # near the money
        assert snap["option_gamma"] > 0 and snap["option_vega"] > 0 and snap["option_theta"] < 0
        assert 5 < snap["option_implied_volatility"] < 150  # percent
        assert snap["option_open_interest"] > 0
        # The chain's filters: strike range, and a delta range the snapshot agrees with.
        narrow = await ok(
            client,
            "futu_get_option_chain",
            {
                "code": "US.AAPL",
                "start": monthly,
                "end": monthly,
                "option_type": "CALL",
                "strike_min": atm["strike_price"],
                "strike_max": atm["strike_price"],
            },
        )
        assert [c["code"] for c in narrow["options"]] == [atm["code"]]
        deep = await ok(
            client,
            "futu_get_option_chain",
            {"code": "US.AAPL", "start": monthly, "end": monthly, "delta_min": 0.9},
        )
        assert deep["options"] and atm["code"] not in {c["code"] for c in deep["options"]}
        assert all(c["strike_price"] < spot["last_price"] for c in deep["options"])

        order = {"code": atm["code"], "trd_side": "BUY", "qty": 1, "price": snap["ask_price"]}
        dry = await ok(client, "futu_place_order", {**order, "dry_run": True})
        assert dry["checks"] == "passed" and dry["multiplier"] == 100
        assert dry["value"] == round(snap["ask_price"] * 100, 2)  # one contract, 100 shares
        assert not sim.state.orders
        placed = await ok(client, "futu_place_order", order)
        assert placed["sent"] and placed["value"] == dry["value"]
        book = sim.state.accounts[int(placed["acc_id"])].positions
        wait_for(lambda: atm["code"] in book and book[atm["code"]].qty == 1, what="the fill")
        held = await ok(client, "futu_get_positions", {"code": atm["code"]})
        [row] = held["positions"]
        assert row["qty"] == 1 and row["market_val"] == round(row["nominal_price"] * 100, 2)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("cap", "qty", "price", "refusal"),
    [
        # The issue's case: 5 contracts of a 5.00 option are worth 2,500, not 25.
        ("US=1000", 5, 5.0, "limit check failed: order value 2500 exceeds 1000"),
        # Without the multiplier, 1000 x 50.00 = 50,000 would pass a 50,000 cap.
        ("US=50000", 1000, 50.0, "limit check failed: order value 5000000 exceeds 50000"),
    ],
)
async def test_a_value_cap_counts_the_contract_multiplier(
    sim: Any, make_key: Any, cap: str, qty: int, price: float, refusal: str
) -> None:
    token = make_key("capped", "qot:read,trade:simulate", max_order_value=cap)
    async with stdio_client(token, "--gateway", gateway_of(sim), "--toolsets", "all") as client:
        chain = await ok(client, "futu_get_option_chain", {"code": "US.AAPL"})
        option = chain["options"][0]["code"]
        order = {"code": option, "trd_side": "BUY", "qty": qty, "price": price}
        for extra in ({"dry_run": True}, {}):
            failed, text = await call(client, "futu_place_order", {**order, **extra})
            assert failed and text == refusal
        assert not sim.state.orders
        # A cheap bid that rests, then a modify past the cap: the new value has the multiplier.
        resting = await ok(client, "futu_place_order", {**order, "qty": 1, "price": 0.01})
        assert resting["value"] == 1.0
        change = {"order_id": resting["order_id"], "qty": qty, "price": price, "dry_run": True}
        failed, text = await call(client, "futu_modify_order", change)
        assert failed and text == refusal


@pytest.mark.anyio
async def test_an_underlying_in_allowed_symbols_does_not_allow_its_options(
    sim: Any, make_key: Any
) -> None:
    """The README's rule over MCP: a key allowed US.AAPL is refused AAPL's calls, by name,
    before anything reaches OpenD; the warrant snapshot carries the warrant's terms."""
    token = make_key("aapl-only", "qot:read,trade:simulate", allowed_symbols=["US.AAPL"])
    async with stdio_client(token, "--gateway", gateway_of(sim), "--toolsets", "all") as client:
        chain = await ok(client, "futu_get_option_chain", {"code": "US.AAPL"})
        option = chain["options"][0]["code"]
        order = {"code": option, "trd_side": "BUY", "qty": 1, "price": 1, "dry_run": True}
        failed, text = await call(client, "futu_place_order", order)
        assert failed and text == f"symbol not allowed: {option}"
        failed, text = await call(client, "futu_place_order", {**order, "code": "US.AAPL"})
        assert not failed, text
        assert not sim.state.orders  # dry runs and refusals send nothing
        warrants = await ok(client, "futu_get_warrant", {"stock_owner": "HK.00700", "num": 1})
        row = warrants["warrants"][0]
        snap = (await ok(client, "futu_get_snapshot", {"codes": row["stock"]}))["snapshots"][0]
        assert snap["stock_type"] == "WARRANT" and snap["stock_owner"] == "HK.00700"
        assert snap["wrt_type"] == row["type"] and snap["wrt_strike_price"] == row["strike_price"]
        assert snap["wrt_conversion_ratio"] == row["conversion_ratio"]
        assert snap["wrt_maturity_date"] == row["maturity_time"]


@pytest.mark.anyio
async def test_each_tool_against_the_simulator(sim: Any, make_key: Any) -> None:
    token = make_key("research", READ)
    args = ("--gateway", gateway_of(sim), "--toolsets", "derivatives,research,watchlist,quote")
    async with stdio_client(token, *args) as client:
        warrants = await ok(
            client,
            "futu_get_warrant",
            {"stock_owner": "HK.00700", "type_list": "BULL,BEAR", "sort_field": "VOLUME"},
        )
        rows = warrants["warrants"]
        assert rows and {w["stock_owner"] for w in rows} == {"HK.00700"}
        assert {w["type"] for w in rows} <= {"BULL", "BEAR"}
        assert all(w["recovery_price"] is not None for w in rows)  # CBBCs have a call level
        assert [w["volume"] for w in rows] == sorted(w["volume"] for w in rows)
        assert warrants["all_count"] >= len(rows)
        refs = await ok(
            client, "futu_get_reference", {"code": "HK.00700", "reference_type": "WARRANT"}
        )
        assert {w["stock"] for w in rows} <= {s["code"] for s in refs["securities"]}
        futures = await ok(client, "futu_get_future_info", {"code_list": "HK.HSImain,HK.MHImain"})
        sizes = {f["code"]: f["size"] for f in futures["futures"]}
        assert sizes == {"HK.HSImain": 50, "HK.MHImain": 10}  # HKFE: HK$50 and HK$10 a point
        months = await ok(
            client, "futu_get_reference", {"code": "HK.HSImain", "reference_type": "FUTURE"}
        )
        assert futures["futures"][0]["origin_code"] in {m["code"] for m in months["securities"]}

        dist = await ok(client, "futu_get_capital_distribution", {"stock_code": "HK.00700"})
        assert dist["stock_code"] == "HK.00700" and dist["capital_in_super"] > 0
        flows = await ok(
            client,
            "futu_get_capital_flow",
            {"stock_code": "HK.00700", "period_type": "DAY", "start": "2026-11-02"},
        )
        days = [f["capital_flow_item_time"] for f in flows["flows"]]
        assert days == sorted(days) and days[0] >= "2026-11-02"
        plates = await ok(client, "futu_get_owner_plate", {"code_list": "HK.00700"})
        for plate in plates["plates"]:
            members = await ok(client, "futu_plate_stocks", {"plate_code": plate["plate_code"]})
            assert "HK.00700" in {m["code"] for m in members["securities"]}
        ipos = await ok(client, "futu_get_ipo_list", {"market": "HK"})
        assert ipos["ipos"] and all(i["code"].startswith("HK.") for i in ipos["ipos"])
        # The screen's figures are the named ones: a price is the quote's price.
        screen = await ok(
            client,
            "futu_get_stock_filter",
            {"market": "HK", "filter_list": [{"stock_field": "CUR_PRICE", "filter_min": 300}]},
        )
        top = screen["stocks"][0]
        quote = await ok(client, "futu_get_quote", {"codes": top["code"]})
        assert top["cur_price"] == quote["quotes"][0]["last_price"] >= 300
        rehab = await ok(client, "futu_get_rehab", {"code": "US.AAPL"})
        splits = {r["ex_div_date"]: r["split_ert"] for r in rehab["rehabs"] if r["split_base"]}
        assert splits.get("2020-08-31") == 4  # AAPL's 4-for-1 split

        groups = await ok(client, "futu_get_user_security_group", {"group_type": "CUSTOM"})
        names = [g["group_name"] for g in groups["groups"]]
        assert names and {g["group_type"] for g in groups["groups"]} == {"CUSTOM"}
        members = await ok(client, "futu_get_user_security", {"group_name": names[0]})
        assert members["count"] > 0 and members["group_name"] == names[0]
        reminders = await ok(client, "futu_get_price_reminder", {"market": "HK"})
        assert reminders["reminders"]
        assert all(r["code"].startswith("HK.") for r in reminders["reminders"])

        for name, bad, text in BAD_INPUT:
            failed, got = await call(client, name, bad)
            assert failed and got.startswith(text), (name, got)


BAD_INPUT: list[tuple[str, dict[str, Any], str]] = [
    ("futu_get_option_expirations", {"code": "AAPL"}, "invalid argument: code: "),
    (
        "futu_get_option_chain",
        {"code": "US.AAPL", "start": "2026-12-01", "end": "2027-02-01"},
        "invalid argument: end: at most 30 days after start (OpenD's limit)",
    ),
    (
        "futu_get_option_chain",
        {"code": "US.AAPL", "start": "2026-12-10", "end": "2026-12-01"},
        "invalid argument: start: 2026-12-10 is after end 2026-12-01",
    ),
    ("futu_get_option_chain", {"code": "US.AAPL", "option_type": "CALLS"}, "invalid argument:"),
    ("futu_get_warrant", {"num": 201}, "invalid argument: num: "),
    ("futu_get_warrant", {"issuer_list": "XX"}, "invalid argument: issuer_list"),
    ("futu_get_reference", {"code": "HK.00700"}, "invalid argument: reference_type: required"),
    ("futu_get_stock_filter", {"market": "HK", "filter_list": []}, "invalid argument: filter_list"),
    (
        "futu_get_stock_filter",
        {"market": "HK", "filter_list": [{"stock_field": "PE"}]},
        "invalid argument: filter_list",
    ),
    ("futu_get_user_security", {"group_name": ""}, "invalid argument: group_name: "),
    ("futu_get_price_reminder", {}, "invalid argument: code: give a code or a market"),
]


@pytest.fixture(scope="module")
def screen_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One MCP session over stdio for the property test's screens, driven from the test's
    thread through an anyio portal: a screen call as a function."""
    from keystore.issuing import issue_key
    from keystore.records import Limits
    from keystore.store import KeyStore
    from opend.sim import SimulatorThread

    home = tmp_path_factory.mktemp("screen")
    keys = home / "keys.json"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(home))
        env.setenv("FUTU_KEYS_FILE", str(keys))
        token, _ = issue_key(
            KeyStore(keys), key_id="screen", scopes=frozenset({READ}), limits=Limits()
        )
        with SimulatorThread(seed=1) as simulator, start_blocking_portal() as portal:
            gateway = gateway_of(simulator)
            context = stdio_client(token, "--gateway", gateway, "--toolsets", "research")
            with portal.wrap_async_context_manager(context) as client:
                # A function, not the client: a failing example prints its arguments, and the
                # client's repr holds the token in its environment.
                yield lambda args: portal.call(call, client, "futu_get_stock_filter", args)


BASE_RANGES = {
    "CUR_PRICE": (0.5, 800.0),
    "MARKET_VAL": (1e9, 4e12),
    "PE_TTM": (-20.0, 80.0),
    "PB_RATE": (0.2, 15.0),
    "VOLUME_RATIO": (0.3, 3.0),
    "CHANGE_RATE": (-10.0, 10.0),
    "AMPLITUDE": (0.0, 12.0),
    "TURNOVER_RATE": (0.0, 3.0),
    "RETURN_ON_EQUITY_RATE": (-10.0, 40.0),
}


@st.composite
def screens(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    market = draw(st.sampled_from(["HK", "US"]))
    fields = draw(
        st.lists(st.sampled_from(sorted(BASE_RANGES)), min_size=1, max_size=3, unique=True)
    )
    conditions = []
    for field in fields:
        low, high = BASE_RANGES[field]
        a = draw(st.floats(low, high, allow_nan=False))
        b = draw(st.floats(low, high, allow_nan=False))
        cond: dict[str, Any] = {"stock_field": field}
        bounds = draw(st.sampled_from(["both", "min", "max"]))
        if bounds != "max":
            cond["filter_min"] = round(min(a, b), 3)
        if bounds != "min":
            cond["filter_max"] = round(max(a, b), 3)
        if FILTER_FIELDS[field][0] == "accumulate":
            cond["days"] = draw(st.integers(1, 20))
        conditions.append(cond)
    return market, conditions


# OpenD allows 10 screens per 30 s (applied by futu-mcp itself): ten examples, no shrinking
# (its extra calls would be throttled, hiding the first failure).
@settings(
    max_examples=SCREENS_PER_30S,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(screen=screens())
def test_a_screen_returns_only_rows_meeting_every_condition(
    screen_client: Any, screen: tuple[str, list[dict[str, Any]]]
) -> None:
    market, conditions = screen
    failed, data = screen_client({"market": market, "filter_list": conditions, "num": 200})
    assert not failed, data
    universe = screen_universe(QotMarket[market], None)
    assert data["last_page"] and data["all_count"] == data["count"] <= len(universe)
    for row in data["stocks"]:
        assert row["code"].startswith(f"{market}.")
        for cond in conditions:
            value = row[cond["stock_field"].lower()]
            assert cond.get("filter_min", value) <= value <= cond.get("filter_max", value), (
                row,
                cond,
            )
