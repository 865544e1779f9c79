"""An account's past: history orders and fills, order fees and the cash flow of a day.

History covers the seeded past (opend.sim.history) and everything the simulator has traded
since, newest first as OpenD sends it. Fills, fees and cash flow are served for real accounts
only, as OpenD serves them (opend-protocol-more.md §1.1); a paper account gets a refusal.
"""

from datetime import date, datetime, timedelta
from typing import Any

from opend.enums import CashFlowDirection, TrdEnv, TrdSide
from opend.protoids import ProtoId
from opend.sim import exchange
from opend.sim.handlers.common import ConnInfo, Handler, SimError, as_int, required
from opend.sim.handlers.orders import fill_rows, order_rows
from opend.sim.handlers.trdargs import account_of, filter_conditions, query_limit
from opend.sim.state import SimState
from opend.sim.trading import Account, Deal, Order

# Days from a trade to its settlement: HK T+2, US T+1 (since 2024-05-28), A shares (money) T+1.
_SETTLEMENT_DAYS = {exchange.Exchange.HK: 2, exchange.Exchange.US: 1, exchange.Exchange.CN: 1}


def _real_only(account: Account, what: str) -> None:
    """OpenD serves these for real accounts only; the text is the simulator's own (OpenD's
    wording is not documented)."""
    if account.env is not TrdEnv.REAL:
        raise SimError(f"{what} is not available for paper trading (simulate) accounts")


def _window(c2s: dict[str, Any]) -> None:
    """History queries need both ends of their time window."""
    required(c2s, "filterConditions")
    conditions = filter_conditions(c2s)
    for name in ("beginTime", "endTime"):
        if not conditions.get(name):
            raise SimError(f"invalid request: filterConditions.{name} is required for history")


def _orders(state: SimState) -> list[Order]:
    return [*state.trading.history_orders, *state.trading.orders.values()]


def _deals(state: SimState) -> list[Deal]:
    return [*state.trading.history_deals, *state.trading.deals]


def get_history_order_list(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetHistoryOrderList (2221): orders created in a time window, newest first."""
    account, echo = account_of(state, c2s)
    query_limit(state, ProtoId.TRD_GET_HISTORY_ORDER_LIST, account)
    _window(c2s)
    state.trading.match(state.clock.now())
    rows = order_rows(state, account, reversed(_orders(state)), c2s)
    return {"header": echo, "orderList": rows}


def get_history_order_fill_list(
    state: SimState, conn: ConnInfo, c2s: dict[str, Any]
) -> dict[str, Any]:
    """Trd_GetHistoryOrderFillList (2222): fills in a time window, newest first; real accounts."""
    account, echo = account_of(state, c2s)
    query_limit(state, ProtoId.TRD_GET_HISTORY_ORDER_FILL_LIST, account)
    _real_only(account, "Trd_GetHistoryOrderFillList (history fills)")
    _window(c2s)
    state.trading.match(state.clock.now())
    rows = fill_rows(state, account, reversed(_deals(state)), c2s)
    return {"header": echo, "orderFillList": rows}


def get_order_fee(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetOrderFee (2225): the fee items of orders named by orderIDEx; real accounts."""
    account, echo = account_of(state, c2s)
    query_limit(state, ProtoId.TRD_GET_ORDER_FEE, account)
    _real_only(account, "Trd_GetOrderFee (order fees)")
    state.trading.match(state.clock.now())
    wanted = [str(i) for i in c2s.get("orderIdExList") or []]
    if not wanted:
        raise SimError("invalid request: orderIdExList must name at least one order")
    by_id = {o.order_id_ex: o for o in _orders(state) if o.acc_id == account.acc_id}
    fees = []
    for order_id_ex in wanted:
        order = by_id.get(order_id_ex)
        if order is None:
            raise SimError(f"Order {order_id_ex} does not exist")
        fees.append(
            {
                "orderIDEx": order_id_ex,
                "feeAmount": round(sum(f.value for f in order.fees), 2),
                "feeList": [{"title": f.title, "value": f.value} for f in order.fees],
            }
        )
    return {"header": echo, "orderFeeList": fees}


# Cash flow ids (uint64): the fill's id below 10**16 (history and live fills differ there) times
# ten plus the item's number; deposits below them.
_FLOW_ID_BASE = 7_000_000_000_000_000_000


def _flow_id(deal: Deal, item: int) -> int:
    return _FLOW_ID_BASE + 1000 + (deal.fill_id % 10**16) * 10 + item


def _settlement_date(venue: exchange.Exchange, day: date, days: int) -> date:
    while days:
        day += timedelta(days=1)
        days -= exchange.is_trading_day(venue, day)
    return day


def get_flow_summary(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_FlowSummary (2226): the account's cash movements of one clearing day: the opening
    deposit, each fill's amount and each of its fees; real accounts."""
    account, echo = account_of(state, c2s)
    query_limit(state, ProtoId.TRD_FLOW_SUMMARY, account)
    _real_only(account, "Trd_FlowSummary (cash flow)")
    text = str(required(c2s, "clearingDate"))
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise SimError(f"invalid clearingDate {text!r}: use yyyy-MM-dd") from None
    direction = as_int(c2s.get("cashFlowDirection", 0), "cashFlowDirection")
    if direction not in (0, 1, 2):
        raise SimError(f"Unknown cashFlowDirection {direction}")
    state.trading.match(state.clock.now())
    venue = exchange.EXCHANGE_OF[account.qot_markets[0]]
    settles = _settlement_date(venue, day, _SETTLEMENT_DAYS[venue]).isoformat()
    rows: list[dict[str, Any]] = []

    def add(kind: str, amount: float, remark: str, flow_id: int) -> None:
        flow = CashFlowDirection.IN if amount >= 0 else CashFlowDirection.OUT
        if direction and direction != flow:
            return
        rows.append(
            {
                "clearingDate": day.isoformat(),
                "settlementDate": settles,
                "currency": int(account.currency),
                "cashFlowType": kind,
                "cashFlowDirection": int(flow),
                "cashFlowAmount": round(amount, 2),
                "cashFlowRemark": remark,
                "cashFlowID": str(flow_id),
            }
        )

    deposit = state.deposits[account.acc_id]
    if exchange.local(venue, deposit.time).date() == day:
        add("Deposit", deposit.amount, "Opening deposit", _FLOW_ID_BASE + account.acc_id % 1000)
    for deal in _deals(state):
        order = deal.order
        if order.acc_id != account.acc_id or exchange.local(venue, deal.time).date() != day:
            continue
        buy = order.side is TrdSide.BUY
        remark = (
            f"{'Bought' if buy else 'Sold'} {deal.qty} {order.sec.code} @ {deal.price:g} "
            f"(order {order.order_id_ex})"
        )
        value = deal.qty * deal.price
        add("Buy" if buy else "Sell", -value if buy else value, remark, _flow_id(deal, 0))
        for n, fee in enumerate(deal.fees, start=1):
            if fee.value:
                add(fee.title, -fee.value, f"{fee.title} of {remark}", _flow_id(deal, n))
    return {"header": echo, "flowSummaryInfoList": rows}


HANDLERS: dict[int, Handler] = {
    ProtoId.TRD_GET_HISTORY_ORDER_LIST: get_history_order_list,
    ProtoId.TRD_GET_HISTORY_ORDER_FILL_LIST: get_history_order_fill_list,
    ProtoId.TRD_GET_ORDER_FEE: get_order_fee,
    ProtoId.TRD_FLOW_SUMMARY: get_flow_summary,
}
