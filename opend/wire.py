"""Reading loosely typed JSON values the way OpenD may send them.

The protobuf JSON mapping sends int64 as strings, OpenD may send numbers, enums may come as
names; these readers accept every spelling and give back plain Python values (None = absent).
"""

from enum import IntEnum
from typing import Any

from opend.codes import QotMarket

UINT32_MOD = 1 << 32


def opt_int(value: Any) -> int | None:
    """An int32/int64 field: number or decimal string; None when absent."""
    if value is None:
        return None
    if isinstance(value, str) and "." in value:
        return int(float(value))
    return int(value)


def opt_quantity(precise: Any, whole: Any) -> int | float | None:
    """A volume OpenD may send twice: the int64 field, and a double (`hpVolume`...) that can hold
    fractional shares. The double wins, as in the SDK; a whole number stays an int."""
    if precise is None:
        return opt_int(whole)
    value = float(precise)
    return int(value) if value.is_integer() else value


def opt_float(value: Any) -> float | None:
    """A double field (OpenD may also send a string); None when absent."""
    return None if value is None else float(value)


def opt_str(value: Any) -> str | None:
    """A string field; None when absent."""
    return None if value is None else str(value)


def opt_bool(value: Any) -> bool | None:
    """A bool field (tolerates 0/1 and "true"/"false"); None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1"}
    return bool(value)


def id_str(value: Any) -> str | None:
    """A uint64 id kept as a decimal string, so JSON consumers never lose precision."""
    return None if value is None else str(int(value))


def enum_name(enum: type[IntEnum], value: Any) -> str | None:
    """The SDK's name for an enum value, `"UNKNOWN"` for a number we don't know, None if absent.

    Accepts the number, its string, or the proto's own name (`"ProgramStatusType_Ready"`).
    """
    if value is None:
        return None
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        tail = value.rsplit("_", 1)[-1].upper()
        for member in enum:
            if member.name.replace("_", "") == tail:
                return member.name
        return "UNKNOWN"
    try:
        return enum(int(value)).name
    except ValueError:
        return "UNKNOWN"


def enum_number(enum: type[IntEnum], value: Any) -> int | None:
    """The number of an enum value given as number, numeric string or proto name."""
    name = enum_name(enum, value)
    if name is None:
        return None
    if name == "UNKNOWN":
        return int(value) if isinstance(value, int | float) else None
    return int(enum[name])


def code_of(security: Any) -> str | None:
    """`"HK.00700"` from a `Qot_Common.Security` object; unknown markets keep their number."""
    if not isinstance(security, dict):
        return None
    code = str(security.get("code", ""))
    try:
        market = QotMarket(int(security.get("market", 0))).name
    except ValueError:
        market = str(security.get("market"))
    return f"{market}.{code}"
