"""Every client helper against the simulated OpenD, plus the link's life: reconnect, keep-alive, crypto.

The simulator is the fixture (no mocks of our code): results are checked against its state.
"""

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from opend.client import OpenDClient
from opend.codes import QotMarket, TrdMarket, parse_code
from opend.crypto import generate_rsa_key_pem
from opend.enums import (
    KLType,
    ModifyOrderOp,
    OrderStatus,
    OrderType,
    Plate,
    SecurityType,
    TrdEnv,
    TrdSide,
)
from opend.errors import GatewayNotConnected, OpenDError, OutcomeUnknown, RequestTimeout
from opend.models import TrdAccount
from opend.protoids import ProtoId
from opend.sim import DEFAULT_TRADE_PASSWORD, Simulator
from tests.opend.polling import client_tasks_left, until

pytestmark = pytest.mark.anyio

HK = parse_code("HK.00700")
US = parse_code("US.AAPL")
SH = parse_code("SH.600519")
MD5 = hashlib.md5(DEFAULT_TRADE_PASSWORD.encode()).hexdigest()


def make_client(sim: Simulator, **kw: object) -> OpenDClient:
    host, port = sim.address
    options: dict[str, object] = {
        "request_timeout": 5.0,
        "reconnect_base": 0.02,
        "reconnect_cap": 0.1,
    }
    options.update(kw)
    return OpenDClient(host, port, **options)  # type: ignore[arg-type]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(seed=7) as simulator:
        yield simulator


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[OpenDClient]:
    async with make_client(sim) as c:
        assert await c.wait_connected(5)
        yield c
    assert client_tasks_left() == []


async def account(client: OpenDClient, env: str, market: str) -> TrdAccount:
    accs = await client.get_acc_list()
    acc = next(a for a in accs if a.trd_env == env and market in a.trdmarket_authority)
    return acc.account(TrdMarket[market])


async def test_global_state(client: OpenDClient) -> None:
    state = await client.get_global_state()
    assert state.program_status_type == "READY"
    assert state.qot_logined is True and state.trd_logined is True
    assert state.conn_id == client.connection.info.conn_id  # type: ignore[union-attr]


async def test_quotes_match_the_simulated_market(sim: Simulator, client: OpenDClient) -> None:
    quotes = await client.get_stock_quote([HK, US, SH])
    assert [q.code for q in quotes] == ["HK.00700", "US.AAPL", "SH.600519"]
    snaps = await client.get_market_snapshot([HK, US, SH])
    assert [s.code for s in snaps] == ["HK.00700", "US.AAPL", "SH.600519"]
    for quote, snap in zip(quotes, snaps, strict=True):
        assert quote.name == snap.name == sim.state.securities[quote.code].name  # type: ignore[attr-defined, index]
        assert quote.last_price is not None and quote.last_price > 0
        assert snap.lot_size == sim.state.securities[snap.code].lot_size  # type: ignore[attr-defined, index]
    assert quotes[0].to_dict()["code"] == "HK.00700"


async def test_snapshot_batches_of_400(client: OpenDClient) -> None:
    rows = await client.get_market_snapshot([HK] * 401)
    assert len(rows) == 401
    assert {r.code for r in rows} == {"HK.00700"}


async def test_klines_current_and_history_paged(client: OpenDClient) -> None:
    bars = await client.get_cur_kline(HK, 20, KLType.K_DAY)
    assert len(bars) == 20
    assert bars == sorted(bars, key=lambda b: b.time_key or "")
    assert all(b.code == "HK.00700" and b.close for b in bars)
    history = await client.request_history_kline(
        HK, "2019-01-01", "2025-12-31", KLType.K_DAY, max_count=1500
    )
    assert len(history) == 1500  # more than one 1000-bar page
    keys = [b.time_key for b in history]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert keys[0].startswith("2019-01")  # type: ignore[union-attr]


async def test_book_ticker_rt_broker(client: OpenDClient) -> None:
    book = await client.get_order_book(HK, 5)
    assert len(book.bid) == len(book.ask) == 5
    assert book.bid[0].price < book.ask[0].price  # type: ignore[operator]
    ticks = await client.get_rt_ticker(HK, 30)
    assert 0 < len(ticks) <= 30 and all(t.price for t in ticks)
    rt = await client.get_rt_data(HK)
    assert rt and rt[0].code == "HK.00700"
    brokers = await client.get_broker_queue(HK)
    assert brokers.bid and brokers.ask and brokers.bid[0].broker_name
    held = {(str(c), t.name) for c, t in client.subscriptions}
    assert held == {
        ("HK.00700", "ORDER_BOOK"),
        ("HK.00700", "TICKER"),
        ("HK.00700", "RT_DATA"),
        ("HK.00700", "BROKER"),
    }


async def test_static_info_and_plates(sim: Simulator, client: OpenDClient) -> None:
    infos = await client.get_stock_basicinfo(codes=[HK, SH])
    assert [(i.code, i.lot_size) for i in infos] == [
        ("HK.00700", sim.state.securities["HK.00700"].lot_size),
        ("SH.600519", sim.state.securities["SH.600519"].lot_size),
    ]
    hk_stocks = await client.get_stock_basicinfo(QotMarket.HK, SecurityType.STOCK)
    assert hk_stocks and all(i.code.startswith("HK.") for i in hk_stocks)  # type: ignore[union-attr]
    plates = await client.get_plate_list(QotMarket.HK, Plate.INDUSTRY)
    internet = next(p for p in plates if p.plate_id == "BK1001")
    members = await client.get_plate_stock(parse_code(internet.code))  # type: ignore[arg-type]
    assert "HK.00700" in {m.code for m in members}


async def test_paper_trading_round_trip(sim: Simulator, client: OpenDClient) -> None:
    acc = await account(client, "SIMULATE", "HK")
    funds = await client.accinfo_query(acc)
    assert funds.cash is not None and funds.currency == "HKD"
    book = await client.get_order_book(HK, 5)
    low = book.bid[-1].price  # a valid tick below the ask: rests, does not fill
    assert low is not None
    placed = await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, low, "rt")
    order = sim.state.orders[int(placed.order_id)]  # type: ignore[arg-type]
    assert (order.qty, order.price, order.remark) == (100, low, "rt")
    listed = await client.order_list_query(acc, order_ids=[placed.order_id])  # type: ignore[list-item]
    assert [(o.order_id, o.trd_side, o.qty, o.code) for o in listed] == [
        (placed.order_id, "BUY", 100.0, "HK.00700")
    ]
    modified = await client.modify_order(
        acc,
        placed.order_id,
        ModifyOrderOp.NORMAL,
        200,
        low,  # type: ignore[arg-type]
    )
    assert modified.order_id == placed.order_id
    assert sim.state.orders[int(placed.order_id)].qty == 200  # type: ignore[arg-type]
    await client.modify_order(acc, placed.order_id_ex, ModifyOrderOp.CANCEL)  # type: ignore[arg-type]
    (cancelled,) = await client.order_list_query(acc, order_ids=[placed.order_id])  # type: ignore[list-item]
    assert cancelled.order_status == "CANCELLED_ALL"
    open_orders = await client.order_list_query(acc, status=[OrderStatus.SUBMITTED])
    assert placed.order_id not in {o.order_id for o in open_orders}
    await client.position_list_query(acc, codes=["HK.00700"])
    await client.deal_list_query(acc)


async def test_fill_shows_up_in_deals_and_positions(sim: Simulator, client: OpenDClient) -> None:
    acc = await account(client, "SIMULATE", "US")
    book = await client.get_order_book(US, 1)
    ask = book.ask[0].price
    before = {p.code: p.qty for p in await client.position_list_query(acc)}
    placed = await client.place_order(acc, US, TrdSide.BUY, OrderType.NORMAL, 1, ask)  # type: ignore[arg-type]
    deals = await client.deal_list_query(acc, codes=["US.AAPL"])
    assert placed.order_id in {d.order_id for d in deals}
    after = {p.code: p.qty for p in await client.position_list_query(acc)}
    assert after["US.AAPL"] == (before.get("US.AAPL") or 0) + 1


async def test_real_account_needs_unlock(client: OpenDClient) -> None:
    acc = await account(client, "REAL", "HK")
    with pytest.raises(OpenDError):
        await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, 1.0)
    with pytest.raises(OpenDError, match="incorrect"):
        await client.unlock_trade(hashlib.md5(b"wrong").hexdigest())
    # Sent lowercased: the sim, like OpenD, takes no other spelling of the digest.
    await client.unlock_trade(MD5.upper())
    placed = await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, 1.0)
    assert placed.order_id
    await client.unlock_trade(None, unlock=False)
    with pytest.raises(OpenDError):
        await client.modify_order(acc, placed.order_id, ModifyOrderOp.CANCEL)  # type: ignore[arg-type]


async def test_order_reply_lost_is_outcome_unknown_and_sent_once(
    sim: Simulator, client: OpenDClient
) -> None:
    acc = await account(client, "SIMULATE", "HK")
    before = len(sim.state.orders)
    sim.drop_after(ProtoId.TRD_PLACE_ORDER)
    with pytest.raises(OutcomeUnknown, match="check futu_get_orders"):
        await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, 1.0)
    assert len(sim.state.orders) == before + 1  # it did happen; nothing re-sent it
    await until(lambda: client.connected, what="reconnect")
    listed = await client.order_list_query(acc)
    assert len(listed) == before + 1
    # The next write carries the new connection's connID (the sim refuses any other).
    again = await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, 1.0)
    assert int(again.order_id) in sim.state.orders  # type: ignore[arg-type]


async def test_stalled_reply_times_out(sim: Simulator) -> None:
    async with make_client(sim, request_timeout=0.2) as client:
        assert await client.wait_connected(5)
        sim.stall(ProtoId.QOT_GET_SECURITY_SNAPSHOT)
        with pytest.raises(RequestTimeout):
            await client.get_market_snapshot([HK])
        sim.unstall()
        assert (await client.get_market_snapshot([HK]))[0].code == "HK.00700"


async def test_a_frozen_gateway_is_reported_within_the_timeout_and_its_link_dropped(
    sim: Simulator,
) -> None:
    """Every reply held (an OpenD that stopped answering): a read says so within the request
    timeout, the KeepAlive that timeout sends goes unanswered, and the link is dropped, failing
    every call still waiting at once; an order in flight is outcome unknown."""
    timeout = 1.0
    async with make_client(sim, request_timeout=timeout, keepalive_interval=60.0) as client:
        assert await client.wait_connected(5)
        acc = await account(client, "SIMULATE", "HK")
        first = client.connection
        sim.stall()
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(GatewayNotConnected, match=r"\(no reply within 1 s\)$"):
            await client.get_global_state()
        assert loop.time() - started < timeout + 0.3
        # The scenario, not a wait for a condition: these start half a timeout after the probe.
        await asyncio.sleep(timeout / 2)
        sent_at = loop.time()
        read_error, order_error = await asyncio.gather(
            client.get_stock_quote([HK]),
            client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, 1.0),
            return_exceptions=True,
        )
        failed_at = loop.time()
        assert failed_at - sent_at < timeout * 0.8, "they waited out their own timeout"
        assert isinstance(read_error, GatewayNotConnected)
        assert str(read_error).endswith(
            "(connection lost before the reply: no reply to KeepAlive within 1 s)"
        )
        assert isinstance(order_error, OutcomeUnknown)
        assert first is not None and first.closed
        with pytest.raises(GatewayNotConnected):  # at once now: no link to wait on
            await client.get_global_state()
        assert loop.time() - failed_at < 0.1
        sim.unstall()
        await until(lambda: client.connected, timeout=10, what="back")
        assert client.connection is not first
        assert (await client.get_global_state()) is not None


async def test_the_account_list_is_asked_once_per_link(sim: Simulator, client: OpenDClient) -> None:
    """Every account call needs the list; it is asked again only on a new link (or after
    ACC_LIST_TTL_S), so an account read costs OpenD one request, not two."""
    before = sim.requests_seen[ProtoId.TRD_GET_ACC_LIST]
    first = await client.get_acc_list()
    assert await client.get_acc_list() == first
    assert sim.requests_seen[ProtoId.TRD_GET_ACC_LIST] == before + 1
    link = client.connection
    sim.drop_connections()
    await until(lambda: client.connected and client.connection is not link, what="reconnect")
    assert await client.get_acc_list() == first
    assert sim.requests_seen[ProtoId.TRD_GET_ACC_LIST] == before + 2


async def test_reconnect_after_sim_stop_and_start(sim: Simulator, client: OpenDClient) -> None:
    first = client.connection
    await sim.stop()
    await until(lambda: not client.connected, what="down")
    with pytest.raises(GatewayNotConnected):
        await client.get_global_state()
    await sim.start()
    await until(lambda: client.connected, timeout=10, what="back")
    assert client.connection is not first and client.reconnects == 1
    assert (await client.get_stock_quote([HK]))[0].code == "HK.00700"  # re-subscribes


async def test_keepalive_keeps_an_idle_connection_open() -> None:
    async with Simulator(keepalive_interval=1, keepalive_timeout=1.5) as sim:
        async with make_client(sim) as client:
            assert await client.wait_connected(5)
            conn = client.connection
            assert conn is not None and conn.keepalive_interval == pytest.approx(0.8)
            await until(lambda: conn.keepalives_sent >= 3, timeout=10, what="3 keep-alives")
            assert client.connection is conn and client.reconnects == 0
            # Control: without keep-alives the same simulator drops an idle link.
        async with make_client(sim, keepalive_interval=60.0, dead_after=120.0) as silent:
            assert await silent.wait_connected(5)
            await until(lambda: silent.reconnects >= 1, timeout=10, what="dropped and back")


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_encryption_on_and_off(tmp_path: Path, encrypted: bool) -> None:
    key = None
    if encrypted:
        key = tmp_path / "opend.pem"
        key.write_bytes(generate_rsa_key_pem())
    async with Simulator(rsa_key_path=key) as sim, make_client(sim, rsa_key_path=key) as client:
        assert await client.wait_connected(5)
        assert (await client.get_stock_quote([HK]))[0].code == "HK.00700"
        acc = await account(client, "SIMULATE", "HK")
        placed = await client.place_order(acc, HK, TrdSide.BUY, OrderType.NORMAL, 100, 1.0)
        assert placed.order_id


async def test_plain_client_cannot_talk_to_encrypting_sim(tmp_path: Path) -> None:
    key = tmp_path / "opend.pem"
    key.write_bytes(generate_rsa_key_pem())
    async with Simulator(rsa_key_path=key) as sim, make_client(sim) as client:
        await until(lambda: client.last_error is not None, what="a reason")
        assert not client.connected


async def test_opend_subscription_quota_refusal_in_plain_words() -> None:
    async with Simulator(subscription_quota=1) as sim, make_client(sim) as client:
        assert await client.wait_connected(5)
        await client.get_stock_quote([HK])
        with pytest.raises(OpenDError) as exc:
            await client.get_stock_quote([US])
        assert str(exc.value).startswith("OpenD refused to subscribe QUOTE quotes for US.AAPL: ")


async def test_many_concurrent_calls_on_one_link(client: OpenDClient) -> None:
    calls = [client.get_market_snapshot([HK]) for _ in range(50)]
    calls += [client.get_stock_quote([US]) for _ in range(50)]
    results = await asyncio.gather(*calls)
    assert all(r and r[0].code in {"HK.00700", "US.AAPL"} for r in results)
    assert client.connection is not None and client.connection.in_flight == 0


async def test_trd_env_of_simulate_accounts(client: OpenDClient) -> None:
    accs = await client.get_acc_list()
    envs = {(a.trd_env, tuple(a.trdmarket_authority)) for a in accs}
    for market in ("HK", "US"):
        assert ("REAL", (market,)) in envs and ("SIMULATE", (market,)) in envs
    assert all(a.account().trd_env in (TrdEnv.REAL, TrdEnv.SIMULATE) for a in accs)
