"""Reliability runs: real processes under races, kills, floods, fuzzing and load.

Every test here has a short variant, part of the default run (`make test`), and a long one
selected by FUTU_STRESS=1 (`make stress`), which repeats the same checks at the sizes the
README's Reliability section reports. The fixtures are the end-to-end ones: real keys, the
simulator, futu-mcp as a subprocess.
"""

import os
from typing import TypeVar

from tests.e2e.conftest import http_server, keys_file, make_key, sim

__all__ = ["http_server", "keys_file", "make_key", "scaled", "sim"]

STRESS = os.environ.get("FUTU_STRESS") == "1"

T = TypeVar("T")


def scaled(short: T, long: T) -> T:
    """`long` under FUTU_STRESS=1 (make stress), else `short` (the default run)."""
    return long if STRESS else short
