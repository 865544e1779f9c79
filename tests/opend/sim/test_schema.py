"""Every handler's reply fits the official schema, and odd-but-well-formed requests are refused
cleanly (an OpenD-style error, never an internal error)."""

from typing import Any

import pytest
from google.protobuf import json_format

from opend.framing import ProtoFmt
from opend.pbschema import pb_module
from opend.protoids import ProtoId
from opend.sim.handlers import HANDLERS, ConnInfo, respond
from opend.sim.pbcodec import encode_response
from opend.sim.state import SimState

START = 1_780_000_000.0
HK = {"market": 1, "code": "00700"}
AAPL = {"market": 11, "code": "AAPL"}
REAL_HK = "281756470000000101"
SIM_HK = "168880000000000201"
SIM_HEADER = {"trdEnv": 0, "accID": SIM_HK, "trdMarket": 1}
REAL_HEADER = {"trdEnv": 1, "accID": REAL_HK, "trdMarket": 1}
WINDOW = {"beginTime": "2020-01-01 00:00:00", "endTime": "2030-01-01 00:00:00"}


def _packet(n: int) -> dict[str, Any]:
    return {"connID": "1", "serialNo": n}


VALID: dict[int, dict[str, Any]] = {
    ProtoId.INIT_CONNECT: {"clientVer": 300, "clientID": "t", "packetEncAlgo": 2},
    ProtoId.GET_GLOBAL_STATE: {"userID": "0"},
    ProtoId.KEEP_ALIVE: {"time": "1"},
    ProtoId.QOT_SUB: {
        "securityList": [HK],
        "subTypeList": [1, 2, 4, 5, 6, 11, 12, 14],
        "isSubOrUnSub": True,
    },
    ProtoId.QOT_GET_SUB_INFO: {"isReqAllConn": True},
    ProtoId.QOT_GET_BASIC_QOT: {"securityList": [HK]},
    ProtoId.QOT_GET_KL: {"security": HK, "klType": 3, "rehabType": 1, "reqNum": 50},
    ProtoId.QOT_GET_RT: {"security": HK},
    ProtoId.QOT_GET_TICKER: {"security": HK, "maxRetNum": 100},
    ProtoId.QOT_GET_ORDER_BOOK: {"security": HK, "num": 10},
    ProtoId.QOT_GET_BROKER: {"security": HK},
    ProtoId.QOT_REQUEST_HISTORY_KL: {
        "security": HK,
        "klType": 6,
        "rehabType": 1,
        "beginTime": "2026-05-01",
        "endTime": "2026-05-05",
        "maxAckKLNum": 100,
        "needKLFieldsFlag": "15",
    },
    ProtoId.QOT_GET_STATIC_INFO: {"market": 21, "secType": 3},
    # A stock, an ETF, an option, a warrant and a futures main contract: each extension block.
    ProtoId.QOT_GET_SECURITY_SNAPSHOT: {
        "securityList": [
            HK,
            {"market": 11, "code": "SPY"},
            {"market": 11, "code": "AAPL260618C200000"},
            {"market": 1, "code": "21801"},
            {"market": 1, "code": "HSImain"},
        ]
    },
    ProtoId.QOT_GET_PLATE_SET: {"market": 1, "plateSetType": 0},
    ProtoId.QOT_GET_PLATE_SECURITY: {
        "plate": {"market": 1, "code": "BK1103"},
        "sortField": 2,
        "ascend": False,
    },
    ProtoId.TRD_GET_ACC_LIST: {"userID": "0", "trdCategory": 1, "needGeneralSecAccount": True},
    ProtoId.TRD_UNLOCK_TRADE: {
        "unlock": True,
        "pwdMD5": "e10adc3949ba59abbe56e057f20f883e",
        "securityFirm": 1,
    },
    ProtoId.TRD_SUB_ACC_PUSH: {"accIDList": [SIM_HK, REAL_HK]},
    ProtoId.TRD_GET_FUNDS: {"header": SIM_HEADER, "refreshCache": True, "currency": 2},
    ProtoId.TRD_GET_POSITION_LIST: {
        "header": SIM_HEADER,
        "filterPLRatioMin": -1.0,
        "filterPLRatioMax": 10.0,
    },
    ProtoId.TRD_GET_ORDER_LIST: {
        "header": SIM_HEADER,
        "filterStatusList": [5, 11],
        "filterConditions": {"codeList": ["00700"], "beginTime": "2020-01-01 00:00:00"},
    },
    ProtoId.TRD_GET_ORDER_FILL_LIST: {
        "header": SIM_HEADER,
        "filterConditions": {"filterMarket": 1},
    },
    ProtoId.TRD_PLACE_ORDER: {
        "packetID": _packet(1),
        "header": SIM_HEADER,
        "trdSide": 1,
        "orderType": 2,
        "code": "00700",
        "qty": 100,
        "price": 0,
        "secMarket": 1,
        "remark": "schema",
        "timeInForce": 0,
    },
    ProtoId.TRD_GET_MAX_TRD_QTYS: {
        "header": SIM_HEADER,
        "orderType": 1,
        "code": "00700",
        "price": 400.0,
    },
    ProtoId.TRD_GET_HISTORY_ORDER_LIST: {
        "header": SIM_HEADER,
        "filterConditions": {"beginTime": "2020-01-01 00:00:00", "endTime": "2030-01-01 00:00:00"},
    },
    ProtoId.TRD_GET_HISTORY_ORDER_FILL_LIST: {
        "header": REAL_HEADER,
        "filterConditions": {"codeList": ["00700"], **WINDOW},
    },
    ProtoId.TRD_GET_ORDER_FEE: {"header": REAL_HEADER, "orderIdExList": ["FTHIS0000000001"]},
    ProtoId.TRD_GET_MARGIN_RATIO: {"header": REAL_HEADER, "securityList": [HK]},
    ProtoId.TRD_FLOW_SUMMARY: {
        "header": REAL_HEADER,
        "clearingDate": "2026-05-27",
        "cashFlowDirection": 0,
    },
    ProtoId.QOT_GET_MARKET_STATE: {"securityList": [HK, {"market": 11, "code": "AAPL"}]},
    ProtoId.QOT_REQUEST_TRADE_DATE: {
        "market": 1,
        "beginTime": "2026-01-01 00:00:00",
        "endTime": "2026-03-31",
        "security": HK,
    },
    ProtoId.QOT_REQUEST_HISTORY_KL_QUOTA: {"bGetDetail": True},
    ProtoId.QOT_GET_OPTION_EXPIRATION_DATE: {"owner": AAPL, "indexOptionType": 1},
    ProtoId.QOT_GET_OPTION_CHAIN: {
        "owner": AAPL,
        "beginTime": "2026-05-28 00:00:00",
        "endTime": "2026-06-19 00:00:00",
        "type": 0,
        "condition": 0,
        "indexOptionType": 1,
        "dataFilter": {"deltaMin": 0.2, "deltaMax": 0.8, "openInterestMin": 10},
    },
    ProtoId.QOT_GET_WARRANT: {
        "begin": 0,
        "num": 20,
        "sortField": 12,
        "ascend": False,
        "owner": HK,
        "typeList": [1, 2, 3, 4],
    },
    ProtoId.QOT_GET_FUTURE_INFO: {
        "securityList": [
            {"market": 1, "code": "HSImain"},
            {"market": 1, "code": "MHI2606"},
            {"market": 11, "code": "ESmain"},
        ]
    },
    ProtoId.QOT_GET_REFERENCE: {"security": HK, "referenceType": 1},
    ProtoId.QOT_GET_CAPITAL_FLOW: {"security": HK, "periodType": 1},
    ProtoId.QOT_GET_CAPITAL_DISTRIBUTION: {"security": HK},
    ProtoId.QOT_GET_OWNER_PLATE: {"securityList": [HK, AAPL]},
    ProtoId.QOT_GET_IPO_LIST: {"market": 21},
    ProtoId.QOT_STOCK_FILTER: {
        "begin": 0,
        "num": 50,
        "market": 1,
        "baseFilterList": [
            {"fieldName": 13, "filterMin": 0, "filterMax": 30, "isNoFilter": False, "sortDir": 1}
        ],
        "accumulateFilterList": [{"fieldName": 1, "days": 5, "isNoFilter": True}],
        "financialFilterList": [
            {"fieldName": 5, "quarter": 1, "isNoFilter": False, "filterMin": 5}
        ],
    },
    ProtoId.QOT_REQUEST_REHAB: {"security": AAPL},
    ProtoId.QOT_GET_USER_SECURITY_GROUP: {"groupType": 3},
    ProtoId.QOT_GET_USER_SECURITY: {"groupName": "Options"},
    ProtoId.QOT_GET_PRICE_REMINDER: {"market": 11},
    ProtoId.TRD_MODIFY_ORDER: {
        "packetID": _packet(2),
        "header": SIM_HEADER,
        "orderID": "0",
        "modifyOrderOp": 2,
        "forAll": True,
    },
}


def test_every_handler_is_covered() -> None:
    assert set(VALID) == set(HANDLERS)


@pytest.mark.parametrize("proto_id", list(VALID))
def test_reply_fits_the_official_schema(proto_id: int) -> None:
    state = SimState(seed=4, start_time=START)
    conn = ConnInfo(1, 10, "k" * 16, "i" * 16)
    request = pb_module(proto_id).Request()
    json_format.ParseDict({"c2s": VALID[proto_id]}, request)
    assert request.IsInitialized(), request.FindInitializationErrors()
    assert respond(state, conn, ProtoId.QOT_SUB, VALID[ProtoId.QOT_SUB])["retType"] == 0
    reply = respond(state, conn, proto_id, VALID[proto_id])
    assert reply["retType"] == 0, reply
    message = pb_module(proto_id).Response()
    json_format.ParseDict(reply, message)
    assert message.IsInitialized(), message.FindInitializationErrors()
    # The protobuf path's own dict-to-message copy gives exactly what json_format gives.
    assert encode_response(proto_id, ProtoFmt.PROTOBUF, reply) == message.SerializeToString()


# Well-formed per the schema, wrong in meaning: each must be a clean OpenD-style refusal.
ODD: list[tuple[int, dict[str, Any]]] = [
    (ProtoId.QOT_GET_KL, {"security": HK, "klType": 0, "rehabType": 1, "reqNum": 5}),
    (ProtoId.QOT_GET_KL, {"security": HK, "klType": 2, "rehabType": 1, "reqNum": -5}),
    (ProtoId.QOT_GET_TICKER, {"security": HK, "maxRetNum": 0}),
    (ProtoId.QOT_GET_ORDER_BOOK, {"security": {"market": 1, "code": ""}, "num": 10}),
    (ProtoId.QOT_GET_BROKER, {"security": {"market": 11, "code": "AAPL"}}),
    (ProtoId.QOT_SUB, {"securityList": [], "subTypeList": [], "isSubOrUnSub": True}),
    (
        ProtoId.QOT_REQUEST_HISTORY_KL,
        {
            "security": HK,
            "klType": 2,
            "rehabType": 1,
            "beginTime": "2026-05-05",
            "endTime": "2026-05-01",
        },
    ),
    (ProtoId.QOT_GET_PLATE_SET, {"market": 41, "plateSetType": 1}),
    (ProtoId.QOT_GET_PLATE_SECURITY, {"plate": {"market": 0, "code": "BK1001"}}),
    (ProtoId.QOT_GET_SECURITY_SNAPSHOT, {"securityList": []}),
    (ProtoId.TRD_GET_FUNDS, {"header": {"trdEnv": 5, "accID": SIM_HK, "trdMarket": 1}}),
    (ProtoId.TRD_GET_FUNDS, {"header": SIM_HEADER, "currency": 9}),
    (ProtoId.TRD_GET_ORDER_LIST, {"header": SIM_HEADER, "filterConditions": {"beginTime": "soon"}}),
    (ProtoId.TRD_SUB_ACC_PUSH, {"accIDList": ["1"]}),
    (ProtoId.QOT_GET_MARKET_STATE, {"securityList": []}),
    (ProtoId.TRD_GET_HISTORY_ORDER_LIST, {"header": SIM_HEADER, "filterConditions": {}}),
    (
        ProtoId.TRD_GET_HISTORY_ORDER_FILL_LIST,
        {"header": SIM_HEADER, "filterConditions": WINDOW},
    ),
    (ProtoId.TRD_GET_ORDER_FEE, {"header": SIM_HEADER, "orderIdExList": ["FTHIS0000000001"]}),
    (ProtoId.TRD_GET_ORDER_FEE, {"header": REAL_HEADER, "orderIdExList": ["FT-nope"]}),
    (ProtoId.TRD_GET_ORDER_FEE, {"header": REAL_HEADER}),
    (ProtoId.TRD_GET_MARGIN_RATIO, {"header": SIM_HEADER, "securityList": [HK]}),
    (
        ProtoId.TRD_GET_MARGIN_RATIO,
        {"header": REAL_HEADER, "securityList": [{"market": 21, "code": "600519"}]},
    ),
    (ProtoId.TRD_FLOW_SUMMARY, {"header": SIM_HEADER, "clearingDate": "2026-05-27"}),
    (ProtoId.TRD_FLOW_SUMMARY, {"header": REAL_HEADER, "clearingDate": "27/05/2026"}),
    (
        ProtoId.QOT_REQUEST_TRADE_DATE,
        {"market": 7, "beginTime": "2026-01-01", "endTime": "2026-02-01"},
    ),
    (
        ProtoId.QOT_REQUEST_TRADE_DATE,
        {"market": 1, "beginTime": "2026-01", "endTime": "2026-02-01"},
    ),
    (
        ProtoId.QOT_REQUEST_TRADE_DATE,
        {"market": 1, "beginTime": "2000-01-01", "endTime": "2001-02-01"},
    ),
    (ProtoId.TRD_UNLOCK_TRADE, {"unlock": True, "pwdMD5": ""}),
    (ProtoId.TRD_PLACE_ORDER, {**VALID[ProtoId.TRD_PLACE_ORDER], "orderType": 14}),
    (ProtoId.TRD_PLACE_ORDER, {**VALID[ProtoId.TRD_PLACE_ORDER], "qty": 0.5}),
    (ProtoId.TRD_PLACE_ORDER, {**VALID[ProtoId.TRD_PLACE_ORDER], "secMarket": 2}),
    (ProtoId.TRD_PLACE_ORDER, {**VALID[ProtoId.TRD_PLACE_ORDER], "timeInForce": 3}),
    (
        ProtoId.TRD_MODIFY_ORDER,
        {"packetID": _packet(3), "header": SIM_HEADER, "orderID": "0", "modifyOrderOp": 9},
    ),
    (ProtoId.QOT_GET_OPTION_EXPIRATION_DATE, {"owner": AAPL, "indexOptionType": 5}),
    (
        ProtoId.QOT_GET_OPTION_CHAIN,
        {"owner": AAPL, "beginTime": "2026-05-28", "endTime": "2026-07-28"},
    ),
    (
        ProtoId.QOT_GET_OPTION_CHAIN,
        {"owner": AAPL, "beginTime": "2026-06-28", "endTime": "2026-05-28"},
    ),
    (ProtoId.QOT_GET_WARRANT, {"begin": 0, "num": 0, "sortField": 1, "ascend": True}),
    (ProtoId.QOT_GET_WARRANT, {"begin": 0, "num": 5, "sortField": 99, "ascend": True}),
    (
        ProtoId.QOT_GET_WARRANT,
        {"begin": 0, "num": 5, "sortField": 1, "ascend": True, "owner": AAPL},
    ),
    (ProtoId.QOT_GET_FUTURE_INFO, {"securityList": [HK]}),
    (ProtoId.QOT_GET_REFERENCE, {"security": HK, "referenceType": 7}),
    (ProtoId.QOT_GET_CAPITAL_FLOW, {"security": HK, "periodType": 9}),
    (ProtoId.QOT_GET_CAPITAL_FLOW, {"security": {"market": 1, "code": "HSImain"}}),
    (ProtoId.QOT_GET_OWNER_PLATE, {"securityList": []}),
    (ProtoId.QOT_GET_IPO_LIST, {"market": 0}),
    (ProtoId.QOT_STOCK_FILTER, {"begin": 0, "num": 500, "market": 1}),
    (
        ProtoId.QOT_STOCK_FILTER,
        {
            "begin": 0,
            "num": 10,
            "market": 1,
            "baseFilterList": [{"fieldName": 99, "isNoFilter": False}],
        },
    ),
    (
        ProtoId.QOT_STOCK_FILTER,
        {"begin": 0, "num": 10, "market": 1, "plate": {"market": 0, "code": "X"}},
    ),
    (ProtoId.QOT_GET_USER_SECURITY_GROUP, {"groupType": 9}),
    (ProtoId.QOT_GET_USER_SECURITY, {"groupName": "No Such Group"}),
    (ProtoId.QOT_GET_PRICE_REMINDER, {}),
    (
        ProtoId.TRD_MODIFY_ORDER,
        {
            "packetID": _packet(4),
            "header": SIM_HEADER,
            "orderID": "0",
            "modifyOrderOp": 1,
            "forAll": True,
        },
    ),
]


@pytest.mark.parametrize(("proto_id", "c2s"), ODD)
def test_odd_requests_are_refused_cleanly(proto_id: int, c2s: dict[str, Any]) -> None:
    state = SimState(seed=4, start_time=START)
    conn = ConnInfo(1, 10, "k" * 16, "i" * 16)
    request = pb_module(proto_id).Request()
    json_format.ParseDict({"c2s": c2s}, request)  # valid per the schema
    reply = respond(state, conn, proto_id, c2s)
    assert reply["retType"] == -1 and reply["retMsg"] and "s2c" not in reply
    assert not state.orders
