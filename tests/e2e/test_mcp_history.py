"""The history and calendar toolsets end to end: futu-mcp spawned over stdio with `--toolsets`,
against the simulator's real accounts, its fee schedules and its exchange calendars."""

import math
import subprocess
import time
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from opend.codes import QotMarket
from opend.protoids import ProtoId
from opend.sim.exchange import reported_state
from tests.conftest import console_script
from tests.e2e.conftest import gateway_of, server_env, space_writes, stdio_client, wait_for
from tests.e2e.test_mcp_tools import call, ok
from tests.e2e.test_mcp_trade import REAL_HK, resting, unlock

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TOOLSETS = ("--toolsets", "default,history,calendar")
REAL = {"trd_env": "REAL"}


def hk_fees_by_hand(value: float) -> dict[str, float]:
    """HK fees of a buy worth `value` on a real account, from the published schedule (see
    opend/sim/fees.py for the sources), written out again here rather than imported: exact
    decimal arithmetic, each fee rounded to the cent half up (a float `round` would take
    15.165 to 15.16)."""
    worth = Decimal(str(value))

    def cents(rate: str, low: str = "0") -> float:
        fee = max(worth * Decimal(rate), Decimal(low))
        return float(fee.quantize(Decimal("0.01"), ROUND_HALF_UP))

    return {
        "Commission": cents("0.0003", "3"),
        "Platform Fees": 15.0,
        "Stamp Duty": float(math.ceil(worth * Decimal("0.001"))),
        "Trading Fee": cents("0.0000565", "0.01"),
        "SFC Transaction Levy": cents("0.000027", "0.01"),
        "AFRC Transaction Levy": cents("0.0000015"),
        "Settlement Fee": cents("0.000042"),
    }


async def test_a_filled_order_is_in_history_after_the_day_rolls_over_with_its_fees(
    sim: Any, make_key: Any
) -> None:
    unlock(sim)
    token = make_key("trader", "qot:read,acc:read,trade:real", confirm_orders="never")
    async with stdio_client(token, "--gateway", gateway_of(sim), *TOOLSETS) as client:
        book = await ok(client, "futu_get_orderbook", {"code": "HK.00700", "num": 1})
        buy = {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "price": book["ask"][0]["price"]}
        placed = await ok(client, "futu_place_order", {**buy, **REAL})
        order_id = placed["order_id"]
        assert placed["acc_id"] == str(REAL_HK)
        wait_for(
            lambda: sim.state.orders[int(order_id)].status.name == "FILLED_ALL", what="the fill"
        )
        today = await ok(client, "futu_get_orders", {**REAL, "code": "HK.00700"})
        assert order_id in {o["order_id"] for o in today["orders"]}

        sim.roll_over(QotMarket.HK)
        today = await ok(client, "futu_get_orders", {**REAL, "code": "HK.00700"})
        assert order_id not in {o["order_id"] for o in today["orders"]}
        past = await ok(client, "futu_get_history_orders", {**REAL, "code": "HK.00700"})
        [order] = [o for o in past["orders"] if o["order_id"] == order_id]
        assert (order["order_status"], order["dealt_qty"]) == ("FILLED_ALL", 100)
        assert past["acc_ids"] == [str(REAL_HK)] and past["count"] > 1  # the seeded past too
        filled = await ok(
            client, "futu_get_history_orders", {**REAL, "status_filter_list": "FILLED_ALL"}
        )
        assert {o["order_status"] for o in filled["orders"]} == {"FILLED_ALL"}
        deals = await ok(client, "futu_get_history_deals", {**REAL, "code": "HK.00700"})
        mine = [d for d in deals["deals"] if d["order_id"] == order_id]
        assert sum(d["qty"] for d in mine) == 100
        value = sum(d["qty"] * d["price"] for d in mine)

        fees = await ok(
            client,
            "futu_get_order_fee",
            {**REAL, "acc_id": str(REAL_HK), "order_id_list": order["order_id_ex"]},
        )
        [fee] = fees["fees"]
        expected = hk_fees_by_hand(value)
        assert {i["title"]: i["value"] for i in fee["fee_details"]} == pytest.approx(
            expected, abs=0.0051
        )
        assert fee["fee_amount"] == pytest.approx(sum(expected.values()), abs=0.011)
        # Without acc_id every REAL account is asked; the one holding the order answers.
        anywhere = await ok(
            client, "futu_get_order_fee", {**REAL, "order_id_list": [fee["order_id"]]}
        )
        assert [f["acc_id"] for f in anywhere["fees"]] == [str(REAL_HK)]

        day = mine[0]["create_time"][:10]
        flows = await ok(
            client,
            "futu_get_cash_flow",
            {**REAL, "acc_id": str(REAL_HK), "clearing_date": day},
        )
        ours = [f for f in flows["cash_flows"] if order["order_id_ex"] in f["cashflow_remark"]]
        assert sum(f["cashflow_amount"] for f in ours) == pytest.approx(
            -(value + fee["fee_amount"]), abs=0.02
        )
        # Paper accounts: OpenD serves no fills there, and says so.
        failed, text = await call(client, "futu_get_history_deals", {"code": "HK.00700"})
        assert failed and text.startswith("gateway error: ") and "paper trading" in text


async def test_max_trd_qtys_is_what_place_order_then_accepts_and_refuses(
    sim: Any, make_key: Any
) -> None:
    token = make_key("buyer", "qot:read,acc:read,trade:simulate")
    async with stdio_client(token, "--gateway", gateway_of(sim), *TOOLSETS) as client:
        order = resting()  # a limit buy below the market: it rests and holds its cash
        question = {"code": order["code"], "price": order["price"]}
        qtys = await ok(client, "futu_get_max_trd_qtys", question)
        most = qtys["max_cash_buy"]
        assert most > 0 and most % 100 == 0 and qtys["max_cash_and_margin_buy"] == most  # cash
        failed, text = await call(client, "futu_place_order", {**order, "qty": most + 100})
        assert failed and text.startswith("gateway error: "), text
        space_writes(sim)
        placed = await ok(client, "futu_place_order", {**order, "qty": most})
        assert placed["sent"] is True
        assert (await ok(client, "futu_get_max_trd_qtys", question))["max_cash_buy"] == 0
        space_writes(sim)
        await ok(client, "futu_cancel_order", {"order_id": placed["order_id"]})
        # A market order has no price: OpenD works from the ask, above the resting limit.
        market = await ok(
            client, "futu_get_max_trd_qtys", {"code": order["code"], "order_type": "MARKET"}
        )
        assert "price" not in market and 0 < market["max_cash_buy"] <= most
        # A real HK account is a margin account: margin buys more than cash.
        margin = await ok(client, "futu_get_max_trd_qtys", {**question, **REAL})
        assert margin["acc_id"] == str(REAL_HK)
        assert margin["max_cash_and_margin_buy"] > margin["max_cash_buy"] > 0
        ratios = await ok(client, "futu_get_margin_ratio", {**REAL, "codes": "HK.00700"})
        [ratio] = ratios["margin_ratios"]
        assert ratio["is_long_permit"] is True and 0 < ratio["im_long_ratio"] < 100


async def test_calendar_toolset_alone_and_the_tools_it_leaves_out(sim: Any, make_key: Any) -> None:
    token = make_key("calendar", "qot:read,acc:read")
    gateway = gateway_of(sim)
    async with stdio_client(token, "--gateway", gateway, "--toolsets", "calendar") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == {"futu_get_market_state", "futu_get_trading_days"}
        window = {"start": "2026-12-21", "end": "2026-12-31"}
        days = await ok(client, "futu_get_trading_days", {"market": "HK", **window})
        # Christmas (25th) and the weekend are left out; the eves are half days.
        assert [(d["time"][:10], d["trade_date_type"]) for d in days["trading_days"]] == [
            ("2026-12-21", "WHOLE"),
            ("2026-12-22", "WHOLE"),
            ("2026-12-23", "WHOLE"),
            ("2026-12-24", "MORNING"),
            ("2026-12-28", "WHOLE"),
            ("2026-12-29", "WHOLE"),
            ("2026-12-30", "WHOLE"),
            ("2026-12-31", "MORNING"),
        ]
        by_code = await ok(client, "futu_get_trading_days", {"code": "HK.00700", **window})
        assert by_code["trading_days"] == days["trading_days"]
        states = await ok(client, "futu_get_market_state", {"codes": "HK.00700,US.AAPL"})
        now = time.time()
        assert {s["code"]: s["market_state"] for s in states["states"]} == {
            "HK.00700": reported_state(QotMarket.HK, now, False).name,
            "US.AAPL": reported_state(QotMarket.US, now, False).name,
        }
        # A tool of a set that is off is unknown, exactly as a name that does not exist.
        off = await client.call_tool("futu_get_quote", {"codes": "HK.00700"})
        missing = await client.call_tool("futu_no_such_tool", {})
        assert off.is_error and missing.is_error
        assert off.content[0].text == missing.content[0].text.replace(
            "futu_no_such_tool", "futu_get_quote"
        )
        assert "futu_get_quote" in off.content[0].text


async def test_trading_days_only_within_the_years_opend_serves(sim: Any, make_key: Any) -> None:
    """OpenD serves 1 January ten years back to 31 December this year: the whole span works,
    a day beyond either end (or an end before the start) is an `invalid argument` naming the
    span, and OpenD is not asked."""
    token = make_key("calendar", "qot:read")
    year = datetime.now(ZoneInfo("Asia/Hong_Kong")).year
    first, last = f"{year - 10}-01-01", f"{year}-12-31"
    span = (
        f"OpenD serves trading days from {first} to {last} only "
        "(1 January 10 years back to 31 December this year)"
    )
    served = sim.sim.requests_seen
    gateway = gateway_of(sim)
    async with stdio_client(token, "--gateway", gateway, "--toolsets", "calendar") as client:
        whole = await ok(
            client, "futu_get_trading_days", {"market": "HK", "start": first, "end": last}
        )
        days = [d["time"][:10] for d in whole["trading_days"]]
        # Weekdays only (at most 262 a year), less the holidays the simulator has tables for;
        # the first within a week of New Year, the last in the week before it.
        assert all(date.fromisoformat(d).weekday() < 5 for d in days)
        assert 11 * 240 < len(days) == len(set(days)) <= 11 * 262
        assert first <= days[0] <= f"{year - 10}-01-08" and f"{year}-12-24" <= days[-1] <= last
        assert (whole["start"], whole["end"], whole["truncated"]) == (first, last, False)
        asked = served[ProtoId.QOT_REQUEST_TRADE_DATE]
        assert asked >= 1
        beyond = {
            "start": ({"market": "HK", "start": f"{year - 11}-12-31", "end": last}, "too early"),
            "end": ({"code": "SH.600519", "start": first, "end": f"{year + 1}-01-01"}, "too late"),
        }
        for field, (args, why) in beyond.items():
            assert await call(client, "futu_get_trading_days", args) == (
                True,
                f"invalid argument: {field}: {args[field]} is {why}: {span}",
            )
        # No start: 365 days before an end too far back (as the SDK) is too early as well.
        old_end = date(year - 10, 6, 30)
        assert await call(
            client, "futu_get_trading_days", {"market": "US", "end": old_end.isoformat()}
        ) == (
            True,
            f"invalid argument: start: {old_end - timedelta(days=365)} is too early: {span}",
        )
        backwards = {"market": "NT", "start": f"{year}-12-31", "end": f"{year}-12-01"}
        assert await call(client, "futu_get_trading_days", backwards) == (
            True,
            f"invalid argument: start: {year}-12-31 is after end {year}-12-01",
        )
        assert served[ProtoId.QOT_REQUEST_TRADE_DATE] == asked


def test_an_unknown_toolset_stops_the_server_naming_the_valid_ones() -> None:
    done = subprocess.run(
        [console_script("futu-mcp"), "--toolsets", "quote,histroy"],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "futu-mcp: toolsets: unknown toolset 'histroy' (valid: quote, account, trade, history, "
        "calendar, derivatives, research, watchlist, default, all)\n"
    )
