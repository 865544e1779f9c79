"""Account protocols: the account list, trade unlock, push subscription, funds, positions."""

from typing import Any

from opend.codes import SEC_MARKET_OF
from opend.enums import Currency, TrdEnv
from opend.protoids import ProtoId
from opend.sim.handlers.common import ConnInfo, Handler, SimError, as_int, required
from opend.sim.handlers.trdargs import (
    account_of,
    code_filter,
    filter_conditions,
    market_filter,
    refresh_limit,
)
from opend.sim.limits import LimitExceeded
from opend.sim.state import SimState
from opend.sim.trading import FX_TO_HKD, Account, Position


def get_acc_list(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetAccList (2001): one real and one simulate securities account per market."""
    category = as_int(c2s.get("trdCategory", 0), "trdCategory")
    if category not in (0, 1):
        return {"accList": []}
    accounts = []
    for account in state.trading.accounts.values():
        item: dict[str, Any] = {
            "trdEnv": int(account.env),
            "accID": str(account.acc_id),
            "trdMarketAuthList": [int(m) for m in account.markets],
            "accType": 1,
            "accStatus": 0,
        }
        if account.env is TrdEnv.REAL:
            item.update(
                cardNum=account.card_num, uniCardNum=account.card_num, securityFirm=1, accRole=1
            )
        else:
            item.update(simAccType=1)
        accounts.append(item)
    return {"accList": accounts}


def unlock_trade(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_UnlockTrade (2005): unlock (or lock) real trading for the whole gateway."""
    try:
        state.unlock_window.check(state.clock.monotonic())
    except LimitExceeded as exc:
        raise SimError(str(exc)) from None
    if not bool(required(c2s, "unlock")):
        state.unlocked = False
        return {}
    pwd_md5 = c2s.get("pwdMD5")
    if not pwd_md5:
        raise SimError("Unlock failed: pwdMD5 (the MD5 of the trade password) is required")
    if not state.password_matches(str(pwd_md5)):
        raise SimError("Unlock failed: the trade password is incorrect")
    state.unlocked = True
    return {}


def sub_acc_push(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_SubAccPush (2008): the full list of accounts whose order and fill updates this
    connection receives (Trd_UpdateOrder, Trd_UpdateOrderFill)."""
    accounts = {as_int(raw, "accIDList") for raw in c2s.get("accIDList", [])}
    for acc_id in accounts:
        if acc_id not in state.trading.accounts:
            raise SimError(f"Nonexisting acc_id {acc_id}")
    conn.push_accounts = accounts
    return {}


def get_funds(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetFunds (2101): cash, buying power and market value, in the asked currency."""
    account, echo = account_of(state, c2s)
    refresh_limit(state, ProtoId.TRD_GET_FUNDS, account, c2s)
    now = state.clock.now()
    trading = state.trading
    trading.match(now)
    currency = account.currency
    if c2s.get("currency"):
        try:
            currency = Currency(as_int(c2s["currency"], "currency"))
        except ValueError:
            raise SimError(f"Unknown currency {c2s['currency']}") from None
        if currency not in FX_TO_HKD:
            raise SimError(f"Unsupported currency {currency.name}")
    rate = FX_TO_HKD[account.currency] / FX_TO_HKD[currency]
    frozen = trading.frozen_cash(account)
    market_val = trading.market_value(account, now)
    unrealized = sum(
        p.qty * state.market.last_price(p.sec, now) * p.sec.multiplier - p.cost_total
        for p in account.positions.values()
        if p.qty
    )
    realized = sum(p.realized_pl for p in account.positions.values())

    def money(value: float) -> float:
        return round(value * rate, 2)

    power = account.cash - frozen
    return {
        "header": echo,
        "funds": {
            "power": money(power),
            "totalAssets": money(account.cash + market_val),
            "cash": money(account.cash),
            "marketVal": money(market_val),
            "frozenCash": money(frozen),
            "debtCash": 0.0,
            "avlWithdrawalCash": money(power),
            "currency": int(currency),
            "availableFunds": money(power),
            "unrealizedPL": money(unrealized),
            "realizedPL": money(realized),
            "riskLevel": 0,
            "initialMargin": 0.0,
            "maintenanceMargin": 0.0,
            "maxPowerShort": 0.0,
            "netCashPower": money(power),
            "longMv": money(market_val),
            "shortMv": 0.0,
            "pendingAsset": 0.0,
            "maxWithdrawal": money(power),
            "securitiesAssets": money(account.cash + market_val),
            "cashInfoList": [
                {
                    "currency": int(account.currency),
                    "cash": round(account.cash, 2),
                    "availableBalance": round(power, 2),
                    "netCashPower": round(power, 2),
                }
            ],
        },
    }


def _position_wire(state: SimState, account: Account, p: Position, now: float) -> dict[str, Any]:
    price = state.market.last_price(p.sec, now)
    val = p.qty * price * p.sec.multiplier  # contracts are worth the multiplier each
    pl = val - p.cost_total
    cost = p.cost_price
    return {
        "positionID": str(p.position_id),
        "positionSide": 0,
        "code": p.sec.security.code,
        "name": p.sec.name,
        "qty": float(p.qty),
        "canSellQty": float(state.trading.can_sell(account, p.sec)),
        "price": price,
        "costPrice": round(cost, 4),
        "val": round(val, 2),
        "plVal": round(pl, 2),
        # A fraction (0.05 = 5%), unlike the quote side's percent fields: the SDK multiplies by 100.
        "plRatio": round(pl / p.cost_total, 6) if p.cost_total else 0.0,
        "secMarket": int(SEC_MARKET_OF[p.sec.security.market]),
        "td_plVal": round(
            p.td_sell_val
            - p.td_buy_val
            + (p.td_buy_qty - p.td_sell_qty) * price * p.sec.multiplier,
            2,
        ),
        "td_trdVal": round(p.td_buy_val + p.td_sell_val, 2),
        "td_buyVal": round(p.td_buy_val, 2),
        "td_buyQty": float(p.td_buy_qty),
        "td_sellVal": round(p.td_sell_val, 2),
        "td_sellQty": float(p.td_sell_qty),
        "unrealizedPL": round(pl, 2),
        "realizedPL": round(p.realized_pl, 2),
        "currency": int(account.currency),
        "trdMarket": int(account.markets[0]),
        "dilutedCostPrice": round(cost, 4),
        "averageCostPrice": round(cost, 4),
        "averagePlRatio": round(pl / p.cost_total, 6) if p.cost_total else 0.0,
        "accID": str(account.acc_id),
    }


def get_position_list(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetPositionList (2102): holdings valued at the last price."""
    account, echo = account_of(state, c2s)
    refresh_limit(state, ProtoId.TRD_GET_POSITION_LIST, account, c2s)
    now = state.clock.now()
    state.trading.match(now)
    conditions = filter_conditions(c2s)
    ids = {as_int(i, "idList") for i in conditions.get("idList") or []}
    low, high = c2s.get("filterPLRatioMin"), c2s.get("filterPLRatioMax")
    positions = []
    for p in account.positions.values():
        if not p.qty or not code_filter(conditions, p.sec) or not market_filter(conditions, p.sec):
            continue
        if ids and p.position_id not in ids:
            continue
        wire = _position_wire(state, account, p, now)
        if (low is not None and wire["plRatio"] < float(low)) or (
            high is not None and wire["plRatio"] > float(high)
        ):
            continue
        positions.append(wire)
    return {"header": echo, "positionList": positions}


HANDLERS: dict[int, Handler] = {
    ProtoId.TRD_GET_ACC_LIST: get_acc_list,
    ProtoId.TRD_UNLOCK_TRADE: unlock_trade,
    ProtoId.TRD_SUB_ACC_PUSH: sub_acc_push,
    ProtoId.TRD_GET_FUNDS: get_funds,
    ProtoId.TRD_GET_POSITION_LIST: get_position_list,
}
