"""OpenD's numeric enums, with member names spelled as the official Python SDK spells them.

The wire carries the numbers; users, the MCP tools and Futu's docs use the SDK's names
(`TrdSide.BUY`, `KLType.K_DAY`, `TrdEnv.SIMULATE`), so `TrdSide["BUY"]` is the one lookup from a
user's spelling to what OpenD expects.
"""

from enum import IntEnum


class RetType(IntEnum):
    """Common.RetType of every response."""

    SUCCEED = 0
    FAILED = -1
    TIMEOUT = -100
    DISCONNECT = -200
    UNKNOWN = -400
    INVALID = -500


class ProgramStatusType(IntEnum):
    """GetGlobalState.programStatus.type."""

    NONE = 0
    LOADED = 1
    LOGING = 2
    NEED_PIC_VERIFY_CODE = 3
    NEED_PHONE_VERIFY_CODE = 4
    LOGIN_FAILED = 5
    FORCE_UPDATE = 6
    NESSARY_DATA_PREPARING = 7
    NESSARY_DATA_MISSING = 8
    UN_AGREE_DISCLAIMER = 9
    READY = 10
    FORCE_LOGOUT = 11
    DISCLAIMER_PULL_FAILED = 12


class QotMarketState(IntEnum):
    """Trading session state of a market (a selection of Qot_Common.QotMarketState)."""

    NONE = 0
    AUCTION = 1
    WAITING_OPEN = 2
    MORNING = 3
    REST = 4
    AFTERNOON = 5
    CLOSED = 6
    PRE_MARKET_BEGIN = 8
    PRE_MARKET_END = 9
    AFTER_HOURS_BEGIN = 10
    AFTER_HOURS_END = 11
    NIGHT_OPEN = 13
    NIGHT_END = 14
    FUTURE_DAY_OPEN = 15
    HK_CAS = 19
    FUTURE_OPEN = 23
    FUTURE_CLOSE = 26
    OVERNIGHT = 37


class SecurityType(IntEnum):
    """Qot_Common.SecurityType."""

    NONE = 0
    BOND = 1
    BWRT = 2
    STOCK = 3
    ETF = 4
    WARRANT = 5
    IDX = 6
    PLATE = 7
    DRVT = 8
    PLATESET = 9
    FUTURE = 10
    FOREX = 11
    CRYPTO = 12


class SubType(IntEnum):
    """Qot_Common.SubType: what a Qot_Sub subscribes to."""

    NONE = 0
    QUOTE = 1
    ORDER_BOOK = 2
    TICKER = 4
    RT_DATA = 5
    K_DAY = 6
    K_5M = 7
    K_15M = 8
    K_30M = 9
    K_60M = 10
    K_1M = 11
    K_WEEK = 12
    K_MON = 13
    BROKER = 14
    K_QUARTER = 15
    K_YEAR = 16
    K_3M = 17
    K_10M = 18
    K_120M = 19
    K_180M = 20
    K_240M = 21


class KLType(IntEnum):
    """Qot_Common.KLType."""

    NONE = 0
    K_1M = 1
    K_DAY = 2
    K_WEEK = 3
    K_MON = 4
    K_YEAR = 5
    K_5M = 6
    K_15M = 7
    K_30M = 8
    K_60M = 9
    K_3M = 10
    K_QUARTER = 11
    K_10M = 12
    K_120M = 13
    K_180M = 14
    K_240M = 15


# The subscription a Qot_GetKL of this kline type needs; the names line up one to one.
SUBTYPE_OF_KLTYPE: dict[KLType, SubType] = {
    k: SubType[k.name] for k in KLType if k is not KLType.NONE
}


class AuType(IntEnum):
    """Qot_Common.RehabType (the SDK calls it AuType: qfq = forward, hfq = backward)."""

    NONE = 0
    QFQ = 1
    HFQ = 2


class Plate(IntEnum):
    """Qot_Common.PlateSetType: which kind of plates Qot_GetPlateSet lists."""

    ALL = 0
    INDUSTRY = 1
    REGION = 2
    CONCEPT = 3
    OTHER = 4


class TickerDirect(IntEnum):
    """Qot_Common.TickerDirection."""

    NONE = 0
    BUY = 1
    SELL = 2
    NEUTRAL = 3


class TrdEnv(IntEnum):
    """Trd_Common.TrdEnv: paper trading or real money."""

    SIMULATE = 0
    REAL = 1


class TrdSide(IntEnum):
    """Trd_Common.TrdSide. Clients send only BUY and SELL."""

    NONE = 0
    BUY = 1
    SELL = 2
    SELL_SHORT = 3
    BUY_BACK = 4


class OrderType(IntEnum):
    """Trd_Common.OrderType."""

    NONE = 0
    NORMAL = 1
    MARKET = 2
    ABSOLUTE_LIMIT = 5
    AUCTION = 6
    AUCTION_LIMIT = 7
    SPECIAL_LIMIT = 8
    SPECIAL_LIMIT_ALL = 9
    STOP = 10
    STOP_LIMIT = 11
    MARKET_IF_TOUCHED = 12
    LIMIT_IF_TOUCHED = 13
    TRAILING_STOP = 14
    TRAILING_STOP_LIMIT = 15
    TWAP = 16
    TWAP_LIMIT = 17
    VWAP = 18
    VWAP_LIMIT = 19


class OrderStatus(IntEnum):
    """Trd_Common.OrderStatus."""

    UNSUBMITTED = 0
    NONE = -1
    WAITING_SUBMIT = 1
    SUBMITTING = 2
    SUBMIT_FAILED = 3
    TIMEOUT = 4
    SUBMITTED = 5
    FILLED_PART = 10
    FILLED_ALL = 11
    CANCELLING_PART = 12
    CANCELLING_ALL = 13
    CANCELLED_PART = 14
    CANCELLED_ALL = 15
    FAILED = 21
    DISABLED = 22
    DELETED = 23
    FILL_CANCELLED = 24


class ModifyOrderOp(IntEnum):
    """Trd_Common.ModifyOrderOp. A cancel is a modify with CANCEL."""

    NONE = 0
    NORMAL = 1
    CANCEL = 2
    DISABLE = 3
    ENABLE = 4
    DELETE = 5


class TimeInForce(IntEnum):
    """Trd_Common.TimeInForce."""

    DAY = 0
    GTC = 1
    IOC = 2
    GTD = 3


class Currency(IntEnum):
    """Trd_Common.Currency."""

    NONE = 0
    HKD = 1
    USD = 2
    CNH = 3
    JPY = 4
    SGD = 5
    AUD = 6
    CAD = 7
    MYR = 8
    NZD = 9


class SecurityFirm(IntEnum):
    """Trd_Common.SecurityFirm: which Futu broker entity an account belongs to."""

    NONE = 0
    FUTUSECURITIES = 1
    FUTUINC = 2
    FUTUSG = 3
    FUTUAU = 4
    FUTUCA = 5
    FUTUMY = 6
    FUTUJP = 7


class TrdAccType(IntEnum):
    """Trd_Common.TrdAccType."""

    NONE = 0
    CASH = 1
    MARGIN = 2


class PositionSide(IntEnum):
    """Trd_Common.PositionSide."""

    LONG = 0
    NONE = -1
    SHORT = 1
