"""Argument types shared by the tools, spelled as the official Python SDK spells them.

Every tool's arguments are a pydantic model with `extra="forbid"` (a misspelt argument is an
error, never silently ignored). Enums are `Literal` strings taken from `opend.enums`, so the
published schema lists exactly the SDK names; a list argument also accepts "HK.00700,US.AAPL",
because some clients send arrays as strings.
"""

import json
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)

from opend.codes import BadCode, parse_code


class ToolArgs(BaseModel):
    """Base of every argument model: unknown names are refused (numbers sent as text are accepted)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_code(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string like HK.00700")
    try:
        return str(parse_code(value))
    except BadCode as exc:
        raise ValueError(str(exc)) from None


def split_list(value: Any) -> Any:
    """A list argument as a list: clients that send arrays as text send it so."""
    # Some clients send arrays as text: '["HK.00700", "US.AAPL"]' or "HK.00700,US.AAPL".
    if not isinstance(value, str):
        return value
    if value.lstrip().startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise ValueError("not a valid JSON list") from None
        return parsed
    return [part for part in (p.strip() for p in value.split(",")) if part]


Code = Annotated[
    str,
    BeforeValidator(_check_code),
    Field(description="Security as MARKET.CODE, e.g. HK.00700, US.AAPL, SH.600519"),
]

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _calendar_date(value: str) -> str:
    # The pattern lets 0000-00-00 and 2026-02-30 through; OpenD's request needs a real day.
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a calendar date") from None
    return value


Date = Annotated[str, Field(pattern=DATE_PATTERN), AfterValidator(_calendar_date)]
"""A calendar day, YYYY-MM-DD (the SDK's start/end/clearing_date spelling)."""

MAX_CODES = 50
Codes = Annotated[
    list[Code],
    BeforeValidator(split_list),
    Field(
        min_length=1,
        max_length=MAX_CODES,
        description=f"1 to {MAX_CODES} securities as MARKET.CODE; a list or a comma-separated string",
    ),
]

TrdEnvName = Literal["SIMULATE", "REAL"]
# Only BUY and SELL: OpenD (and our client) refuses to send SELL_SHORT / BUY_BACK orders.
TrdSideName = Literal["BUY", "SELL"]
OrderTypeName = Literal["NORMAL", "MARKET"]
KLTypeName = Literal[
    "K_1M",
    "K_3M",
    "K_5M",
    "K_15M",
    "K_30M",
    "K_60M",
    "K_DAY",
    "K_WEEK",
    "K_MON",
    "K_QUARTER",
    "K_YEAR",
]
AuTypeName = Literal["QFQ", "HFQ", "NONE"]
MarketName = Literal["HK", "US", "SH", "SZ"]
PlateClassName = Literal["ALL", "INDUSTRY", "REGION", "CONCEPT", "OTHER"]
SecurityTypeName = Literal["STOCK", "ETF", "WARRANT", "IDX", "BOND", "PLATE"]
CurrencyName = Literal["HKD", "USD", "CNH", "JPY", "SGD", "AUD"]
OrderStatusName = Literal[
    "WAITING_SUBMIT",
    "SUBMITTING",
    "SUBMITTED",
    "FILLED_PART",
    "FILLED_ALL",
    "CANCELLED_PART",
    "CANCELLED_ALL",
    "FAILED",
    "DISABLED",
    "DELETED",
]
OrderStatusNames = Annotated[
    list[OrderStatusName],
    BeforeValidator(split_list),
    Field(
        max_length=10, description="Only orders in these states; a list or comma-separated string"
    ),
]

Price = Annotated[
    float | None,
    Field(
        gt=0,
        le=10_000_000,
        allow_inf_nan=False,
        description="Limit price in the security's currency",
    ),
]
TrdEnvArg = Annotated[
    TrdEnvName,
    Field(description="SIMULATE (paper trading, the default) or REAL (real money)"),
]
# OpenD's ids are uint64: past 2^53 a JavaScript client (Claude Desktop, Cursor, VS Code) rounds
# a JSON number, so ids travel as decimal strings both ways. An integer is still taken when it
# arrives exact (Python clients); a float never is (it may already be rounded).
MAX_ID = (1 << 64) - 1
ID_PATTERN = r"^[0-9]{1,20}$"


def _id_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError('must be a decimal string like "168880000000000201"')
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise ValueError(f"must be a decimal id from 1 to {MAX_ID}, got {str(value)[:40]!r}")
    return str(int(text))


def _acc_id(value: Any) -> int | None:
    return None if value is None else int(_id_text(value))


AccIdArg = Annotated[
    int | None,
    BeforeValidator(_acc_id),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": ID_PATTERN,
            "description": (
                "Account id (a decimal string) from futu_list_accounts; default: the account "
                "that trades the code's market, or for account reads without a code every "
                "account of trd_env this key may use"
            ),
        }
    ),
]
OrderIdArg = Annotated[
    str,
    BeforeValidator(_id_text),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": ID_PATTERN,
            "description": "Order id (a decimal string) from futu_get_orders",
        }
    ),
]


def num_field(default: int, maximum: int, what: str) -> Any:
    """A row-count argument: its default and hard cap, both stated to the model."""
    return Field(
        default,
        ge=1,
        le=maximum,
        description=f"How many {what} (default {default}, at most {maximum})",
    )


def first_error(exc: ValidationError) -> str:
    """`invalid argument: <field>: <why>` for the first problem pydantic found."""
    errors = exc.errors(include_url=False)
    # A misspelt name also shows up as a missing one: name the misspelling first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = [str(part) for part in err["loc"] if not isinstance(part, int)]
    field = ".".join(loc) or "arguments"
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"invalid argument: {field}: unknown argument"
    if kind == "missing":
        return f"invalid argument: {field}: required"
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    return f"invalid argument: {field}: {msg}"
