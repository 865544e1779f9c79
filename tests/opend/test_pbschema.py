"""The official schemas load without importing `futu`, and validate a known-good request."""

import subprocess
import sys

from google.protobuf import json_format

from opend.pbschema import available, pb_module
from opend.protoids import PB_MODULE, ProtoId


def test_every_protocol_has_a_schema() -> None:
    assert available()
    pushes = {
        ProtoId.NOTIFY,
        ProtoId.TRD_UPDATE_ORDER,
        ProtoId.TRD_UPDATE_ORDER_FILL,
        ProtoId.QOT_UPDATE_BASIC_QOT,
    }
    for proto_id in PB_MODULE:
        module = pb_module(proto_id)
        assert hasattr(module, "Response"), proto_id
        assert hasattr(module, "Request") == (proto_id not in pushes), proto_id


def test_loading_schemas_does_not_import_futu() -> None:
    """`import futu` writes under HOME and replaces the SIGINT handler; the loader must avoid it."""
    probe = (
        "import sys\n"
        "from opend.pbschema import pb_module\n"
        "from opend.protoids import PB_MODULE\n"
        "for p in PB_MODULE: pb_module(p)\n"
        "print('futu' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_golden_request_validates() -> None:
    request = pb_module(ProtoId.QOT_GET_BASIC_QOT).Request()
    json_format.Parse('{"c2s":{"securityList":[{"market":1,"code":"00700"}]}}', request)
    assert request.IsInitialized()
    assert request.c2s.securityList[0].code == "00700"
