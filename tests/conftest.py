"""Suite-wide fixtures.

Every test runs with HOME, the XDG folders and the keys-file location inside its own temporary
folder, so nothing ever reads or writes the real home directory (the official SDK, for one,
writes logs under HOME when imported).
"""

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from tests.redisserver import RedisServer

BIN_DIR = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME, XDG_* and FUTU_KEYS_FILE at a per-test temporary folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("FUTU_KEYS_FILE", str(home / ".config" / "futu" / "keys.json"))
    monkeypatch.delenv("FUTU_MCP_API_KEY", raising=False)
    return home


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio, the loop the product runs on."""
    return "asyncio"


def console_script(name: str) -> str:
    """Path of one of the project's console scripts in the running virtual environment."""
    return str(BIN_DIR / name)


@pytest.fixture(scope="session")
def redis_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator["RedisServer"]:
    """One redis-server for the whole run (persistence off, temporary folder)."""
    from tests.redisserver import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_server(redis_session: "RedisServer") -> "RedisServer":
    """The session's redis-server, emptied for this test."""
    redis_session.flush()
    return redis_session


def missing_tool(message: str) -> NoReturn:
    """A program a test needs is not installed: skip the test, except under CI=true, where
    .ci/run installs every such program, so a missing one fails the run instead of passing
    unseen."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: .ci/run installs it; a skip would hide the test)")
    pytest.skip(message)
