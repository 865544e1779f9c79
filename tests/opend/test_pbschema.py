"""The official schemas load without importing `futu`, and validate a known-good request."""

import sys

from google.protobuf import json_format

from opend.pbschema import available, pb_module
from opend.protoids import PB_MODULE, ProtoId


def test_every_protocol_has_a_schema() -> None:
    assert available()
    pushes = {ProtoId.NOTIFY, ProtoId.TRD_UPDATE_ORDER, ProtoId.TRD_UPDATE_ORDER_FILL}
    for proto_id in PB_MODULE:
        module = pb_module(proto_id)
        assert hasattr(module, "Response"), proto_id
        assert hasattr(module, "Request") == (proto_id not in pushes), proto_id
    assert "futu" not in sys.modules


def test_golden_request_validates() -> None:
    request = pb_module(ProtoId.QOT_GET_BASIC_QOT).Request()
    json_format.Parse('{"c2s":{"securityList":[{"market":1,"code":"00700"}]}}', request)
    assert request.IsInitialized()
    assert request.c2s.securityList[0].code == "00700"
