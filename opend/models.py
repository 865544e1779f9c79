"""Typed results of OpenD calls, with the official SDK's field names and enum spellings.

Each model reads one OpenD JSON object (`from_wire`) tolerantly (int64 as string or number, both
spellings of `td_*` fields, absent optional fields as None) and `to_dict()` gives JSON-plain
values: what the MCP tools hand back, so Futu's docs describe them.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any, Self

from opend.codes import QotMarket, TrdMarket, TrdSecMarket
from opend.enums import (
    CashFlowDirection,
    CltRiskLevel,
    CltRiskStatus,
    Currency,
    DarkStatus,
    DealStatus,
    ExchType,
    OptionType,
    OrderStatus,
    OrderType,
    Plate,
    PositionSide,
    ProgramStatusType,
    PushDataType,
    QotMarketState,
    SecurityFirm,
    SecurityStatus,
    SecurityType,
    Session,
    SimAccType,
    TickerDirect,
    TickerType,
    TimeInForce,
    TradeDateType,
    TrdAccRole,
    TrdAccType,
    TrdEnv,
    TrdSide,
    WrtType,
)
from opend.wire import (
    code_of,
    enum_name,
    id_str,
    opt_bool,
    opt_float,
    opt_int,
    opt_quantity,
    opt_str,
)

Wire = dict[str, Any]


class Model:
    """Base of every result: `to_dict()` is the JSON-ready form."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (nested models and lists included) that `json.dumps` accepts as is."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]


def _either(obj: Wire, *names: str) -> Any:
    """First present key among `names` (proto name and JSON name of the same field)."""
    for name in names:
        if name in obj:
            return obj[name]
    return None


def _trd_market_name(value: Any) -> str | None:
    return enum_name(TrdMarket, value)


@dataclass(frozen=True, slots=True)
class TrdAccount(Model):
    """The account a trade call is for: OpenD's TrdHeader (env, account id, market)."""

    trd_env: TrdEnv
    acc_id: int
    trd_market: TrdMarket

    def to_wire(self) -> Wire:
        """The `Trd_Common.TrdHeader` JSON object (accID as a string, uint64)."""
        return {
            "trdEnv": int(self.trd_env),
            "accID": str(self.acc_id),
            "trdMarket": int(self.trd_market),
        }


@dataclass(frozen=True, slots=True)
class InitInfo(Model):
    """What InitConnect told us about this connection."""

    server_ver: int
    login_user_id: int
    conn_id: int
    conn_aes_key: str
    keep_alive_interval: int
    aes_cbc_iv: str | None

    @classmethod
    def from_wire(cls, s2c: Wire) -> "InitInfo":
        """Read InitConnect.S2C."""
        return cls(
            server_ver=opt_int(s2c.get("serverVer")) or 0,
            login_user_id=opt_int(s2c.get("loginUserID")) or 0,
            conn_id=opt_int(s2c.get("connID")) or 0,
            conn_aes_key=opt_str(s2c.get("connAESKey")) or "",
            keep_alive_interval=opt_int(s2c.get("keepAliveInterval")) or 0,
            aes_cbc_iv=opt_str(s2c.get("aesCBCiv")),
        )


@dataclass(frozen=True, slots=True)
class GlobalState(Model):
    """GetGlobalState: is OpenD logged in and ready, and which sessions the markets are in."""

    market_hk: str | None
    market_us: str | None
    market_sh: str | None
    market_sz: str | None
    market_hkfuture: str | None
    market_usfuture: str | None
    qot_logined: bool | None
    trd_logined: bool | None
    server_ver: int | None
    server_build_no: int | None
    timestamp: int | None
    local_timestamp: float | None
    program_status_type: str | None
    program_status_desc: str | None
    conn_id: int | None

    @classmethod
    def from_wire(cls, s2c: Wire) -> "GlobalState":
        """Read GetGlobalState.S2C (programStatus.type as number or enum name)."""
        status = s2c.get("programStatus") or {}
        return cls(
            market_hk=enum_name(QotMarketState, s2c.get("marketHK")),
            market_us=enum_name(QotMarketState, s2c.get("marketUS")),
            market_sh=enum_name(QotMarketState, s2c.get("marketSH")),
            market_sz=enum_name(QotMarketState, s2c.get("marketSZ")),
            market_hkfuture=enum_name(QotMarketState, s2c.get("marketHKFuture")),
            market_usfuture=enum_name(QotMarketState, s2c.get("marketUSFuture")),
            qot_logined=opt_bool(s2c.get("qotLogined")),
            trd_logined=opt_bool(s2c.get("trdLogined")),
            server_ver=opt_int(s2c.get("serverVer")),
            server_build_no=opt_int(s2c.get("serverBuildNo")),
            timestamp=opt_int(s2c.get("time")),
            local_timestamp=opt_float(s2c.get("localTime")),
            program_status_type=enum_name(ProgramStatusType, status.get("type")),
            program_status_desc=opt_str(status.get("strExtDesc")),
            conn_id=opt_int(s2c.get("connID")),
        )

    def login_advice(self, address: str) -> str | None:
        """What to do when OpenD is up but not logged in to Futu (its requests then fail with
        messages that do not say so); None when quotes and trading are both logged in."""
        missing = [
            name
            for name, logged_in in (("quotes", self.qot_logined), ("trading", self.trd_logined))
            if logged_in is False
        ]
        if not missing:
            return None
        status = self.program_status_type or "unknown"
        if self.program_status_desc:
            status += f": {self.program_status_desc}"
        return (
            f"OpenD at {address} is not logged in to Futu ({' and '.join(missing)}; program "
            f"status {status}): log in to OpenD (its window, or its -login_account and "
            f"-login_pwd settings) and retry"
        )


def _session_figures(q: Wire) -> dict[str, Any]:
    """The fields Qot_Common.BasicQot and a snapshot's basic data carry under the same names."""
    return {
        "update_time": opt_str(q.get("updateTime")),
        "last_price": opt_float(q.get("curPrice")),
        "open_price": opt_float(q.get("openPrice")),
        "high_price": opt_float(q.get("highPrice")),
        "low_price": opt_float(q.get("lowPrice")),
        "prev_close_price": opt_float(q.get("lastClosePrice")),
        "volume": opt_quantity(q.get("hpVolume"), q.get("volume")),
        "turnover": opt_float(q.get("turnover")),
        "turnover_rate": opt_float(q.get("turnoverRate")),
        "amplitude": opt_float(q.get("amplitude")),
        "listing_date": opt_str(q.get("listTime")),
        "price_spread": opt_float(q.get("priceSpread")),
        "sec_status": enum_name(SecurityStatus, q.get("secStatus")),
    }


@dataclass(frozen=True, slots=True)
class BasicQot(Model):
    """One row of get_stock_quote."""

    code: str | None
    name: str | None
    update_time: str | None
    last_price: float | None
    open_price: float | None
    high_price: float | None
    low_price: float | None
    prev_close_price: float | None
    volume: int | float | None
    turnover: float | None
    turnover_rate: float | None
    amplitude: float | None
    suspension: bool | None
    listing_date: str | None
    price_spread: float | None
    dark_status: str | None
    sec_status: str | None

    @classmethod
    def from_wire(cls, q: Wire) -> "BasicQot":
        """Read a Qot_Common.BasicQot."""
        return cls(
            code=code_of(q.get("security")),
            name=opt_str(q.get("name")),
            suspension=opt_bool(q.get("isSuspended")),
            dark_status=enum_name(DarkStatus, q.get("darkStatus")),
            **_session_figures(q),
        )


@dataclass(frozen=True, slots=True)
class KLine(Model):
    """One candlestick (get_cur_kline / request_history_kline row)."""

    code: str | None
    name: str | None
    time_key: str | None
    open: float | None
    close: float | None
    high: float | None
    low: float | None
    volume: int | float | None
    turnover: float | None
    pe_ratio: float | None
    turnover_rate: float | None
    change_rate: float | None
    last_close: float | None

    @classmethod
    def from_wire(cls, k: Wire, code: str | None, name: str | None) -> "KLine":
        """Read a Qot_Common.KLine of the security `code`."""
        return cls(
            code=code,
            name=name,
            time_key=opt_str(k.get("time")),
            open=opt_float(k.get("openPrice")),
            close=opt_float(k.get("closePrice")),
            high=opt_float(k.get("highPrice")),
            low=opt_float(k.get("lowPrice")),
            volume=opt_quantity(k.get("hpVolume"), k.get("volume")),
            turnover=opt_float(k.get("turnover")),
            pe_ratio=opt_float(k.get("pe")),
            turnover_rate=opt_float(k.get("turnoverRate")),
            change_rate=opt_float(k.get("changeRate")),
            last_close=opt_float(k.get("lastClosePrice")),
        )


@dataclass(frozen=True, slots=True)
class OrderBookLevel(Model):
    """One price level of an order book."""

    price: float | None
    volume: int | float | None
    order_num: int | None

    @classmethod
    def from_wire(cls, level: Wire) -> "OrderBookLevel":
        """Read a Qot_Common.OrderBook level (OpenD spells the count `orederCount`)."""
        return cls(
            price=opt_float(level.get("price")),
            volume=opt_quantity(level.get("hpVolume"), level.get("volume")),
            order_num=opt_int(_either(level, "orederCount", "orderCount")),
        )


@dataclass(frozen=True, slots=True)
class OrderBook(Model):
    """get_order_book: bid and ask levels, best first."""

    code: str | None
    name: str | None
    svr_recv_time_bid: str | None
    svr_recv_time_ask: str | None
    bid: list[OrderBookLevel]
    ask: list[OrderBookLevel]

    @classmethod
    def from_wire(cls, s2c: Wire) -> "OrderBook":
        """Read Qot_GetOrderBook.S2C."""
        return cls(
            code=code_of(s2c.get("security")),
            name=opt_str(s2c.get("name")),
            svr_recv_time_bid=opt_str(s2c.get("svrRecvTimeBid")),
            svr_recv_time_ask=opt_str(s2c.get("svrRecvTimeAsk")),
            bid=[OrderBookLevel.from_wire(x) for x in s2c.get("orderBookBidList") or []],
            ask=[OrderBookLevel.from_wire(x) for x in s2c.get("orderBookAskList") or []],
        )


@dataclass(frozen=True, slots=True)
class Ticker(Model):
    """One trade print (get_rt_ticker row)."""

    code: str | None
    name: str | None
    sequence: int | None
    time: str | None
    price: float | None
    volume: int | float | None
    turnover: float | None
    ticker_direction: str | None
    type: str | None
    push_data_type: str | None

    @classmethod
    def from_wire(cls, t: Wire, code: str | None, name: str | None) -> "Ticker":
        """Read a Qot_Common.Ticker of the security `code`."""
        return cls(
            code=code,
            name=name,
            sequence=opt_int(t.get("sequence")),
            time=opt_str(t.get("time")),
            price=opt_float(t.get("price")),
            volume=opt_quantity(t.get("hpVolume"), t.get("volume")),
            turnover=opt_float(t.get("turnover")),
            ticker_direction=enum_name(TickerDirect, t.get("dir")),
            type=enum_name(TickerType, t.get("type")),
            push_data_type=enum_name(PushDataType, t.get("pushDataType")),
        )


@dataclass(frozen=True, slots=True)
class TimeShare(Model):
    """One minute of time-sharing data (get_rt_data row)."""

    code: str | None
    name: str | None
    time: str | None
    is_blank: bool | None
    opened_mins: int | None
    cur_price: float | None
    last_close: float | None
    avg_price: float | None
    volume: int | float | None
    turnover: float | None

    @classmethod
    def from_wire(cls, r: Wire, code: str | None, name: str | None) -> "TimeShare":
        """Read a Qot_Common.TimeShare of the security `code`."""
        return cls(
            code=code,
            name=name,
            time=opt_str(r.get("time")),
            is_blank=opt_bool(r.get("isBlank")),
            opened_mins=opt_int(r.get("minute")),
            cur_price=opt_float(r.get("price")),
            last_close=opt_float(r.get("lastClosePrice")),
            avg_price=opt_float(r.get("avgPrice")),
            volume=opt_quantity(r.get("hpVolume"), r.get("volume")),
            turnover=opt_float(r.get("turnover")),
        )


@dataclass(frozen=True, slots=True)
class BrokerEntry(Model):
    """One broker in the HK broker queue."""

    broker_id: int | None
    broker_name: str | None
    broker_pos: int | None
    order_id: str | None
    order_volume: int | None

    @classmethod
    def from_wire(cls, b: Wire) -> "BrokerEntry":
        """Read a Qot_Common.Broker."""
        return cls(
            broker_id=opt_int(b.get("id")),
            broker_name=opt_str(b.get("name")),
            broker_pos=opt_int(b.get("pos")),
            order_id=id_str(b.get("orderID")),
            order_volume=opt_int(b.get("volume")),
        )


@dataclass(frozen=True, slots=True)
class BrokerQueue(Model):
    """get_broker_queue: brokers on the bid and ask side (HK)."""

    code: str | None
    name: str | None
    bid: list[BrokerEntry]
    ask: list[BrokerEntry]

    @classmethod
    def from_wire(cls, s2c: Wire) -> "BrokerQueue":
        """Read Qot_GetBroker.S2C."""
        return cls(
            code=code_of(s2c.get("security")),
            name=opt_str(s2c.get("name")),
            bid=[BrokerEntry.from_wire(x) for x in s2c.get("brokerBidList") or []],
            ask=[BrokerEntry.from_wire(x) for x in s2c.get("brokerAskList") or []],
        )


@dataclass(frozen=True, slots=True)
class Snapshot(Model):
    """One row of get_market_snapshot (basic data plus the equity figures when present)."""

    code: str | None
    name: str | None
    stock_type: str | None
    update_time: str | None
    last_price: float | None
    open_price: float | None
    high_price: float | None
    low_price: float | None
    prev_close_price: float | None
    volume: int | float | None
    turnover: float | None
    turnover_rate: float | None
    suspension: bool | None
    listing_date: str | None
    lot_size: int | None
    price_spread: float | None
    ask_price: float | None
    bid_price: float | None
    ask_vol: int | float | None
    bid_vol: int | float | None
    amplitude: float | None
    avg_price: float | None
    volume_ratio: float | None
    highest52weeks_price: float | None
    lowest52weeks_price: float | None
    sec_status: str | None
    issued_shares: int | None
    total_market_val: float | None
    net_asset: float | None
    net_profit: float | None
    earning_per_share: float | None
    outstanding_shares: int | None
    circular_market_val: float | None
    net_asset_per_share: float | None
    ey_ratio: float | None
    pe_ratio: float | None
    pb_ratio: float | None
    pe_ttm_ratio: float | None
    dividend_ttm: float | None
    dividend_ratio_ttm: float | None
    # Options, warrants and futures (None for other securities), named as the SDK names them.
    stock_owner: str | None = None
    option_type: str | None = None
    strike_time: str | None = None
    option_strike_price: float | None = None
    option_contract_size: int | None = None
    option_open_interest: int | None = None
    option_implied_volatility: float | None = None
    option_premium: float | None = None
    option_delta: float | None = None
    option_gamma: float | None = None
    option_vega: float | None = None
    option_theta: float | None = None
    option_rho: float | None = None
    option_expiry_date_distance: int | None = None
    option_contract_multiplier: float | None = None
    wrt_type: str | None = None
    wrt_conversion_ratio: float | None = None
    wrt_strike_price: float | None = None
    wrt_maturity_date: str | None = None
    wrt_end_trade: str | None = None
    wrt_recovery_price: float | None = None
    wrt_street_vol: int | None = None
    wrt_issue_vol: int | None = None
    wrt_street_ratio: float | None = None
    wrt_delta: float | None = None
    wrt_implied_volatility: float | None = None
    wrt_premium: float | None = None
    future_last_settle_price: float | None = None
    future_position: int | None = None
    future_position_change: int | None = None
    future_main_contract: bool | None = None
    future_last_trade_time: str | None = None

    @classmethod
    def from_wire(cls, s: Wire) -> "Snapshot":
        """Read a Qot_GetSecuritySnapshot.Snapshot."""
        b = s.get("basic") or {}
        e = s.get("equityExData") or {}
        o = s.get("optionExData") or {}
        w = s.get("warrantExData") or {}
        f = s.get("futureExData") or {}
        return cls(
            code=code_of(b.get("security")),
            name=opt_str(b.get("name")),
            stock_type=enum_name(SecurityType, b.get("type")),
            suspension=opt_bool(b.get("isSuspend")),
            lot_size=opt_int(b.get("lotSize")),
            ask_price=opt_float(b.get("askPrice")),
            bid_price=opt_float(b.get("bidPrice")),
            ask_vol=opt_quantity(b.get("hpAskVol"), b.get("askVol")),
            bid_vol=opt_quantity(b.get("hpBidVol"), b.get("bidVol")),
            avg_price=opt_float(b.get("avgPrice")),
            volume_ratio=opt_float(b.get("volumeRatio")),
            highest52weeks_price=opt_float(b.get("highest52WeeksPrice")),
            lowest52weeks_price=opt_float(b.get("lowest52WeeksPrice")),
            **_session_figures(b),
            issued_shares=opt_int(e.get("issuedShares")),
            total_market_val=opt_float(e.get("issuedMarketVal")),
            net_asset=opt_float(e.get("netAsset")),
            net_profit=opt_float(e.get("netProfit")),
            earning_per_share=opt_float(e.get("earningsPershare")),
            outstanding_shares=opt_int(e.get("outstandingShares")),
            circular_market_val=opt_float(e.get("outstandingMarketVal")),
            net_asset_per_share=opt_float(e.get("netAssetPershare")),
            ey_ratio=opt_float(e.get("eyRate")),
            pe_ratio=opt_float(e.get("peRate")),
            pb_ratio=opt_float(e.get("pbRate")),
            pe_ttm_ratio=opt_float(e.get("peTTMRate")),
            dividend_ttm=opt_float(e.get("dividendTTM")),
            dividend_ratio_ttm=opt_float(e.get("dividendRatioTTM")),
            stock_owner=code_of(o.get("owner") or w.get("owner")),
            option_type=enum_name(OptionType, o.get("type")),
            strike_time=opt_str(o.get("strikeTime")),
            option_strike_price=opt_float(o.get("strikePrice")),
            option_contract_size=opt_int(o.get("contractSize")),
            option_open_interest=opt_int(o.get("openInterest")),
            option_implied_volatility=opt_float(o.get("impliedVolatility")),
            option_premium=opt_float(o.get("premium")),
            option_delta=opt_float(o.get("delta")),
            option_gamma=opt_float(o.get("gamma")),
            option_vega=opt_float(o.get("vega")),
            option_theta=opt_float(o.get("theta")),
            option_rho=opt_float(o.get("rho")),
            option_expiry_date_distance=opt_int(o.get("expiryDateDistance")),
            option_contract_multiplier=opt_float(o.get("contractMultiplier")),
            wrt_type=enum_name(WrtType, w.get("warrantType")),
            wrt_conversion_ratio=opt_float(w.get("conversionRate")),
            wrt_strike_price=opt_float(w.get("strikePrice")),
            wrt_maturity_date=opt_str(w.get("maturityTime")),
            wrt_end_trade=opt_str(w.get("endTradeTime")),
            wrt_recovery_price=opt_float(w.get("recoveryPrice")),
            wrt_street_vol=opt_int(w.get("streetVolumn")),
            wrt_issue_vol=opt_int(w.get("issueVolumn")),
            wrt_street_ratio=opt_float(w.get("streetRate")),
            wrt_delta=opt_float(w.get("delta")),
            wrt_implied_volatility=opt_float(w.get("impliedVolatility")),
            wrt_premium=opt_float(w.get("premium")),
            future_last_settle_price=opt_float(f.get("lastSettlePrice")),
            future_position=opt_int(f.get("position")),
            future_position_change=opt_int(f.get("positionChange")),
            future_main_contract=opt_bool(f.get("isMainContract")),
            future_last_trade_time=opt_str(f.get("lastTradeTime")),
        )


@dataclass(frozen=True, slots=True)
class StaticInfo(Model):
    """One row of get_stock_basicinfo / get_plate_stock."""

    code: str | None
    name: str | None
    lot_size: int | None
    stock_type: str | None
    stock_id: int | None
    listing_date: str | None
    delisting: bool | None
    exchange_type: str | None
    stock_owner: str | None
    main_contract: bool | None
    last_trade_time: str | None

    @classmethod
    def from_wire(cls, info: Wire) -> "StaticInfo":
        """Read a Qot_Common.SecurityStaticInfo."""
        b = info.get("basic") or {}
        owner = (info.get("warrantExData") or info.get("optionExData") or {}).get("owner")
        future = info.get("futureExData") or {}
        return cls(
            code=code_of(b.get("security")),
            name=opt_str(b.get("name")),
            lot_size=opt_int(b.get("lotSize")),
            stock_type=enum_name(SecurityType, b.get("secType")),
            stock_id=opt_int(b.get("id")),
            listing_date=opt_str(b.get("listTime")),
            delisting=opt_bool(b.get("delisting")),
            exchange_type=enum_name(ExchType, b.get("exchType")),
            stock_owner=code_of(owner),
            main_contract=opt_bool(future.get("isMainContract")),
            last_trade_time=opt_str(future.get("lastTradeTime")),
        )


@dataclass(frozen=True, slots=True)
class PlateInfo(Model):
    """One row of get_plate_list."""

    code: str | None
    plate_name: str | None
    plate_id: str | None
    plate_type: str | None

    @classmethod
    def from_wire(cls, p: Wire) -> "PlateInfo":
        """Read a Qot_Common.PlateInfo."""
        plate = p.get("plate") or {}
        return cls(
            code=code_of(plate),
            plate_name=opt_str(p.get("name")),
            plate_id=opt_str(plate.get("code")),
            plate_type=enum_name(Plate, p.get("plateType")),
        )


@dataclass(frozen=True, slots=True)
class TrdAcc(Model):
    """One row of get_acc_list."""

    acc_id: int | None
    trd_env: str | None
    trdmarket_authority: list[str]
    acc_type: str | None
    card_num: str | None
    uni_card_num: str | None
    security_firm: str | None
    sim_acc_type: str | None
    acc_status: str | None
    acc_role: str | None

    @classmethod
    def from_wire(cls, a: Wire) -> "TrdAcc":
        """Read a Trd_Common.TrdAcc."""
        status = opt_int(a.get("accStatus"))
        return cls(
            acc_id=opt_int(a.get("accID")),
            trd_env=enum_name(TrdEnv, a.get("trdEnv")),
            trdmarket_authority=[
                _trd_market_name(m) or "UNKNOWN" for m in a.get("trdMarketAuthList") or []
            ],
            acc_type=enum_name(TrdAccType, a.get("accType")),
            card_num=opt_str(a.get("cardNum")),
            uni_card_num=opt_str(a.get("uniCardNum")),
            security_firm=enum_name(SecurityFirm, a.get("securityFirm")),
            sim_acc_type=enum_name(SimAccType, a.get("simAccType")),
            acc_status=None if status is None else ("ACTIVE" if status == 0 else "DISABLED"),
            acc_role=enum_name(TrdAccRole, a.get("accRole")),
        )

    def account(self, trd_market: TrdMarket | None = None) -> TrdAccount:
        """The TrdHeader for trading on this account (its first market unless one is given)."""
        if trd_market is None:
            if not self.trdmarket_authority or self.trdmarket_authority[0] == "UNKNOWN":
                raise ValueError(f"account {self.acc_id} has no known market authority")
            trd_market = TrdMarket[self.trdmarket_authority[0]]
        if self.trd_env not in ("REAL", "SIMULATE") or not self.acc_id:
            raise ValueError(f"account {self.acc_id} has no known trading environment or id")
        return TrdAccount(TrdEnv[self.trd_env], self.acc_id, trd_market)


@dataclass(frozen=True, slots=True)
class Funds(Model):
    """accinfo_query: buying power, assets and cash of one account."""

    power: float | None
    max_power_short: float | None
    net_cash_power: float | None
    total_assets: float | None
    securities_assets: float | None
    fund_assets: float | None
    bond_assets: float | None
    cash: float | None
    market_val: float | None
    long_mv: float | None
    short_mv: float | None
    pending_asset: float | None
    frozen_cash: float | None
    debt_cash: float | None
    avl_withdrawal_cash: float | None
    max_withdrawal: float | None
    currency: str | None
    available_funds: float | None
    unrealized_pl: float | None
    realized_pl: float | None
    risk_level: str | None
    risk_status: str | None
    initial_margin: float | None
    margin_call_margin: float | None
    maintenance_margin: float | None
    is_pdt: bool | None

    @classmethod
    def from_wire(cls, f: Wire) -> "Funds":
        """Read a Trd_Common.Funds."""
        return cls(
            power=opt_float(f.get("power")),
            max_power_short=opt_float(f.get("maxPowerShort")),
            net_cash_power=opt_float(f.get("netCashPower")),
            total_assets=opt_float(f.get("totalAssets")),
            securities_assets=opt_float(f.get("securitiesAssets")),
            fund_assets=opt_float(f.get("fundAssets")),
            bond_assets=opt_float(f.get("bondAssets")),
            cash=opt_float(f.get("cash")),
            market_val=opt_float(f.get("marketVal")),
            long_mv=opt_float(f.get("longMv")),
            short_mv=opt_float(f.get("shortMv")),
            pending_asset=opt_float(f.get("pendingAsset")),
            frozen_cash=opt_float(f.get("frozenCash")),
            debt_cash=opt_float(f.get("debtCash")),
            avl_withdrawal_cash=opt_float(f.get("avlWithdrawalCash")),
            max_withdrawal=opt_float(f.get("maxWithdrawal")),
            currency=enum_name(Currency, f.get("currency")),
            available_funds=opt_float(f.get("availableFunds")),
            unrealized_pl=opt_float(f.get("unrealizedPL")),
            realized_pl=opt_float(f.get("realizedPL")),
            risk_level=enum_name(CltRiskLevel, f.get("riskLevel")),
            risk_status=enum_name(CltRiskStatus, f.get("riskStatus")),
            initial_margin=opt_float(f.get("initialMargin")),
            margin_call_margin=opt_float(f.get("marginCallMargin")),
            maintenance_margin=opt_float(f.get("maintenanceMargin")),
            is_pdt=opt_bool(f.get("isPdt")),
        )


def _code_with_market(obj: Wire) -> str | None:
    """`HK.00700` for a trade row: trade rows carry the bare code and a TrdSecMarket."""
    code = opt_str(obj.get("code"))
    sec = enum_name(TrdSecMarket, obj.get("secMarket"))
    if code is None or sec is None or sec == "UNKNOWN":
        return code
    prefix = {"CN_SH": QotMarket.SH.name, "CN_SZ": QotMarket.SZ.name}.get(sec, sec)
    return f"{prefix}.{code}"


def _percent(fraction: float | None) -> float | None:
    """OpenD sends position P/L ratios as fractions; the SDK (and Futu's docs) show percent."""
    return None if fraction is None else fraction * 100


@dataclass(frozen=True, slots=True)
class Position(Model):
    """One row of position_list_query; `pl_ratio` is in percent (5.0 = +5 %), as the SDK gives it."""

    code: str | None
    stock_name: str | None
    position_market: str | None
    position_id: str | None
    position_side: str | None
    qty: float | None
    can_sell_qty: float | None
    nominal_price: float | None
    cost_price: float | None
    average_cost: float | None
    diluted_cost: float | None
    market_val: float | None
    pl_val: float | None
    pl_ratio: float | None
    today_pl_val: float | None
    today_trd_val: float | None
    today_buy_qty: float | None
    today_buy_val: float | None
    today_sell_qty: float | None
    today_sell_val: float | None
    unrealized_pl: float | None
    realized_pl: float | None
    currency: str | None

    @classmethod
    def from_wire(cls, p: Wire) -> "Position":
        """Read a Trd_Common.Position (`td_plVal` or `tdPlVal`, whichever OpenD sends)."""
        return cls(
            code=_code_with_market(p),
            stock_name=opt_str(p.get("name")),
            position_market=_trd_market_name(p.get("trdMarket")),
            position_id=id_str(p.get("positionID")),
            position_side=enum_name(PositionSide, p.get("positionSide")),
            qty=opt_float(p.get("qty")),
            can_sell_qty=opt_float(p.get("canSellQty")),
            nominal_price=opt_float(p.get("price")),
            cost_price=opt_float(p.get("costPrice")),
            average_cost=opt_float(p.get("averageCostPrice")),
            diluted_cost=opt_float(p.get("dilutedCostPrice")),
            market_val=opt_float(p.get("val")),
            pl_val=opt_float(p.get("plVal")),
            pl_ratio=_percent(opt_float(p.get("plRatio"))),
            today_pl_val=opt_float(_either(p, "td_plVal", "tdPlVal")),
            today_trd_val=opt_float(_either(p, "td_trdVal", "tdTrdVal")),
            today_buy_qty=opt_float(_either(p, "td_buyQty", "tdBuyQty")),
            today_buy_val=opt_float(_either(p, "td_buyVal", "tdBuyVal")),
            today_sell_qty=opt_float(_either(p, "td_sellQty", "tdSellQty")),
            today_sell_val=opt_float(_either(p, "td_sellVal", "tdSellVal")),
            unrealized_pl=opt_float(p.get("unrealizedPL")),
            realized_pl=opt_float(p.get("realizedPL")),
            currency=enum_name(Currency, p.get("currency")),
        )


@dataclass(frozen=True, slots=True)
class Order(Model):
    """One row of order_list_query.

    `order_id` is OpenD's numeric orderID (uint64, as a decimal string), where SDK 10.x shows
    orderIDEx as its order_id (here `order_id_ex`): orderID is the field Trd_ModifyOrder declares
    required and every OpenD version accepts, and futu-mcp's order tools match orders by it.
    `modify_order` accepts either id.
    """

    code: str | None
    stock_name: str | None
    order_market: str | None
    trd_side: str | None
    order_type: str | None
    order_status: str | None
    order_id: str | None
    order_id_ex: str | None
    qty: float | None
    price: float | None
    create_time: str | None
    updated_time: str | None
    dealt_qty: float | None
    dealt_avg_price: float | None
    last_err_msg: str | None
    remark: str | None
    time_in_force: str | None
    fill_outside_rth: bool | None
    aux_price: float | None
    currency: str | None
    session: str | None

    @classmethod
    def from_wire(cls, o: Wire) -> "Order":
        """Read a Trd_Common.Order."""
        return cls(
            code=_code_with_market(o),
            stock_name=opt_str(o.get("name")),
            order_market=_trd_market_name(o.get("trdMarket")),
            trd_side=enum_name(TrdSide, o.get("trdSide")),
            order_type=enum_name(OrderType, o.get("orderType")),
            order_status=enum_name(OrderStatus, o.get("orderStatus")),
            order_id=id_str(o.get("orderID")),
            order_id_ex=opt_str(o.get("orderIDEx")),
            qty=opt_float(o.get("qty")),
            price=opt_float(o.get("price")),
            create_time=opt_str(o.get("createTime")),
            updated_time=opt_str(o.get("updateTime")),
            dealt_qty=opt_float(o.get("fillQty")),
            dealt_avg_price=opt_float(o.get("fillAvgPrice")),
            last_err_msg=opt_str(o.get("lastErrMsg")),
            remark=opt_str(o.get("remark")),
            time_in_force=enum_name(TimeInForce, o.get("timeInForce")),
            fill_outside_rth=opt_bool(o.get("fillOutsideRTH")),
            aux_price=opt_float(o.get("auxPrice")),
            currency=enum_name(Currency, o.get("currency")),
            session=enum_name(Session, o.get("session")),
        )


@dataclass(frozen=True, slots=True)
class Deal(Model):
    """One row of deal_list_query (a fill); `order_id` is the numeric orderID, as in `Order`."""

    code: str | None
    stock_name: str | None
    deal_market: str | None
    deal_id: str | None
    deal_id_ex: str | None
    order_id: str | None
    order_id_ex: str | None
    qty: float | None
    price: float | None
    trd_side: str | None
    create_time: str | None
    counter_broker_id: int | None
    counter_broker_name: str | None
    status: str | None

    @classmethod
    def from_wire(cls, d: Wire) -> "Deal":
        """Read a Trd_Common.OrderFill."""
        return cls(
            code=_code_with_market(d),
            stock_name=opt_str(d.get("name")),
            deal_market=_trd_market_name(d.get("trdMarket")),
            deal_id=id_str(d.get("fillID")),
            deal_id_ex=opt_str(d.get("fillIDEx")),
            order_id=id_str(d.get("orderID")),
            order_id_ex=opt_str(d.get("orderIDEx")),
            qty=opt_float(d.get("qty")),
            price=opt_float(d.get("price")),
            trd_side=enum_name(TrdSide, d.get("trdSide")),
            create_time=opt_str(d.get("createTime")),
            counter_broker_id=opt_int(d.get("counterBrokerID")),
            counter_broker_name=opt_str(d.get("counterBrokerName")),
            status=enum_name(DealStatus, d.get("status")),
        )


@dataclass(frozen=True, slots=True)
class OrderIds(Model):
    """The ids Trd_PlaceOrder.S2C and Trd_ModifyOrder.S2C both answer with."""

    order_id: str | None
    order_id_ex: str | None

    @classmethod
    def from_wire(cls, s2c: Wire) -> Self:
        """Read the orderID / orderIDEx of a place or modify reply."""
        return cls(order_id=id_str(s2c.get("orderID")), order_id_ex=opt_str(s2c.get("orderIDEx")))


@dataclass(frozen=True, slots=True)
class PlacedOrder(OrderIds):
    """place_order's answer: the new order's ids (`order_id` numeric, as in `Order`)."""


@dataclass(frozen=True, slots=True)
class ModifiedOrder(OrderIds):
    """modify_order's answer: which order was changed or cancelled."""


@dataclass(frozen=True, slots=True)
class MarketStateInfo(Model):
    """One row of get_market_state: the session the security's market is in."""

    code: str | None
    stock_name: str | None
    market_state: str | None

    @classmethod
    def from_wire(cls, m: Wire) -> "MarketStateInfo":
        """Read a Qot_GetMarketState.MarketInfo."""
        return cls(
            code=code_of(m.get("security")),
            stock_name=opt_str(m.get("name")),
            market_state=enum_name(QotMarketState, m.get("marketState")),
        )


@dataclass(frozen=True, slots=True)
class TradingDay(Model):
    """One row of request_trading_days (a whole day, or morning or afternoon only)."""

    time: str | None
    trade_date_type: str | None

    @classmethod
    def from_wire(cls, d: Wire) -> "TradingDay":
        """Read a Qot_RequestTradeDate.TradeDate (an absent type is a whole day, as proto2
        reads it)."""
        return cls(
            time=opt_str(d.get("time")),
            trade_date_type=enum_name(TradeDateType, d.get("tradeDateType", 0)),
        )


@dataclass(frozen=True, slots=True)
class MaxTrdQtys(Model):
    """acctradinginfo_query: the most one order could buy or sell at a price."""

    max_cash_buy: float | None
    max_cash_and_margin_buy: float | None
    max_position_sell: float | None
    max_sell_short: float | None
    max_buy_back: float | None
    long_required_im: float | None
    short_required_im: float | None
    session: str | None

    @classmethod
    def from_wire(cls, q: Wire) -> "MaxTrdQtys":
        """Read a Trd_Common.MaxTrdQtys."""
        return cls(
            max_cash_buy=opt_float(q.get("maxCashBuy")),
            max_cash_and_margin_buy=opt_float(q.get("maxCashAndMarginBuy")),
            max_position_sell=opt_float(q.get("maxPositionSell")),
            max_sell_short=opt_float(q.get("maxSellShort")),
            max_buy_back=opt_float(q.get("maxBuyBack")),
            long_required_im=opt_float(q.get("longRequiredIM")),
            short_required_im=opt_float(q.get("shortRequiredIM")),
            session=enum_name(Session, q.get("session")),
        )


@dataclass(frozen=True, slots=True)
class FeeItem(Model):
    """One fee of an order (commission, stamp duty...): the broker's title and the amount."""

    title: str | None
    value: float | None

    @classmethod
    def from_wire(cls, f: Wire) -> "FeeItem":
        """Read a Trd_Common.OrderFeeItem."""
        return cls(title=opt_str(f.get("title")), value=opt_float(f.get("value")))


@dataclass(frozen=True, slots=True)
class OrderFee(Model):
    """One row of order_fee_query; `order_id` is the orderIDEx the query named, as in the SDK."""

    order_id: str | None
    fee_amount: float | None
    fee_details: list[FeeItem]

    @classmethod
    def from_wire(cls, f: Wire) -> "OrderFee":
        """Read a Trd_Common.OrderFee."""
        return cls(
            order_id=opt_str(f.get("orderIDEx")),
            fee_amount=opt_float(f.get("feeAmount")),
            fee_details=[FeeItem.from_wire(i) for i in f.get("feeList") or []],
        )


@dataclass(frozen=True, slots=True)
class MarginRatio(Model):
    """One row of get_margin_ratio: whether a stock can be bought on margin or sold short, and
    its margin ratios (percent)."""

    code: str | None
    is_long_permit: bool | None
    is_short_permit: bool | None
    short_pool_remain: float | None
    short_fee_rate: float | None
    alert_long_ratio: float | None
    alert_short_ratio: float | None
    im_long_ratio: float | None
    im_short_ratio: float | None
    mcm_long_ratio: float | None
    mcm_short_ratio: float | None
    mm_long_ratio: float | None
    mm_short_ratio: float | None

    @classmethod
    def from_wire(cls, m: Wire) -> "MarginRatio":
        """Read a Trd_GetMarginRatio.MarginRatioInfo."""
        return cls(
            code=code_of(m.get("security")),
            is_long_permit=opt_bool(m.get("isLongPermit")),
            is_short_permit=opt_bool(m.get("isShortPermit")),
            short_pool_remain=opt_float(m.get("shortPoolRemain")),
            short_fee_rate=opt_float(m.get("shortFeeRate")),
            alert_long_ratio=opt_float(m.get("alertLongRatio")),
            alert_short_ratio=opt_float(m.get("alertShortRatio")),
            im_long_ratio=opt_float(m.get("imLongRatio")),
            im_short_ratio=opt_float(m.get("imShortRatio")),
            mcm_long_ratio=opt_float(m.get("mcmLongRatio")),
            mcm_short_ratio=opt_float(m.get("mcmShortRatio")),
            mm_long_ratio=opt_float(m.get("mmLongRatio")),
            mm_short_ratio=opt_float(m.get("mmShortRatio")),
        )


@dataclass(frozen=True, slots=True)
class CashFlow(Model):
    """One row of get_acc_cash_flow: a movement of cash (a fill, a fee, a deposit...)."""

    cashflow_id: str | None
    clearing_date: str | None
    settlement_date: str | None
    currency: str | None
    cashflow_type: str | None
    cashflow_direction: str | None
    cashflow_amount: float | None
    cashflow_remark: str | None

    @classmethod
    def from_wire(cls, c: Wire) -> "CashFlow":
        """Read a Trd_FlowSummary.FlowSummaryInfo."""
        return cls(
            cashflow_id=id_str(c.get("cashFlowID")),
            clearing_date=opt_str(c.get("clearingDate")),
            settlement_date=opt_str(c.get("settlementDate")),
            currency=enum_name(Currency, c.get("currency")),
            cashflow_type=opt_str(c.get("cashFlowType")),
            cashflow_direction=enum_name(CashFlowDirection, c.get("cashFlowDirection")),
            cashflow_amount=opt_float(c.get("cashFlowAmount")),
            cashflow_remark=opt_str(c.get("cashFlowRemark")),
        )
