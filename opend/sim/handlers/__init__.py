"""The simulated OpenD's protocols: one function per protocol, the request's `c2s` dict in, the
reply's `s2c` dict out, grouped by area (session, quotes, static, calendar, accounts, orders,
history, derivatives, research, watchlist).

Handlers never see bytes or formats (see pbcodec) and never touch sockets (see server). A
request OpenD would refuse raises `SimError`; its message becomes the reply's retMsg. Field names
are the .proto names (`td_plVal`), 64-bit integers are strings (the canonical protobuf JSON
mapping, which both the SDK's parser and json_format accept). Each area module exports its own
`HANDLERS` table; this module joins them into the one dispatch table and answers requests.
"""

from typing import Any

from opend.protoids import ProtoId
from opend.sim.handlers import (
    accounts,
    calendar,
    derivatives,
    history,
    orders,
    quotes,
    research,
    session,
    static,
    watchlist,
)
from opend.sim.handlers.common import ConnInfo, Handler, SimError
from opend.sim.handlers.session import LOGIN_FAILED_DESC, NOT_LOGGED_IN, WITHOUT_LOGIN
from opend.sim.limits import LimitExceeded
from opend.sim.state import SimState

__all__ = [
    "HANDLERS",
    "LOGIN_FAILED_DESC",
    "NOT_LOGGED_IN",
    "ConnInfo",
    "SimError",
    "error_reply",
    "respond",
]

_AREAS = (
    session,
    quotes,
    static,
    calendar,
    accounts,
    orders,
    history,
    derivatives,
    research,
    watchlist,
)


def _join(*tables: dict[int, Handler]) -> dict[int, Handler]:
    joined: dict[int, Handler] = {}
    for table in tables:
        clash = joined.keys() & table.keys()
        if clash:
            raise RuntimeError(f"protocols served by two handler areas: {sorted(clash)}")
        joined.update(table)
    return joined


HANDLERS: dict[int, Handler] = _join(*(area.HANDLERS for area in _AREAS))


def respond(state: SimState, conn: ConnInfo, proto_id: int, c2s: dict[str, Any]) -> dict[str, Any]:
    """The full reply body for one request: success with s2c, or an OpenD-style error."""
    handler = HANDLERS.get(proto_id)
    if handler is None:
        return error_reply(f"Unknown protocol ID {proto_id}")
    if not state.logged_in and proto_id not in WITHOUT_LOGIN:
        return error_reply(NOT_LOGGED_IN)
    if not isinstance(c2s, dict):
        return error_reply("invalid request: c2s must be an object")
    try:
        if state.quote_windows:  # empty unless quote_limits is on
            _rate_check(state, proto_id, c2s)
        s2c = handler(state, conn, c2s)
    except SimError as exc:
        return error_reply(str(exc), exc.ret_type, exc.err_code)
    reply: dict[str, Any] = {"retType": 0, "retMsg": "", "errCode": 0}
    if s2c is not None:
        reply["s2c"] = s2c
    return reply


def _rate_check(state: SimState, proto_id: int, c2s: dict[str, Any]) -> None:
    """OpenD's quote request limits (with quote_limits on), counted at arrival like OpenD's:
    a request refused afterwards for a bad field still counts. The retMsg texts are the
    simulator's own; OpenD's exact wording is not documented."""
    window = state.quote_windows.get(proto_id)
    if window is None:
        return
    if proto_id == ProtoId.QOT_REQUEST_HISTORY_KL and c2s.get("nextReqKey"):
        return  # only a security's first page counts
    if proto_id == ProtoId.QOT_GET_REFERENCE and c2s.get("referenceType") == 1:
        return  # OpenD does not count an underlying's warrant lookups
    try:
        window.check(state.clock.monotonic())
    except LimitExceeded as exc:
        raise SimError(str(exc)) from None


def error_reply(message: str, ret_type: int = -1, err_code: int = 0) -> dict[str, Any]:
    """An error reply body as OpenD sends it: retType, retMsg, errCode and no s2c."""
    return {"retType": ret_type, "retMsg": message, "errCode": err_code}
