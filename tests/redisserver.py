"""A real redis-server for tests: loopback, a port chosen at run time, a temporary folder,
persistence off. A missing redis-server fails the test under CI=true (CI installs it) and
skips it elsewhere, naming the command that installs it (tests.conftest.missing_tool)."""

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.conftest import missing_tool

START_TIMEOUT = 10.0


def redis_server_binary() -> str:
    """Path of redis-server; fails under CI=true, skips elsewhere, when it is missing."""
    found = shutil.which("redis-server")
    if found is None:
        missing_tool("redis-server is not installed (apt-get install -y redis-server)")
    return found


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process; `stop()` and `start()` again on the same port (outage tests)."""

    def __init__(self, folder: Path, password: str | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        self.password = password
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """redis://127.0.0.1:PORT/0, without the password."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and wait until it answers PING."""
        args = [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.folder),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--loglevel",
            "warning",
        ]
        if self.password is not None:
            # From a config on stdin, not the arguments: a password never goes in argv.
            args.insert(1, "-")
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert self._proc.stdin is not None
        if self.password is not None:
            self._proc.stdin.write(f"requirepass {self.password}\n".encode())
        self._proc.stdin.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, password=self.password)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                assert self._proc is not None
                if self._proc.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self._proc.returncode}")
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        """Kill it (SIGKILL: an outage, not a shutdown) and wait for it to go."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._proc = None

    def flush(self) -> None:
        """Empty its database (between tests sharing one server)."""
        import redis

        with redis.Redis(host="127.0.0.1", port=self.port, password=self.password) as client:
            client.flushall()
