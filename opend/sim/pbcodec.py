"""Body formats at the simulator's edge: handlers see and return plain dicts, never bytes.

JSON bodies are always served. Protobuf bodies (the official SDK's default) are served when the
official schemas are importable (the `sim-protobuf` extra); a request is then decoded with the
schema and converted to the same dict a JSON client would send (`json_format`), so each handler
is written once. When the schemas are present, JSON requests are checked against them too, as
OpenD converts JSON into its protobuf messages: a malformed request gets an error reply.
"""

import base64
import json
from typing import Any

from opend import pbschema
from opend.framing import ProtoFmt
from opend.protoids import PB_MODULE, ProtoId

# Every Response shares retType/retMsg/errCode as fields 1-3, so the smallest one encodes an
# error reply to a protocol id the simulator has no schema for.
_ERROR_SCHEMA = ProtoId.KEEP_ALIVE

# Bodies already checked against their schema: clients poll with identical requests, and the
# check costs more than answering a snapshot.
_VALIDATED: set[tuple[int, bytes]] = set()
_VALIDATED_MAX = 4096


class BadRequest(Exception):
    """The body could not be decoded or does not match the protocol's schema."""


def formats() -> list[str]:
    """Body formats this installation serves, for the start-up banner."""
    return ["json", "protobuf"] if pbschema.available() else ["json"]


def _request_class(proto_id: int) -> Any:
    try:
        return pbschema.pb_module(proto_id).Request
    except (LookupError, AttributeError):
        return None


def decode_request(proto_id: int, fmt: int, body: bytes) -> dict[str, Any]:
    """The request's `c2s` object as a dict keyed by .proto field names; raise BadRequest."""
    if fmt == ProtoFmt.JSON:
        try:
            obj = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(f"body is not valid JSON: {exc}") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("c2s", {}), dict):
            raise BadRequest("body must be a JSON object with a c2s object")
        if pbschema.available() and proto_id in PB_MODULE:
            key = (proto_id, body)
            if key not in _VALIDATED:
                _validate_json(proto_id, obj)
                if len(_VALIDATED) >= _VALIDATED_MAX:
                    _VALIDATED.clear()
                _VALIDATED.add(key)
        return obj.get("c2s", {})
    if fmt == ProtoFmt.PROTOBUF:
        if not pbschema.available():
            raise BadRequest(
                "protobuf bodies need the official schemas: pip install 'futu-mcp[sim-protobuf]'"
            )
        from google.protobuf import json_format
        from google.protobuf.message import DecodeError

        request_class = _request_class(proto_id)
        if request_class is None:
            raise BadRequest(f"no schema for protocol {proto_id}")
        message = request_class()
        try:
            message.ParseFromString(body)
        except DecodeError as exc:
            raise BadRequest(f"body is not a valid protocol {proto_id} request: {exc}") from None
        missing = message.FindInitializationErrors()
        if missing:
            raise BadRequest(f"missing required field(s): {', '.join(missing)}")
        return json_format.MessageToDict(message, preserving_proto_field_name=True).get("c2s", {})
    raise BadRequest(f"unknown body format {fmt}")


# FieldDescriptor.TYPE_* numbers (fixed by descriptor.proto), so this module imports without
# protobuf installed: integers and enums, floating point, bytes.
_INT_TYPES = frozenset({3, 4, 5, 6, 7, 13, 14, 15, 16, 17, 18})
_FLOAT_TYPES = frozenset({1, 2})
_BYTES_TYPE = 12


def _scalar(field: Any, value: Any) -> Any:
    kind = field.type
    if kind in _INT_TYPES:
        return int(value)  # 64-bit integers arrive as strings (canonical JSON mapping)
    if kind in _FLOAT_TYPES:
        return float(value)
    if kind == _BYTES_TYPE:
        return base64.b64decode(value)
    return value


def _fill(message: Any, obj: dict[str, Any]) -> None:
    """Copy a reply dict into a protobuf message: what json_format.ParseDict does for the
    simulator's own (trusted) replies, several times faster. Proto field names only."""
    fields = message.DESCRIPTOR.fields_by_name
    for name, value in obj.items():
        field = fields[name]
        if field.message_type is not None:
            if isinstance(value, list):
                container = getattr(message, name)
                for item in value:
                    _fill(container.add(), item)
            else:
                child = getattr(message, name)
                child.SetInParent()  # an empty s2c is still present, as json_format makes it
                _fill(child, value)
        elif isinstance(value, list):
            getattr(message, name).extend(_scalar(field, v) for v in value)
        else:
            setattr(message, name, _scalar(field, value))


def _validate_json(proto_id: int, obj: dict[str, Any]) -> None:
    from google.protobuf import json_format

    request_class = _request_class(proto_id)
    if request_class is None:
        return
    message = request_class()
    try:
        json_format.ParseDict(obj, message)
    except json_format.ParseError as exc:
        raise BadRequest(f"body does not match the protocol {proto_id} schema: {exc}") from None
    missing = message.FindInitializationErrors()
    if missing:
        raise BadRequest(f"missing required field(s): {', '.join(missing)}")


def encode_response(proto_id: int, fmt: int, response: dict[str, Any]) -> bytes:
    """Serialize a response dict (`retType`, `retMsg`, `errCode`, `s2c`) in the request's format."""
    if fmt == ProtoFmt.PROTOBUF and pbschema.available():
        from google.protobuf import json_format

        try:
            response_class = pbschema.pb_module(proto_id).Response
        except LookupError:
            response_class = pbschema.pb_module(_ERROR_SCHEMA).Response
            response = {k: v for k, v in response.items() if k != "s2c"}
        message = response_class()
        try:
            _fill(message, response)
        except (AttributeError, KeyError, TypeError, ValueError):
            # Not a shape the fast path knows: let json_format say what is wrong.
            message = response_class()
            json_format.ParseDict(response, message)
        return message.SerializeToString()
    return json.dumps(response, separators=(",", ":"), ensure_ascii=False).encode()
