"""Protocol ids of every OpenD message this project speaks (client and simulator), in one place.

The ids and the names of their protobuf modules are the official ones: `futu/common/constant.py`
(class ProtoId) and `futu/common/pb/<name>_pb2.py` of futu-api; tests/opend/test_pbschema.py
checks each pair against that package.
"""

from enum import IntEnum


class ProtoId(IntEnum):
    """OpenD protocol ids; the name is the official protocol name without underscores."""

    INIT_CONNECT = 1001
    GET_GLOBAL_STATE = 1002
    NOTIFY = 1003
    KEEP_ALIVE = 1004
    TRD_GET_ACC_LIST = 2001
    TRD_UNLOCK_TRADE = 2005
    TRD_SUB_ACC_PUSH = 2008
    TRD_GET_FUNDS = 2101
    TRD_GET_POSITION_LIST = 2102
    TRD_GET_MAX_TRD_QTYS = 2111
    TRD_GET_ORDER_LIST = 2201
    TRD_PLACE_ORDER = 2202
    TRD_MODIFY_ORDER = 2205
    TRD_UPDATE_ORDER = 2208
    TRD_GET_ORDER_FILL_LIST = 2211
    TRD_UPDATE_ORDER_FILL = 2218
    TRD_GET_HISTORY_ORDER_LIST = 2221
    TRD_GET_HISTORY_ORDER_FILL_LIST = 2222
    TRD_GET_MARGIN_RATIO = 2223
    TRD_GET_ORDER_FEE = 2225
    TRD_FLOW_SUMMARY = 2226
    QOT_SUB = 3001
    QOT_GET_SUB_INFO = 3003
    QOT_GET_BASIC_QOT = 3004
    QOT_UPDATE_BASIC_QOT = 3005
    QOT_GET_KL = 3006
    QOT_UPDATE_KL = 3007
    QOT_GET_RT = 3008
    QOT_UPDATE_RT = 3009
    QOT_GET_TICKER = 3010
    QOT_UPDATE_TICKER = 3011
    QOT_GET_ORDER_BOOK = 3012
    QOT_UPDATE_ORDER_BOOK = 3013
    QOT_GET_BROKER = 3014
    QOT_UPDATE_BROKER = 3015
    QOT_REQUEST_HISTORY_KL = 3103
    QOT_REQUEST_HISTORY_KL_QUOTA = 3104
    QOT_REQUEST_REHAB = 3105
    QOT_GET_STATIC_INFO = 3202
    QOT_GET_SECURITY_SNAPSHOT = 3203
    QOT_GET_PLATE_SET = 3204
    QOT_GET_PLATE_SECURITY = 3205
    QOT_GET_REFERENCE = 3206
    QOT_GET_OWNER_PLATE = 3207
    QOT_GET_OPTION_CHAIN = 3209
    QOT_GET_WARRANT = 3210
    QOT_GET_CAPITAL_FLOW = 3211
    QOT_GET_CAPITAL_DISTRIBUTION = 3212
    QOT_GET_USER_SECURITY = 3213
    QOT_STOCK_FILTER = 3215
    QOT_GET_IPO_LIST = 3217
    QOT_GET_FUTURE_INFO = 3218
    QOT_REQUEST_TRADE_DATE = 3219
    QOT_GET_PRICE_REMINDER = 3221
    QOT_GET_USER_SECURITY_GROUP = 3222
    QOT_GET_MARKET_STATE = 3223
    QOT_GET_OPTION_EXPIRATION_DATE = 3224


# Name of the official protobuf module (futu/common/pb/<name>_pb2.py) for each protocol; the
# same as the SDK's name for the id.
PB_MODULE: dict[int, str] = {
    ProtoId.INIT_CONNECT: "InitConnect",
    ProtoId.GET_GLOBAL_STATE: "GetGlobalState",
    ProtoId.NOTIFY: "Notify",
    ProtoId.KEEP_ALIVE: "KeepAlive",
    ProtoId.TRD_GET_ACC_LIST: "Trd_GetAccList",
    ProtoId.TRD_UNLOCK_TRADE: "Trd_UnlockTrade",
    ProtoId.TRD_SUB_ACC_PUSH: "Trd_SubAccPush",
    ProtoId.TRD_GET_FUNDS: "Trd_GetFunds",
    ProtoId.TRD_GET_POSITION_LIST: "Trd_GetPositionList",
    ProtoId.TRD_GET_MAX_TRD_QTYS: "Trd_GetMaxTrdQtys",
    ProtoId.TRD_GET_ORDER_LIST: "Trd_GetOrderList",
    ProtoId.TRD_PLACE_ORDER: "Trd_PlaceOrder",
    ProtoId.TRD_MODIFY_ORDER: "Trd_ModifyOrder",
    ProtoId.TRD_UPDATE_ORDER: "Trd_UpdateOrder",
    ProtoId.TRD_GET_ORDER_FILL_LIST: "Trd_GetOrderFillList",
    ProtoId.TRD_UPDATE_ORDER_FILL: "Trd_UpdateOrderFill",
    ProtoId.TRD_GET_HISTORY_ORDER_LIST: "Trd_GetHistoryOrderList",
    ProtoId.TRD_GET_HISTORY_ORDER_FILL_LIST: "Trd_GetHistoryOrderFillList",
    ProtoId.TRD_GET_MARGIN_RATIO: "Trd_GetMarginRatio",
    ProtoId.TRD_GET_ORDER_FEE: "Trd_GetOrderFee",
    ProtoId.TRD_FLOW_SUMMARY: "Trd_FlowSummary",
    ProtoId.QOT_SUB: "Qot_Sub",
    ProtoId.QOT_GET_SUB_INFO: "Qot_GetSubInfo",
    ProtoId.QOT_GET_BASIC_QOT: "Qot_GetBasicQot",
    ProtoId.QOT_UPDATE_BASIC_QOT: "Qot_UpdateBasicQot",
    ProtoId.QOT_GET_KL: "Qot_GetKL",
    ProtoId.QOT_UPDATE_KL: "Qot_UpdateKL",
    ProtoId.QOT_GET_RT: "Qot_GetRT",
    ProtoId.QOT_UPDATE_RT: "Qot_UpdateRT",
    ProtoId.QOT_GET_TICKER: "Qot_GetTicker",
    ProtoId.QOT_UPDATE_TICKER: "Qot_UpdateTicker",
    ProtoId.QOT_GET_ORDER_BOOK: "Qot_GetOrderBook",
    ProtoId.QOT_UPDATE_ORDER_BOOK: "Qot_UpdateOrderBook",
    ProtoId.QOT_GET_BROKER: "Qot_GetBroker",
    ProtoId.QOT_UPDATE_BROKER: "Qot_UpdateBroker",
    ProtoId.QOT_REQUEST_HISTORY_KL: "Qot_RequestHistoryKL",
    ProtoId.QOT_REQUEST_HISTORY_KL_QUOTA: "Qot_RequestHistoryKLQuota",
    ProtoId.QOT_REQUEST_REHAB: "Qot_RequestRehab",
    ProtoId.QOT_GET_STATIC_INFO: "Qot_GetStaticInfo",
    ProtoId.QOT_GET_SECURITY_SNAPSHOT: "Qot_GetSecuritySnapshot",
    ProtoId.QOT_GET_PLATE_SET: "Qot_GetPlateSet",
    ProtoId.QOT_GET_PLATE_SECURITY: "Qot_GetPlateSecurity",
    ProtoId.QOT_GET_REFERENCE: "Qot_GetReference",
    ProtoId.QOT_GET_OWNER_PLATE: "Qot_GetOwnerPlate",
    ProtoId.QOT_GET_OPTION_CHAIN: "Qot_GetOptionChain",
    ProtoId.QOT_GET_WARRANT: "Qot_GetWarrant",
    ProtoId.QOT_GET_CAPITAL_FLOW: "Qot_GetCapitalFlow",
    ProtoId.QOT_GET_CAPITAL_DISTRIBUTION: "Qot_GetCapitalDistribution",
    ProtoId.QOT_GET_USER_SECURITY: "Qot_GetUserSecurity",
    ProtoId.QOT_STOCK_FILTER: "Qot_StockFilter",
    ProtoId.QOT_GET_IPO_LIST: "Qot_GetIpoList",
    ProtoId.QOT_GET_FUTURE_INFO: "Qot_GetFutureInfo",
    ProtoId.QOT_REQUEST_TRADE_DATE: "Qot_RequestTradeDate",
    ProtoId.QOT_GET_PRICE_REMINDER: "Qot_GetPriceReminder",
    ProtoId.QOT_GET_USER_SECURITY_GROUP: "Qot_GetUserSecurityGroup",
    ProtoId.QOT_GET_MARKET_STATE: "Qot_GetMarketState",
    ProtoId.QOT_GET_OPTION_EXPIRATION_DATE: "Qot_GetOptionExpirationDate",
}
