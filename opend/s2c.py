"""Readers for each protocol's `s2c` object, turning OpenD's lists into typed rows.

One function per protocol so the conformance tests can feed each one JSON rendered from the
official Response schema. Single-object replies (order book, funds...) use the model's
`from_wire` directly.
"""

from typing import Any

from opend.models import (
    BasicQot,
    CashFlow,
    Deal,
    Funds,
    KLine,
    MarginRatio,
    MarketStateInfo,
    MaxTrdQtys,
    Order,
    OrderFee,
    PlateInfo,
    Position,
    Snapshot,
    StaticInfo,
    Ticker,
    TimeShare,
    TradingDay,
    TrdAcc,
)
from opend.researchmodels import (
    CapitalFlowItem,
    FutureInfo,
    Ipo,
    OptionContract,
    OptionExpiration,
    OwnerPlate,
    PriceReminder,
    Rehab,
    SecurityGroup,
)
from opend.wire import code_of, opt_str

Body = dict[str, Any]


def _rows(s2c: Body, key: str) -> list[Any]:
    rows = s2c.get(key)
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def parse_basic_qot(s2c: Body) -> list[BasicQot]:
    """Qot_GetBasicQot.S2C."""
    return [BasicQot.from_wire(q) for q in _rows(s2c, "basicQotList")]


def parse_klines(s2c: Body) -> list[KLine]:
    """Qot_GetKL.S2C and Qot_RequestHistoryKL.S2C."""
    code, name = code_of(s2c.get("security")), opt_str(s2c.get("name"))
    return [KLine.from_wire(k, code, name) for k in _rows(s2c, "klList")]


def parse_tickers(s2c: Body) -> list[Ticker]:
    """Qot_GetTicker.S2C."""
    code, name = code_of(s2c.get("security")), opt_str(s2c.get("name"))
    return [Ticker.from_wire(t, code, name) for t in _rows(s2c, "tickerList")]


def parse_rt(s2c: Body) -> list[TimeShare]:
    """Qot_GetRT.S2C."""
    code, name = code_of(s2c.get("security")), opt_str(s2c.get("name"))
    return [TimeShare.from_wire(r, code, name) for r in _rows(s2c, "rtList")]


def parse_snapshots(s2c: Body) -> list[Snapshot]:
    """Qot_GetSecuritySnapshot.S2C."""
    return [Snapshot.from_wire(s) for s in _rows(s2c, "snapshotList")]


def parse_static_infos(s2c: Body) -> list[StaticInfo]:
    """Qot_GetStaticInfo.S2C and Qot_GetPlateSecurity.S2C."""
    return [StaticInfo.from_wire(i) for i in _rows(s2c, "staticInfoList")]


def parse_plates(s2c: Body) -> list[PlateInfo]:
    """Qot_GetPlateSet.S2C."""
    return [PlateInfo.from_wire(p) for p in _rows(s2c, "plateInfoList")]


def parse_acc_list(s2c: Body) -> list[TrdAcc]:
    """Trd_GetAccList.S2C."""
    return [TrdAcc.from_wire(a) for a in _rows(s2c, "accList")]


def parse_positions(s2c: Body) -> list[Position]:
    """Trd_GetPositionList.S2C."""
    return [Position.from_wire(p) for p in _rows(s2c, "positionList")]


def parse_orders(s2c: Body) -> list[Order]:
    """Trd_GetOrderList.S2C and Trd_GetHistoryOrderList.S2C."""
    return [Order.from_wire(o) for o in _rows(s2c, "orderList")]


def parse_deals(s2c: Body) -> list[Deal]:
    """Trd_GetOrderFillList.S2C and Trd_GetHistoryOrderFillList.S2C."""
    return [Deal.from_wire(d) for d in _rows(s2c, "orderFillList")]


def parse_funds(s2c: Body) -> Funds:
    """Trd_GetFunds.S2C."""
    funds = s2c.get("funds")
    return Funds.from_wire(funds if isinstance(funds, dict) else {})


def parse_market_states(s2c: Body) -> list[MarketStateInfo]:
    """Qot_GetMarketState.S2C."""
    return [MarketStateInfo.from_wire(m) for m in _rows(s2c, "marketInfoList")]


def parse_trading_days(s2c: Body) -> list[TradingDay]:
    """Qot_RequestTradeDate.S2C."""
    return [TradingDay.from_wire(d) for d in _rows(s2c, "tradeDateList")]


def parse_max_trd_qtys(s2c: Body) -> MaxTrdQtys:
    """Trd_GetMaxTrdQtys.S2C."""
    qtys = s2c.get("maxTrdQtys")
    return MaxTrdQtys.from_wire(qtys if isinstance(qtys, dict) else {})


def parse_order_fees(s2c: Body) -> list[OrderFee]:
    """Trd_GetOrderFee.S2C."""
    return [OrderFee.from_wire(f) for f in _rows(s2c, "orderFeeList")]


def parse_margin_ratios(s2c: Body) -> list[MarginRatio]:
    """Trd_GetMarginRatio.S2C."""
    return [MarginRatio.from_wire(m) for m in _rows(s2c, "marginRatioInfoList")]


def parse_cash_flows(s2c: Body) -> list[CashFlow]:
    """Trd_FlowSummary.S2C."""
    return [CashFlow.from_wire(c) for c in _rows(s2c, "flowSummaryInfoList")]


def parse_option_expirations(s2c: Body) -> list[OptionExpiration]:
    """Qot_GetOptionExpirationDate.S2C."""
    return [OptionExpiration.from_wire(d) for d in _rows(s2c, "dateList")]


def parse_option_chain(s2c: Body) -> list[OptionContract]:
    """Qot_GetOptionChain.S2C: every call and put of every expiry, expiry by expiry."""
    return [
        OptionContract.from_wire(item[side])
        for chain in _rows(s2c, "optionChain")
        for item in _rows(chain, "option")
        for side in ("call", "put")
        if isinstance(item.get(side), dict)
    ]


def parse_future_infos(s2c: Body) -> list[FutureInfo]:
    """Qot_GetFutureInfo.S2C."""
    return [FutureInfo.from_wire(f) for f in _rows(s2c, "futureInfoList")]


def parse_capital_flow(s2c: Body) -> list[CapitalFlowItem]:
    """Qot_GetCapitalFlow.S2C."""
    last = opt_str(s2c.get("lastValidTime"))
    return [CapitalFlowItem.from_wire(i, last) for i in _rows(s2c, "flowItemList")]


def parse_owner_plates(s2c: Body) -> list[OwnerPlate]:
    """Qot_GetOwnerPlate.S2C: one row per (security, plate), as the SDK flattens it."""
    return [
        OwnerPlate.from_wire(item, plate)
        for item in _rows(s2c, "ownerPlateList")
        for plate in _rows(item, "plateInfoList")
    ]


def parse_ipos(s2c: Body) -> list[Ipo]:
    """Qot_GetIpoList.S2C."""
    return [Ipo.from_wire(i) for i in _rows(s2c, "ipoList")]


def parse_rehabs(s2c: Body) -> list[Rehab]:
    """Qot_RequestRehab.S2C."""
    return [Rehab.from_wire(r) for r in _rows(s2c, "rehabList")]


def parse_security_groups(s2c: Body) -> list[SecurityGroup]:
    """Qot_GetUserSecurityGroup.S2C."""
    return [SecurityGroup.from_wire(g) for g in _rows(s2c, "groupList")]


def parse_price_reminders(s2c: Body) -> list[PriceReminder]:
    """Qot_GetPriceReminder.S2C: one row per reminder, as the SDK flattens it."""
    return [
        PriceReminder.from_wire(item, reminder)
        for item in _rows(s2c, "priceReminderList")
        for reminder in _rows(item, "itemList")
    ]
