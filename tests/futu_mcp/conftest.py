"""In-process tests use the same real fixtures as the end-to-end ones: keys, the simulator."""

from tests.e2e.conftest import keys_file, make_key, sim

__all__ = ["keys_file", "make_key", "sim"]
