"""Watchlists and price reminders."""

from datetime import datetime
from typing import Any

from opend.codes import QotMarket
from opend.enums import UserSecurityGroupType
from opend.market_rules import MARKET_TZ
from opend.protoids import ProtoId
from opend.sim import watchlists
from opend.sim.handlers.common import (
    ConnInfo,
    Handler,
    SimError,
    as_int,
    name_of,
    required,
    security_of,
)
from opend.sim.handlers.derivatives import static_with_ex
from opend.sim.state import SimState

# Futu's app offers these sessions for a US reminder; other markets remind in the open session.
_US_SESSIONS = [1, 2, 3]


def get_user_security_group(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetUserSecurityGroup (3222): the custom groups, the system groups, or both."""
    raw = as_int(required(c2s, "groupType"), "groupType")
    try:
        kind = UserSecurityGroupType(raw)
    except ValueError:
        raise SimError(f"Unknown groupType {raw}") from None
    return {
        "groupList": [
            {"groupName": name, "groupType": int(group_type)}
            for name, group_type in watchlists.groups(kind)
        ]
    }


def get_user_security(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetUserSecurity (3213): a group's securities as static info."""
    name = str(required(c2s, "groupName"))
    now = state.clock.now()
    today = datetime.fromtimestamp(now, MARKET_TZ[QotMarket.US]).date()
    codes = watchlists.members(name, today)
    if codes is None:
        raise SimError(f"Unknown group {name}")
    found = [state.resolve(code) for code in codes]
    return {"staticInfoList": [static_with_ex(state, s) for s in found if s is not None]}


def get_price_reminder(state: SimState, conn: ConnInfo, c2s: dict[str, Any]) -> dict[str, Any]:
    """Qot_GetPriceReminder (3221): the reminders of a security, else of a market."""
    code = None
    market = None
    if c2s.get("security"):
        code = security_of(state, c2s["security"]).code
    elif c2s.get("market") is not None:
        raw = as_int(c2s["market"], "market")
        try:
            market = QotMarket(raw)
        except ValueError:
            raise SimError(f"Unknown market {raw}") from None
    else:
        raise SimError("invalid request: give a security or a market")
    by_code: dict[str, list[dict[str, Any]]] = {}
    for reminder in watchlists.reminders(code, market):
        us = reminder.code.startswith("US.")
        by_code.setdefault(reminder.code, []).append(
            {
                "key": str(reminder.key),
                "type": int(reminder.kind),
                "value": reminder.value,
                "note": reminder.note,
                "freq": int(reminder.freq),
                "isEnable": reminder.enabled,
                "reminderSessionList": _US_SESSIONS if us else [1],
            }
        )
    return {
        "priceReminderList": [
            {**name_of(state.securities[c]), "itemList": items} for c, items in by_code.items()
        ]
    }


HANDLERS: dict[int, Handler] = {
    ProtoId.QOT_GET_USER_SECURITY_GROUP: get_user_security_group,
    ProtoId.QOT_GET_USER_SECURITY: get_user_security,
    ProtoId.QOT_GET_PRICE_REMINDER: get_price_reminder,
}
