"""May this key make this call? The contract's checks, in its order; first failure wins.

Order: revoked, expired, scope, market, symbol, side, account, hours window, order value,
orders/minute, daily value. The last two and the reservation are one atomic ledger step.
A cancel only reduces risk: it is checked for revoked, expired, scope and account, never for a
market, symbol, side or any limit (a narrowed key must still be able to take its orders back).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal, TypeVar

from keystore.errors import KeystoreError
from keystore.ledger import Ledger, LimitDenial, Reservation
from keystore.records import KeyRecord, ValueLimit, format_amount

SCOPES: tuple[str, ...] = ("qot:read", "acc:read", "trade:simulate", "trade:real")
TRD_SIDES: tuple[str, ...] = ("BUY", "SELL", "SELL_SHORT", "BUY_BACK")

RequestKind = Literal["read", "place", "modify", "cancel"]
DenyReason = Literal[
    "revoked",
    "expired",
    "scope",
    "market",
    "symbol",
    "side",
    "account",
    "hours",
    "order_value",
    "rate",
    "daily_value",
    "ledger_unavailable",
]


@dataclass(frozen=True)
class ServerCaps:
    """Server-wide caps (`futu-mcp --max-*`); the stricter of these and the key's wins."""

    max_order_value: ValueLimit | None = None
    max_daily_value: ValueLimit | None = None
    max_orders_per_minute: int | None = None


@dataclass(frozen=True)
class Request:
    """What a tool call wants to do, as far as the policy needs to know."""

    scope: str
    kind: RequestKind = "read"
    market: str | None = None
    code: str | None = None
    trd_side: str | None = None
    acc_id: int | None = None
    value: Decimal | None = None
    currency: str | None = None
    daily_increase: Decimal | None = None


@dataclass(frozen=True)
class Decision:
    """The answer: allowed, or the reason and the exact contract text to return."""

    allowed: bool
    reason: DenyReason | None
    message: str | None
    reservation: Reservation | None = None


ALLOWED = Decision(True, None, None)
_Num = TypeVar("_Num", int, Decimal)


def authorize(
    key: KeyRecord,
    request: Request,
    *,
    ledger: Ledger | None = None,
    caps: ServerCaps | None = None,
    now: datetime | None = None,
    reserve: bool = True,
) -> Decision:
    """Check `request` against `key` (and the server caps); for place/modify, reserve.

    A place/modify whose key or server has a rate or daily cap needs `ledger` (raises
    KeystoreError otherwise: never silently unchecked). `reserve=False` (dry run) runs every
    check, the ledger's too, and keeps nothing. Read calls are never limited; a cancel is
    checked for key state, scope and account only.
    """
    now = now or datetime.now(UTC)
    limits = key.limits
    if key.revoked_at is not None:
        return _deny("revoked", "key revoked")
    if key.expires_at is not None and key.expires_at <= now:
        return _deny("expired", "key expired")
    if request.scope not in key.scopes:
        return _deny("scope", f"missing scope: {request.scope}")
    accounts = limits.allowed_acc_ids
    if request.kind == "cancel":
        if request.acc_id is not None and accounts is not None and request.acc_id not in accounts:
            return _deny("account", f"account not allowed: {request.acc_id}")
        return ALLOWED
    market = request.market.upper() if request.market else None
    allowed = limits.allowed_markets
    if market is not None and allowed is not None and market not in allowed:
        return _deny("market", f"market not allowed: {market}")
    symbols = limits.allowed_symbols
    if request.code and symbols is not None and not _symbol_allowed(request.code.upper(), symbols):
        return _deny("symbol", f"symbol not allowed: {request.code}")
    sides = limits.allowed_trd_sides
    if request.trd_side and sides is not None and request.trd_side.upper() not in sides:
        return _deny("side", f"side not allowed: {request.trd_side}")
    if request.acc_id is not None and accounts is not None and request.acc_id not in accounts:
        return _deny("account", f"account not allowed: {request.acc_id}")
    if request.kind not in ("place", "modify"):
        return ALLOWED
    if limits.hours_window is not None and not limits.hours_window.contains(now):
        return _deny("hours", f"outside trading hours window {limits.hours_window}")
    caps = caps or ServerCaps()
    max_value = _stricter(limits.max_order_value, caps.max_order_value, market)
    if max_value is not None:
        if request.value is None:
            return _deny(
                "order_value",
                f"limit check failed: order value unknown, limit {format_amount(max_value)}",
            )
        if request.value > max_value:
            return _deny(
                "order_value",
                f"limit check failed: order value {format_amount(request.value)} "
                f"exceeds {format_amount(max_value)}",
            )
    per_minute = _min_or_none(limits.max_orders_per_minute, caps.max_orders_per_minute)
    max_daily = _stricter(limits.max_daily_value, caps.max_daily_value, market)
    increase = request.daily_increase if request.daily_increase is not None else request.value
    if max_daily is not None and increase is None:
        # Counting an order of unknown value as 0 would let it past the daily cap.
        return _deny(
            "daily_value",
            f"limit check failed: order value unknown, daily limit {format_amount(max_daily)}",
        )
    if ledger is None:
        if per_minute is not None or max_daily is not None:
            raise KeystoreError("a ledger is needed to check rate and daily limits")
        return ALLOWED
    outcome = ledger.reserve(
        key.id,
        market=market or "",
        currency=(request.currency or "").upper(),
        amount=max(increase or Decimal(0), Decimal(0)),
        max_per_minute=per_minute,
        max_daily=max_daily,
        now=now,
        commit=reserve,
    )
    if isinstance(outcome, LimitDenial):
        return _deny(outcome.reason, outcome.message)
    return Decision(True, None, None, outcome)


def _deny(reason: DenyReason, message: str) -> Decision:
    return Decision(False, reason, message)


def _symbol_allowed(code: str, allowed: frozenset[str]) -> bool:
    # An entry without a market prefix ("00700") allows that code in any market.
    return code in allowed or code.partition(".")[2] in allowed


def _stricter(
    key_limit: ValueLimit | None, server_cap: ValueLimit | None, market: str | None
) -> Decimal | None:
    return _min_or_none(
        key_limit.for_market(market) if key_limit else None,
        server_cap.for_market(market) if server_cap else None,
    )


def _min_or_none(a: _Num | None, b: _Num | None) -> _Num | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
