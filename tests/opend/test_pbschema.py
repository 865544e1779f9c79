"""The official schemas load without importing `futu`, and validate a known-good request; our
protocol ids are the official ones."""

import ast
import subprocess
import sys

from google.protobuf import json_format

from opend.pbschema import available, pb_dir, pb_module
from opend.protoids import PB_MODULE, ProtoId


def test_every_protocol_has_a_schema() -> None:
    assert available()
    pushes = {ProtoId.NOTIFY, *(p for p in ProtoId if "_UPDATE_" in p.name)}
    for proto_id in PB_MODULE:
        module = pb_module(proto_id)
        assert hasattr(module, "Response"), proto_id
        assert hasattr(module, "Request") == (proto_id not in pushes), proto_id


def _sdk_proto_ids() -> dict[str, int]:
    """The SDK's own table (class ProtoId in futu/common/constant.py), read without importing
    futu (which writes under HOME)."""
    folder = pb_dir()
    assert folder is not None
    tree = ast.parse((folder.parent / "constant.py").read_text(encoding="utf-8"))
    table = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ProtoId")
    return {
        node.targets[0].id: node.value.value
        for node in table.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }


def test_protocol_ids_are_the_official_ones() -> None:
    """Every id and schema module name we use is the SDK's pair (name = pb module name)."""
    official = _sdk_proto_ids()
    assert len(official) > 100  # the parse found the table
    assert set(PB_MODULE) == set(ProtoId)
    for proto_id, module in PB_MODULE.items():
        assert official.get(module) == proto_id, (module, proto_id)
        assert ProtoId(proto_id).name.replace("_", "") == module.replace("_", "").upper()


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
