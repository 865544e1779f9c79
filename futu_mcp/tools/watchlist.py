"""The `watchlist` toolset (`qot:read`): the user's watchlist groups in the Futu app, their
members, and the price reminders set on securities. Read-only: futu-mcp never edits them."""

from typing import Annotated, Any, Literal

from pydantic import Field

from futu_mcp.appstate import Call
from futu_mcp.args import Code, MarketName, ToolArgs
from futu_mcp.errors import invalid_argument
from futu_mcp.results import capped, list_schema
from futu_mcp.toolspec import ToolSpec
from opend.codes import QotMarket, parse_code
from opend.enums import UserSecurityGroupType

SCOPE = "qot:read"
MAX_MEMBERS = 1000


class GroupArgs(ToolArgs):
    """Arguments of futu_get_user_security_group (the published schema comes from here)."""

    group_type: Annotated[
        Literal["CUSTOM", "SYSTEM", "ALL"],
        Field(description="CUSTOM (made by the user), SYSTEM (All, US, HK, Options, ...) or ALL"),
    ] = "ALL"


async def _groups(call: Call, args: GroupArgs) -> dict[str, Any]:
    rows = await call.client.get_user_security_group(int(UserSecurityGroupType[args.group_type]))
    return capped("groups", rows, len(rows) or 1)


class MembersArgs(ToolArgs):
    """Arguments of futu_get_user_security (the published schema comes from here)."""

    group_name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=100,
            description="A group's name as listed by futu_get_user_security_group",
        ),
    ]


async def _members(call: Call, args: MembersArgs) -> dict[str, Any]:
    rows = await call.client.get_user_security(args.group_name)
    return capped("securities", rows, MAX_MEMBERS, keep_first=True, group_name=args.group_name)


class ReminderArgs(ToolArgs):
    """Arguments of futu_get_price_reminder (the published schema comes from here)."""

    code: Annotated[Code | None, Field(description="One security's reminders")] = None
    market: Annotated[
        MarketName | None, Field(description="Every reminder in this market (when no code)")
    ] = None


async def _reminders(call: Call, args: ReminderArgs) -> dict[str, Any]:
    if args.code is None and args.market is None:
        raise invalid_argument("code", "give a code or a market")
    rows = await call.client.get_price_reminder(
        parse_code(args.code) if args.code else None,
        QotMarket[args.market] if args.market and not args.code else None,
    )
    return capped("reminders", rows, MAX_MEMBERS, keep_first=True)


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="futu_get_user_security_group",
        title="Watchlist groups",
        description=(
            "The user's watchlist groups in the Futu app: group_name and group_type (CUSTOM "
            "groups the user made, SYSTEM ones such as All, US, HK, Options). Then "
            "futu_get_user_security lists a group's members. Returns {groups: [{group_name, "
            "group_type}]}."
        ),
        args=GroupArgs,
        output_schema=list_schema("groups", "watchlist groups"),
        handler=_groups,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_user_security",
        title="Watchlist members",
        description=(
            "The securities of one watchlist group (by group_name from "
            "futu_get_user_security_group): code, name, lot_size, stock_type, list_time... "
            "Answers 'what is on my watchlist?'. Returns {securities: [...], group_name}."
        ),
        args=MembersArgs,
        output_schema=list_schema(
            "securities", "the group's securities", {"group_name": {"type": "string"}}
        ),
        handler=_members,
        scope=SCOPE,
    ),
    ToolSpec(
        name="futu_get_price_reminder",
        title="Price reminders",
        description=(
            "The price reminders set in the Futu app on a security (code) or on every security "
            "of a market: reminder_type (PRICE_UP, PRICE_DOWN, CHANGE_RATE_UP, ...), value, "
            "reminder_freq (ALWAYS, ONCE_A_DAY, ONLY_ONCE), enable, note, and key (its id). "
            "Returns {reminders: [...]}."
        ),
        args=ReminderArgs,
        output_schema=list_schema("reminders", "one row per reminder"),
        handler=_reminders,
        scope=SCOPE,
    ),
)
