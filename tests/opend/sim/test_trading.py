"""Paper trading over the wire: OpenD's order rules, matching, fills, funds, unlock, throttles."""

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from opend.enums import OrderStatus, TrdEnv
from opend.protoids import ProtoId
from opend.sim import DEFAULT_TRADE_PASSWORD, Simulator
from opend.sim.trading import Account
from tests.opend.sim.rawwire import RawConn

pytestmark = pytest.mark.anyio
START = 1_780_000_000.0


class Trader:
    """A raw connection plus the account it trades, for short tests."""

    def __init__(self, sim: Simulator, conn: RawConn, account: Account) -> None:
        self.sim = sim
        self.conn = conn
        self.account = account
        self.packet = 0

    def header(self) -> dict[str, Any]:
        return {
            "trdEnv": int(self.account.env),
            "accID": str(self.account.acc_id),
            "trdMarket": int(self.account.markets[0]),
        }

    def order_c2s(
        self, code: str, side: int, qty: float, price: float, order_type: int = 1
    ) -> dict[str, Any]:
        self.packet += 1
        return {
            "packetID": {"connID": str(self.conn.conn_id), "serialNo": self.packet},
            "header": self.header(),
            "trdSide": side,
            "orderType": order_type,
            "code": code,
            "qty": qty,
            "price": price,
        }

    async def place(
        self, code: str, side: int, qty: float, price: float, order_type: int = 1
    ) -> dict[str, Any]:
        self.sim.advance(0.05)  # OpenD's minimum spacing between orders
        return await self.conn.request(
            ProtoId.TRD_PLACE_ORDER, self.order_c2s(code, side, qty, price, order_type)
        )

    def modify_c2s(
        self, order_id: str, op: int, qty: float = 0, price: float = 0, **extra: Any
    ) -> dict[str, Any]:
        self.packet += 1
        return {
            "packetID": {"connID": str(self.conn.conn_id), "serialNo": self.packet},
            "header": self.header(),
            "orderID": order_id,
            "modifyOrderOp": op,
            "qty": qty,
            "price": price,
            **extra,
        }

    async def modify(
        self, order_id: str, op: int, qty: float = 0, price: float = 0, **extra: Any
    ) -> dict[str, Any]:
        self.sim.advance(0.05)
        c2s = self.modify_c2s(order_id, op, qty, price, **extra)
        return await self.conn.request(ProtoId.TRD_MODIFY_ORDER, c2s)

    async def order(self, order_id: str) -> dict[str, Any]:
        s2c = await self.conn.ok(
            ProtoId.TRD_GET_ORDER_LIST,
            {"header": self.header(), "filterConditions": {"idList": [order_id]}},
        )
        (order,) = s2c["orderList"]
        return order

    async def funds(self) -> dict[str, Any]:
        return (await self.conn.ok(ProtoId.TRD_GET_FUNDS, {"header": self.header()}))["funds"]

    async def position(self, code: str) -> dict[str, Any] | None:
        s2c = await self.conn.ok(ProtoId.TRD_GET_POSITION_LIST, {"header": self.header()})
        return next((p for p in s2c["positionList"] if p["code"] == code), None)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(seed=5, start_time=START) as running:
        yield running


async def _trader(sim: Simulator, env: TrdEnv, market: int = 1) -> Trader:
    conn = await RawConn.open(sim.address)
    account = next(
        a for a in sim.state.accounts.values() if a.env is env and a.markets[0] == market
    )
    return Trader(sim, conn, account)


def _ok(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply["retType"] == 0, reply
    return reply["s2c"]


def _err(reply: dict[str, Any]) -> str:
    assert reply["retType"] == -1 and "s2c" not in reply, reply
    return reply["retMsg"]


async def test_order_rules(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.SIMULATE)
    assert "Unknown stock code 99999" in _err(await t.place("99999", 1, 100, 10.0))
    assert "lot size 100" in _err(await t.place("00700", 1, 150, 400.0))
    assert "lot size 400" in _err(await t.place("00005", 1, 100, 70.0))
    assert "steps of 0.20" in _err(await t.place("00700", 1, 100, 400.1))
    assert "positive" in _err(await t.place("00700", 1, 100, 0.0))
    assert "Insufficient buying power" in _err(await t.place("00700", 1, 100_000, 400.0))
    assert "Insufficient sellable quantity" in _err(await t.place("00700", 2, 300, 400.0))
    assert "trdSide" in _err(await t.place("00700", 7, 100, 400.0))
    assert "US" not in _err(await t.place("AAPL", 1, 1, 100.0))  # an HK account cannot trade AAPL
    assert not [o for o in sim.state.orders.values()]  # nothing refused was recorded
    await t.conn.close()


async def test_non_finite_numbers_are_refused_cleanly(sim: Simulator) -> None:
    """Protobuf JSON accepts quoted "NaN"/"Infinity" (and protobuf bodies carry them as they are):
    the order is refused with a reason, never an internal error, and nothing is recorded."""
    t = await _trader(sim, TrdEnv.SIMULATE)
    for qty, price, field in [(100, "NaN", "price"), ("Infinity", 400.0, "qty")]:
        message = _err(await t.place("00700", 1, qty, price))  # type: ignore[arg-type]
        assert message == f"invalid request: {field} must be a finite number"
    assert not sim.state.orders
    order_id = _ok(await t.place("00700", 1, 100, 380.0))["orderID"]
    message = _err(await t.modify(order_id, 1, 100, "-Infinity"))  # type: ignore[arg-type]
    assert message == "invalid request: price must be a finite number"
    assert (await t.order(order_id))["price"] == 380.0
    await t.conn.close()


async def test_account_header_must_match(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.SIMULATE)
    c2s = t.order_c2s("00700", 1, 100, 400.0)
    c2s["header"]["trdEnv"] = 1
    assert "SIMULATE account" in _err(await t.conn.request(ProtoId.TRD_PLACE_ORDER, c2s))
    c2s = t.order_c2s("00700", 1, 100, 400.0)
    c2s["header"]["trdMarket"] = 2
    assert "authority" in _err(await t.conn.request(ProtoId.TRD_PLACE_ORDER, c2s))
    c2s = t.order_c2s("00700", 1, 100, 400.0)
    c2s["header"]["accID"] = "12345"
    assert "Nonexisting acc_id 12345" in _err(await t.conn.request(ProtoId.TRD_PLACE_ORDER, c2s))
    await t.conn.close()


async def test_replayed_packet_id_is_refused(sim: Simulator) -> None:
    """OpenD's anti-replay: a serialNo already used on this connection is refused whatever the
    request carries, in PlaceOrder and ModifyOrder alike; nothing is recorded or changed."""
    t = await _trader(sim, TrdEnv.SIMULATE)
    c2s = t.order_c2s("00700", 1, 100, 300.0)
    placed = _ok(await t.conn.request(ProtoId.TRD_PLACE_ORDER, c2s))
    replayed = f"Duplicate packetID (connID {t.conn.conn_id}, serialNo {t.packet}): request ignored"
    sim.advance(1)
    assert _err(await t.conn.request(ProtoId.TRD_PLACE_ORDER, c2s)) == replayed
    bigger = t.order_c2s("00700", 1, 200, 300.0)
    bigger["packetID"] = c2s["packetID"]  # another order under a used serial
    sim.advance(1)
    assert _err(await t.conn.request(ProtoId.TRD_PLACE_ORDER, bigger)) == replayed
    cancel = t.modify_c2s(placed["orderID"], 2)
    cancel["packetID"] = c2s["packetID"]
    sim.advance(1)
    assert _err(await t.conn.request(ProtoId.TRD_MODIFY_ORDER, cancel)) == replayed
    assert len(sim.state.orders) == 1
    assert (await t.order(placed["orderID"]))["orderStatus"] == OrderStatus.SUBMITTED
    # A serial used by a modify is spent for orders too.
    _ok(await t.modify(placed["orderID"], 1, qty=200, price=300.0))
    reuse = t.order_c2s("00700", 1, 100, 300.0)
    reuse["packetID"]["serialNo"] = t.packet - 1
    sim.advance(1)
    assert "Duplicate packetID" in _err(await t.conn.request(ProtoId.TRD_PLACE_ORDER, reuse))
    # The memory is per connection: another one may use the same number with its own connID.
    other = await _trader(sim, TrdEnv.SIMULATE)
    again = other.order_c2s("00700", 1, 100, 300.0)
    again["packetID"]["serialNo"] = c2s["packetID"]["serialNo"]
    sim.advance(1)
    _ok(await other.conn.request(ProtoId.TRD_PLACE_ORDER, again))
    assert len(sim.state.orders) == 2
    await t.conn.close()
    await other.conn.close()


@pytest.mark.parametrize("proto_id", [ProtoId.TRD_PLACE_ORDER, ProtoId.TRD_MODIFY_ORDER])
async def test_packet_id_must_carry_this_connections_conn_id(sim: Simulator, proto_id: int) -> None:
    """Another connection's connID, 0 or any other number is refused and changes nothing; the
    refused request does not spend its serial (sent again with the right connID, it is new)."""
    t = await _trader(sim, TrdEnv.SIMULATE)
    resting = _ok(await t.place("00700", 1, 100, 300.0))["orderID"]
    other = await RawConn.open(sim.address)
    if proto_id == ProtoId.TRD_PLACE_ORDER:
        c2s = t.order_c2s("00700", 1, 100, 300.0)
    else:
        c2s = t.modify_c2s(resting, 2)
    for wrong in (other.conn_id, 0, (1 << 64) - 1):
        c2s["packetID"]["connID"] = str(wrong)
        sim.advance(1)
        message = _err(await t.conn.request(proto_id, c2s))
        assert message == (
            f"Invalid packetID: connID {wrong} is not the connID InitConnect gave this "
            "connection: request ignored"
        )
    assert list(sim.state.orders) == [int(resting)]
    assert (await t.order(resting))["orderStatus"] == OrderStatus.SUBMITTED
    c2s["packetID"]["connID"] = str(t.conn.conn_id)
    sim.advance(1)
    _ok(await t.conn.request(proto_id, c2s))
    await t.conn.close()
    await other.close()


async def test_normal_modify_needs_qty_and_price(sim: Simulator) -> None:
    """ModifyOrderOp 1 carries the new total qty and the price: 0, negative or missing is
    refused, never read as "unchanged", and the order stays as it was."""
    t = await _trader(sim, TrdEnv.SIMULATE)
    oid = _ok(await t.place("00700", 1, 100, 300.0))["orderID"]
    no_qty = "Invalid modify: qty (the order's new total quantity) must be above 0"
    no_price = "Invalid modify: price (the order's new price) must be above 0"
    for qty, price, expected in [
        (0, 300.2, no_qty),
        (-100, 300.2, no_qty),
        (None, 300.2, no_qty),
        (200, 0, no_price),
        (200, -300.2, no_price),
        (200, None, no_price),
    ]:
        c2s = t.modify_c2s(oid, 1, qty=qty, price=price)  # type: ignore[arg-type]
        for name, value in (("qty", qty), ("price", price)):
            if value is None:
                del c2s[name]
        sim.advance(1)
        assert _err(await t.conn.request(ProtoId.TRD_MODIFY_ORDER, c2s)) == expected
        order = await t.order(oid)
        assert (order["qty"], order["price"]) == (100, 300.0)
    _ok(await t.modify(oid, 1, qty=200, price=300.2))
    order = await t.order(oid)
    assert (order["qty"], order["price"]) == (200, 300.2)
    # Only op 1 reads them: a cancel with qty 0 and price 0 (as the SDK sends it) is fine.
    sim.advance(1)
    _ok(await t.modify(oid, 2, qty=0, price=0))
    assert (await t.order(oid))["orderStatus"] == OrderStatus.CANCELLED_ALL
    await t.conn.close()


async def test_unlock_takes_only_the_lowercase_hex_md5(sim: Simulator) -> None:
    """OpenD wants the 32-character lowercase hex MD5: any other spelling of the right digest
    is a wrong password (and the digest is never echoed)."""
    t = await _trader(sim, TrdEnv.REAL)
    right = hashlib.md5(DEFAULT_TRADE_PASSWORD.encode()).hexdigest()
    assert right != right.upper()  # the digest has letters, so case matters
    for digest in (
        right.upper(),
        right[0].upper() + right[1:],
        f" {right}",
        f"{right}\n",
        right[:-1],
        right + "0",
        right[:-1] + "g",
    ):
        message = _err(
            await t.conn.request(ProtoId.TRD_UNLOCK_TRADE, {"unlock": True, "pwdMD5": digest})
        )
        assert message == "Unlock failed: the trade password is incorrect"
        assert not sim.state.unlocked
    _ok(await t.conn.request(ProtoId.TRD_UNLOCK_TRADE, {"unlock": True, "pwdMD5": right}))
    assert sim.state.unlocked
    await t.conn.close()


async def test_real_orders_need_unlock_with_the_trade_password(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.REAL)
    assert "unlock" in _err(await t.place("00700", 1, 100, 300.0)).lower()
    wrong = hashlib.md5(b"654321").hexdigest()
    message = _err(
        await t.conn.request(ProtoId.TRD_UNLOCK_TRADE, {"unlock": True, "pwdMD5": wrong})
    )
    assert "incorrect" in message and wrong not in message
    assert "pwdMD5" in _err(await t.conn.request(ProtoId.TRD_UNLOCK_TRADE, {"unlock": True}))
    right = hashlib.md5(DEFAULT_TRADE_PASSWORD.encode()).hexdigest()
    _ok(await t.conn.request(ProtoId.TRD_UNLOCK_TRADE, {"unlock": True, "pwdMD5": right}))
    placed = _ok(await t.place("00700", 1, 100, 300.0))
    # Unlocking is gateway-wide: a second connection may trade too, until someone locks.
    other = await _trader(sim, TrdEnv.REAL)
    _ok(await other.modify(placed["orderID"], 2))
    _ok(await other.conn.request(ProtoId.TRD_UNLOCK_TRADE, {"unlock": False}))
    assert "unlock" in _err(await t.place("00700", 1, 100, 300.0)).lower()
    await t.conn.close()
    await other.conn.close()


async def test_custom_trade_password() -> None:
    async with Simulator(trade_password="s3cret") as sim:
        conn = await RawConn.open(sim.address)
        default = hashlib.md5(DEFAULT_TRADE_PASSWORD.encode()).hexdigest()
        assert "incorrect" in _err(
            await conn.request(ProtoId.TRD_UNLOCK_TRADE, {"unlock": True, "pwdMD5": default})
        )
        good = hashlib.md5(b"s3cret").hexdigest()
        _ok(await conn.request(ProtoId.TRD_UNLOCK_TRADE, {"unlock": True, "pwdMD5": good}))
        await conn.close()


async def test_market_order_fills_at_once_and_moves_cash_and_position(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.SIMULATE)
    funds = await t.funds()
    before = await t.position("00700")
    assert before is not None
    placed = _ok(await t.place("00700", 1, 100, 0.0, order_type=2))
    order = await t.order(placed["orderID"])
    assert order["orderStatus"] == OrderStatus.FILLED_ALL and order["fillQty"] == 100
    (deal,) = sim.state.deals
    assert order["fillAvgPrice"] == deal.price
    after = await t.position("00700")
    assert after is not None and after["qty"] == before["qty"] + 100
    funds_after = await t.funds()
    assert funds_after["cash"] == pytest.approx(funds["cash"] - 100 * deal.price)
    fills = _ok(await t.conn.request(ProtoId.TRD_GET_ORDER_FILL_LIST, {"header": t.header()}))
    assert [f["orderID"] for f in fills["orderFillList"]] == [placed["orderID"]]
    await t.conn.close()


async def test_resting_limit_order_fills_when_the_price_crosses(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.SIMULATE)
    sec = sim.state.securities["HK.09988"]
    market = sim.state.market
    now = sim.state.clock.now()
    ask_now = market.book(sec, now, 1)[0][0][0]
    # The lowest ask of the next three hours, found from the seeded path: the order rests now
    # and must fill once the simulated clock reaches that moment.
    future = [(market.book(sec, now + s, 1)[0][0][0], s) for s in range(60, 3 * 3600, 5)]
    low, when = min(future)
    assert low < ask_now
    placed = _ok(await t.place("09988", 1, 100, low))
    order = await t.order(placed["orderID"])
    assert order["orderStatus"] == OrderStatus.SUBMITTED
    funds = await t.funds()
    assert funds["frozenCash"] == pytest.approx(100 * low)
    sim.advance(when - 10)
    assert (await t.order(placed["orderID"]))["orderStatus"] == OrderStatus.SUBMITTED
    sim.advance(30)
    filled = await t.order(placed["orderID"])
    assert filled["orderStatus"] == OrderStatus.FILLED_ALL
    assert filled["fillAvgPrice"] <= low
    assert (await t.funds())["frozenCash"] == 0
    position = await t.position("09988")
    assert position is not None and position["qty"] == 100
    await t.conn.close()


async def test_large_order_fills_in_parts_then_cancels_the_rest(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.SIMULATE)
    sec = sim.state.securities["HK.00939"]
    sim.advance(1)
    asks, _bids = sim.state.market.book(sec, sim.state.clock.now(), 3)
    limit = asks[2][0]  # crosses three ask levels
    depth = sum(v for _p, v, _n in asks)
    qty = depth + 1000
    c2s = t.order_c2s("00939", 1, qty, limit)
    placed = _ok(await t.conn.request(ProtoId.TRD_PLACE_ORDER, c2s))
    order = await t.order(placed["orderID"])
    assert order["orderStatus"] == OrderStatus.FILLED_PART
    assert order["fillQty"] == depth
    assert len(sim.state.deals) == 3
    cancelled = _ok(await t.modify(placed["orderID"], 2))
    assert cancelled["orderID"] == placed["orderID"]
    order = await t.order(placed["orderID"])
    assert order["orderStatus"] == OrderStatus.CANCELLED_PART and order["fillQty"] == depth
    assert "cannot be cancelled" in _err(await t.modify(placed["orderID"], 2))
    await t.conn.close()


async def test_modify_and_cancel_transitions(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.SIMULATE)
    placed = _ok(await t.place("00700", 1, 100, 300.0))
    oid = placed["orderID"]
    _ok(await t.modify(oid, 1, qty=300, price=300.2))
    order = await t.order(oid)
    assert (order["qty"], order["price"], order["orderStatus"]) == (
        300,
        300.2,
        OrderStatus.SUBMITTED,
    )
    assert "lot size" in _err(await t.modify(oid, 1, qty=250, price=300.2))
    assert "steps of" in _err(await t.modify(oid, 1, qty=300, price=300.3))
    assert (await t.order(oid))["qty"] == 300  # refused changes change nothing
    _ok(await t.modify(oid, 2))
    assert (await t.order(oid))["orderStatus"] == OrderStatus.CANCELLED_ALL
    assert "cannot be modified" in _err(await t.modify(oid, 1, qty=100, price=300.0))
    assert "does not exist" in _err(await t.modify("123", 2))
    # By orderIDEx, as the SDK sends it.
    second = _ok(await t.place("00700", 1, 100, 300.0))
    _ok(await t.modify("0", 2, orderIDEx=second["orderIDEx"]))
    assert (await t.order(second["orderID"]))["orderStatus"] == OrderStatus.CANCELLED_ALL
    filled = _ok(await t.place("00700", 1, 100, 0.0, order_type=2))
    assert "already filled" in _err(await t.modify(filled["orderID"], 2))
    await t.conn.close()


async def test_cancel_all(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.SIMULATE)
    ids = [_ok(await t.place("00700", 1, 100, 300.0))["orderID"] for _ in range(3)]
    _ok(await t.modify("0", 2, forAll=True))
    assert [(await t.order(i))["orderStatus"] for i in ids] == [OrderStatus.CANCELLED_ALL] * 3
    await t.conn.close()


async def test_sell_realizes_profit_and_loss(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.SIMULATE)
    before = await t.position("00700")
    assert before is not None
    _ok(await t.place("00700", 2, 100, 0.0, order_type=2))
    after = await t.position("00700")
    assert after is not None and after["qty"] == before["qty"] - 100
    (deal,) = sim.state.deals
    assert after["realizedPL"] == pytest.approx((deal.price - before["costPrice"]) * 100, abs=0.01)
    assert after["td_sellQty"] == 100
    await t.conn.close()


async def test_place_order_throttle(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.SIMULATE)
    for _ in range(15):
        _ok(await t.place("00700", 1, 100, 300.0))
    assert "at most 15" in _err(await t.place("00700", 1, 100, 300.0))
    sim.advance(31)
    _ok(await t.place("00700", 1, 100, 300.0))
    sim.advance(1)
    # Two orders closer than 0.02 s apart: the second is refused.
    _ok(await t.conn.request(ProtoId.TRD_PLACE_ORDER, t.order_c2s("00700", 1, 100, 300.0)))
    assert "0.02" in _err(
        await t.conn.request(ProtoId.TRD_PLACE_ORDER, t.order_c2s("00700", 1, 100, 300.0))
    )
    await t.conn.close()


async def test_modify_throttle(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.SIMULATE)
    oid = _ok(await t.place("00700", 1, 100, 300.0))["orderID"]
    for i in range(20):
        _ok(await t.modify(oid, 1, qty=100, price=300.0 + 0.2 * (i % 2)))
    assert "at most 20" in _err(await t.modify(oid, 2))
    await t.conn.close()


async def test_funds_in_another_currency(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.SIMULATE, market=2)
    own = await t.funds()
    assert own["currency"] == 2  # USD
    hkd = (await t.conn.ok(ProtoId.TRD_GET_FUNDS, {"header": t.header(), "currency": 1}))["funds"]
    assert hkd["currency"] == 1 and hkd["cash"] == pytest.approx(own["cash"] * 7.8, rel=1e-6)
    await t.conn.close()


async def test_account_list(sim: Simulator) -> None:
    conn = await RawConn.open(sim.address)
    accounts = (await conn.ok(ProtoId.TRD_GET_ACC_LIST, {"userID": "0"}))["accList"]
    pairs = {(a["trdEnv"], tuple(a["trdMarketAuthList"])) for a in accounts}
    assert pairs == {(1, (1,)), (1, (2,)), (1, (4, 3)), (0, (1,)), (0, (2,)), (0, (3,))}
    assert all(int(a["accID"]) > 2**53 for a in accounts)  # needs exact 64-bit handling
    futures = await conn.ok(ProtoId.TRD_GET_ACC_LIST, {"userID": "0", "trdCategory": 2})
    assert futures["accList"] == []
    await conn.close()


async def test_same_seed_same_accounts_and_fills() -> None:
    results = []
    for _ in range(2):
        async with Simulator(seed=9, start_time=START) as sim:
            t = await _trader(sim, TrdEnv.SIMULATE)
            _ok(await t.place("00700", 1, 100, 0.0, order_type=2))
            results.append(
                (
                    sorted(sim.state.accounts),
                    [(d.price, d.qty) for d in sim.state.deals],
                    await t.funds(),
                )
            )
            await t.conn.close()
    assert results[0] == results[1]


async def test_day_orders_expire_at_the_end_of_the_session(sim: Simulator) -> None:
    t = await _trader(sim, TrdEnv.SIMULATE)
    day = _ok(await t.place("00700", 1, 100, 300.0))
    c2s = t.order_c2s("00700", 1, 100, 300.0)
    c2s["timeInForce"] = 1  # GTC
    sim.advance(1)
    gtc = _ok(await t.conn.request(ProtoId.TRD_PLACE_ORDER, c2s))
    sim.advance(86_400)
    expired = await t.order(day["orderID"])
    assert expired["orderStatus"] == OrderStatus.CANCELLED_ALL
    assert "end of the trading day" in expired["lastErrMsg"]
    assert (await t.order(gtc["orderID"]))["orderStatus"] == OrderStatus.SUBMITTED
    assert (await t.funds())["frozenCash"] == pytest.approx(100 * 300.0)  # only the GTC order
    await t.conn.close()
