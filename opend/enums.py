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


class PacketEncAlgo(IntEnum):
    """Common.PacketEncAlgo: how bodies after InitConnect are encrypted."""

    NONE = -1
    FTAES_ECB = 0
    AES_ECB = 1
    AES_CBC = 2


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
    """Qot_Common.QotMarketState: the trading session a market is in."""

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
    FUTURE_DAY_BREAK = 16
    FUTURE_DAY_CLOSE = 17
    FUTURE_DAY_WAIT_OPEN = 18
    HK_CAS = 19
    FUTURE_NIGHT_WAIT = 20
    FUTURE_AFTERNOON = 21
    FUTURE_SWITCH_DATE = 22
    FUTURE_OPEN = 23
    FUTURE_BREAK = 24
    FUTURE_BREAK_OVER = 25
    FUTURE_CLOSE = 26
    ASHARE_AFTER_HOURS_WAIT = 27
    ASHARE_AFTER_HOURS_BEGIN = 28
    ASHARE_AFTER_HOURS_END = 29
    NIGHT = 32
    TRADE_AT_LAST = 35
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
    TFSA = 3
    RRSP = 4
    SRRSP = 5
    DERIVATIVES = 6


class PositionSide(IntEnum):
    """Trd_Common.PositionSide."""

    LONG = 0
    NONE = -1
    SHORT = 1


class SecurityStatus(IntEnum):
    """Qot_Common.SecurityStatus (the SDK's spellings, typos included: users match on them)."""

    NONE = 0
    NORMAL = 1
    LISTING = 2
    PURCHASING = 3
    SUBSCRIBING = 4
    BEFORE_DARK_TRADE_OPEING = 5
    DARK_TRADING = 6
    DARK_TRAD_END = 7
    TO_BE_OPEN = 8
    SUSPENDED = 9
    CALLED = 10
    EXPIRED_LAST_TRADING_DATE = 11
    EXPIRED = 12
    DELISTED = 13
    CHANGE_TO_TEMPORARY_CODE = 14
    TEMPORARY_CODE_TRADE_END = 15
    CHANGED_PLATE_TRADE_END = 16
    CHANGED_CODE_TRAD_END = 17
    RECOVERABLE_CIRCUIT_BREAKER = 18
    UNRECOVERABLE_CIRCUIT_BREAKER = 19
    AFTER_COMBINATION = 20
    AFTER_TRANSACTION = 21


class TickerType(IntEnum):
    """Qot_Common.TickerType: how a trade print was matched (SDK spellings)."""

    UNKNOWN = 0
    AUTO_MATCH = 1
    LATE = 2
    NON_AUTO_MATCH = 3
    INTER_AUTO_MATCH = 4
    INTER_NON_AUTO_MATCH = 5
    ODD_LOT = 6
    AUCTION = 7
    BULK = 8
    CRASH = 9
    CROSS_MARKET = 10
    BULK_SOLD = 11
    FREE_ON_BOARD = 12
    RULE127_OR_155 = 13
    DELAY = 14
    MARKET_CENTER_CLOSE_PRICE = 15
    NEXT_DAY = 16
    MARKET_CENTER_OPENING = 17
    PRIOR_REFERENCE_PRICE = 18
    MARKET_CENTER_OPEN_PRICE = 19
    SELLER = 20
    T = 21
    EXTENDED_TRADING_HOURS = 22
    CONTINGENT = 23
    AVERAGE_PRICE = 24
    OTC_SOLD = 25
    ODD_LOT_CROSS_MARKET = 26
    DERIVATIVELY_PRICED = 27
    REOPENINGP_RICED = 28
    CLOSING_PRICED = 29
    COMPREHENSIVE_DELAY_PRICE = 30
    OVERSEAS = 31


class TrdAccRole(IntEnum):
    """Trd_Common.TrdAccRole."""

    NONE = 0
    NORMAL = 1
    MASTER = 2
    IPO = 3


class SimAccType(IntEnum):
    """Trd_Common.SimAccType: what a paper account may trade."""

    NONE = 0
    STOCK = 1
    OPTION = 2
    FUTURES = 3
    STOCK_AND_OPTION = 4
    COMPETITION = 5


class CltRiskLevel(IntEnum):
    """Trd_Common.CltRiskLevel of a margin account."""

    NONE = -1
    SAFE = 0
    WARNING = 1
    DANGER = 2
    ABSOLUTE_SAFE = 3
    OPT_DANGER = 4


class DealStatus(IntEnum):
    """Trd_Common.OrderFillStatus (the SDK calls it DealStatus)."""

    OK = 0
    CANCELLED = 1
    CHANGED = 2
    PAYOUT = 3


class DarkStatus(IntEnum):
    """Qot_Common.DarkStatus: HK grey-market (dark pool) trading state."""

    NONE = 0
    TRADING = 1
    END = 2


class PushDataType(IntEnum):
    """Qot_Common.PushDataType: whether a ticker row is live, back-filled or cached."""

    NONE = 0
    REALTIME = 1
    BYDISCONN = 2
    CACHE = 3


class ExchType(IntEnum):
    """Qot_Common.ExchType: the exchange a security is listed on."""

    NONE = 0
    HK_MAINBOARD = 1
    HK_GEMBOARD = 2
    HK_HKEX = 3
    US_NYSE = 4
    US_NASDAQ = 5
    US_PINK = 6
    US_AMEX = 7
    US_OPTION = 8
    US_NYMEX = 9
    US_COMEX = 10
    US_CBOT = 11
    US_CME = 12
    US_CBOE = 13
    CN_SH = 14
    CN_SZ = 15
    CN_STIB = 16
    SG_SGX = 17
    JP_OSE = 18
    CC_CRYPTO = 19
    MY_MYX = 20
    JP_TSE = 21
    JP_NIKKEI = 22


class CltRiskStatus(IntEnum):
    """Trd_Common.CltRiskStatus: LEVEL1 is the safest, LEVEL9 the most at risk."""

    NONE = 0
    LEVEL1 = 1
    LEVEL2 = 2
    LEVEL3 = 3
    LEVEL4 = 4
    LEVEL5 = 5
    LEVEL6 = 6
    LEVEL7 = 7
    LEVEL8 = 8
    LEVEL9 = 9


class Session(IntEnum):
    """Common.Session: which trading sessions an order may fill in (US)."""

    NONE = 0
    RTH = 1
    ETH = 2
    ALL = 3
    OVERNIGHT = 4


class TradeDateMarket(IntEnum):
    """Qot_Common.TradeDateMarket: the calendar Qot_RequestTradeDate reads (NT = northbound
    Stock Connect, ST = southbound)."""

    NONE = 0
    HK = 1
    US = 2
    CN = 3
    NT = 4
    ST = 5
    JP_FUTURE = 6
    SG_FUTURE = 7
    SG = 8
    MY = 9
    JP = 10


class TradeDateType(IntEnum):
    """Qot_Common.TradeDateType: a whole trading day, or morning or afternoon only."""

    WHOLE = 0
    MORNING = 1
    AFTERNOON = 2


class CashFlowDirection(IntEnum):
    """Trd_FlowSummary.TrdCashFlowDirection."""

    NONE = 0
    IN = 1
    OUT = 2


class ExpirationCycle(IntEnum):
    """Qot_Common.ExpirationCycle, SDK spelling."""

    UNKNOWN = 0
    WEEK = 1
    MONTH = 2
    END_OF_MONTH = 3
    QUARTER = 4
    WEEKMON = 11
    WEEKTUE = 12
    WEEKWED = 13
    WEEKTHU = 14
    WEEKFRI = 15


class OptionType(IntEnum):
    """Qot_Common.OptionType, SDK spelling."""

    ALL = 0
    CALL = 1
    PUT = 2


class OptionCondType(IntEnum):
    """Qot_GetOptionChain.OptionCondType, SDK spelling."""

    ALL = 0
    WITHIN = 1
    OUTSIDE = 2


class WrtType(IntEnum):
    """Qot_Common.WarrantType, SDK spelling."""

    NONE = 0
    CALL = 1
    PUT = 2
    BULL = 3
    BEAR = 4
    INLINE = 5


class Issuer(IntEnum):
    """Qot_Common.Issuer, SDK spelling."""

    UNKNOWN = 0
    SG = 1
    BP = 2
    CS = 3
    CT = 4
    EA = 5
    GS = 6
    HS = 7
    JP = 8
    MB = 9
    SC = 10
    UB = 11
    BI = 12
    DB = 13
    DC = 14
    ML = 15
    NM = 16
    RB = 17
    RS = 18
    BC = 19
    HT = 20
    VT = 21
    KC = 22
    MS = 23
    GJ = 24
    XZ = 25
    HU = 26
    KS = 27
    CI = 28


class PeriodType(IntEnum):
    """Qot_Common.PeriodType, SDK spelling."""

    NONE = 0
    INTRADAY = 1
    DAY = 2
    WEEK = 3
    MONTH = 4


class UserSecurityGroupType(IntEnum):
    """Qot_GetUserSecurityGroup.GroupType, SDK spelling."""

    NONE = 0
    CUSTOM = 1
    SYSTEM = 2
    ALL = 3


class SecurityReferenceType(IntEnum):
    """Qot_GetReference.ReferenceType, SDK spelling."""

    NONE = 0
    WARRANT = 1
    FUTURE = 2


class PriceReminderType(IntEnum):
    """Qot_Common.PriceReminderType, SDK spelling."""

    NONE = 0
    PRICE_UP = 1
    PRICE_DOWN = 2
    CHANGE_RATE_UP = 3
    CHANGE_RATE_DOWN = 4
    FIVE_MIN_CHANGE_RATE_UP = 5
    FIVE_MIN_CHANGE_RATE_DOWN = 6
    VOLUME_UP = 7
    TURNOVER_UP = 8
    TURNOVER_RATE_UP = 9
    BID_PRICE_UP = 10
    ASK_PRICE_DOWN = 11
    BID_VOL_UP = 12
    ASK_VOL_UP = 13
    THREE_MIN_CHANGE_RATE_UP = 14
    THREE_MIN_CHANGE_RATE_DOWN = 15


class PriceReminderFreq(IntEnum):
    """Qot_Common.PriceReminderFreq, SDK spelling."""

    NONE = 0
    ALWAYS = 1
    ONCE_A_DAY = 2
    ONCE = 3


class StockField(IntEnum):
    """Qot_StockFilter.StockField: a stock screen's figures of today, SDK spelling. The stock
    screen tool accepts these names and the simulator computes each; 1 and 2 (code and name)
    cannot be screened on and are left out."""

    CUR_PRICE = 3
    CUR_PRICE_TO_HIGHEST52_WEEKS_RATIO = 4
    CUR_PRICE_TO_LOWEST52_WEEKS_RATIO = 5
    HIGH_PRICE_TO_HIGHEST52_WEEKS_RATIO = 6
    LOW_PRICE_TO_LOWEST52_WEEKS_RATIO = 7
    VOLUME_RATIO = 8
    BID_ASK_RATIO = 9
    LOT_PRICE = 10
    MARKET_VAL = 11
    PE_ANNUAL = 12
    PE_TTM = 13
    PB_RATE = 14
    CHANGE_RATE_5MIN = 15
    CHANGE_RATE_BEGIN_YEAR = 16
    PS_TTM = 17
    PCF_TTM = 18
    TOTAL_SHARE = 19
    FLOAT_SHARE = 20
    FLOAT_MARKET_VAL = 21


class AccumulateField(IntEnum):
    """Qot_StockFilter.AccumulateField: figures over the last N trading days, SDK spelling."""

    CHANGE_RATE = 1
    AMPLITUDE = 2
    VOLUME = 3
    TURNOVER = 4
    TURNOVER_RATE = 5


class FinancialField(IntEnum):
    """Qot_StockFilter.FinancialField: the basic figures of a report, SDK spelling except
    NET_PROFIT_GROWTH, which the SDK misspells NET_PROFIX_GROWTH (the tool takes the word a
    model would write). The SDK's further fields (ROIC, EBITDA, ...) are not served."""

    NET_PROFIT = 1
    NET_PROFIT_GROWTH = 2
    SUM_OF_BUSINESS = 3
    SUM_OF_BUSINESS_GROWTH = 4
    NET_PROFIT_RATE = 5
    GROSS_PROFIT_RATE = 6
    DEBT_ASSET_RATE = 7
    RETURN_ON_EQUITY_RATE = 8


class FinancialQuarter(IntEnum):
    """Qot_StockFilter.FinancialQuarter: which report a financial figure is of, SDK spelling."""

    NONE = 0
    ANNUAL = 1
    FIRST_QUARTER = 2
    INTERIM = 3
    THIRD_QUARTER = 4
    MOST_RECENT_QUARTER = 5


class SortDir(IntEnum):
    """Qot_StockFilter.SortDir, SDK spelling."""

    NONE = 0
    ASCEND = 1
    DESCEND = 2
