"""The OpenD client futu-mcp and futucli use: one reconnecting link plus typed helpers.

`start()` returns at once and connects in the background, reconnecting with capped exponential
backoff and jitter whenever the link drops. While the link is down every call fails at once with
`GatewayNotConnected`. Quote calls subscribe what they need on their own; the rate-limited ones
(snapshots, history K-line, plates, market state, trading days, account queries) and order
writes pass a throttle mirroring OpenD's limits first, and order writes are never retried.
"""

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TypeVar

from opend import c2s
from opend.codes import QotMarket, Security
from opend.connection import Body, Connection, outcome_unknown
from opend.enums import (
    SUBTYPE_OF_KLTYPE,
    AuType,
    CashFlowDirection,
    Currency,
    KLType,
    ModifyOrderOp,
    OrderStatus,
    OrderType,
    Plate,
    SecurityFirm,
    SecurityType,
    SubType,
    TimeInForce,
    TradeDateMarket,
    TrdSide,
)
from opend.errors import GatewayNotConnected, OpenDError, ProtocolError, unreachable_advice
from opend.models import (
    BasicQot,
    BrokerQueue,
    CashFlow,
    Deal,
    Funds,
    GlobalState,
    KLine,
    MarginRatio,
    MarketStateInfo,
    MaxTrdQtys,
    ModifiedOrder,
    Order,
    OrderBook,
    OrderFee,
    PlacedOrder,
    PlateInfo,
    Position,
    Snapshot,
    StaticInfo,
    Ticker,
    TimeShare,
    TradingDay,
    TrdAcc,
    TrdAccount,
)
from opend.protoids import ProtoId
from opend.quotecache import QuoteCache
from opend.researchmodels import (
    CapitalDistribution,
    CapitalFlowItem,
    FilterPage,
    FutureInfo,
    Ipo,
    OptionContract,
    OptionExpiration,
    OwnerPlate,
    PriceReminder,
    Rehab,
    SecurityGroup,
    WarrantPage,
)
from opend.s2c import (
    parse_acc_list,
    parse_basic_qot,
    parse_capital_flow,
    parse_cash_flows,
    parse_deals,
    parse_funds,
    parse_future_infos,
    parse_ipos,
    parse_klines,
    parse_margin_ratios,
    parse_market_states,
    parse_max_trd_qtys,
    parse_option_chain,
    parse_option_expirations,
    parse_order_fees,
    parse_orders,
    parse_owner_plates,
    parse_plates,
    parse_positions,
    parse_price_reminders,
    parse_rehabs,
    parse_rt,
    parse_security_groups,
    parse_snapshots,
    parse_static_infos,
    parse_tickers,
    parse_trading_days,
)
from opend.subscriptions import OPEND_MIN_HOLD, Item, SubscriptionBook
from opend.throttle import OrderThrottle, QuoteThrottle, SendPermit
from opend.wire import opt_str

log = logging.getLogger(__name__)

T = TypeVar("T")
# How long one GetGlobalState answers "is OpenD logged in?" for `explain`, and how long a refused
# call may wait for it: refusals in a burst ask once, and none waits long for the answer.
LOGIN_STATE_TTL_S = 5.0
LOGIN_CHECK_TIMEOUT_S = 2.0
# How long one account list answers for its link: every account and trade call needs it, and it
# changes only when an account is opened or closed.
ACC_LIST_TTL_S = 30.0


def read_reply(parser: Callable[[Body], T], s2c: Body, *, write_proto: int | None = None) -> T:
    """Run a reply reader; a value of the wrong type becomes a `ProtocolError`, not a crash.

    For an order write (`write_proto`) it becomes `OutcomeUnknown`: the order may still exist.
    """
    try:
        return parser(s2c)
    except (ValueError, TypeError, AttributeError, KeyError, ArithmeticError) as exc:
        if write_proto is not None:
            raise outcome_unknown(write_proto, f"its reply could not be read ({exc})") from None
        raise ProtocolError(f"OpenD's reply has an unexpected value: {exc}") from None


class OpenDClient:
    """A long-lived, self-healing client for one OpenD gateway."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 11111,
        *,
        rsa_key_path: Path | None = None,
        client_id: str = "futu-mcp",
        request_timeout: float = 12.0,
        connect_timeout: float = 10.0,
        keepalive_interval: float | None = None,
        dead_after: float | None = None,
        reconnect_base: float = 0.5,
        reconnect_cap: float = 15.0,
        subscription_quota: int = 100,
        subscription_min_hold: float = OPEND_MIN_HOLD,
        subscription_idle: float = OPEND_MIN_HOLD,
        release_interval: float = 15.0,
        throttle: OrderThrottle | None = None,
        quote_throttle: QuoteThrottle | None = None,
        quote_cache_ttl: float = 2.0,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.keepalive_interval = keepalive_interval
        self.dead_after = dead_after
        self.reconnect_base = reconnect_base
        self.reconnect_cap = reconnect_cap
        self.release_interval = release_interval
        # Loaded now so a bad key file fails the caller at once, not every reconnect.
        self._rsa_key = None
        if rsa_key_path is not None:
            # Imported only with a key: cryptography is a measured part of start-up.
            from opend.crypto import load_rsa_key

            self._rsa_key = load_rsa_key(rsa_key_path)
        self._subs = SubscriptionBook(
            subscription_quota, min_hold=subscription_min_hold, idle_after=subscription_idle
        )
        self._subs_conn: Connection | None = None
        self._subs_lock = asyncio.Lock()
        self._throttle = throttle or OrderThrottle()
        self._quote_throttle = quote_throttle or QuoteThrottle()
        # Basic quotes pushed by OpenD: get_stock_quote answers from here when fresh (0 = off).
        self._quotes = QuoteCache(quote_cache_ttl)
        self._conn: Connection | None = None
        self._connected = asyncio.Event()
        self._attempted = asyncio.Event()  # set once the first connection attempt has ended
        self._runner: asyncio.Task[None] | None = None
        self._releaser: asyncio.Task[None] | None = None
        self._closing = False
        self.last_error: str | None = None
        self._login_warned: str | None = None
        # (monotonic time, login advice or None) from the latest GetGlobalState on any path.
        self._login_seen: tuple[float, str | None] | None = None
        self._login_check: asyncio.Future[str | None] | None = None  # shared by login_advice
        self._accounts: tuple[Connection, float, list[TrdAcc]] | None = None  # link, when, list
        self.reconnects = 0
        self.on_state_change: Callable[[bool], None] | None = None

    # ---- lifecycle -----------------------------------------------------------------------

    @property
    def address(self) -> str:
        """`host:port` of the gateway, as shown in errors."""
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        """True while a link with a completed InitConnect is up."""
        return self._conn is not None and not self._conn.closed

    @property
    def connection(self) -> Connection | None:
        """The current link (tests and metrics inspect it), or None while down."""
        return self._conn if self.connected else None

    async def start(self) -> None:
        """Begin connecting in the background; returns at once."""
        if self._runner is None:
            self._closing = False
            self._runner = asyncio.create_task(self._run(), name=f"opend-client {self.address}")
            self._releaser = asyncio.create_task(
                self._release_loop(), name=f"opend-unsubscribe {self.address}"
            )

    async def wait_connected(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the link; True if it is up."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        return self.connected

    async def wait_first_attempt(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the first connection attempt to succeed or fail
        (a call made just after start-up learns why OpenD is unreachable without waiting out
        the timeout); True if the link is up."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._attempted.wait()
        return self.connected

    async def close(self) -> None:
        """Stop reconnecting, close the link and wait for every background task to end."""
        self._closing = True
        tasks = [t for t in (self._runner, self._releaser, self._login_check) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._runner = self._releaser = self._login_check = None
        conn, self._conn = self._conn, None
        self._quotes.clear()
        if conn is not None:
            await conn.aclose("client closed")
        self._set_state(False)

    async def __aenter__(self) -> "OpenDClient":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _set_state(self, up: bool) -> None:
        if up:
            self._connected.set()
        else:
            self._connected.clear()
        if self.on_state_change is not None:
            try:
                self.on_state_change(up)
            except Exception:
                log.exception("on_state_change hook failed")

    def _backoff(self, attempt: int) -> float:
        """Capped exponential delay with jitter, so many clients don't reconnect in lockstep.

        The exponent is capped too: OpenD may be down for a weekend, and 2.0**1024 overflows.
        """
        delay = min(self.reconnect_cap, self.reconnect_base * 2 ** min(attempt, 32))
        return delay * random.uniform(0.5, 1.0)

    async def _run(self) -> None:
        attempt = 0
        ever_connected = False
        while not self._closing:
            try:
                conn = await Connection.open(
                    self.host,
                    self.port,
                    client_id=self.client_id,
                    rsa_key=self._rsa_key,
                    connect_timeout=self.connect_timeout,
                    request_timeout=self.request_timeout,
                    keepalive_interval=self.keepalive_interval,
                    dead_after=self.dead_after,
                )
            except Exception as exc:
                reason = exc.reason if isinstance(exc, GatewayNotConnected) else repr(exc)
                if not ever_connected and attempt == 0:
                    # The one line a person starting us with a wrong address or no OpenD reads.
                    log.warning(
                        "%s; retrying in the background", unreachable_advice(self.address, reason)
                    )
                elif reason != self.last_error:
                    # Warned already (before the first link) or the loss was logged; a new
                    # reason is worth a line, the same one on every retry is not.
                    log.log(
                        logging.WARNING if ever_connected else logging.INFO,
                        "OpenD %s not reachable: %s",
                        self.address,
                        reason,
                    )
                self.last_error = reason
                self._attempted.set()
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1
                continue
            if self._closing:
                await conn.aclose("client closed")
                return
            attempt = 0
            conn.on_push = functools.partial(self._on_push, conn)
            self._conn = conn
            self.last_error = None
            if ever_connected:
                self.reconnects += 1
            ever_connected = True
            log.info("connected to OpenD %s (connID %s)", self.address, conn.info.conn_id)
            self._set_state(True)
            self._attempted.set()
            login_check = asyncio.create_task(
                self._check_login(conn), name=f"opend-login-check {self.address}"
            )
            try:
                await conn.wait_closed()
            finally:
                login_check.cancel()
                await asyncio.gather(login_check, return_exceptions=True)
                await conn.aclose()
            self.last_error = conn.close_reason
            if self._conn is conn:
                self._conn = None
            self._quotes.clear()
            self._set_state(False)
            log.warning("link to OpenD %s lost: %s", self.address, conn.close_reason)
            await asyncio.sleep(self._backoff(0))

    async def _check_login(self, conn: Connection) -> None:
        """Once per link: warn when OpenD is up but not logged in to Futu, the case where every
        quote and trade request fails with a message that does not say why."""
        try:
            s2c = await conn.request(
                ProtoId.GET_GLOBAL_STATE, c2s.get_global_state(conn.info.login_user_id)
            )
            advice = read_reply(GlobalState.from_wire, s2c).login_advice(self.address)
        except OpenDError as exc:
            log.debug("OpenD %s: no global state after connecting: %s", self.address, exc)
            return
        self._login_seen = (time.monotonic(), advice)
        if advice is not None and advice != self._login_warned:
            log.warning("%s", advice)
        self._login_warned = advice

    def _live(self) -> Connection:
        """The current link, or GatewayNotConnected at once."""
        conn = self._conn
        if conn is None or conn.closed:
            reason = self.last_error or ("not started" if self._runner is None else "connecting")
            raise GatewayNotConnected(self.address, reason)
        return conn

    async def request(self, proto_id: int, body: Body, *, write: bool = False) -> Body:
        """Send a raw request on the current link and return the `s2c` object."""
        return await self._live().request(proto_id, body, write=write)

    # ---- subscriptions -------------------------------------------------------------------

    def _book_for(self, conn: Connection) -> SubscriptionBook:
        if self._subs_conn is not conn:
            self._subs.reset()
            self._subs_conn = conn
        return self._subs

    async def _subscribe(self, conn: Connection, items: list[Item]) -> None:
        """Make sure `items` are subscribed on `conn`, releasing idle ones if the quota is full."""
        book = self._book_for(conn)
        if not book.missing(items):
            book.touch(items)
            return
        async with self._subs_lock:
            book = self._book_for(conn)
            add, release = book.plan(items)
            if release:
                # Forgotten before the request: a concurrent quote call must not rely on them.
                self._forget(book, release)
                await self._sub_request(conn, release, subscribe=False)
            if add:
                await self._sub_request(conn, add, subscribe=True)
                book.added(add)
            book.touch(items)

    def _forget(self, book: SubscriptionBook, items: list[Item]) -> None:
        """Drop pairs from the book, and their cached quotes: no pushes keep those fresh now."""
        book.removed(items)
        self._quotes.discard(code for code, sub_type in items if sub_type is SubType.QUOTE)

    def _on_push(self, conn: Connection, proto_id: int, s2c: Body) -> None:
        """Keep the latest pushed basic quotes of the live link, for codes still subscribed (a
        push racing an unsubscribe must not bring back a quote nothing will refresh)."""
        if proto_id != ProtoId.QOT_UPDATE_BASIC_QOT or conn is not self._conn or conn.closed:
            return
        held = {
            str(code) for code, sub_type in self._book_for(conn).held() if sub_type is SubType.QUOTE
        }
        quotes = read_reply(parse_basic_qot, s2c)
        self._quotes.put(conn, [q for q in quotes if q.code in held])

    async def _sub_request(self, conn: Connection, items: list[Item], *, subscribe: bool) -> None:
        # One Qot_Sub per subscription type: OpenD subscribes the cross product of the lists.
        by_type: dict[SubType, list[Security]] = {}
        for code, sub_type in items:
            by_type.setdefault(sub_type, []).append(code)
        for sub_type, codes in by_type.items():
            # QUOTE pushes feed the quote cache; other types are read by request only.
            push = subscribe and sub_type is SubType.QUOTE
            body = c2s.qot_sub(codes, [sub_type], subscribe, push=push)
            try:
                await conn.request(ProtoId.QOT_SUB, body)
            except GatewayNotConnected:
                raise
            except OpenDError as exc:
                verb = "subscribe" if subscribe else "unsubscribe"
                names = ", ".join(str(c) for c in codes[:5]) + (" ..." if len(codes) > 5 else "")
                raise OpenDError(
                    f"OpenD refused to {verb} {sub_type.name} quotes for {names}: {exc.message}",
                    ret_type=exc.ret_type,
                    err_code=exc.err_code,
                    proto_id=ProtoId.QOT_SUB,
                ) from None

    async def _release_loop(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.release_interval)
            await self.release_idle_subscriptions()

    async def release_idle_subscriptions(self) -> int:
        """Unsubscribe pairs unused past the idle time (and held OpenD's minute); how many."""
        conn = self._conn
        if conn is None or conn.closed:
            return 0
        async with self._subs_lock:
            book = self._book_for(conn)
            idle = book.idle()
            if not idle:
                return 0
            # Forgotten before the request: a quote call arriving meanwhile waits for the lock
            # and subscribes again rather than reading an item being unsubscribed.
            self._forget(book, idle)
            try:
                await self._sub_request(conn, idle, subscribe=False)
            except OpenDError as exc:
                log.warning("releasing idle subscriptions failed: %s", exc)
                return 0
            return len(idle)

    @property
    def subscriptions(self) -> list[tuple[Security, SubType]]:
        """What this client holds on the current link (for tests and metrics)."""
        conn = self._conn
        return self._book_for(conn).held() if conn is not None else []

    async def _limited(self, proto_id: int, body: Body, acc_id: int | None = None) -> Body:
        """Send one request of a rate-limited query protocol (for `acc_id` when OpenD counts
        it per account): counted first, refused with `Throttled` (nothing sent) when OpenD's
        window for it is full."""
        conn = self._live()
        self._quote_throttle.book(proto_id, acc_id=acc_id)
        return await conn.request(proto_id, body)

    async def _quote(self, proto_id: int, body: Body, items: list[Item]) -> Body:
        conn = self._live()
        await self._subscribe(conn, items)
        return await conn.request(proto_id, body)

    # ---- system --------------------------------------------------------------------------

    async def get_global_state(self) -> GlobalState:
        """GetGlobalState: logged in? ready? market sessions (what futu_ping reports)."""
        conn = self._live()
        s2c = await conn.request(
            ProtoId.GET_GLOBAL_STATE, c2s.get_global_state(conn.info.login_user_id)
        )
        state = read_reply(GlobalState.from_wire, s2c)
        self._login_seen = (time.monotonic(), state.login_advice(self.address))
        return state

    async def explain(self, exc: OpenDError) -> str:
        """OpenD's message for a refused request, plus what to do when the cause is that OpenD
        is not logged in to Futu: its own refusals rarely say so. Only OpenD's refusals are
        explained, not our throttles, timeouts or unreadable replies."""
        if type(exc) is not OpenDError:
            return exc.message
        advice = await self.login_advice()
        return exc.message if advice is None else f"{exc.message}; {advice}"

    async def login_advice(self) -> str | None:
        """What to do when OpenD is up but not logged in to Futu; None when it is logged in or
        cannot say. Meant for error paths, never waited on for more than LOGIN_CHECK_TIMEOUT_S.

        "Logged in" is trusted for LOGIN_STATE_TTL_S; "not logged in" is asked again every time,
        so the advice stops the moment the person has logged OpenD in (it must never blame a
        login that is already fixed). Refusals arriving together share one GetGlobalState.
        """
        seen = self._login_seen
        if seen is not None and seen[1] is None and time.monotonic() - seen[0] <= LOGIN_STATE_TTL_S:
            return None
        check = self._login_check
        if check is None or check.done():
            check = self._login_check = asyncio.ensure_future(self._ask_login_state())
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation. The
            # shared check is shielded: one caller giving up does not cancel it for the others.
            async with asyncio.timeout(LOGIN_CHECK_TIMEOUT_S):
                return await asyncio.shield(check)
        except TimeoutError:
            return None

    async def _ask_login_state(self) -> str | None:
        try:
            await self.get_global_state()
        except OpenDError:
            return None
        seen = self._login_seen
        return seen[1] if seen is not None else None

    # ---- quotes --------------------------------------------------------------------------

    async def get_stock_quote(self, codes: Sequence[Security]) -> list[BasicQot]:
        """Basic quotes (subscribes QUOTE, with pushes, for each code first).

        Served from the push-fed cache without a round trip when every code has a quote younger
        than the cache TTL from the live link; otherwise one request for all of them.
        """
        body = c2s.basic_qot(codes)
        items = [(c, SubType.QUOTE) for c in codes]
        conn = self._live()
        book = self._book_for(conn)
        if not book.missing(items):
            cached = self._quotes.get(conn, codes)
            if cached is not None:
                book.touch(items)
                return cached
        await self._subscribe(conn, items)
        sent = self._quotes.clock()
        s2c = await conn.request(ProtoId.QOT_GET_BASIC_QOT, body)
        quotes = read_reply(parse_basic_qot, s2c)
        if conn is self._conn and not conn.closed and not self._book_for(conn).missing(items):
            self._quotes.put(conn, quotes, at=sent)
        return quotes

    async def get_cur_kline(
        self, code: Security, num: int, ktype: KLType = KLType.K_DAY, autype: AuType = AuType.QFQ
    ) -> list[KLine]:
        """The latest `num` bars (subscribes the matching K-line type first)."""
        body = c2s.get_kl(code, num, ktype, autype)
        s2c = await self._quote(ProtoId.QOT_GET_KL, body, [(code, SUBTYPE_OF_KLTYPE[ktype])])
        return read_reply(parse_klines, s2c)

    async def request_history_kline(
        self,
        code: Security,
        start: str | None = None,
        end: str | None = None,
        ktype: KLType = KLType.K_DAY,
        autype: AuType = AuType.QFQ,
        max_count: int = 1000,
    ) -> list[KLine]:
        """Historical bars in [start, end], following OpenD's pages up to `max_count` bars.

        Only the first page counts against OpenD's request limit; the pages after it do not.
        """
        if max_count < 1:
            raise ValueError(f"max_count must be at least 1, got {max_count}")
        bars: list[KLine] = []
        next_key: str | None = None
        while len(bars) < max_count:
            page = min(c2s.MAX_KL_PAGE, max_count - len(bars))
            body = c2s.request_history_kl(code, start, end, ktype, autype, page, next_key)
            if next_key is None:
                s2c = await self._limited(ProtoId.QOT_REQUEST_HISTORY_KL, body)
            else:
                s2c = await self.request(ProtoId.QOT_REQUEST_HISTORY_KL, body)
            rows = read_reply(parse_klines, s2c)
            bars.extend(rows)
            next_key = opt_str(s2c.get("nextReqKey"))
            if not next_key or not rows:  # an empty page must not loop forever
                break
        return bars[:max_count]

    async def get_order_book(self, code: Security, num: int = 10) -> OrderBook:
        """Bid/ask levels (subscribes ORDER_BOOK first)."""
        body = c2s.order_book(code, num)
        s2c = await self._quote(ProtoId.QOT_GET_ORDER_BOOK, body, [(code, SubType.ORDER_BOOK)])
        return read_reply(OrderBook.from_wire, s2c)

    async def get_rt_ticker(self, code: Security, num: int = 500) -> list[Ticker]:
        """The latest trades (subscribes TICKER first)."""
        body = c2s.ticker(code, num)
        s2c = await self._quote(ProtoId.QOT_GET_TICKER, body, [(code, SubType.TICKER)])
        return read_reply(parse_tickers, s2c)

    async def get_rt_data(self, code: Security) -> list[TimeShare]:
        """Today's time-sharing data (subscribes RT_DATA first)."""
        s2c = await self._quote(ProtoId.QOT_GET_RT, c2s.rt(code), [(code, SubType.RT_DATA)])
        return read_reply(parse_rt, s2c)

    async def get_broker_queue(self, code: Security) -> BrokerQueue:
        """HK broker queue (subscribes BROKER first)."""
        s2c = await self._quote(ProtoId.QOT_GET_BROKER, c2s.broker(code), [(code, SubType.BROKER)])
        return read_reply(BrokerQueue.from_wire, s2c)

    async def get_market_snapshot(self, codes: Sequence[Security]) -> list[Snapshot]:
        """Snapshots, in batches of at most 400 codes (no subscription needed).

        Every batch is counted against OpenD's request limit before the first is sent, so a
        call is refused whole rather than cut off after some batches.
        """
        if not codes:
            raise ValueError("give at least one code")
        bodies = [
            c2s.snapshot(codes[start : start + c2s.SNAPSHOT_BATCH])
            for start in range(0, len(codes), c2s.SNAPSHOT_BATCH)
        ]
        conn = self._live()
        self._quote_throttle.book(ProtoId.QOT_GET_SECURITY_SNAPSHOT, len(bodies))
        rows: list[Snapshot] = []
        for body in bodies:
            s2c = await conn.request(ProtoId.QOT_GET_SECURITY_SNAPSHOT, body)
            rows.extend(read_reply(parse_snapshots, s2c))
        return rows

    async def get_stock_basicinfo(
        self,
        market: QotMarket | None = None,
        sec_type: SecurityType | None = SecurityType.STOCK,
        codes: Sequence[Security] | None = None,
    ) -> list[StaticInfo]:
        """Static info of some codes, or of every security of a market and type."""
        s2c = await self.request(
            ProtoId.QOT_GET_STATIC_INFO, c2s.static_info(market, sec_type, codes)
        )
        return read_reply(parse_static_infos, s2c)

    async def get_plate_list(
        self, market: QotMarket, plate_class: Plate = Plate.ALL
    ) -> list[PlateInfo]:
        """Plates (sectors, concepts, regions) of a market."""
        s2c = await self._limited(ProtoId.QOT_GET_PLATE_SET, c2s.plate_set(market, plate_class))
        return read_reply(parse_plates, s2c)

    async def get_plate_stock(self, plate: Security) -> list[StaticInfo]:
        """The securities in a plate."""
        s2c = await self._limited(ProtoId.QOT_GET_PLATE_SECURITY, c2s.plate_security(plate))
        return read_reply(parse_static_infos, s2c)

    async def get_market_state(self, codes: Sequence[Security]) -> list[MarketStateInfo]:
        """The session each code's market is in now (1 to 400 codes)."""
        s2c = await self._limited(ProtoId.QOT_GET_MARKET_STATE, c2s.market_state(codes))
        return read_reply(parse_market_states, s2c)

    async def request_trading_days(
        self,
        market: TradeDateMarket | None = None,
        start: str | None = None,
        end: str | None = None,
        code: Security | None = None,
    ) -> list[TradingDay]:
        """Trading days of a market (or of a code's market), by default the last 365 days."""
        body = c2s.trade_date(market, start, end, code)
        return read_reply(
            parse_trading_days, await self._limited(ProtoId.QOT_REQUEST_TRADE_DATE, body)
        )

    # ---- derivatives, research, watchlists -----------------------------------------------

    async def get_option_expiration_date(self, owner: Security) -> list[OptionExpiration]:
        """The listed expiries of an underlying's options, nearest first."""
        s2c = await self._limited(
            ProtoId.QOT_GET_OPTION_EXPIRATION_DATE, c2s.option_expiration_date(owner)
        )
        return read_reply(parse_option_expirations, s2c)

    async def get_option_chain(
        self,
        owner: Security,
        begin: date,
        end: date,
        option_type: int = 0,
        condition: int = 0,
        data_filter: dict[str, float] | None = None,
    ) -> list[OptionContract]:
        """The option series expiring from `begin` to `end` (at most 30 days apart)."""
        body = c2s.option_chain(owner, begin, end, option_type, condition, data_filter)
        s2c = await self._limited(ProtoId.QOT_GET_OPTION_CHAIN, body)
        return read_reply(parse_option_chain, s2c)

    async def get_warrant(
        self,
        owner: Security | None = None,
        begin: int = 0,
        num: int = c2s.MAX_WARRANT_PAGE,
        sort_field: int = 1,
        ascend: bool = True,
        types: Sequence[int] = (),
        issuers: Sequence[int] = (),
    ) -> WarrantPage:
        """A page of HK warrants and CBBCs."""
        body = c2s.warrant(owner, begin, num, sort_field, ascend, types, issuers)
        s2c = await self._limited(ProtoId.QOT_GET_WARRANT, body)
        return read_reply(WarrantPage.from_wire, s2c)

    async def get_future_info(self, codes: Sequence[Security]) -> list[FutureInfo]:
        """Contract terms and sessions of futures."""
        s2c = await self._limited(ProtoId.QOT_GET_FUTURE_INFO, c2s.future_info(codes))
        return read_reply(parse_future_infos, s2c)

    async def get_referencestock_list(
        self, code: Security, reference_type: int
    ) -> list[StaticInfo]:
        """An underlying's warrants (1), or a futures main contract's months (2). OpenD does not
        count warrant lookups against the protocol's limit."""
        body = c2s.reference(code, reference_type)
        if reference_type == 1:
            s2c = await self.request(ProtoId.QOT_GET_REFERENCE, body)
        else:
            s2c = await self._limited(ProtoId.QOT_GET_REFERENCE, body)
        return read_reply(parse_static_infos, s2c)

    async def get_capital_flow(
        self,
        code: Security,
        period_type: int = 1,
        begin: date | None = None,
        end: date | None = None,
    ) -> list[CapitalFlowItem]:
        """Net capital inflow: today by minute, or by day, week or month."""
        body = c2s.capital_flow(code, period_type, begin, end)
        s2c = await self._limited(ProtoId.QOT_GET_CAPITAL_FLOW, body)
        return read_reply(parse_capital_flow, s2c)

    async def get_capital_distribution(self, code: Security) -> CapitalDistribution:
        """Today's inflow and outflow by order size."""
        s2c = await self._limited(
            ProtoId.QOT_GET_CAPITAL_DISTRIBUTION, c2s.capital_distribution(code)
        )
        return read_reply(CapitalDistribution.from_wire, s2c)

    async def get_owner_plate(self, codes: Sequence[Security]) -> list[OwnerPlate]:
        """The plates each security belongs to, one row per (security, plate)."""
        s2c = await self._limited(ProtoId.QOT_GET_OWNER_PLATE, c2s.owner_plate(codes))
        return read_reply(parse_owner_plates, s2c)

    async def get_ipo_list(self, market: QotMarket) -> list[Ipo]:
        """A market's coming IPOs."""
        s2c = await self._limited(ProtoId.QOT_GET_IPO_LIST, c2s.ipo_list(market))
        return read_reply(parse_ipos, s2c)

    async def get_stock_filter(
        self,
        market: QotMarket,
        conditions: Sequence[Body],
        plate: Security | None = None,
        begin: int = 0,
        num: int = c2s.MAX_FILTER_PAGE,
    ) -> FilterPage:
        """A page of the market's stocks meeting every condition (see `c2s.stock_filter`)."""
        body = c2s.stock_filter(market, conditions, plate, begin, num)
        s2c = await self._limited(ProtoId.QOT_STOCK_FILTER, body)
        return read_reply(FilterPage.from_wire, s2c)

    async def get_rehab(self, code: Security) -> list[Rehab]:
        """A security's corporate actions and their adjustment factors."""
        s2c = await self._limited(ProtoId.QOT_REQUEST_REHAB, c2s.rehab(code))
        return read_reply(parse_rehabs, s2c)

    async def get_user_security_group(self, group_type: int = 3) -> list[SecurityGroup]:
        """The watchlist groups: custom (1), system (2) or all (3)."""
        s2c = await self._limited(
            ProtoId.QOT_GET_USER_SECURITY_GROUP, c2s.user_security_group(group_type)
        )
        return read_reply(parse_security_groups, s2c)

    async def get_user_security(self, group_name: str) -> list[StaticInfo]:
        """The securities of a watchlist group."""
        s2c = await self._limited(ProtoId.QOT_GET_USER_SECURITY, c2s.user_security(group_name))
        return read_reply(parse_static_infos, s2c)

    async def get_price_reminder(
        self, code: Security | None = None, market: QotMarket | None = None
    ) -> list[PriceReminder]:
        """The price reminders of a security, or of a market."""
        s2c = await self._limited(ProtoId.QOT_GET_PRICE_REMINDER, c2s.price_reminder(code, market))
        return read_reply(parse_price_reminders, s2c)

    # ---- trade ---------------------------------------------------------------------------

    async def get_acc_list(self) -> list[TrdAcc]:
        """Every trading account OpenD's user has (real and paper); one answer serves its link
        for ACC_LIST_TTL_S, so an account call costs OpenD one request, not two."""
        conn = self._live()
        cached = self._accounts
        if (
            cached is not None
            and cached[0] is conn
            and time.monotonic() - cached[1] < ACC_LIST_TTL_S
        ):
            return list(cached[2])
        s2c = await conn.request(ProtoId.TRD_GET_ACC_LIST, c2s.acc_list(conn.info.login_user_id))
        accounts = read_reply(parse_acc_list, s2c)
        self._accounts = (conn, time.monotonic(), accounts)
        return list(accounts)

    async def unlock_trade(
        self,
        pwd_md5: str | None,
        unlock: bool = True,
        security_firm: SecurityFirm | None = None,
    ) -> None:
        """Unlock (or lock) real trading on the whole OpenD instance; the MD5 is never logged."""
        await self.request(
            ProtoId.TRD_UNLOCK_TRADE, c2s.unlock_trade(unlock, pwd_md5, security_firm)
        )

    async def accinfo_query(self, acc: TrdAccount, currency: Currency | None = None) -> Funds:
        """Funds of one account."""
        s2c = await self.request(ProtoId.TRD_GET_FUNDS, c2s.funds(acc, currency))
        return read_reply(parse_funds, s2c)

    async def position_list_query(
        self, acc: TrdAccount, codes: Sequence[Security | str] = ()
    ) -> list[Position]:
        """Positions of one account."""
        s2c = await self.request(ProtoId.TRD_GET_POSITION_LIST, c2s.position_list(acc, codes))
        return read_reply(parse_positions, s2c)

    async def order_list_query(
        self,
        acc: TrdAccount,
        order_ids: Sequence[str] = (),
        status: Sequence[OrderStatus] = (),
        codes: Sequence[Security | str] = (),
    ) -> list[Order]:
        """Today's orders of one account."""
        body = c2s.order_list(acc, order_ids, status, codes)
        return read_reply(parse_orders, await self.request(ProtoId.TRD_GET_ORDER_LIST, body))

    async def deal_list_query(
        self, acc: TrdAccount, codes: Sequence[Security | str] = ()
    ) -> list[Deal]:
        """Today's fills of one account."""
        body = c2s.order_fill_list(acc, codes)
        return read_reply(parse_deals, await self.request(ProtoId.TRD_GET_ORDER_FILL_LIST, body))

    async def history_order_list_query(
        self,
        acc: TrdAccount,
        start: str | None = None,
        end: str | None = None,
        status: Sequence[OrderStatus] = (),
        codes: Sequence[Security | str] = (),
    ) -> list[Order]:
        """Orders created in a date range (by default the last 90 days), newest first."""
        body = c2s.history_order_list(acc, start, end, status, codes)
        s2c = await self._limited(ProtoId.TRD_GET_HISTORY_ORDER_LIST, body, acc.acc_id)
        return read_reply(parse_orders, s2c)

    async def history_deal_list_query(
        self,
        acc: TrdAccount,
        start: str | None = None,
        end: str | None = None,
        codes: Sequence[Security | str] = (),
    ) -> list[Deal]:
        """Fills in a date range (by default the last 90 days), newest first; real accounts
        only (OpenD refuses paper accounts)."""
        body = c2s.history_order_fill_list(acc, start, end, codes)
        s2c = await self._limited(ProtoId.TRD_GET_HISTORY_ORDER_FILL_LIST, body, acc.acc_id)
        return read_reply(parse_deals, s2c)

    async def acctradinginfo_query(
        self,
        acc: TrdAccount,
        order_type: OrderType,
        code: Security,
        price: float,
        order_id: str | None = None,
    ) -> MaxTrdQtys:
        """The most an order of this type at this price could buy (with cash, with margin) or
        sell; with `order_id`, for modifying that order."""
        body = c2s.max_trd_qtys(acc, order_type, code, price, order_id)
        s2c = await self._limited(ProtoId.TRD_GET_MAX_TRD_QTYS, body, acc.acc_id)
        return read_reply(parse_max_trd_qtys, s2c)

    async def order_fee_query(self, acc: TrdAccount, order_ids_ex: Sequence[str]) -> list[OrderFee]:
        """The fee items of orders, named by their orderIDEx; real accounts only."""
        body = c2s.order_fee(acc, order_ids_ex)
        s2c = await self._limited(ProtoId.TRD_GET_ORDER_FEE, body, acc.acc_id)
        return read_reply(parse_order_fees, s2c)

    async def get_margin_ratio(
        self, acc: TrdAccount, codes: Sequence[Security]
    ) -> list[MarginRatio]:
        """Margin data (may it be bought on margin or sold short, at which ratios) of 1 to 100
        codes; real HK and US accounts only."""
        body = c2s.margin_ratio(acc, codes)
        return read_reply(
            parse_margin_ratios, await self._limited(ProtoId.TRD_GET_MARGIN_RATIO, body)
        )

    async def get_acc_cash_flow(
        self,
        acc: TrdAccount,
        clearing_date: str,
        direction: CashFlowDirection = CashFlowDirection.NONE,
    ) -> list[CashFlow]:
        """Cash movements of one clearing day (YYYY-MM-DD); real accounts only."""
        body = c2s.flow_summary(acc, clearing_date, direction)
        s2c = await self._limited(ProtoId.TRD_FLOW_SUMMARY, body, acc.acc_id)
        return read_reply(parse_cash_flows, s2c)

    async def place_order(
        self,
        acc: TrdAccount,
        code: Security,
        trd_side: TrdSide,
        order_type: OrderType,
        qty: float,
        price: float,
        remark: str | None = None,
        time_in_force: TimeInForce = TimeInForce.DAY,
    ) -> PlacedOrder:
        """Place one order. Never retried: a lost reply raises `OutcomeUnknown`."""
        return await self._write_order(
            ProtoId.TRD_PLACE_ORDER,
            self._throttle.place(acc.acc_id),
            lambda packet: c2s.place_order(
                packet, acc, code, trd_side, order_type, qty, price, remark, time_in_force
            ),
            PlacedOrder.from_wire,
        )

    async def modify_order(
        self,
        acc: TrdAccount,
        order_id: str,
        op: ModifyOrderOp,
        qty: float | None = None,
        price: float | None = None,
    ) -> ModifiedOrder:
        """Modify or cancel (op=CANCEL) one order. Never retried."""
        return await self._write_order(
            ProtoId.TRD_MODIFY_ORDER,
            self._throttle.modify(acc.acc_id),
            lambda packet: c2s.modify_order(packet, acc, order_id, op, qty, price),
            ModifiedOrder.from_wire,
        )

    async def _write_order(
        self,
        proto_id: int,
        turn: contextlib.AbstractAsyncContextManager[SendPermit],
        build: Callable[[Body], Body],
        parser: Callable[[Body], T],
    ) -> T:
        """Send one order write once: checked, then the account's turn, then the request."""
        conn = self._live()
        # Built once without a PacketID first: a bad argument raises before a throttle slot
        # is booked (the turn books only when entered).
        build({})
        async with turn as permit:
            serial = conn.next_serial()
            body = build(c2s.packet_id(conn.info.conn_id, serial))
            s2c = await conn.request(proto_id, body, serial=serial, write=True, on_sent=permit.sent)
        return read_reply(parser, s2c, write_proto=proto_id)
