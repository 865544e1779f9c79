"""The official protobuf schemas, for the simulator's protobuf mode and the conformance tests.

They come from the futu-api package (an optional dependency), imported straight from
`futu/common/pb` without importing `futu` itself: that import writes log files under HOME and
replaces the SIGINT handler. The pb2 modules import their siblings as top-level modules, so the
folder goes on sys.path.
"""

import importlib
import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from opend.protoids import PB_MODULE


@cache
def pb_dir() -> Path | None:
    """Folder of the official pb2 modules, or None when futu-api (or protobuf) is not installed."""
    spec = importlib.util.find_spec("futu")
    if spec is None or not spec.submodule_search_locations:
        return None
    if importlib.util.find_spec("google.protobuf") is None:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "common" / "pb"
    return folder if (folder / "Common_pb2.py").exists() else None


def available() -> bool:
    """True when the official schemas can be imported."""
    return pb_dir() is not None


def pb_module(proto_id: int) -> ModuleType:
    """The pb2 module of a protocol id; raises LookupError if unknown or futu-api is missing."""
    folder = pb_dir()
    if folder is None:
        raise LookupError(
            "the official schemas are not installed (pip install 'futu-mcp[sim-protobuf]')"
        )
    name = PB_MODULE.get(proto_id)
    if name is None:
        raise LookupError(f"no schema known for protocol {proto_id}")
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
    return importlib.import_module(f"{name}_pb2")
