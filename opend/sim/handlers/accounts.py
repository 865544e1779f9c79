"""Account protocols: the account list, trade unlock, push subscription, funds, positions,
margin ratios."""

from typing import Any

from opend.codes import SEC_MARKET_OF
from opend.enums import Currency, TrdAccType, TrdEnv
from opend.protoids import ProtoId
from opend.sim import margin
from opend.sim.handlers.common import (
    ConnInfo,
    Handler,
    SimError,
    as_int,
    required,
    securities_between,
    wire_sec,
)
from opend.sim.handlers.trdargs import (
    account_of,
    code_filter,
    filter_conditions,
    market_filter,
    query_limit,
    refresh_limit,
)
from opend.sim.limits import LimitExceeded
from opend.sim.state import SimState
from opend.sim.trading import FX_TO_HKD, Account, Position

MAX_MARGIN_CODES = 100


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
            "accType": int(account.acc_type),
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

    cash_power = account.cash - frozen
    # A margin account's buying power: what its excess (cash plus the loan value of its
    # holdings) buys at a 50 % initial margin, the approximation Futu documents for `power`.
    excess = cash_power + trading.loan_value(account, now)
    is_margin = account.acc_type is TrdAccType.MARGIN
    power = max(excess, 0.0) / 0.5 if is_margin else cash_power
    held = [p for p in account.positions.values() if p.qty]
    initial_margin = sum(
        p.qty * state.market.last_price(p.sec, now) * margin.terms(p.sec).initial for p in held
    )
    maintenance_margin = sum(
        p.qty * state.market.last_price(p.sec, now) * margin.terms(p.sec).maintenance for p in held
    )
    return {
        "header": echo,
        "funds": {
            "power": money(power),
            "totalAssets": money(account.cash + market_val),
            "cash": money(account.cash),
            "marketVal": money(market_val),
            "frozenCash": money(frozen),
            "debtCash": money(max(-account.cash, 0.0)),
            "avlWithdrawalCash": money(max(cash_power, 0.0)),
            "currency": int(currency),
            "availableFunds": money(excess),
            "unrealizedPL": money(unrealized),
            "realizedPL": money(realized),
            "riskLevel": 0,
            "initialMargin": money(initial_margin if is_margin else 0.0),
            "maintenanceMargin": money(maintenance_margin if is_margin else 0.0),
            "maxPowerShort": 0.0,
            "netCashPower": money(cash_power),
            "longMv": money(market_val),
            "shortMv": 0.0,
            "pendingAsset": 0.0,
            "maxWithdrawal": money(max(cash_power, 0.0)),
            "securitiesAssets": money(account.cash + market_val),
            "cashInfoList": [
                {
                    "currency": int(account.currency),
                    "cash": round(account.cash, 2),
                    "availableBalance": round(cash_power, 2),
                    "netCashPower": round(cash_power, 2),
                }
            ],
        },
    }


def _position_wire(state: SimState, account: Account, p: Position, now: float) -> dict[str, Any]:
    price = state.market.last_price(p.sec, now)
    val = p.qty * price * p.sec.multiplier  # contracts are worth the multiplier each
    pl = val - p.cost_total
    cost = p.cost_price
    buy_qty, buy_val, sell_qty, sell_val = state.trading.today_trades(account, p.sec, now)
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
        "td_plVal": round(sell_val - buy_val + (buy_qty - sell_qty) * price * p.sec.multiplier, 2),
        "td_trdVal": round(buy_val + sell_val, 2),
        "td_buyVal": round(buy_val, 2),
        "td_buyQty": float(buy_qty),
        "td_sellVal": round(sell_val, 2),
        "td_sellQty": float(sell_qty),
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


def get_margin_ratio(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Trd_GetMarginRatio (2223): margin terms of HK and US stocks (opend.sim.margin), in
    percent; real accounts only, as OpenD serves it. The simulator does not sell short."""
    account, echo = account_of(state, c2s)
    query_limit(state, ProtoId.TRD_GET_MARGIN_RATIO, None)
    if account.env is not TrdEnv.REAL:
        raise SimError(
            "Trd_GetMarginRatio (margin ratios) is not available for paper trading (simulate) accounts"
        )
    securities = securities_between(state, c2s, MAX_MARGIN_CODES)
    rows = []
    for sec in securities:
        if sec.security.market not in margin.MARGIN_MARKETS:
            raise SimError(f"Margin ratios are only available for HK and US stocks ({sec.code})")
        terms = margin.terms(sec)
        rows.append(
            {
                "security": wire_sec(sec),
                "isLongPermit": terms.long_permit,
                "isShortPermit": False,
                "shortPoolRemain": 0.0,
                "alertLongRatio": round(terms.alert * 100, 2),
                "imLongRatio": round(terms.initial * 100, 2),
                "mcmLongRatio": round(terms.margin_call * 100, 2),
                "mmLongRatio": round(terms.maintenance * 100, 2),
            }
        )
    return {"header": echo, "marginRatioInfoList": rows}


HANDLERS: dict[int, Handler] = {
    ProtoId.TRD_GET_ACC_LIST: get_acc_list,
    ProtoId.TRD_UNLOCK_TRADE: unlock_trade,
    ProtoId.TRD_SUB_ACC_PUSH: sub_acc_push,
    ProtoId.TRD_GET_FUNDS: get_funds,
    ProtoId.TRD_GET_POSITION_LIST: get_position_list,
    ProtoId.TRD_GET_MARGIN_RATIO: get_margin_ratio,
}
