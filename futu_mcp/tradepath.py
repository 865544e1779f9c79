"""THE one path every order takes: place, modify and cancel differ only in how they are planned.

policy + ledger reservation → confirmation (if the key asks for it) → audit intent line
(fsynced; unwritable means refused, but a cancel is logged at ERROR and sent) → send →
ownership row (a placed order) → audit result line; the reservation is released when nothing
was placed. A send whose reply was lost is reported as outcome unknown and never retried.
`dry_run` runs every check and computes the value, sends nothing, touches no ledger.
"""

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import anyio

from futu_mcp.appstate import Call, trd_header
from futu_mcp.confirm import NeedInput, ask, needs_confirmation
from futu_mcp.errors import INTERNAL_ERROR, ToolFailure, gateway_error_text, invalid_argument
from futu_mcp.toolspec import TRADE_SCOPES
from opend.codes import TRD_MARKET_OF, QotMarket, Security

log = logging.getLogger("futu_mcp.trade")

CURRENCY_OF = {
    QotMarket.HK: "HKD",
    QotMarket.US: "USD",
    QotMarket.SH: "CNH",
    QotMarket.SZ: "CNH",
    QotMarket.SG: "SGD",
    QotMarket.JP: "JPY",
    QotMarket.AU: "AUD",
}
MARKET_ORDER_MARGIN = Decimal("1.05")
STATIC_TTL = 3600.0  # seconds a security's lot size and name are trusted before asking again
# Security types whose quantity is in contracts, each worth price × multiplier (OpenD reports an
# option's or a future's multiplier as its lot size: 100 for a US option, the contract size for
# HK options, 50 for HSI futures).
CONTRACT_TYPES = frozenset({"DRVT", "FUTURE"})
_static: dict[str, tuple["Contract", float]] = {}  # code → (facts, when fetched)


@dataclass(frozen=True)
class Contract:
    """What a security's quantity means: the lot an order's qty must be a multiple of, the
    value of one unit of qty per unit of price (1 for shares and warrants), and its name."""

    lot: int | None
    multiplier: int
    name: str | None

    def value(self, qty: float, price: float | Decimal) -> Decimal:
        """qty × price × multiplier, rounded to cents as the policy compares it."""
        return money(Decimal(str(price)) * Decimal(str(qty)) * self.multiplier)


CLIENT_ORDER_WAIT = 60.0  # seconds a repeat waits for the first call still in flight
OUTCOME_UNKNOWN = (
    "outcome unknown: the order was sent but the link to OpenD dropped before the reply, so it "
    "may or may not exist; check futu_get_orders before doing anything else (it is never retried)"
)


@dataclass
class OrderPlan:
    """What will be sent, with everything the policy and the person need to judge it."""

    kind: Literal["place", "modify", "cancel"]
    trd_env: str
    acc: Any
    security: Security
    trd_side: str
    qty: float
    price: float | None
    order_type: str
    value: Decimal | None
    order_id: str | None = None
    name: str | None = None
    multiplier: int = 1
    daily_increase: Decimal | None = None
    send_args: dict[str, Any] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        """Trading currency of the security's market."""
        return CURRENCY_OF.get(self.security.market, "HKD")

    @property
    def scope(self) -> str:
        """The scope this order needs."""
        return "trade:real" if self.trd_env == "REAL" else "trade:simulate"

    def describe(self) -> dict[str, Any]:
        """The order as shown to the client and written to the audit log."""
        out: dict[str, Any] = {
            "code": str(self.security),
            "trd_side": self.trd_side,
            "order_type": self.order_type,
            "qty": self.qty,
            "acc_id": str(self.acc.acc_id),
            "trd_env": self.trd_env,
            "currency": self.currency,
            "name": self.name or "",
        }
        if self.price is not None:
            out["price"] = self.price
        if self.value is not None:
            out["value"] = float(self.value)
        if self.multiplier != 1:
            out["multiplier"] = self.multiplier
        if self.order_id is not None:
            out["order_id"] = self.order_id
        return out

    def summary(self) -> str:
        """The confirmation text: side, quantity, code and name, price, value, account, env."""
        what = {"place": "Place order", "modify": "Modify order", "cancel": "Cancel order"}[
            self.kind
        ]
        name = f" ({self.name})" if self.name else ""
        price = f"at {self.price:g}" if self.price is not None else "at market"
        value = f", value about {self.value:,.2f} {self.currency}" if self.value is not None else ""
        target = f" {self.order_id}" if self.order_id else ""
        qty = f"{self.qty:g}"
        if self.multiplier != 1:
            contracts = "contract" if self.qty == 1 else "contracts"
            qty += f" {contracts} (x{self.multiplier}) of"
        return (
            f"{what}{target}: {self.trd_side} {qty} {self.security}{name} {price}{value}; "
            f"account {self.acc.acc_id}, {self.trd_env}"
        )


def money(value: float | Decimal) -> Decimal:
    """A value rounded to cents, as the policy compares it."""
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def market_order_value(
    call: Call, security: Security, trd_side: str, qty: float, contract: Contract
) -> Decimal:
    """qty × best ask (buy) / best bid (sell), last price if the book is empty, × the
    contract's multiplier × 1.05."""
    book = await call.client.get_order_book(security, 1)
    side = book.ask if trd_side in ("BUY", "BUY_BACK") else book.bid
    price = side[0].price if side and side[0].price else None
    if not price:
        quotes = await call.client.get_stock_quote([security])
        price = quotes[0].last_price if quotes else None
    if not price:
        raise ToolFailure(
            f"gateway error: no price for {security} to value the market order", "gateway"
        )
    return money(contract.value(qty, price) * MARKET_ORDER_MARGIN)


async def check_qty(call: Call, security: Security, qty: float) -> Contract:
    """Whole shares or contracts, at least 1, in whole lots where the lot size is known: OpenD
    refuses any other quantity, so a dry run must not report that the checks passed. Returns
    the security's facts, for valuing the order."""
    contract = await static_facts(call, security)
    unit = "contracts" if contract.multiplier != 1 else "shares"
    if qty < 1 or qty != int(qty):
        raise invalid_argument("qty", f"must be a whole number of {unit}, at least 1 (got {qty:g})")
    if contract.lot and int(qty) % contract.lot:
        raise invalid_argument(
            "qty", f"must be a multiple of the lot size {contract.lot} of {security}"
        )
    return contract


async def static_facts(call: Call, security: Security) -> Contract:
    """The security's lot, multiplier and name from OpenD's static info, cached per code for
    STATIC_TTL (one request serves the quantity check, the value and the order's name). An
    option or future is traded in contracts (lot 1) worth price × its multiplier."""
    code = str(security)
    cached = _static.get(code)
    if cached is not None and time.monotonic() - cached[1] < STATIC_TTL:
        return cached[0]
    rows = await call.client.get_stock_basicinfo(None, None, [security])
    if not rows:
        # Nothing to take the lot size or a contract's multiplier from: refuse, never guess.
        raise ToolFailure(f"gateway error: no static info for {security}", "gateway")
    lot = next((r.lot_size for r in rows if r.lot_size), None)
    name = next((r.name for r in rows if r.name), None)
    if any(r.stock_type in CONTRACT_TYPES for r in rows):
        if not lot:
            # Valued without its multiplier, a contract would pass a cap 100 times its value.
            raise ToolFailure(f"gateway error: no contract size for {security}", "gateway")
        contract = Contract(lot=1, multiplier=lot, name=name)
    else:
        contract = Contract(lot=lot, multiplier=1, name=name)
    _static[code] = (contract, time.monotonic())
    return contract


async def run_trade(
    call: Call, args: Any, plan_order: Callable[[Call, Any], Awaitable[OrderPlan]]
) -> dict[str, Any]:
    """The one wrapper of every trade tool: the checks that need no gateway (key state, scope,
    market, symbol, side) before any OpenD request, so a refused order never waits on the
    gateway; then the tool's plan and `execute`, once per `client_order_id` when one is given."""
    from keystore.policy import Request

    code = getattr(args, "code", None)
    scope = TRADE_SCOPES[args.trd_env]
    trd_side = getattr(args, "trd_side", None)
    call.allow(
        Request(
            scope=scope,
            market=code.partition(".")[0] if code else None,
            code=code,
            trd_side=trd_side,
        )
    )
    dry_run = bool(getattr(args, "dry_run", False))
    arguments = args.model_dump(exclude_none=True)

    async def run() -> dict[str, Any]:
        return await execute(call, await plan_order(call, args), arguments, dry_run=dry_run)

    client_order_id = getattr(args, "client_order_id", None)
    if dry_run or client_order_id is None:
        return await run()
    digest = order_digest(args.model_dump(exclude={"client_order_id", "dry_run"}))
    return await with_client_order_id(call, client_order_id, run, digest)


def _key_status_now(call: Call) -> str:
    """The key's status after a confirmation question: over stdio keys.json is read again (a
    revocation made while the person decided counts); over HTTP the Bearer-checked record's
    expiry (the gate ends a revoked key's sessions)."""
    from keystore.errors import KeystoreError, Unauthorized

    stdio = call.state.stdio_key
    if stdio is None:
        return call.key.status()
    try:
        return stdio.current(call.state.verifier).status()
    except Unauthorized:
        return "revoked"
    except KeystoreError:  # keys.json unreadable now: fail closed
        return "revoked"


def audit_base(call: Call, arguments: dict[str, Any]) -> dict[str, Any]:
    """Fields every trade audit line carries."""
    return {
        "key_id": call.key.id,
        "kid": call.key.kid,
        "transport": call.transport,
        "tool": call.tool,
        "arguments": arguments,
    }


async def execute(
    call: Call, plan: OrderPlan, arguments: dict[str, Any], *, dry_run: bool
) -> dict[str, Any]:
    """Check, reserve, confirm, audit, send, audit: the steps no trade tool implements itself."""
    from keystore.errors import LedgerUnavailable
    from keystore.policy import Decision, Request, authorize

    state = call.state
    started = time.perf_counter()
    check_wire(call, plan)
    request = Request(
        scope=plan.scope,
        kind=plan.kind,
        market=plan.security.market.name,
        code=str(plan.security),
        trd_side=plan.trd_side,
        acc_id=int(plan.acc.acc_id),
        value=plan.value if plan.kind != "cancel" else None,
        currency=plan.currency,
        daily_increase=plan.daily_increase,
    )
    base = audit_base(call, arguments)
    # In a worker thread: the ledger's check-and-reserve may wait on another process's lock.
    try:
        decision = await anyio.to_thread.run_sync(
            lambda: authorize(
                call.key, request, ledger=state.ledger, caps=state.caps, reserve=not dry_run
            )
        )
    except LedgerUnavailable as exc:
        # Fail closed: no shared count, no order (refused and audited like any denial).
        decision = Decision(False, "ledger_unavailable", str(exc))
    if not decision.allowed:
        await _audit_call(
            call,
            base,
            plan,
            started,
            decision="deny",
            reason=decision.reason or "policy",
            error=decision.message,
            fsync=True,
        )
        call.deny(decision)
    if dry_run:
        await _audit_call(
            call,
            base,
            plan,
            started,
            decision="allow",
            reason=None,
            result={"dry_run": True},
            fsync=False,
        )
        return {"dry_run": True, "sent": False, "checks": "passed", **plan.describe()}

    reservation = decision.reservation
    sent = False
    try:
        if plan.kind != "cancel" and needs_confirmation(call.key.confirm_orders, plan.trd_env):
            try:
                answer = await ask(
                    call.ctx,
                    plan.summary(),
                    key_id=call.key.id,
                    confirm_orders=call.key.confirm_orders,
                    stateless=state.config.stateless,
                )
            except NeedInput:
                # A 2026-07-28 client carries the question to the person and calls again with
                # the answer (audited then); this round is a call too, so it has its line, even
                # if no answer ever comes.
                await _audit_call(
                    call, base, plan, started, decision="ask", reason="confirmation", fsync=False
                )
                raise
            if answer != "accept":
                await _audit_call(
                    call,
                    base,
                    plan,
                    started,
                    decision="declined",
                    reason=answer,
                    error="confirmation declined",
                    fsync=True,
                )
                raise ToolFailure("confirmation declined", "declined", decision="declined")
            # The question may have been open for minutes: the key must still be good now.
            status = _key_status_now(call)
            if status != "active":
                await _audit_call(
                    call,
                    base,
                    plan,
                    started,
                    decision="deny",
                    reason=status,
                    error=f"key {status}",
                    fsync=True,
                )
                raise ToolFailure(f"key {status}", status)
        call.audited = True
        if not await state.audit_write(
            {
                **base,
                "phase": "intent",
                "decision": "allow",
                "reason": None,
                "order": plan.describe(),
            },
            fsync=True,
        ):
            if plan.kind != "cancel":
                raise ToolFailure("audit log not writable: order refused (see server log)", "audit")
            # A cancel only lowers risk: a person must always be able to pull an order.
            state.metrics.unaudited_cancel()
            log.error(
                "audit log not writable: cancel of order %s in account %s sent without its "
                "audit line",
                plan.order_id,
                plan.acc.acc_id,
            )
        sent = call.order_sent = True
        result = await _send(call, plan)
    except BaseException as exc:
        # Cancelled while sending (client gone): the order may be out, so it counts as unknown.
        unknown = _is_outcome_unknown(exc) or (sent and not isinstance(exc, Exception))
        with anyio.CancelScope(shield=True):
            if reservation is not None and not unknown:
                # In a worker thread like every ledger call: it may wait on another process's lock.
                try:
                    await anyio.to_thread.run_sync(state.ledger.release, reservation)
                except Exception:  # the order's own outcome and result line come first
                    log.exception("could not give back the reservation of a failed order")
            if sent:
                error = OUTCOME_UNKNOWN if unknown else await _error_text(call, exc)
                await state.audit_write(
                    {
                        **base,
                        "phase": "result",
                        "decision": "allow",
                        "reason": None,
                        "result": {"outcome": "unknown"} if unknown else None,
                        "error": error,
                        "latency_ms": _ms(started),
                    },
                    fsync=True,
                )
        if unknown and isinstance(exc, Exception):
            raise ToolFailure(OUTCOME_UNKNOWN, "outcome_unknown", decision="allow") from exc
        raise
    if plan.kind == "place":
        await _remember_order(call, plan, result["order_id"])
    await state.audit_write(
        {
            **base,
            "phase": "result",
            "decision": "allow",
            "reason": None,
            "result": result,
            "latency_ms": _ms(started),
        },
        fsync=True,
    )
    return {"dry_run": False, "sent": True, **plan.describe(), **result}


async def _remember_order(call: Call, plan: OrderPlan, order_id: str) -> None:
    """Note in the ledger that this key placed the order, so only it may modify or cancel it.

    The order is already out, so a ledger failure is logged, not raised: the key then cannot
    manage that order through futu-mcp (fail closed), but the placement is still reported.
    """
    try:
        await anyio.to_thread.run_sync(
            call.state.ledger.record_order, call.key.id, int(plan.acc.acc_id), order_id
        )
    except Exception:
        log.exception("order %s placed but its owner could not be recorded", order_id)


# The argument names OpenD's request builder (opend.c2s) starts its refusals with.
_WIRE_FIELDS = ("trd_side", "order_type", "qty", "price", "order_id")


def check_wire(call: Call, plan: OrderPlan) -> None:
    """Build the OpenD request once without sending it, so an order the client would refuse is
    `invalid argument` before any ledger slot or audit intent line, never an error mid-send."""
    from opend import c2s
    from opend.enums import OrderType, TrdSide

    header = trd_header(plan.acc, TRD_MARKET_OF[plan.security.market].name)
    try:
        if plan.kind == "place":
            side = TrdSide[plan.trd_side]
            order_type = OrderType[plan.order_type]
            c2s.place_order(
                {},
                header,
                plan.security,
                side,
                order_type,
                plan.qty,
                plan.price or 0.0,
                _remark(call),
            )
        else:
            op, qty, price = _modify_fields(plan)
            c2s.modify_order({}, header, str(plan.order_id), op, qty, price)
    except (KeyError, ValueError) as exc:
        text = str(exc).strip("'")
        field = next((f for f in _WIRE_FIELDS if text.startswith(f + " ")), None)
        why = text.removeprefix(f"{field} ") if field else text
        raise ToolFailure(
            f"invalid argument: {field or 'order'}: {why}", "invalid_argument"
        ) from None


def _remark(call: Call) -> str:
    return f"fc:{call.key.kid}"


def _modify_fields(plan: OrderPlan) -> tuple[Any, float | None, float | None]:
    from opend.enums import ModifyOrderOp

    if plan.kind == "cancel":
        return ModifyOrderOp.CANCEL, None, None
    return ModifyOrderOp.NORMAL, plan.qty, plan.price


async def _send(call: Call, plan: OrderPlan) -> dict[str, Any]:
    from opend.enums import OrderType, TrdSide

    header = trd_header(plan.acc, TRD_MARKET_OF[plan.security.market].name)
    if plan.kind == "place":
        placed = await call.client.place_order(
            header,
            plan.security,
            TrdSide[plan.trd_side],
            OrderType[plan.order_type],
            plan.qty,
            plan.price or 0.0,
            remark=_remark(call),
        )
        return {"order_id": str(placed.order_id), "status": "SUBMITTED"}
    op, qty, price = _modify_fields(plan)
    await call.client.modify_order(header, str(plan.order_id), op, qty=qty, price=price)
    status = "CANCEL_REQUESTED" if plan.kind == "cancel" else "MODIFY_REQUESTED"
    return {"order_id": str(plan.order_id), "status": status}


def _is_outcome_unknown(exc: BaseException) -> bool:
    from opend.errors import OutcomeUnknown

    return isinstance(exc, OutcomeUnknown)


async def _error_text(call: Call, exc: BaseException) -> str:
    """The text the client gets for this failure, so the order's audit line says the same."""
    from opend.errors import GatewayNotConnected, OpenDError

    if isinstance(exc, ToolFailure):
        return exc.text
    if isinstance(exc, GatewayNotConnected):
        return str(exc)
    if isinstance(exc, OpenDError):
        return await gateway_error_text(call.client, exc)
    return INTERNAL_ERROR


async def _audit_call(
    call: Call,
    base: dict[str, Any],
    plan: OrderPlan,
    started: float,
    *,
    decision: str,
    reason: str | None,
    fsync: bool,
    **fields: Any,
) -> None:
    """The one audit line of a trade call that sends nothing (refused, dry run, asked,
    declined): its decision and why, with the order it was about."""
    call.audited = True
    await call.state.audit_write(
        {
            **base,
            "phase": "call",
            "decision": decision,
            "reason": reason,
            **fields,
            "order": plan.describe(),
            "latency_ms": _ms(started),
        },
        fsync=fsync,
    )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def order_digest(arguments: dict[str, Any]) -> str:
    """A digest of an order's normalised arguments (defaults filled in, codes canonical), so a
    client_order_id reused for a different order is told apart from a retry."""
    text = json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def with_client_order_id(
    call: Call, client_order_id: str | None, run: Any, digest: str | None = None
) -> dict[str, Any]:
    """Run `run()` at most once per (key, client_order_id) within 24 h; repeats get the first result.

    A repeat while the first call is in flight waits for it. A call that sent nothing (refused,
    declined, gateway down) gives the id back so it can be retried. A repeat whose `digest`
    differs from the first call's is refused: it asks for another order.
    """
    from keystore.errors import LedgerUnavailable

    if client_order_id is None:
        return await run()
    ledger = call.state.ledger
    key_id = call.key.id
    deadline = time.monotonic() + CLIENT_ORDER_WAIT
    while True:
        try:
            state = await anyio.to_thread.run_sync(
                lambda: ledger.begin_client_order(key_id, client_order_id, digest=digest)
            )
        except LedgerUnavailable as exc:  # fail closed: a repeat could not be recognised
            raise ToolFailure(str(exc), "ledger_unavailable") from None
        if state.status == "new":
            break
        if state.status == "conflict":
            raise ToolFailure(
                "invalid argument: client_order_id: already used for a different order",
                "invalid_argument",
            )
        if state.status == "done":
            return _replay(state.result, client_order_id)
        if time.monotonic() > deadline:
            raise ToolFailure(
                f"client_order_id {client_order_id} is still in flight in another call; check "
                f"futu_get_orders",
                "in_flight",
            )
        await anyio.sleep(0.05)
    try:
        result = await run()
    except BaseException as exc:
        # An order that may be out is remembered as unknown (a repeat must never send a
        # second one); one that surely was not sent gives the id back for a retry.
        maybe_out = (isinstance(exc, ToolFailure) and exc.reason == "outcome_unknown") or (
            call.order_sent and not isinstance(exc, Exception)
        )
        with anyio.CancelScope(shield=True):
            if maybe_out:
                stored = {"error": OUTCOME_UNKNOWN}
                await _settle(ledger.finish_client_order, key_id, client_order_id, stored)
            else:
                await _settle(ledger.abandon_client_order, key_id, client_order_id)
        raise
    await _settle(ledger.finish_client_order, key_id, client_order_id, result)
    return {**result, "client_order_id": client_order_id}


async def _settle(step: Any, *args: Any) -> None:
    """Record how a client_order_id ended. The call's own outcome is what the caller must hear:
    if the ledger cannot take it (Redis down), the id stays claimed, so a repeat says it is in
    flight rather than placing a second order; logged, never raised."""
    from keystore.errors import LedgerError

    try:
        await anyio.to_thread.run_sync(step, *args)
    except LedgerError as exc:
        log.warning("client_order_id %s: outcome not recorded (%s)", args[1], exc)


def _replay(stored: dict[str, Any] | None, client_order_id: str) -> dict[str, Any]:
    stored = stored or {}
    if "error" in stored:
        raise ToolFailure(str(stored["error"]), "outcome_unknown", decision="allow")
    return {**stored, "client_order_id": client_order_id, "repeat": True}
