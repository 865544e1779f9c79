"""Market calendars: each market's session state."""

from typing import Any

from opend.protoids import ProtoId
from opend.sim.handlers.common import ConnInfo, Handler, securities_of, wire_sec
from opend.sim.handlers.session import MARKET_STATE
from opend.sim.state import SimState


def get_market_state(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetMarketState (3223): the session state of each security's market."""
    return {
        "marketInfoList": [
            {
                "security": wire_sec(sec),
                "name": sec.name,
                "marketState": MARKET_STATE[sec.security.market],
            }
            for sec in securities_of(state, c2s)
        ]
    }


HANDLERS: dict[int, Handler] = {
    ProtoId.QOT_GET_MARKET_STATE: get_market_state,
}
