"""Protocol ids of the OpenD messages this project speaks (client and simulator)."""

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
    TRD_GET_ORDER_LIST = 2201
    TRD_PLACE_ORDER = 2202
    TRD_MODIFY_ORDER = 2205
    TRD_UPDATE_ORDER = 2208
    TRD_GET_ORDER_FILL_LIST = 2211
    TRD_UPDATE_ORDER_FILL = 2218
    QOT_SUB = 3001
    QOT_GET_SUB_INFO = 3003
    QOT_GET_BASIC_QOT = 3004
    QOT_UPDATE_BASIC_QOT = 3005
    QOT_GET_KL = 3006
    QOT_GET_RT = 3008
    QOT_GET_TICKER = 3010
    QOT_GET_ORDER_BOOK = 3012
    QOT_GET_BROKER = 3014
    QOT_REQUEST_HISTORY_KL = 3103
    QOT_GET_STATIC_INFO = 3202
    QOT_GET_SECURITY_SNAPSHOT = 3203
    QOT_GET_PLATE_SET = 3204
    QOT_GET_PLATE_SECURITY = 3205


# Name of the official protobuf module (futu/common/pb/<name>_pb2.py) for each protocol.
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
    ProtoId.TRD_GET_ORDER_LIST: "Trd_GetOrderList",
    ProtoId.TRD_PLACE_ORDER: "Trd_PlaceOrder",
    ProtoId.TRD_MODIFY_ORDER: "Trd_ModifyOrder",
    ProtoId.TRD_UPDATE_ORDER: "Trd_UpdateOrder",
    ProtoId.TRD_GET_ORDER_FILL_LIST: "Trd_GetOrderFillList",
    ProtoId.TRD_UPDATE_ORDER_FILL: "Trd_UpdateOrderFill",
    ProtoId.QOT_SUB: "Qot_Sub",
    ProtoId.QOT_GET_SUB_INFO: "Qot_GetSubInfo",
    ProtoId.QOT_GET_BASIC_QOT: "Qot_GetBasicQot",
    ProtoId.QOT_UPDATE_BASIC_QOT: "Qot_UpdateBasicQot",
    ProtoId.QOT_GET_KL: "Qot_GetKL",
    ProtoId.QOT_GET_RT: "Qot_GetRT",
    ProtoId.QOT_GET_TICKER: "Qot_GetTicker",
    ProtoId.QOT_GET_ORDER_BOOK: "Qot_GetOrderBook",
    ProtoId.QOT_GET_BROKER: "Qot_GetBroker",
    ProtoId.QOT_REQUEST_HISTORY_KL: "Qot_RequestHistoryKL",
    ProtoId.QOT_GET_STATIC_INFO: "Qot_GetStaticInfo",
    ProtoId.QOT_GET_SECURITY_SNAPSHOT: "Qot_GetSecuritySnapshot",
    ProtoId.QOT_GET_PLATE_SET: "Qot_GetPlateSet",
    ProtoId.QOT_GET_PLATE_SECURITY: "Qot_GetPlateSecurity",
}
