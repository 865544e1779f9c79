"""Random schema-valid requests for every protocol: always a clean reply, never a crash.

Messages are built from the official descriptors with values drawn near the ones that matter
(known codes and markets, small and negative numbers, empty strings), so the handlers' checks
are exercised rather than the JSON parser's.
"""

from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opend.pbschema import pb_module
from opend.sim.handlers import HANDLERS, ConnInfo, respond
from opend.sim.state import SimState

START = 1_780_000_000.0
INTS = st.sampled_from([0, 1, 2, 3, 5, 11, 14, 21, 22, -1, 100, 1000, 2**31 - 1])
BIG_INTS = st.sampled_from(
    [0, 1, 281756470000000101, 168880000000000201, 5870000000000000001, 2**63 - 1]
)
FLOATS = st.sampled_from([0.0, -1.0, 0.5, 100.0, 300.0, 480.2, 1e12, float("inf")])
STRINGS = st.sampled_from(
    ["", "00700", "AAPL", "600519", "BK1001", "2026-05-01", "2026-05-01 10:00:00", "x" * 70, "中文"]
)
_STATE = SimState(seed=8, start_time=START)


def _flag(field: FieldDescriptor, name: str) -> bool:
    # A method in newer protobuf releases, a property in some older ones.
    value = getattr(field, name)
    return bool(value() if callable(value) else value)


def _fill(data: st.DataObject, message: Any, depth: int = 0) -> None:
    for field in message.DESCRIPTOR.fields:
        repeated = _flag(field, "is_repeated")
        if not _flag(field, "is_required") and not data.draw(st.booleans()):
            continue
        count = data.draw(st.integers(0, 3)) if repeated else 1
        for _ in range(count):
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                if depth > 3:
                    break
                child = (
                    getattr(message, field.name).add() if repeated else getattr(message, field.name)
                )
                _fill(data, child, depth + 1)
                continue
            value = _value(data, field)
            if repeated:
                getattr(message, field.name).append(value)
            else:
                setattr(message, field.name, value)


def _value(data: st.DataObject, field: FieldDescriptor) -> Any:
    kind = field.type
    if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64):
        value = data.draw(BIG_INTS)
        return value if kind == FieldDescriptor.TYPE_UINT64 else min(value, 2**63 - 1)
    if kind in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32):
        return data.draw(INTS)
    if kind == FieldDescriptor.TYPE_UINT32:
        return abs(data.draw(INTS))
    if kind == FieldDescriptor.TYPE_BOOL:
        return data.draw(st.booleans())
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return data.draw(FLOATS)
    if kind == FieldDescriptor.TYPE_BYTES:
        return data.draw(st.sampled_from([b"", b"not-a-key", b"eyJjb2RlIjoxfQ=="]))
    if kind == FieldDescriptor.TYPE_ENUM:
        return data.draw(st.sampled_from([v.number for v in field.enum_type.values]))
    return data.draw(STRINGS)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), proto_id=st.sampled_from(sorted(HANDLERS)))
def test_random_requests_get_a_clean_reply(data: st.DataObject, proto_id: int) -> None:
    request = pb_module(proto_id).Request()
    _fill(data, request.c2s)
    c2s = json_format.MessageToDict(request, preserving_proto_field_name=True).get("c2s", {})
    _STATE.advance(1)  # keeps OpenD's order spacing from refusing everything
    reply = respond(_STATE, ConnInfo(1, 10, "k" * 16, "i" * 16), proto_id, c2s)
    assert reply["retType"] in (0, -1)
    if reply["retType"] == 0:
        response = pb_module(proto_id).Response()
        json_format.ParseDict(reply, response)
        assert response.IsInitialized(), (proto_id, response.FindInitializationErrors())
    else:
        assert reply["retMsg"] and not reply["retMsg"].startswith("Internal")
