"""The connection-level protocols: InitConnect, KeepAlive, GetGlobalState."""

import time
from typing import Any

from opend.codes import QotMarket
from opend.enums import ProgramStatusType, QotMarketState
from opend.protoids import ProtoId
from opend.sim.exchange import reported_state
from opend.sim.handlers.common import ConnInfo, Handler, as_int, required
from opend.sim.state import SERVER_BUILD, SERVER_VERSION, SimState

# The simulator's own texts for an OpenD whose login failed (OpenD's wording is not documented):
# GetGlobalState's programStatus.strExtDesc, and the retMsg of every refused request.
LOGIN_FAILED_DESC = "Login failed: incorrect account or password"
NOT_LOGGED_IN = "Not logged in: OpenD has not logged in to the Futu server"
# What a not-logged-in OpenD still answers: the connection itself and its state.
WITHOUT_LOGIN = frozenset({ProtoId.INIT_CONNECT, ProtoId.GET_GLOBAL_STATE, ProtoId.KEEP_ALIVE})


def init_connect(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """InitConnect (1001): hand out the connection id, keep-alive interval and AES material."""
    as_int(required(c2s, "clientVer"), "clientVer")
    conn.client_id = str(required(c2s, "clientID"))
    conn.push_fmt = as_int(c2s.get("pushProtoFmt", 1), "pushProtoFmt")
    s2c = {
        "serverVer": SERVER_VERSION,
        "loginUserID": str(state.login_user_id),
        "connID": str(conn.conn_id),
        "connAESKey": conn.aes_key,
        "keepAliveInterval": conn.keepalive_interval,
        "userAttribution": 1,
    }
    if as_int(c2s.get("packetEncAlgo", -1), "packetEncAlgo") == 2:
        s2c["aesCBCiv"] = conn.aes_iv
    return s2c


def keep_alive(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """KeepAlive (1004): echo the server's time."""
    as_int(required(c2s, "time"), "time")
    return {"time": str(int(state.clock.now()))}


def get_global_state(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """GetGlobalState (1002): logged in and ready, each market in the state the simulator trades
    it in (see Qot_GetMarketState); or, with `state.logged_in` off, a failed login as OpenD
    reports it."""
    now = state.clock.now()

    def market(qot_market: QotMarket) -> int:
        return int(reported_state(qot_market, now, state.real_hours))

    if state.logged_in:
        status: dict[str, Any] = {"type": int(ProgramStatusType.READY)}
    else:
        status = {"type": int(ProgramStatusType.LOGIN_FAILED), "strExtDesc": LOGIN_FAILED_DESC}
    return {
        "marketHK": market(QotMarket.HK),
        "marketUS": market(QotMarket.US),
        "marketSH": market(QotMarket.SH),
        "marketSZ": market(QotMarket.SZ),
        "marketHKFuture": int(QotMarketState.FUTURE_OPEN),
        "marketUSFuture": int(QotMarketState.FUTURE_OPEN),
        "qotLogined": state.logged_in,
        "trdLogined": state.logged_in,
        "serverVer": SERVER_VERSION,
        "serverBuildNo": SERVER_BUILD,
        "time": str(int(now)),
        "localTime": round(time.time(), 3),
        "programStatus": status,
        "qotSvrIpAddr": "127.0.0.1",
        "trdSvrIpAddr": "127.0.0.1",
        "connID": str(conn.conn_id),
    }


HANDLERS: dict[int, Handler] = {
    ProtoId.INIT_CONNECT: init_connect,
    ProtoId.GET_GLOBAL_STATE: get_global_state,
    ProtoId.KEEP_ALIVE: keep_alive,
}
