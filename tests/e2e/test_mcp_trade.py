"""The trade path end to end: confirmation through elicitation, client_order_id, dry_run, and an
order whose reply was lost; the simulator's order book is the witness."""

import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.types import ElicitResult

from opend.protoids import ProtoId
from opend.sim import DEFAULT_TRADE_PASSWORD
from opend.sim.universe import SECURITIES
from tests.conftest import console_script
from tests.e2e.conftest import (
    futucli,
    gateway_of,
    http_client,
    server_env,
    space_writes,
    stdio_client,
    wait_for,
)
from tests.e2e.test_mcp_tools import call, ok

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

REAL_HK = 281756470000000101
SIM_HK = 168880000000000201
# Said within a minute of the admitted order, so the next one fits in 1 to 60 s.
RATE_1 = re.compile(r"limit check failed: rate limit 1/min; retry in ([1-9]|[1-5][0-9]|60) s")


def unlock(sim: Any) -> None:
    """Unlock real trading on the sim the way a person does: `futucli unlock-trade`."""
    done = subprocess.run(
        [
            console_script("futucli"),
            "unlock-trade",
            "--gateway",
            gateway_of(sim),
            "--password-stdin",
        ],
        input=DEFAULT_TRADE_PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def resting(qty: int = 100, **extra: Any) -> dict[str, Any]:
    """A limit buy of HK.00700 at half the sim's price: it rests, never fills."""
    price = round(SECURITIES["HK.00700"].base_price / 2, 1)
    return {"code": "HK.00700", "trd_side": "BUY", "qty": qty, "price": price, **extra}


class Person:
    """The human behind the client: answers each confirmation from a script, remembers what was asked."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.asked: list[str] = []

    async def __call__(self, ctx: Any, params: Any) -> ElicitResult:
        self.asked.append(params.message)
        action = self.answers.pop(0)
        content = {"confirm": True} if action == "accept" else None
        return ElicitResult(action=action, content=content)  # type: ignore[arg-type]


async def test_real_order_is_sent_only_when_the_person_accepts(
    sim: Any, make_key: Any, tmp_path: Path
) -> None:
    unlock(sim)
    token = make_key("real", "qot:read,acc:read,trade:real")  # confirm_orders defaults to "real"
    audit = tmp_path / "audit.jsonl"
    person = Person()
    args = ("--gateway", gateway_of(sim), "--audit-log", str(audit))
    async with stdio_client(token, *args, elicitation_callback=person) as client:
        before = len(sim.state.orders)
        person.answers = ["accept"]
        placed = await ok(client, "futu_place_order", resting(trd_env="REAL"))
        assert placed["acc_id"] == str(REAL_HK) and placed["trd_env"] == "REAL"
        assert sim.state.orders[int(placed["order_id"])].acc_id == REAL_HK
        price = resting()["price"]
        summary = person.asked[0]
        for part in ("BUY 100 HK.00700", "TENCENT", f"at {price:g}", "HKD", str(REAL_HK), "REAL"):
            assert part in summary, summary
        for answer in ("decline", "cancel"):
            person.answers = [answer]
            assert await call(client, "futu_place_order", resting(trd_env="REAL")) == (
                True,
                "confirmation declined",
            )
        assert len(sim.state.orders) == before + 1
        # A modify asks too; declined, the order keeps its price.
        person.answers = ["decline"]
        modify = {"order_id": placed["order_id"], "price": price + 1, "trd_env": "REAL"}
        assert await call(client, "futu_modify_order", modify) == (True, "confirmation declined")
        assert sim.state.orders[int(placed["order_id"])].price == pytest.approx(price)
    text = audit.read_text()
    password_md5 = hashlib.md5(DEFAULT_TRADE_PASSWORD.encode()).hexdigest()
    assert token not in text and password_md5 not in text and DEFAULT_TRADE_PASSWORD not in text
    lines = [json.loads(x) for x in text.splitlines()]
    assert [x["reason"] for x in lines if x["decision"] == "declined"] == [
        "decline",
        "cancel",
        "decline",
    ]
    assert [x["phase"] for x in lines if x["tool"] == "futu_place_order"].count("intent") == 1


async def test_a_real_order_while_trading_is_locked_says_how_to_unlock(
    sim: Any, make_key: Any
) -> None:
    token = make_key("locked", "qot:read,trade:real", confirm_orders="never")
    async with stdio_client(token, "--gateway", gateway_of(sim)) as client:
        failed, text = await call(client, "futu_place_order", resting(trd_env="REAL"))
    assert failed and text.startswith("gateway error: "), text
    assert text.endswith(": run futucli unlock-trade"), text
    assert not sim.state.orders


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_client_that_cannot_ask_is_refused_with_the_fix_and_audited_as_a_denial(
    sim: Any, make_key: Any, tmp_path: Path, mode: str
) -> None:
    """A client that declares no elicitation (in either protocol era): the order is refused,
    nothing is sent, and its audit line says so (deny, reason confirmation), in a chain that
    `futucli audit verify` accepts."""
    unlock(sim)
    token = make_key("real-unattended", "qot:read,trade:real")
    audit = tmp_path / "audit.jsonl"
    args = ("--gateway", gateway_of(sim), "--audit-log", str(audit))
    async with stdio_client(token, *args, mode=mode) as client:
        before = len(sim.state.orders)
        failed, text = await call(client, "futu_place_order", resting(trd_env="REAL"))
    assert failed
    assert text.startswith("confirmation required but this MCP client cannot ask"), text
    assert "confirm_orders=real" in text and "--confirm-orders never" in text
    assert len(sim.state.orders) == before
    lines = [json.loads(x) for x in audit.read_text().splitlines()]
    assert [(x["tool"], x["phase"], x["decision"], x["reason"], x["error"]) for x in lines] == [
        ("futu_place_order", "call", "deny", "confirmation", text)
    ]
    verify = futucli("audit", "verify", str(audit))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "chain intact" in verify.stdout


async def test_the_2026_question_round_is_audited_even_if_never_answered(
    sim: Any, make_key: Any, tmp_path: Path
) -> None:
    """A 2026-07-28 client gets the confirmation as an InputRequiredResult and calls again with
    the answer: the question round has its own audit line (decision ask), before the order's
    intent and result lines; a client that never comes back leaves that line alone, and
    nothing is sent."""
    token = make_key("asked", "qot:read,trade:simulate", confirm_orders="all")
    audit = tmp_path / "audit.jsonl"
    asked: list[str] = []

    async def accept_once_then_never_answer(ctx: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        if len(asked) == 1:
            return ElicitResult(action="accept", content={"confirm": True})
        await anyio.Event().wait()  # the person walked away
        raise AssertionError("unreachable")

    args = ("--gateway", gateway_of(sim), "--audit-log", str(audit))
    callback = accept_once_then_never_answer
    async with stdio_client(token, *args, mode="auto", elicitation_callback=callback) as client:
        placed = await ok(client, "futu_place_order", resting())
        before = len(sim.state.orders)
        async with anyio.create_task_group() as tg:
            tg.start_soon(call, client, "futu_place_order", resting())
            with anyio.fail_after(10):
                while len(asked) < 2:
                    await anyio.sleep(0.02)
            tg.cancel_scope.cancel()
        assert len(sim.state.orders) == before
    lines = [json.loads(x) for x in audit.read_text().splitlines()]
    assert [(x["phase"], x["decision"], x["reason"]) for x in lines] == [
        ("call", "ask", "confirmation"),
        ("intent", "allow", None),
        ("result", "allow", None),
        ("call", "ask", "confirmation"),
    ]
    assert lines[2]["result"]["order_id"] == placed["order_id"]
    assert lines[0]["order"]["code"] == "HK.00700"
    verify = futucli("audit", "verify", str(audit))
    assert verify.returncode == 0, verify.stdout + verify.stderr


async def test_a_key_revoked_while_the_person_decides_sends_nothing(
    sim: Any, make_key: Any, keys_file: Path, tmp_path: Path
) -> None:
    """The confirmation question can stay open for minutes: a revocation made meanwhile wins
    over the person's "accept" (nothing sent, refused and audited, the reservation given back)."""
    from keystore.store import KeyStore

    token = make_key("slow", "qot:read,acc:read,trade:simulate", confirm_orders="all")
    audit = tmp_path / "audit.jsonl"

    async def revoke_then_accept(ctx: Any, params: Any) -> ElicitResult:
        KeyStore(keys_file).revoke("slow")
        return ElicitResult(action="accept", content={"confirm": True})

    args = ("--gateway", gateway_of(sim), "--audit-log", str(audit))
    async with stdio_client(token, *args, elicitation_callback=revoke_then_accept) as client:
        before = len(sim.state.orders)
        failed, text = await call(client, "futu_place_order", resting())
        assert failed and text == "key revoked", text
        assert len(sim.state.orders) == before
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert not [line for line in lines if line.get("phase") == "intent"]
    assert [line["reason"] for line in lines if line.get("decision") == "deny"] == ["revoked"]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_confirm_orders_all_asks_for_paper_orders_too(
    sim: Any, make_key: Any, http_server: Any, mode: str
) -> None:
    """Over HTTP in both protocol eras: mid-call elicitation, and the 2026 InputRequiredResult."""
    token = make_key("careful", "qot:read,trade:simulate", confirm_orders="all")
    person = Person()
    server = http_server("--gateway", gateway_of(sim))
    async with http_client(server.url, token, mode=mode, elicitation_callback=person) as client:
        person.answers = ["accept"]
        placed = await ok(client, "futu_place_order", resting())
        assert placed["acc_id"] == str(SIM_HK) and len(person.asked) == 1
        person.answers = ["decline"]
        assert await call(client, "futu_place_order", resting()) == (True, "confirmation declined")


async def test_client_order_id_places_one_order_sequential_concurrent_and_after_restart(
    sim: Any, make_key: Any, http_server: Any, era: str
) -> None:
    token = make_key("idem", "qot:read,trade:simulate")
    server = http_server("--gateway", gateway_of(sim))
    before = len(sim.state.orders)
    async with http_client(server.url, token, era) as client:
        first = await ok(client, "futu_place_order", resting(client_order_id="order-1"))
        again = await ok(client, "futu_place_order", resting(client_order_id="order-1"))
        assert again["order_id"] == first["order_id"] and again["repeat"] is True
        assert len(sim.state.orders) == before + 1

        results: list[dict[str, Any]] = []
        space_writes(sim)

        async def one() -> None:
            results.append(await ok(client, "futu_place_order", resting(client_order_id="order-2")))

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(one)
        assert len({r["order_id"] for r in results}) == 1
        assert len(sim.state.orders) == before + 2
    server.stop()
    restarted = http_server("--gateway", gateway_of(sim))
    async with http_client(restarted.url, token, era) as client:
        after = await ok(client, "futu_place_order", resting(client_order_id="order-1"))
    assert after["order_id"] == first["order_id"] and after["repeat"] is True
    assert len(sim.state.orders) == before + 2


async def test_dry_run_checks_and_values_but_sends_nothing_and_reserves_nothing(
    sim: Any, make_key: Any, http_server: Any
) -> None:
    token = make_key("dry", "qot:read,trade:simulate", max_orders_per_minute=1)
    server = http_server("--gateway", gateway_of(sim))
    before = len(sim.state.orders)
    async with http_client(server.url, token) as client:
        market = {"code": "HK.00700", "trd_side": "BUY", "qty": 100, "order_type": "MARKET"}
        ask = (await ok(client, "futu_get_orderbook", {"code": "HK.00700", "num": 1}))["ask"][0][
            "price"
        ]
        dry = await ok(client, "futu_place_order", {**market, "dry_run": True})
        assert dry["sent"] is False and dry["checks"] == "passed"
        assert dry["value"] == pytest.approx(100 * ask * 1.05, rel=0.02)
        await ok(client, "futu_place_order", resting(dry_run=True))
        assert len(sim.state.orders) == before
        # Dry runs used no rate slot: the real order goes through; then every check, the
        # ledger's included, still runs in a dry run.
        placed = await ok(client, "futu_place_order", resting())
        failed, text = await call(client, "futu_place_order", resting(dry_run=True))
        assert failed and RATE_1.fullmatch(text), text
        price = resting()["price"]
        modify = {"order_id": placed["order_id"], "price": price + 1, "dry_run": True}
        failed, text = await call(client, "futu_modify_order", modify)
        assert failed and RATE_1.fullmatch(text), text
        assert sim.state.orders[int(placed["order_id"])].price == pytest.approx(price)
    assert len(sim.state.orders) == before + 1


async def test_lost_reply_is_outcome_unknown_and_never_sent_twice(
    sim: Any, make_key: Any, http_server: Any
) -> None:
    token = make_key("lossy", "qot:read,acc:read,trade:simulate")
    server = http_server("--gateway", gateway_of(sim))
    before = len(sim.state.orders)
    async with http_client(server.url, token) as client:
        sim.drop_after(ProtoId.TRD_PLACE_ORDER)
        failed, text = await call(client, "futu_place_order", resting(client_order_id="lost-1"))
        assert failed and text.startswith("outcome unknown:") and "futu_get_orders" in text
        assert len(sim.state.orders) <= before + 1
        # A retry with the same client_order_id is told the same, and sends nothing.
        failed, again = await call(client, "futu_place_order", resting(client_order_id="lost-1"))
        assert (failed, again) == (True, text)
        assert len(sim.state.orders) <= before + 1


async def test_a_confirmed_order_does_not_wait_on_the_snapshot_limit(
    sim: Any, make_key: Any
) -> None:
    """The summary's security name comes from the static info the lot-size check reads, not a
    snapshot: with OpenD's 60 snapshots per 30 s used up, the person is still asked, with the
    name, and the order still goes."""
    token = make_key("careful", "qot:read,trade:simulate", confirm_orders="all")
    person = Person()
    async with stdio_client(
        token, "--gateway", gateway_of(sim), elicitation_callback=person
    ) as client:
        for _ in range(60):
            await ok(client, "futu_get_snapshot", {"codes": "HK.00700"})
        failed, text = await call(client, "futu_get_snapshot", {"codes": "HK.00700"})
        assert failed and "security snapshot: 60 per 30 s" in text
        person.answers = ["accept"]
        placed = await ok(client, "futu_place_order", resting())
    assert placed["status"] and len(person.asked) == 1
    assert "BUY 100 HK.00700 (TENCENT)" in person.asked[0] and placed["name"] == "TENCENT"


async def test_an_order_opend_refuses_is_audited_with_the_text_the_client_got(
    sim: Any, make_key: Any, tmp_path: Path
) -> None:
    token = make_key("big", "qot:read,trade:simulate")
    audit = tmp_path / "audit.jsonl"
    args = ("--gateway", gateway_of(sim), "--audit-log", str(audit))
    async with stdio_client(token, *args) as client:
        failed, text = await call(client, "futu_place_order", resting(qty=10_000_000))
    assert failed and text.startswith("gateway error: ")
    (result,) = [
        json.loads(line)
        for line in audit.read_text().splitlines()
        if json.loads(line).get("phase") == "result"
    ]
    assert result["error"] == text


async def test_a_filled_us_buy_is_found_without_naming_the_account(sim: Any, make_key: Any) -> None:
    """The order goes to the US paper account (its market's), and reads without acc_id find it
    there: by code, and in positions of every paper account (not the HK account alone)."""
    us_paper = next(
        i
        for i, a in sim.state.accounts.items()
        if a.env.name == "SIMULATE" and a.currency.name == "USD"
    )
    held = sim.state.accounts[us_paper].positions["US.AAPL"].qty
    token = make_key("us", "acc:read,trade:simulate")
    async with stdio_client(token, "--gateway", gateway_of(sim)) as client:
        buy = {"code": "US.AAPL", "trd_side": "BUY", "qty": 1, "order_type": "MARKET"}
        placed = await ok(client, "futu_place_order", buy)
        assert placed["acc_id"] == str(us_paper)
        wait_for(
            lambda: sim.state.accounts[us_paper].positions["US.AAPL"].qty == held + 1,
            what="the fill",
        )
        orders = await ok(client, "futu_get_orders", {"code": "US.AAPL"})
        positions = await ok(client, "futu_get_positions", {})
    assert [(o["acc_id"], o["order_id"], o["order_status"]) for o in orders["orders"]] == [
        (str(us_paper), placed["order_id"], "FILLED_ALL")
    ]
    aapl = [(p["acc_id"], p["qty"]) for p in positions["positions"] if p["code"] == "US.AAPL"]
    assert aapl == [(str(us_paper), held + 1)]
    assert str(us_paper) in positions["acc_ids"] and len(positions["acc_ids"]) == 3
